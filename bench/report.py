"""
The benchmark's report: docs/benchmarks.md (tables) and docs/bench-*.png
(plots), from artefacts/bench/results.json as bench/run.py wrote it.
Every figure is the median of the repeats, with their range beside it.

    python -m bench.report [RESULTS]
"""
import json
import os
import platform
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from harness.stack import ROOT  # noqa: E402

DOCS = os.path.join(ROOT, 'docs')
# The single-room loads, by offered messages a second, for the plots.
SWEEP = ['quiet', 'busy', '300']


def group(results):
    runs = defaultdict(list)
    for r in results:
        runs[(r['system'], r['load'])].append(r)
    return runs


def middle(runs, key):
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) if values else None


def spread(runs, key, unit=''):
    values = [r[key] for r in runs if r[key] is not None]
    if not values:
        return '–'
    text = '%s%s' % (fmt(statistics.median(values)), unit)
    if len(values) > 1 and min(values) != max(values):
        text += ' (%s–%s)' % (fmt(min(values)), fmt(max(values)))
    return text


def fmt(value):
    if value >= 100 or value == int(value):
        return '{:,}'.format(int(round(value)))
    return '%.1f' % value if value >= 10 else '%.2f' % value


def ratio(value, reference):
    if value is None or not reference:
        return '–'
    return '%.1f×' % (value / reference)


def losses(runs):
    where = defaultdict(list)
    for r in runs:
        for key in set(k for run in runs for k in run['lost']):
            where[key].append(r['lost'].get(key, 0))
    if not where:
        return 'none'
    return '; '.join('%s %s' % (fmt(statistics.median(v)), k) for k, v in sorted(where.items()))


def closes(runs):
    codes = defaultdict(int)
    for r in runs:
        for code, n in r['close_codes'].items():
            codes[code] = max(codes[code], n)
    return ', '.join('%s × %s' % (n, code) for code, n in sorted(codes.items())) or 'none'


def table(runs, systems, load, reference='reference'):
    ref = runs.get((reference, load), [])
    rows = ['| stack | delivered / expected | lost, and where | p50 ms | p95 ms | p99 ms | p99 vs reference '
            '| CPU s per 1,000 deliveries | vs reference | peak RSS MB | closes |',
            '|---|---|---|---|---|---|---|---|---|---|---|']
    for system in systems:
        r = runs.get((system, load))
        if not r:
            continue
        rows.append('| %s | %s / %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            system, spread(r, 'delivered'), spread(r, 'expected'), losses(r), spread(r, 'p50_ms'),
            spread(r, 'p95_ms'), spread(r, 'p99_ms'),
            ratio(middle(r, 'p99_ms'), middle(ref, 'p99_ms')) if ref else '–',
            spread(r, 'cpu_s_per_1000'),
            ratio(middle(r, 'cpu_s_per_1000'), middle(ref, 'cpu_s_per_1000')) if ref else '–',
            spread(r, 'peak_rss_mb'), closes(r)))
    return '\n'.join(rows)


def plot(runs, systems, loads, path):
    offered = {r[0]['load']: r[0]['offered'] for r in runs.values()}
    figure, (latency, lost) = plt.subplots(1, 2, figsize=(11, 4.2))
    for system in systems:
        points = [(offered[l], runs[(system, l)]) for l in loads if (system, l) in runs]
        if not points:
            continue
        x = [p[0] for p in points]
        line, = latency.plot(x, [middle(p[1], 'p50_ms') for p in points], marker='o', label=system + ' p50')
        latency.plot(x, [middle(p[1], 'p99_ms') for p in points], marker='x', linestyle='--',
                     color=line.get_color(), label=system + ' p99')
        lost.plot(x, [100.0 * middle(p[1], 'lost_total') / max(1, middle(p[1], 'expected') or 1)
                      for p in points], marker='o', label=system, color=line.get_color())
    latency.set(xscale='log', yscale='log', xlabel='messages/s offered (one room of 10)',
                ylabel='send-to-receipt latency, ms', title='Latency against offered load')
    lost.set(xscale='log', xlabel='messages/s offered (one room of 10)', ylabel='% of deliveries lost',
             title='Loss against offered load')
    latency.legend(fontsize=7, ncol=2)
    lost.legend(fontsize=7)
    for axes in (latency, lost):
        axes.grid(True, which='both', alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main(path=None, docs=DOCS):
    path = path or os.path.join(ROOT, 'artefacts', 'bench', 'results.json')
    with open(path) as source:
        results = json.load(source)
    runs = group(results)
    systems = []
    for r in results:
        if r['system'] not in systems:
            systems.append(r['system'])
    main_systems = [s for s in systems if '+' not in s]
    loads = []
    for r in results:
        if r['load'] not in loads:
            loads.append(r['load'])
    repeats = max(r['repeat'] for r in results) + 1
    plot(runs, main_systems, [l for l in SWEEP if l in loads] or loads, os.path.join(docs, 'bench-load.png'))
    lines = [
        '# Under load: both stacks against the limit of the machine',
        '',
        'Written by `make bench` (bench/run.py, then bench/report.py) from artefacts/bench/results.json; '
        'do not edit by hand. %d core(s), %s, Python %s for the load generator. Each figure is the median '
        'of %d run(s), the range of the runs in brackets. Every run starts a fresh stack with the '
        "project's launcher (harness/stack.py) in production mode (DEBUG=0, the chat logger at INFO), one "
        'load generator (bench/load.py: asyncio, real WebSocket clients) in another process, and counts '
        'every message: sent, stored (rows in the database), delivered to each member.' % (
            os.cpu_count(), platform.machine(), platform.python_version(), repeats),
        '',
        '"lost, and where": *never stored, sender closed N* (the sender\'s socket was closed with code N '
        'before or as it sent), *never stored, no error* (silent), *stored, member closed N* (the member '
        'was closed with N before the message reached it), *stored, not delivered within the drain, no error* (silent: not delivered by SETTLE s after the last change, at most DRAIN_LIMIT s after the last send; bench/load.py). '
        'p50/p95/p99 are send-to-receipt latencies over every delivery. CPU is the sum over every server '
        'process (redis, daphne, runworkers; the reference\'s one process); peak RSS is the sum of their peaks.',
        '',
        '![latency and loss against offered load](bench-load.png)',
        '',
    ]
    for load in loads:
        sample = runs[(systems[0], load)][0] if (systems[0], load) in runs else \
            next(r[0] for (s, l), r in runs.items() if l == load)
        lines += ['## %s: %s (%s msg/s offered)' % (load, sample['describe'], fmt(sample['offered'])), '',
                  table(runs, main_systems, load), '']
    tuned = [s for s in systems if '+' in s]
    if tuned:
        lines += ['## The legacy stack\'s deployment choices, one change at a time', '',
                  'The post\'s deployment is `legacy-1`: one runworker, SQLite with its default rollback '
                  'journal. `+wal` puts the database file in write-ahead-log mode (`PRAGMA journal_mode=WAL`, '
                  'once, as an operator would with the sqlite3 shell; the consumers are unchanged).', '']
        for load in loads:
            if any((s, load) in runs for s in tuned):
                lines += ['### %s' % load, '', table(runs, [s for s in systems if s.startswith('legacy')], load), '']
    with open(os.path.join(docs, 'benchmarks.md'), 'w', encoding='utf-8') as out:
        out.write('\n'.join(lines))
    print('wrote %s and bench-load.png' % os.path.join(docs, 'benchmarks.md'))


if __name__ == '__main__':
    main(*sys.argv[1:])
