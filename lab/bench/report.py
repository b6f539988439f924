"""
The benchmark's report: docs/generated/benchmarks.md (tables) and
docs/generated/bench-load.png (the plot), from artefacts/bench/results.json as lab/bench/run.py wrote it.
Every figure is the median of the repeats, with their range beside it.

    python -m lab.bench.report [RESULTS]
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

from lab.harness.stack import ROOT  # noqa: E402

DOCS = os.path.join(ROOT, 'docs', 'generated')
# One room of 10, more messages a second each: the plots' x axis.
SWEEP = ['quiet', 'busy', '200', '300']
# One message a second from each member, more members.
MEMBERS = ['quiet', 'room30', 'large']
# (title, load, figure, its bound per stack or None for "carried", unit).
# A load is carried when nothing is lost, closed or refused.
TARGETS = [
    ('No message lost, no 1013, at 300 msg/s', '300', 'lost_total', None, 'lost'),
    (
        'p99 at 300 msg/s: legacy ≤ 250 ms, modern ≤ 50 ms',
        '300',
        'p99_ms',
        {'legacy': 250, 'modern': 50},
        'ms',
    ),
    (
        'Quiet room p50: legacy ≤ 10 ms, modern ≤ 5 ms',
        'quiet',
        'p50_ms',
        {'legacy': 10, 'modern': 5},
        'ms',
    ),
]


def group(results):
    runs = defaultdict(list)
    for r in results:
        runs[(r['system'], r['load'])].append(r)
    return runs


def middle(runs, key):
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) if values else None


def spread(runs, key):
    values = [r[key] for r in runs if r[key] is not None]
    if not values:
        return '–'
    text = fmt(statistics.median(values))
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


def logged_table(results, systems):
    """Per system, what its logs said it lost over every load of a repeat
    (lab/harness/logged.py), the median of the repeats with their range."""
    totals = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for r in results:
        for kind, n in r.get('logged', {}).items():
            totals[r['system']][r['repeat']][kind] += n
    rows = [
        '| stack | dropped at a full reply channel, WARNING logged (C20) | expired, WARNING logged (C21) |',
        '|---|---|---|',
    ]
    for system in systems:
        repeats = [
            dict(t, expired=t['expired replies'] + t['expired frames'])
            for t in totals[system].values()
        ]
        if repeats:
            rows.append(
                '| %s | %s | %s |'
                % (system, spread(repeats, 'dropped'), spread(repeats, 'expired'))
            )
    return '\n'.join(rows)


def closes(runs):
    """Close codes, and pages or handshakes refused (the most of any run)."""
    codes = defaultdict(int)
    for r in runs:
        for code, n in list(r['close_codes'].items()) + list(r.get('refused', {}).items()):
            codes[code] = max(codes[code], n)
    return ', '.join('%s × %s' % (n, code) for code, n in sorted(codes.items())) or 'none'


def table(runs, systems, load, reference='reference'):
    ref = runs.get((reference, load), [])
    rows = [
        '| stack | delivered / expected | lost, and where | p50 ms | p95 ms | p99 ms | p99 vs reference '
        '| CPU s per 1,000 deliveries | vs reference | peak RSS MB | closed or refused |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for system in systems:
        r = runs.get((system, load))
        if not r:
            continue
        rows.append(
            '| %s | %s / %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |'
            % (
                system,
                spread(r, 'delivered'),
                spread(r, 'expected'),
                losses(r),
                spread(r, 'p50_ms'),
                spread(r, 'p95_ms'),
                spread(r, 'p99_ms'),
                ratio(middle(r, 'p99_ms'), middle(ref, 'p99_ms')) if ref else '–',
                spread(r, 'cpu_s_per_1000'),
                ratio(middle(r, 'cpu_s_per_1000'), middle(ref, 'cpu_s_per_1000')) if ref else '–',
                spread(r, 'peak_rss_mb'),
                closes(r),
            )
        )
    return '\n'.join(rows)


def plot(runs, systems, loads, path):
    offered = {r[0]['load']: r[0]['offered'] for r in runs.values()}
    figure, (latency, lost) = plt.subplots(1, 2, figsize=(11, 4.2))
    for system in systems:
        points = [(offered[l], runs[(system, l)]) for l in loads if (system, l) in runs]
        if not points:
            continue
        x = [p[0] for p in points]
        (line,) = latency.plot(
            x, [middle(p[1], 'p50_ms') for p in points], marker='o', label=system + ' p50'
        )
        latency.plot(
            x,
            [middle(p[1], 'p99_ms') for p in points],
            marker='x',
            linestyle='--',
            color=line.get_color(),
            label=system + ' p99',
        )
        lost.plot(
            x,
            [
                100.0 * middle(p[1], 'lost_total') / max(1, middle(p[1], 'expected') or 1)
                for p in points
            ],
            marker='o',
            label=system,
            color=line.get_color(),
        )
    latency.set(
        xscale='log',
        yscale='log',
        xlabel='messages/s offered (one room of 10)',
        ylabel='send-to-receipt latency, ms',
        title='Latency against offered load',
    )
    lost.set(
        xscale='log',
        xlabel='messages/s offered (one room of 10)',
        ylabel='% of deliveries lost',
        title='Loss against offered load',
    )
    latency.legend(fontsize=7, ncol=2)
    lost.legend(fontsize=7)
    for axes in (latency, lost):
        axes.grid(True, which='both', alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


# What each figure is made of, found before any tuning: py-spy on the
# running processes, Redis's INFO commandstats, and `make trace`'s
# per-message breakdown (queued, in the consumer, fan-out, last delivery).
# Why, in words: what the trace, py-spy and Redis's own counters showed
# when these tables were first measured (docs/performance.md). The figures
# are the tables'; none is typed here.
CAUSES = """## Where the time goes

- **Legacy, quiet room.** `make trace` on one message (docs/trace.md) shows the hops: queued in
  `websocket.receive`, then the consumer (the channel session loaded from the database, the room queried, the row
  inserted and committed, then one `chansend` script per member for the group send, each a Redis round trip), then
  the wait until daphne delivers: daphne 1.0.2 polls Redis for replies ("busy-loop synchronous mode"), every 10 ms
  while idle, one message per poll, with a Lua script over every open reply channel. py-spy on a runworker under
  load finds it waiting on Redis replies, in SQLite's commit and loading the channel session, in that order.
- **Legacy, past what it carries (1013).** Past 100 frames waiting in `websocket.receive`, daphne closes the sender
  with 1013. The table under "Targets" multiplies the CPU the stack spends per delivery where it keeps up by the
  deliveries a load asks for: each delivery is a `chansend` script from the runworker and a poll script plus a
  `GET` from daphne, each a Redis round trip, and each message a session load, a room query and a commit.
  Meanwhile the runworkers wait on those round trips and on SQLite, whose commits take the whole database file in
  turn. `+capacity` shows the other side of the trade: nothing refused, everything late.
- **Legacy, 1,000 sockets.** Every daphne poll names every open reply channel: each poll is a Lua script over every
  list, and replies pile up faster than daphne takes them. Once a member's reply channel holds 100, a group send
  skips that member: asgi_redis 1.0.0 without a word, the replica's layer with a WARNING line (deviation C20),
  which the benchmark counts.
- **Modern, why the Pub/Sub layer.** With channels_redis's `RedisChannelLayer` all consumers of one daphne share one
  inbox in Redis; its receive loop takes one message at a time with four round trips (a clean-up script,
  `BZPOPMIN`, a backup `ZADD`, a `ZPOPMIN`), each waiting for a turn of a busy event loop, and what finds the inbox
  at its capacity of 100 is dropped with an INFO line. `RedisPubSubChannelLayer` makes a group send one `PUBLISH`,
  with no capacity.
- **Modern, a database connection kept, and no trip per delivery.** With Django's default `CONN_MAX_AGE` of 0,
  `database_sync_to_async` opens and closes the thread's connection for every message; the port keeps it (checked
  before reuse). Channels 4.3's `AsyncConsumer.dispatch` awaits `aclose_old_connections()` before every handler, a
  delivery's `chat_message` too, each a trip to the one thread that also stores every message;
  `ChatConsumer.dispatch` hands `chat.message` events straight to their handler.
- **Modern, what is left.** Per delivery: Channels' dispatch to each consumer, autobahn's framing, and Twisted's
  write, which asks epoll to watch the socket and then stops watching it for every frame. The reference writes
  each frame straight to its socket.
"""


def carried(runs):
    return all(r['lost_total'] == 0 and not r['close_codes'] and not r.get('refused') for r in runs)


def targets(runs, systems):
    rows = ['| target | stack | measured | met | reference, same run |', '|---|---|---|---|---|']
    for title, load, key, bound, unit in TARGETS:
        for system in systems:
            r, ref = runs.get((system, load)), runs.get(('reference', load), [])
            if not r or system == 'reference':
                continue
            value = middle(r, key)
            if bound:
                limit = bound['legacy' if system.startswith('legacy') else 'modern']
                met = value is not None and value <= limit and carried(r)
                shown = '%s %s' % (spread(r, key), unit) + (
                    '' if carried(r) else ' (and %s lost)' % fmt(middle(r, 'lost_total'))
                )
            else:
                met = carried(r)
                shown = '%s lost, closes: %s' % (fmt(middle(r, key)), closes(r))
            rows.append(
                '| %s | %s | %s | %s | %s |'
                % (
                    title,
                    system,
                    shown,
                    'yes' if met else '**no**',
                    spread(ref, key) + (' ' + unit if unit == 'ms' else ''),
                )
            )
    return '\n'.join(rows)


def growth(runs, systems, loads):
    """CPU per 1,000 deliveries as the load grows, and where each stack breaks."""
    rows = [
        '| load | msg/s | deliveries/s offered | ' + ' | '.join(systems) + ' |',
        '|---|---|---|' + '---|' * len(systems),
    ]
    for load in loads:
        sample = first_run(runs, load)
        members = int(sample['expected'] / max(1, sample['stored'])) if sample['stored'] else 0
        cells = []
        for system in systems:
            r = runs.get((system, load))
            if not r:
                cells.append('–')
                continue
            cell = '%s s' % spread(r, 'cpu_s_per_1000')
            if not carried(r):
                cell += ' **broke: %s lost**' % fmt(middle(r, 'lost_total'))
            elif (middle(r, 'p99_ms') or 0) > 1000:
                cell += ' **late: p99 %s s**' % fmt(middle(r, 'p99_ms') / 1000.0)
            cells.append(cell)
        rows.append(
            '| %s | %s | %s | %s |'
            % (load, fmt(sample['offered']), fmt(sample['offered'] * members), ' | '.join(cells))
        )
    return '\n'.join(rows)


def budget(runs, systems, kept='busy', target='300'):
    """The cores each stack would need to carry the target load at the CPU
    cost per delivery it has where it keeps up, beside the load generator's
    share of the same machine at the target load."""
    sample = first_run(runs, target)
    deliveries = sample['offered'] * sample['expected'] / max(1, sample['stored'])
    rows = [
        '| stack | CPU s per 1,000 deliveries at %s msg/s | cores %s deliveries a second need | '
        'load generator at %s msg/s, cores |'
        % (fmt(first_run(runs, kept)['offered']), fmt(deliveries), fmt(sample['offered'])),
        '|---|---|---|---|',
    ]
    for system in systems:
        k, t = runs.get((system, kept)), runs.get((system, target))
        if k and t:
            rows.append(
                '| %s | %s | %s | %s |'
                % (
                    system,
                    spread(k, 'cpu_s_per_1000'),
                    fmt(middle(k, 'cpu_s_per_1000') * deliveries / 1000.0),
                    spread(t, 'generator_cpu_share'),
                )
            )
    return '\n'.join(rows)


def first_run(runs, load):
    return next(r[0] for (s, l), r in runs.items() if l == load)


def carried_table(runs, systems, loads):
    rows = [
        '| runworkers | %s |'
        % ' | '.join('%s msg/s' % fmt(first_run(runs, l)['offered']) for l in loads),
        '|---|%s' % ('---|' * len(loads)),
    ]
    for system in systems:
        rows.append(
            '| %s | %s |'
            % (
                system.split('-')[1],
                ' | '.join(
                    '%d of %d'
                    % (sum(carried([r]) for r in runs[(system, l)]), len(runs[(system, l)]))
                    if (system, l) in runs
                    else '–'
                    for l in loads
                ),
            )
        )
    return '\n'.join(rows)


def highest_carried(runs, system, loads):
    offered = [
        runs[(system, l)][0]['offered']
        for l in loads
        if (system, l) in runs and carried(runs[(system, l)])
    ]
    return max(offered) if offered else 0


# Runs made before lab/harness/load.py watched a process's descendants counted
# nginx's master only, whose CPU is ~0: the reports say which they read.
NGINX = {
    True: "nginx's CPU is its master's and its workers'.",
    False: "nginx's CPU reads 0 in these runs: they counted its master process only, not the workers "
    'that proxy (lab/harness/load.py counts them now; `make bench` again to see them).',
}


def nginx_counted(results):
    return any(run['servers'].get('nginx', {}).get('cpu_seconds') for run in results)


def clustered(path):
    """The section `make bench-cluster` adds: its own run, its own reference."""
    if not os.path.exists(path):
        return []
    with open(path) as source:
        results = json.load(source)
    runs = group(results)
    systems = list(dict.fromkeys(r['system'] for r in results))
    lines = [
        '## On several containers (`make bench-cluster`)',
        '',
        'A run of its own (artefacts/bench/cluster/results.json, %d repeat(s)), with its own reference: '
        "`legacy-cluster` and `modern-cluster` are `make cluster`'s containers (nginx, two daphnes, two "
        "runworkers for legacy, two Redis shards, PostgreSQL) on this one machine, driven through nginx's "
        'published port; their CPU counts every process in the containers and the docker-proxy that '
        'carries the port. `legacy-2x2` and `modern-x2` are the same processes without containers, one '
        'Redis and SQLite. The difference is what the containers, the second shard and PostgreSQL cost '
        'on %d cores.' % (max(r['repeat'] for r in results) + 1, os.cpu_count()),
        '',
    ]
    for load in dict.fromkeys(r['load'] for r in results):
        sample = first_run(runs, load)
        lines += [
            '### %s: %s (%s msg/s offered)' % (load, sample['describe'], fmt(sample['offered'])),
            '',
            table(runs, systems, load),
            '',
        ]
    return lines


def main(path=None, docs=DOCS):
    path = path or os.path.join(ROOT, 'artefacts', 'bench', 'results.json')
    with open(path) as source:
        results = json.load(source)
    runs = group(results)
    systems = list(dict.fromkeys(r['system'] for r in results))
    main_systems = [s for s in systems if '+' not in s]
    loads = list(dict.fromkeys(r['load'] for r in results))
    repeats = max(r['repeat'] for r in results) + 1
    plot(
        runs,
        main_systems,
        [l for l in SWEEP if l in loads] or loads,
        os.path.join(docs, 'bench-load.png'),
    )
    lines = [
        '# Under load: both stacks against the limit of the machine',
        '',
        'Written by `make bench` (lab/bench/run.py, then lab/bench/report.py) from artefacts/bench/results.json; '
        'do not edit by hand. %d core(s), %s, Python %s for the load generator. Each figure is the median '
        'of %d run(s), the range of the runs in brackets. Every run starts a fresh stack with the '
        "project's launcher (lab/harness/stack.py) in production mode (DEBUG=0, the chat logger at INFO), one "
        'load generator (lab/harness/load.py: asyncio, real WebSocket clients) in another process, and counts '
        'every message: sent, stored (rows in the database), delivered to each member.'
        % (os.cpu_count(), platform.machine(), platform.python_version(), repeats),
        '',
        '"lost, and where": *never stored, sender closed N* (the sender\'s socket was closed with code N '
        'before or as it sent), *never stored, no error* (silent), *stored, member closed N* (the member '
        "was closed with N before the message reached it), *stored, dropped at a full reply channel, WARNING logged* (the legacy runworker's group send found the member's reply channel holding 100 messages daphne had not delivered, and said so: deviation C20), *stored, expired in a reply channel, WARNING logged* and *never stored, expired waiting for a runworker, WARNING logged* (the message waited longer than the channel expiry, and the legacy daphne or runworker that found it said so: deviation C21), *stored, not delivered within the drain, no error* (silent: not delivered by SETTLE s after the last change, at most DRAIN_LIMIT s after the last send; lab/harness/load.py). "
        'p50/p95/p99 are send-to-receipt latencies over every delivery. CPU is the sum over every server '
        "process (redis, daphne, runworkers, nginx; the reference's one process); peak RSS is the sum of their "
        'peaks. ' + NGINX[nginx_counted(results)],
        '',
        '![latency and loss against offered load](bench-load.png)',
        '',
    ]
    for load in loads:
        sample = first_run(runs, load)
        lines += [
            '## %s: %s (%s msg/s offered)' % (load, sample['describe'], fmt(sample['offered'])),
            '',
            table(runs, main_systems, load),
            '',
        ]
    lines += [
        '## What the stacks logged losing',
        '',
        'Every load of a repeat added up: the WARNING lines the stacks wrote for deliveries dropped at a '
        'full reply channel and for messages found expired (lab/harness/logged.py reads them, as the '
        'comparison does). A logged loss is also counted above, in its logged class.',
        '',
        logged_table(results, systems),
        '',
    ]
    lines += [CAUSES, '## Targets', '', targets(runs, main_systems), '']
    if 'busy' in loads and '300' in loads:
        lines += [
            "What the 300 msg/s room asks of the CPU: each stack's cost per delivery where it keeps up "
            '(100 msg/s, nothing lost), times the 3,000 deliveries a second of the 300 msg/s room. This '
            'machine has %d cores, and the load generator runs on them too.' % os.cpu_count(),
            '',
            budget(runs, main_systems + [s for s in systems if s.endswith('+capacity')]),
            '',
        ]
    sweep = [l for l in SWEEP if l in loads]
    if sweep:
        one, two = (
            highest_carried(runs, 'legacy-1', sweep),
            highest_carried(runs, 'legacy-2', sweep),
        )
        lines += [
            'From 1 to 2 runworkers, the highest load of one room of 10 carried with nothing lost and no '
            'socket closed in every run goes from %s to %s msg/s%s. Runs that carried each load, and what '
            'bounds the runworkers on this machine ("Legacy, past what it carries (1013)" under "Where the time goes"):'
            % (fmt(one), fmt(two), ' (%.1f×)' % (two / one) if one else ''),
            '',
            carried_table(
                runs, [s for s in main_systems if s in ('legacy-1', 'legacy-2', 'legacy-4')], sweep
            ),
            '',
        ]
    lines += [
        '## How it grows',
        '',
        'CPU seconds per 1,000 deliveries (all server processes). A load a stack '
        'did not carry says how it broke (anything lost, closed or refused), or "late" when it carried it '
        'with p99 over a second.',
        '',
    ]
    for title, kind in (
        ('More members in a room, one message a second from each', MEMBERS),
        ('More messages a second in a room of 10', SWEEP),
    ):
        present = [l for l in kind if l in loads]
        if present:
            lines += ['### %s' % title, '', growth(runs, main_systems, present), '']
    traced = [s for s in systems if s.endswith(('+watch', '+told'))]
    tuned = [s for s in systems if '+' in s and s not in traced]
    if tuned:
        lines += [
            "## The legacy stack's deployment choices, one change at a time",
            '',
            "The post's deployment is `legacy-1`: one runworker, SQLite with its default rollback "
            'journal, channel sessions in the database, at most 100 frames waiting in websocket.receive. '
            '`+wal` puts the database file in write-ahead-log mode (`PRAGMA journal_mode=WAL`, once, as an '
            'operator would with the sqlite3 shell). `+sync` also sets `synchronous=NORMAL` on each '
            'connection, so a commit does not wait for the disk (lab/variants/sync_normal.py). `+persistent` '
            "keeps each runworker's database connection (`CONN_MAX_AGE=60`, deviation C18). `+cache` keeps channel sessions in Redis "
            '(lab/variants/cache_sessions.py). `+capacity` lets 2,000 frames wait (lab/variants/big_queue.py). '
            '`legacy-2x2` is two daphnes and two runworkers behind nginx. The consumers are the same in '
            'every row.',
            '',
        ]
        for load in loads:
            if any((s, load) in runs for s in tuned):
                lines += [
                    '### %s' % load,
                    '',
                    table(
                        runs,
                        [s for s in systems if s.startswith('legacy') and s not in traced],
                        load,
                    ),
                    '',
                ]
    if traced:
        lines += [
            '## Watched by `make trace`',
            '',
            '`+watch` is the stack as `make run` and `make run-modern` start it, with `make trace` beside it '
            "reading Redis's MONITOR. `+told` runs the told trace's settings (`make run TRACE=told`: the "
            'channel layer telling the trace what it does) with `make trace TRACE=told` beside it.',
            '',
        ]
        for load in loads:
            if any((s, load) in runs for s in traced):
                watched = [
                    s
                    for s in systems
                    if s.split('+')[0] in ('legacy-1', 'modern') and (s in traced or '+' not in s)
                ]
                lines += ['### %s' % load, '', table(runs, watched, load), '']
    lines += clustered(os.path.join(os.path.dirname(path), 'cluster', 'results.json'))
    with open(os.path.join(docs, 'benchmarks.md'), 'w', encoding='utf-8') as out:
        out.write('\n'.join(lines))
    print('wrote %s and bench-load.png' % os.path.join(docs, 'benchmarks.md'))


if __name__ == '__main__':
    main(*sys.argv[1:])
