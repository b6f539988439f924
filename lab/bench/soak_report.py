"""
docs/generated/soak.md (lab/templates/soak.md filled in) and soak.png, from
artefacts/soak/results.json as lab/bench/soak.py wrote it: each series'
slope after the warm-up, the median of the repeats with their range, and
whether it grows.

    python -m lab.bench.soak_report [RESULTS]
"""

import json
import os
import statistics
import sys
import time

from matplotlib.figure import Figure

from lab import pages
from lab.bench.report import fmt, spread
from lab.bench.soak import HEARD_LIMIT, MEMBERS, OUT, ROOMS, SAMPLE_EVERY, WARM, slope

RESULTS = os.path.join(OUT, 'results.json')
# The plot's panels: the series each shows (the reference's own memory in
# the first) and its title.
PANELS = [
    ('daphne 1 rss MB', 'daphne (or the reference): resident MB'),
    ('worker 1 rss MB', 'runworker (1.x): resident MB'),
    ('redis clients', 'Redis: connected clients'),
    ('redis used MB', 'Redis: used memory, MB'),
]


def by_system(results):
    grouped = {}
    for r in results:
        grouped.setdefault(r['system'], []).append(r)
    return grouped


def series_of(runs):
    names = []
    for r in runs:
        for sample in r['samples']:
            names.extend(n for n in sample if n != 'seconds' and n not in names)
    return names


def row(system, series, runs):
    """One series of one system over its runs: its slope a minute and per
    100 rooms (which a faster system goes through sooner), each the median
    of the runs with their range, and whether it grew in every run."""
    fitted = [(slope(r['samples'], series), r) for r in runs]
    fitted = [(line, r) for line, r in fitted if line]
    if not fitted:
        return None
    minutes = [{'slope': line['per_minute']} for line, _ in fitted]
    rooms = [
        {'slope': line['per_minute'] * 100 * r['seconds'] / 60.0 / max(1, r['cycles'])}
        for line, r in fitted
    ]
    return {
        'system': system,
        'series': series,
        'per_minute': spread(minutes, 'slope'),
        'per_100_rooms': spread(rooms, 'slope'),
        'end': fmt(statistics.median(r['samples'][-1].get(series, 0) for r in runs)),
        'grows': all(line['grows'] for line, _ in fitted),
    }


def total(runs, count):
    try:
        return fmt(sum(count(r) for r in runs))
    except KeyError:
        return '–'


def plot(grouped, path):
    figure = Figure(figsize=(11, 7))
    for axes, (series, title) in zip(figure.subplots(2, 2).flat, PANELS):
        for system, runs in grouped.items():
            name = 'reference rss MB' if (system, series) == ('reference', PANELS[0][0]) else series
            points = [(s['seconds'], s[name]) for s in runs[0]['samples'] if name in s]
            if points:
                axes.plot(*zip(*points), label=system)
        axes.axvline(WARM, color='grey', linestyle=':', linewidth=1)
        axes.set(title=title, xlabel='seconds into the soak (first repeat)')
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def main(path=RESULTS, docs=pages.DOCS):
    with open(path) as results_file:
        results = json.load(results_file)
    grouped = by_system(results)
    rows = [
        found
        for system, runs in grouped.items()
        for series in series_of(runs)
        for found in [row(system, series, runs)]
        if found
    ]
    churn = [
        {
            'system': system,
            'rooms': fmt(statistics.median(r['cycles'] for r in runs)),
            'sockets': fmt(statistics.median(r['sockets'] for r in runs)),
            'failed': sum(r['failed'] for r in runs),
            'failures': ', '.join(sorted(set(name for r in runs for name in r['failures']))),
            # Runs from before these were counted have neither.
            'unheard': total(runs, lambda r: r['unheard']),
            'logged': total(runs, lambda r: sum(r['logged'].values())),
        }
        for system, runs in grouped.items()
    ]
    plot(grouped, os.path.join(docs, 'soak.png'))
    written = pages.write(
        'soak.md',
        folder=docs,
        date=time.strftime('%Y-%m-%d', time.gmtime(os.path.getmtime(path))),
        repeats=max(r['repeat'] for r in results) + 1,
        seconds=fmt(results[0]['seconds']),
        warm=WARM,
        every=fmt(SAMPLE_EVERY),
        rooms=ROOMS,
        members=MEMBERS,
        heard_limit=HEARD_LIMIT,
        churn=churn,
        rows=rows,
        growing=[r for r in rows if r['grows']],
    )
    print('wrote %s and soak.png' % written)


if __name__ == '__main__':
    main(*sys.argv[1:])
