"""
The benchmark's report: docs/generated/benchmarks.md (lab/templates/benchmarks.md
filled in) and docs/generated/bench-load.png, from artefacts/bench/results.json as
lab/bench/run.py wrote it in one run, and artefacts/bench/cluster/results.json
when `make bench-cluster` wrote one.
Every figure is the median of the repeats, with their range beside it.

    python -m lab.bench.report [RESULTS]
"""

import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict

from matplotlib.figure import Figure

from lab import pages
from lab.bench.run import HISTORY, SAME_AS
from lab.harness.generations import pins
from lab.harness.logged import LOGGED
from lab.harness.stack import GENERATIONS, ROOT

RESULTS = os.path.join(ROOT, 'artefacts', 'bench', 'results.json')
# One room of 10, more messages a second each: the plots' x axis.
SWEEP = ['quiet', 'busy', '200', '300']
# One message a second from each member, more members.
MEMBERS = ['quiet', 'room30', 'large']
# The "Targets" table: per target, its load, the figure and its bound per
# stack (None: the load is carried, nothing lost, closed or refused).
TARGETS = {
    'carried_at_300': ('300', 'lost_total', None),
    'p99_at_300': ('300', 'p99_ms', {'legacy': 250, 'modern': 50}),
    'p50_in_quiet': ('quiet', 'p50_ms', {'legacy': 10, 'modern': 5}),
}
# The systems with `make trace` beside them (lab/bench/run.py's TUNING).
TRACED = ('+monitor', '+layer-trace')


def read(path):
    with open(path) as source:
        return json.load(source)


def repeats(results):
    return max(r['repeat'] for r in results) + 1


def group(results):
    runs = defaultdict(list)
    for r in results:
        runs[(r['system'], r['load'])].append(r)
    return runs


def in_order(results, key):
    """The systems or loads, in the order they ran."""
    return list(dict.fromkeys(r[key] for r in results))


def unchanged(systems):
    """The systems as run.py's SYSTEMS start them, without a tuning or a
    trace, and without the generations between the post and the port."""
    return [s for s in systems if '+' not in s and s not in GENERATIONS]


def middle(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(value, fine=False):
    """A figure as the pages print it: three figures or so, whole numbers
    from 100 up. `fine` keeps three places below 1, two significant figures
    below 0.01 (scaling.md's µs and CPU-s/s); without it, two places."""
    if value is None:
        return '–'
    size = abs(value)
    if size >= 100 or value == int(value):
        return '{:,}'.format(int(round(value)))
    if size >= 10:
        return '%.1f' % value
    if size >= 1 or not fine:
        return '%.2f' % value
    return '%.3f' % value if size >= 0.01 else '%.2g' % value


def spread(runs, key):
    # Runs from before a figure was measured have none (first_ms).
    values = [r[key] for r in runs if r.get(key) is not None]
    if not values:
        return '–'
    text = fmt(statistics.median(values))
    if len(values) > 1 and min(values) != max(values):
        text += ' (%s–%s)' % (fmt(min(values)), fmt(max(values)))
    return text


def ratio(value, reference):
    if value is None or not reference:
        return '–'
    # Two figures where one place would read 0.0×.
    return ('%.1f×' if value / reference >= 0.1 else '%.2g×') % (value / reference)


def losses(runs):
    """'N where' for each place a message was lost, N the median of the runs."""
    where = defaultdict(list)
    for r in runs:
        for key in set(k for run in runs for k in run['lost']):
            where[key].append(r['lost'].get(key, 0))
    return ['%s %s' % (fmt(statistics.median(v)), k) for k, v in sorted(where.items())]


def closes(runs):
    """'N × code' for close codes, and pages or handshakes refused (the most of any run)."""
    codes = defaultdict(int)
    for r in runs:
        for code, n in list(r['close_codes'].items()) + list(r.get('refused', {}).items()):
            codes[code] = max(codes[code], n)
    return ['%s × %s' % (n, code) for code, n in sorted(codes.items())]


def carried(runs):
    return all(r['lost_total'] == 0 and not r['close_codes'] and not r.get('refused') for r in runs)


def first_run(runs, load):
    return next(r[0] for (_, name), r in runs.items() if name == load)


def comparison(runs, system, reference):
    """One stack's row in a load's table, beside the reference's runs."""
    return {
        'system': system,
        'delivered': spread(runs, 'delivered'),
        'expected': spread(runs, 'expected'),
        'lost': losses(runs),
        'p50_ms': spread(runs, 'p50_ms'),
        'p95_ms': spread(runs, 'p95_ms'),
        'p99_ms': spread(runs, 'p99_ms'),
        'p99_vs_reference': ratio(middle(runs, 'p99_ms'), middle(reference, 'p99_ms')),
        'cpu_s_per_1000': spread(runs, 'cpu_s_per_1000'),
        'cpu_vs_reference': ratio(
            middle(runs, 'cpu_s_per_1000'), middle(reference, 'cpu_s_per_1000')
        ),
        'peak_rss_mb': spread(runs, 'peak_rss_mb'),
        'first_ms': spread(runs, 'first_ms'),
        'closes': closes(runs),
    }


def table(runs, systems, load):
    reference = runs.get(('reference', load), [])
    return [comparison(runs[(s, load)], s, reference) for s in systems if runs.get((s, load))]


def tables(runs, systems, loads):
    """A table per load, with what the load was."""
    return [
        {
            'load': load,
            'describe': first_run(runs, load)['describe'],
            'offered': fmt(first_run(runs, load)['offered']),
            'rows': table(runs, systems, load),
        }
        for load in loads
    ]


def logged(results, systems):
    """Per system, what its logs said it lost over every load of a repeat
    (lab/harness/logged.py), and the deliveries its closes with a code
    refused, the median of the repeats with their range."""
    totals = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for r in results:
        for kind, n in r.get('logged', {}).items():
            totals[r['system']][r['repeat']][kind] += n
        totals[r['system']][r['repeat']]['closed'] += split(r['lost'])['closed']
    rows = []
    for system in systems:
        repeats = [
            dict(t, expired=t['expired replies'] + t['expired frames'])
            for t in totals[system].values()
        ]
        if repeats:
            rows.append(
                {
                    'system': system,
                    'dropped': spread(repeats, 'dropped'),
                    'buffer': spread(repeats, 'dropped from a buffer'),
                    'popped': spread(repeats, 'popped for a cancelled receive'),
                    'expired': spread(repeats, 'expired'),
                    'closed': spread(repeats, 'closed'),
                }
            )
    return rows


def target(runs, reference, figure, bound, system):
    """One stack against one target: what it measured and whether it met it."""
    value, whole = middle(runs, figure), carried(runs)
    if bound:
        limit = bound['legacy' if system.startswith('legacy') else 'modern']
        met = value is not None and value <= limit and whole
    else:
        met = whole
    return {
        'system': system,
        'measured': spread(runs, figure),
        'carried': whole,
        'lost': fmt(middle(runs, 'lost_total')),
        'closes': closes(runs),
        'met': met,
        'reference': spread(reference, figure),
    }


def targets(runs, systems):
    return {
        name: [
            target(runs[(s, load)], runs.get(('reference', load), []), figure, bound, s)
            for s in systems
            if runs.get((s, load)) and s != 'reference'
        ]
        for name, (load, figure, bound) in TARGETS.items()
    }


def growth(runs, systems, loads):
    """CPU per 1,000 deliveries as the load grows, and where each stack broke."""
    rows = []
    for load in loads:
        sample = first_run(runs, load)
        members = int(sample['expected'] / max(1, sample['stored'])) if sample['stored'] else 0
        rows.append(
            {
                'load': load,
                'offered': fmt(sample['offered']),
                'deliveries': fmt(sample['offered'] * members),
                'cells': [grown(runs.get((system, load))) for system in systems],
            }
        )
    return rows


def grown(runs):
    """A stack's cell in growth(): None where it did not run the load."""
    if not runs:
        return None
    p99 = middle(runs, 'p99_ms') or 0
    return {
        'cpu_s_per_1000': spread(runs, 'cpu_s_per_1000'),
        'broke': not carried(runs),
        'lost': fmt(middle(runs, 'lost_total')),
        'late': p99 > 1000,
        'p99_s': fmt(p99 / 1000.0),
    }


def budget(runs, systems, kept='busy', target='300'):
    """The cores each stack would need to carry the target load at the CPU
    cost per delivery it has where it keeps up, beside the load generator's
    share of the same machine at the target load."""
    sample = first_run(runs, target)
    deliveries = sample['offered'] * sample['expected'] / max(1, sample['stored'])
    rows = []
    for system in systems:
        k, t = runs.get((system, kept)), runs.get((system, target))
        if k and t:
            rows.append(
                {
                    'system': system,
                    'cpu_s_per_1000': spread(k, 'cpu_s_per_1000'),
                    'cores': fmt(middle(k, 'cpu_s_per_1000') * deliveries / 1000.0),
                    'generator_cpu_share': spread(t, 'generator_cpu_share'),
                }
            )
    return {
        'kept_offered': fmt(first_run(runs, kept)['offered']),
        'deliveries': fmt(deliveries),
        'target_offered': fmt(sample['offered']),
        'rows': rows,
    }


def highest_carried(runs, system, loads):
    offered = [
        runs[(system, load)][0]['offered']
        for load in loads
        if (system, load) in runs and carried(runs[(system, load)])
    ]
    return max(offered) if offered else 0


def runworkers(runs, systems, loads):
    """How many runs each legacy stack carried, by runworkers and load."""
    one, two = (highest_carried(runs, s, loads) for s in ('legacy-1', 'legacy-2'))
    counts = [
        {
            'runworkers': system.split('-')[1],
            'carried': [
                (sum(carried([r]) for r in runs[(system, load)]), len(runs[(system, load)]))
                if (system, load) in runs
                else None
                for load in loads
            ],
        }
        for system in systems
    ]
    return {
        'one': fmt(one),
        'two': fmt(two),
        'gain': '%.1f' % (two / one) if one else None,
        'offered': [fmt(first_run(runs, load)['offered']) for load in loads],
        'rows': counts,
    }


def variants(runs, systems, loads):
    """The legacy stack's deployment choices, and the stacks traced by
    `make trace`: per load that ran any of them, their table beside the
    systems unchanged."""
    traced = [s for s in systems if s.endswith(TRACED)]
    tuned = [s for s in systems if '+' in s and s not in traced]
    legacy = [s for s in systems if s.startswith('legacy') and s not in traced]
    beside_traced = [
        s
        for s in systems
        if s.split('+')[0] in ('legacy-1', 'modern') and (s in traced or '+' not in s)
    ]
    return {
        'tuned': [
            {'load': load, 'rows': table(runs, legacy, load)}
            for load in loads
            if any((s, load) in runs for s in tuned)
        ],
        'traced': [
            {'load': load, 'rows': table(runs, beside_traced, load)}
            for load in loads
            if any((s, load) in runs for s in traced)
        ],
    }


def clustered(path):
    """The section `make bench-cluster` adds: its own run, its own reference."""
    if not os.path.exists(path):
        return None
    results = read(path)
    return {
        'date': measured_on(path),
        'repeats': repeats(results),
        'tables': tables(group(results), in_order(results, 'system'), in_order(results, 'load')),
    }


def measured_on(path):
    return time.strftime('%Y-%m-%d', time.gmtime(os.path.getmtime(path)))


def bursts(runs, systems, staggered='room30', burst='burst'):
    """Per stack, the burst beside the same room sending at random phases:
    the burst's p50 against its slowest delivery (half of it when the
    burst's deliveries are served one after another), and its ratios."""
    reference = middle(runs.get(('reference', burst), []), 'p50_ms')
    rows = []
    for system in systems:
        b, s = runs.get((system, burst)), runs.get((system, staggered))
        if b and s:
            p50, slowest = middle(b, 'p50_ms'), middle(b, 'max_ms')
            rows.append(
                {
                    'system': system,
                    'p50_ms': spread(b, 'p50_ms'),
                    'max_ms': spread(b, 'max_ms'),
                    'p50_of_max': '%.2f' % (p50 / slowest) if p50 and slowest else '–',
                    'staggered_p50_ms': spread(s, 'p50_ms'),
                    'vs_staggered': ratio(p50, middle(s, 'p50_ms')),
                    'vs_reference': ratio(p50, reference),
                }
            )
    return rows


def accounted(runs, systems, loads):
    """Per load and system, each undelivered message by what said it: a
    WARNING line, a close code (1013 under load), or nothing."""
    rows = []
    for load in loads:
        for system in systems:
            counted = [split(r['lost']) for r in runs.get((system, load), [])]
            if counted:
                row = {key: spread(counted, key) for key in counted[0]}
                rows.append(dict(row, load=load, system=system))
    return rows


def split(lost):
    logged = sum(n for where, n in lost.items() if where in LOGGED)
    closed = sum(n for where, n in lost.items() if ' closed ' in where)
    total = sum(lost.values())
    return {
        'undelivered': total,
        'logged': logged,
        'closed': closed,
        'silent': total - logged - closed,
    }


def servers(runs, loads, daphne='modern', uvicorn='modern-uvicorn'):
    """The port under each load served by daphne and by uvicorn: latency,
    CPU and memory side by side, uvicorn's as a ratio to daphne's."""
    rows = []
    for load in loads:
        d, u = runs.get((daphne, load)), runs.get((uvicorn, load))
        if d and u:
            d, u = [busiest(r) for r in d], [busiest(r) for r in u]
            row = {'load': load, 'carried': carried(d) and carried(u)}
            for key in ('p50_ms', 'p99_ms', 'cpu_s_per_1000', 'busiest', 'peak_rss_mb'):
                row[key] = (spread(d, key), spread(u, key), ratio(middle(u, key), middle(d, key)))
            rows.append(row)
    return rows


def busiest(run):
    """A run with the share of one core its busiest server process used
    from the first send to the end of the drain: near 1, one process is
    the bottleneck, and a delivery waits its turn on that process's loop."""
    cpu = max(s['cpu_seconds'] for s in run['servers'].values())
    return dict(run, busiest=round(cpu / run['elapsed_s'], 2) if run['elapsed_s'] else None)


def generations(results):
    """Every generation beside the reference, from the same run, each
    named as `make run CHANNELS=X` names it: the post's and the port's rows
    are legacy-1's and modern's runs (run.py's SAME_AS)."""
    named = {SAME_AS.get(g, g): g for g in HISTORY}
    results = [dict(r, system=named[r['system']]) for r in results if r['system'] in named]
    systems = [s for s in HISTORY if any(r['system'] == s for r in results)]
    if set(systems) <= {'reference'} | set(SAME_AS):
        return None
    runs = group(results)
    loads = [load for load in in_order(results, 'load') if all((s, load) in runs for s in systems)]
    return {
        'systems': systems,
        'tables': tables(runs, systems, loads),
        'by_members': growth(runs, systems, [load for load in MEMBERS if load in loads]),
        'by_rate': growth(runs, systems, [load for load in SWEEP if load in loads]),
        'bursts': bursts(runs, systems),
        'logged': logged(results, systems),
        'accounted': accounted(runs, systems, loads),
    }


def figures(results, cluster):
    """Everything benchmarks.md shows, by name."""
    runs = group(results)
    systems, loads = in_order(results, 'system'), in_order(results, 'load')
    main_systems = unchanged(systems)
    sweep = [load for load in SWEEP if load in loads]
    capacity = [s for s in systems if s.endswith('+capacity')]
    legacy = [s for s in main_systems if s in ('legacy-1', 'legacy-2', 'legacy-4')]
    return dict(
        variants(runs, systems, loads),
        cores=os.cpu_count(),
        machine=platform.machine(),
        python=platform.python_version(),
        repeats=repeats(results),
        nginx_counted=nginx_counted(results),
        tables=tables(runs, main_systems, loads),
        logged=logged(results, systems),
        targets=targets(runs, main_systems),
        bounds={name: bound for name, (_, _, bound) in TARGETS.items()},
        budget=budget(runs, main_systems + capacity)
        if 'busy' in loads and '300' in loads
        else None,
        runworkers=runworkers(runs, legacy, sweep) if sweep else None,
        by_members=growth(runs, main_systems, [load for load in MEMBERS if load in loads]),
        by_rate=growth(runs, main_systems, sweep),
        systems=main_systems,
        cluster=cluster,
        generations=generations(results),
        servers=servers(runs, loads),
        uvicorn=pins('4.3').get('uvicorn'),
        daphne=pins('4.3')['daphne'],
    )


def plot(runs, systems, loads, path):
    """Latency and loss against the load offered to one room of 10."""
    offered = {r[0]['load']: r[0]['offered'] for r in runs.values()}
    figure = Figure(figsize=(11, 4.2))
    latency, lost = figure.subplots(1, 2)
    for system in systems:
        points = [(offered[load], runs[(system, load)]) for load in loads if (system, load) in runs]
        if points:
            plot_system(latency, lost, system, points)
    axis = 'messages/s offered (one room of 10)'
    latency.set(
        xscale='log',
        yscale='log',
        xlabel=axis,
        ylabel='send-to-receipt latency, ms',
        title='Latency against offered load',
    )
    lost.set(
        xscale='log', xlabel=axis, ylabel='% of deliveries lost', title='Loss against offered load'
    )
    latency.legend(fontsize=7, ncol=2)
    lost.legend(fontsize=7)
    for axes in (latency, lost):
        axes.grid(True, which='both', alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def plot_system(latency, lost, system, points):
    x = [offered for offered, _ in points]
    (line,) = latency.plot(
        x, [middle(r, 'p50_ms') for _, r in points], marker='o', label=system + ' p50'
    )
    colour = line.get_color()
    latency.plot(
        x,
        [middle(r, 'p99_ms') for _, r in points],
        marker='x',
        linestyle='--',
        color=colour,
        label=system + ' p99',
    )
    share = [
        100.0 * middle(r, 'lost_total') / max(1, middle(r, 'expected') or 1) for _, r in points
    ]
    lost.plot(x, share, marker='o', label=system, color=colour)


def nginx_counted(results):
    """Runs made before lab/harness/load.py watched a process's descendants
    counted nginx's master only, whose CPU is ~0: the pages say which they read."""
    return any(run['servers'].get('nginx', {}).get('cpu_seconds') for run in results)


def main(path=RESULTS, docs=pages.DOCS):
    results = read(path)
    runs = group(results)
    loads = in_order(results, 'load')
    plot(
        runs,
        unchanged(in_order(results, 'system')),
        [load for load in SWEEP if load in loads] or loads,
        os.path.join(docs, 'bench-load.png'),
    )
    folder = os.path.dirname(path)
    cluster = clustered(os.path.join(folder, 'cluster', 'results.json'))
    values = figures(results, cluster)
    written = pages.write('benchmarks.md', folder=docs, date=measured_on(path), **values)
    print('wrote %s and bench-load.png' % written)


if __name__ == '__main__':
    main(*sys.argv[1:])
