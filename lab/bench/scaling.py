"""
docs/generated/scaling.md (lab/templates/scaling.md filled in): how many
daphnes, runworkers and Redis shards a room of 1,000 members and a site of
100,000 connected users would need on each stack, on paper, from the unit
costs make bench measured on one machine (artefacts/bench/results.json).

    python -m lab.bench.scaling [RESULTS]     (make bench runs it after bench.report)

Every unit cost is worked out twice: once from the medians over the repeats
(the figure shown, so the arithmetic printed beside it reproduces it) and
once within each pass of make bench (repeat 0, 1, 2), whose lowest and
highest give the range in brackets.
"""

import functools
import math
import operator
import statistics
import sys
from collections import defaultdict

from lab import pages
from lab.bench.report import RESULTS, fmt, nginx_counted, read

# Assumptions, stated on the page. A single-threaded process (daphne,
# Redis) is planned at this share of one core, leaving room for bursts.
BUDGET = 0.7
ROOM = 1000
SITE = 100000
SITE_ROOM = 10  # the benchmark's own room size, so its per-message costs apply as measured
# Message rates: messages per second per member. 1 per 100 members is the
# main case; the others bracket it.
ROOM_RATES = [1, 10, 100]  # msg/s in the room of 1,000
SITE_RATES = [100, 1000]  # msg/s over the whole site
# The room's rate section 4 works through.
EXAMPLE_RATE = 10
# daphne 1.0.2 waits 10 ms after a poll that found nothing
# (daphne/server.py, backend_reader_sync) and 0 ms after one that found a message.
IDLE_WAIT_MS = 10.0

LEGACY, MODERN = 'legacy-1', 'modern'
KINDS = ('daphne', 'worker', 'redis')
# A plan's counts of processes, shown with their range over the passes.
COUNTS = ('daphnes', 'workers', 'shards')


def quantities(run):
    """Per-run ratios, per process kind (all daphnes, all workers...)."""
    cpu = defaultdict(float)
    for name, server in run['servers'].items():
        cpu[name.split(' ')[0]] += server['cpu_seconds']
    daphnes = [s for n, s in run['servers'].items() if n.startswith('daphne')]
    q = {
        'sockets': run['sockets'],
        'lost': run['lost_total'],
        'delivered_per_s': run['delivered_per_s'],
        'p99_ms': run['p99_ms'],
        'daphnes': len(daphnes),
        'daphne_peak_rss_mb': max(s['peak_rss_mb'] for s in daphnes) if daphnes else None,
    }
    for kind in KINDS:
        # ms of CPU per delivery, per stored message; CPU-s per second of the run
        q[kind + '_ms_per_delivery'] = (
            1000.0 * cpu[kind] / run['delivered'] if run['delivered'] else None
        )
        q[kind + '_ms_per_message'] = 1000.0 * cpu[kind] / run['stored'] if run['stored'] else None
        q[kind + '_cpu_per_s'] = cpu[kind] / run['elapsed_s']
    return q


def load_runs(path):
    """The results, the medians of each (system, load)'s quantities, each
    pass's quantities, and each (system, load)'s quantities run by run."""
    results = read(path)
    by_pass = defaultdict(dict)
    grouped = defaultdict(list)
    for run in results:
        q = quantities(run)
        by_pass[run['repeat']][(run['system'], run['load'])] = q
        grouped[(run['system'], run['load'])].append(q)
    medians = {}
    for key, qs in grouped.items():
        medians[key] = {
            k: statistics.median([q[k] for q in qs if q[k] is not None])
            if any(q[k] is not None for q in qs)
            else None
            for k in qs[0]
        }
    return results, medians, [by_pass[p] for p in sorted(by_pass)], grouped


def daphne_share(a, b, deliveries, sockets):
    """Share of a core one legacy daphne spends: one poll per delivery, each
    over every socket it holds, then empty polls (b*S, then a 10 ms wait) in
    the time left."""
    busy = deliveries * (a + b * max(sockets - 10, 0)) / 1000.0
    poll = b * sockets
    return busy + max(0.0, 1 - busy) * poll / (poll + IDLE_WAIT_MS), busy


def legacy_plan(costs, deliveries, sockets, messages, per_message_worker):
    """Fewest daphnes whose share fits the budget, then Redis and runworkers."""
    a, b = costs['legacy_daphne_ms_per_delivery'], costs['legacy_daphne_ms_per_socket']
    ra, rb = costs['legacy_redis_ms_per_delivery'], costs['legacy_redis_ms_per_socket']
    k = 1
    while True:
        held = math.ceil(sockets / k)
        share, busy = daphne_share(a, b, deliveries / k, held)
        if share <= BUDGET:
            break
        k += 1
    # Redis: every delivery's chansend and poll, plus the empty polls' scripts.
    empty_polls = k * max(0.0, 1 - busy) / ((b * held + IDLE_WAIT_MS) / 1000.0)
    redis = (deliveries * (ra + rb * max(held - 10, 0)) + empty_polls * rb * held) / 1000.0
    worker = messages * per_message_worker / 1000.0
    return {
        'daphnes': k,
        'held': held,
        'share': share,
        'redis_cpu': redis,
        'shards': max(1, math.ceil(redis / BUDGET)),
        'worker_cpu': worker,
        'workers': max(1, math.ceil(worker / costs['legacy_worker_cpu_kept_up'])),
    }


def modern_plan(costs, messages, per_message, sockets):
    cpu = messages * per_message / 1000.0 + sockets * costs['modern_daphne_cpu_per_idle_socket']
    redis = messages * costs['modern_redis_ms_per_message'] / 1000.0
    return {
        'cpu': cpu,
        'daphnes': max(1, math.ceil(cpu / BUDGET)),
        'redis_cpu': redis,
        'shards': max(1, math.ceil(redis / BUDGET)),
    }


def legacy_costs(quantity, ten, idle):
    """The legacy stack's unit costs: its daphne's and Redis's per delivery at
    10 sockets and per extra socket held (each delivery is one poll naming
    every reply channel), its runworker's per message, fixed and per member."""

    def per_delivery(load, kind):
        return quantity(LEGACY, load, kind + '_ms_per_delivery')

    def per_message(load):
        return quantity(LEGACY, load, 'worker_ms_per_message')

    daphne, redis = per_delivery('busy', 'daphne'), per_delivery('busy', 'redis')
    per_socket = (per_delivery('sockets', 'daphne') - daphne) / idle
    more_members = quantity(LEGACY, 'room30', 'sockets') - ten
    room10, room30 = per_message('busy'), per_message('room30')
    per_member = (room30 - room10) / more_members
    held_2x2 = quantity('legacy-2x2', 'sockets', 'sockets') / quantity(
        'legacy-2x2', 'sockets', 'daphnes'
    )
    return {
        'legacy_daphne_ms_per_delivery': daphne,
        'legacy_daphne_ms_per_socket': per_socket,
        'legacy_daphne_ms_per_socket_room30': (per_delivery('room30', 'daphne') - daphne)
        / more_members,
        'legacy_2x2_daphne_ms_per_delivery': quantity(
            'legacy-2x2', 'sockets', 'daphne_ms_per_delivery'
        ),
        'legacy_2x2_daphne_ms_per_delivery_modelled': daphne + per_socket * (held_2x2 - ten),
        'legacy_redis_ms_per_delivery': redis,
        'legacy_redis_ms_per_socket': (per_delivery('sockets', 'redis') - redis) / idle,
        'legacy_worker_ms_per_message_room10': room10,
        'legacy_worker_ms_per_message_room30': room30,
        'legacy_worker_ms_per_member': per_member,
        'legacy_worker_ms_per_message_fixed': room10 - ten * per_member,
        'legacy_worker_ms_per_message_room100': per_message('large'),
        # It kept up at this CPU rate and not at twice the load: budget it there.
        'legacy_worker_cpu_kept_up': quantity(LEGACY, 'busy', 'worker_cpu_per_s'),
        'legacy_worker_cpu_at_200': quantity(LEGACY, '200', 'worker_cpu_per_s'),
    }


def modern_costs(quantity, ten, idle):
    """The modern stack's unit costs: its daphne's per message, fixed and per
    member (busy and large both send 100 msg/s, so the idle share per
    message is about the same), and per idle socket; its Redis's per message."""

    def per_message(system, load, kind='daphne'):
        return quantity(system, load, kind + '_ms_per_message')

    room10, room100 = per_message(MODERN, 'busy'), per_message(MODERN, 'large')
    per_member = (room100 - room10) / (quantity(MODERN, 'large', 'sockets') - ten)
    fixed = room10 - ten * per_member
    per_idle_socket = (
        quantity(MODERN, 'sockets', 'daphne_cpu_per_s')
        - quantity(MODERN, 'busy', 'daphne_cpu_per_s')
    ) / idle
    return {
        'modern_daphne_ms_per_message_room10': room10,
        'modern_daphne_ms_per_message_room100': room100,
        'modern_daphne_ms_per_member': per_member,
        'modern_daphne_ms_per_message_fixed': fixed,
        'modern_daphne_ms_per_message_room30': per_message(MODERN, 'room30'),
        'modern_daphne_ms_per_message_room30_modelled': fixed
        + quantity(MODERN, 'room30', 'sockets') * per_member,
        'modern_x2_daphne_ms_per_message_room100': per_message('modern-x2', 'large'),
        'modern_daphne_cpu_per_idle_socket_measured': per_idle_socket,
        # An idle socket costs nothing below zero: a negative difference is noise.
        'modern_daphne_cpu_per_idle_socket': max(0.0, per_idle_socket),
        'modern_redis_ms_per_message': per_message(MODERN, 'busy', 'redis'),
    }


def unit_costs(q):
    """Section 2's unit costs from one set of quantities (the medians, or one pass)."""

    def quantity(system, load, key):
        return q[(system, load)][key]

    ten = quantity(LEGACY, 'busy', 'sockets')
    idle = quantity(LEGACY, 'sockets', 'sockets') - ten
    costs = dict(legacy_costs(quantity, ten, idle), **modern_costs(quantity, ten, idle))
    # Memory per idle socket (KB), from the daphne's peak RSS.
    for stack, system in (('legacy', LEGACY), ('modern', MODERN)):
        busy = quantity(system, 'busy', 'daphne_peak_rss_mb')
        costs[stack + '_daphne_kb_per_idle_socket'] = (
            1024 * (quantity(system, 'sockets', 'daphne_peak_rss_mb') - busy) / idle
        )
        costs[stack + '_daphne_mb_in_busy'] = busy
    # The page shows these in µs (per idle socket: µs of CPU a second).
    costs.update(
        legacy_daphne_us_per_socket=costs['legacy_daphne_ms_per_socket'] * 1000,
        legacy_daphne_us_per_socket_room30=costs['legacy_daphne_ms_per_socket_room30'] * 1000,
        legacy_redis_us_per_socket=costs['legacy_redis_ms_per_socket'] * 1000,
        modern_daphne_us_per_idle_socket_measured=(
            costs['modern_daphne_cpu_per_idle_socket_measured'] * 1e6
        ),
        modern_daphne_us_per_idle_socket=costs['modern_daphne_cpu_per_idle_socket'] * 1e6,
    )
    return costs


def one_process(costs):
    """Section 3: the room of 1,000 all on one process of each kind, its CPU
    per message and the message rate at which it reaches its budget."""
    c, n = costs, ROOM
    daphne = n * (c['legacy_daphne_ms_per_delivery'] + c['legacy_daphne_ms_per_socket'] * (n - 10))
    worker = c['legacy_worker_ms_per_message_fixed'] + n * c['legacy_worker_ms_per_member']
    redis = n * (c['legacy_redis_ms_per_delivery'] + c['legacy_redis_ms_per_socket'] * (n - 10))
    modern = c['modern_daphne_ms_per_message_fixed'] + n * c['modern_daphne_ms_per_member']
    idle = n * c['modern_daphne_cpu_per_idle_socket']
    return {
        'legacy_daphne_ms_per_message_room1000': daphne,
        'legacy_worker_ms_per_message_room1000': worker,
        'legacy_redis_ms_per_message_room1000': redis,
        'modern_daphne_ms_per_message_room1000': modern,
        'legacy_daphne_msg_per_s_at_budget': 1000 * BUDGET / daphne,
        'legacy_worker_msg_per_s_at_budget': 1000 * c['legacy_worker_cpu_kept_up'] / worker,
        'legacy_redis_msg_per_s_at_budget': 1000 * BUDGET / redis,
        'modern_daphne_msg_per_s_at_budget': 1000 * (BUDGET - idle) / modern,
        'modern_redis_msg_per_s_at_budget': 1000 * BUDGET / c['modern_redis_ms_per_message'],
    }


def plans(costs):
    """Sections 4 and 5: what each stack needs for the room of 1,000 and for
    the site, at each message rate."""
    room = {
        rate: {
            'legacy': legacy_plan(
                costs, rate * ROOM, ROOM, rate, costs['legacy_worker_ms_per_message_room1000']
            ),
            'modern': modern_plan(
                costs, rate, costs['modern_daphne_ms_per_message_room1000'], ROOM
            ),
        }
        for rate in ROOM_RATES
    }
    site = {
        rate: {
            'legacy': legacy_plan(
                costs, rate * SITE_ROOM, SITE, rate, costs['legacy_worker_ms_per_message_room10']
            ),
            'modern': modern_plan(costs, rate, costs['modern_daphne_ms_per_message_room10'], SITE),
        }
        for rate in SITE_RATES
    }
    return {'room': room, 'site': site}


def derive(q):
    """Every figure on the page from one set of quantities (medians, or one pass)."""
    figures = unit_costs(q)
    figures.update(one_process(figures))
    figures.update(plans(figures))
    return figures


def ranged(value, values):
    """`value`, and the lowest and highest of `values` in brackets where
    they print differently."""
    low, high = fmt(min(values), fine=True), fmt(max(values), fine=True)
    shown = fmt(value, fine=True)
    return shown if low == high else '%s (%s–%s)' % (shown, low, high)


class Figures(object):
    """Every figure from the medians, and from each pass for its range."""

    def __init__(self, medians, passes):
        self.median = derive(medians)
        self.passes = [derive(p) for p in passes]

    def ranged(self, *path):
        """The figure at `path` (a name, then keys into it) with its range."""
        return ranged(
            functools.reduce(operator.getitem, path, self.median),
            [functools.reduce(operator.getitem, path, p) for p in self.passes],
        )

    def shown(self):
        """Each figure that is a number, by name: as a median, and with its range."""
        names = [n for n, v in self.median.items() if not isinstance(v, dict)]
        return (
            {n: fmt(self.median[n], fine=True) for n in names},
            {n: self.ranged(n) for n in names},
        )

    def plan(self, place, rate, stack):
        """A plan's counts of processes with their range, the rest from the medians."""
        median = self.median[place][rate][stack]
        return {
            k: self.ranged(place, rate, stack, k) if k in COUNTS else fmt(v, fine=True)
            for k, v in median.items()
        }


def measured(medians, grouped, system, load, key):
    """Median of the runs, range beside it, and whether the load broke."""
    values = [q[key] for q in grouped[(system, load)] if q[key] is not None]
    return {
        'value': ranged(statistics.median(values), values),
        'broke': bool(medians[(system, load)]['lost']),
    }


def by_process(medians, grouped):
    """Section 1: CPU per delivery by process kind, under the four loads."""
    return [
        {
            'system': system,
            'kind': kind,
            'cells': [
                measured(medians, grouped, system, load, kind + '_ms_per_delivery')
                for load in ('busy', 'room30', 'large', 'sockets')
            ],
        }
        for system, kind in (
            (LEGACY, 'daphne'),
            (LEGACY, 'worker'),
            (LEGACY, 'redis'),
            (MODERN, 'daphne'),
            (MODERN, 'redis'),
        )
    ]


def measured_directly(medians, grouped):
    """The medians of the runs that the page quotes beside its arithmetic."""
    sockets = medians[(LEGACY, 'sockets')]
    return {
        'legacy_daphne_ms_per_delivery_sockets': fmt(sockets['daphne_ms_per_delivery'], fine=True),
        'legacy_redis_ms_per_delivery_sockets': fmt(sockets['redis_ms_per_delivery'], fine=True),
        'legacy_delivered_per_s_sockets': measured(
            medians, grouped, LEGACY, 'sockets', 'delivered_per_s'
        )['value'],
        'legacy_room_of_1000_msg_per_s': fmt(sockets['delivered_per_s'] / ROOM, fine=True),
        'modern_p99_ms_large': fmt(medians[(MODERN, 'large')]['p99_ms'], fine=True),
        'modern_p99_ms_sockets': fmt(medians[(MODERN, 'sockets')]['p99_ms'], fine=True),
    }


def breaking_order(median):
    """Section 3: the legacy processes, the first to reach its budget first."""
    order = sorted(
        (
            ('daphne', median['legacy_daphne_msg_per_s_at_budget']),
            ('Redis', median['legacy_redis_msg_per_s_at_budget']),
            ('runworker', median['legacy_worker_msg_per_s_at_budget']),
        ),
        key=lambda p: p[1],
    )
    return {
        'processes': [process for process, _ in order],
        'first_msg_per_s': fmt(order[0][1], fine=True),
        'worker_wall_ms': fmt(
            median['legacy_worker_ms_per_message_room1000'] / median['legacy_worker_cpu_kept_up'],
            fine=True,
        ),
    }


def room_example(median):
    """Section 4's arithmetic, worked at EXAMPLE_RATE."""
    legacy, modern = median['room'][EXAMPLE_RATE]['legacy'], median['room'][EXAMPLE_RATE]['modern']
    a, b = median['legacy_daphne_ms_per_delivery'], median['legacy_daphne_ms_per_socket']
    k, held, deliveries = legacy['daphnes'], legacy['held'], EXAMPLE_RATE * ROOM
    fewer = daphne_share(a, b, deliveries / (k - 1), math.ceil(ROOM / (k - 1)))[0]
    per_message = median['modern_daphne_ms_per_message_room1000']
    return {
        'rate': EXAMPLE_RATE,
        'deliveries': fmt(deliveries),
        'daphnes': k,
        'held': held,
        'extra_sockets': held - 10,
        'busy': fmt(daphne_share(a, b, deliveries / k, held)[1], fine=True),
        'share': fmt(legacy['share'], fine=True),
        'fewer_daphnes': k - 1,
        'fewer_share': fmt(fewer, fine=True),
        'modern_cpu': fmt(EXAMPLE_RATE * per_message / 1000, fine=True),
        'modern_daphnes': modern['daphnes'],
    }


def site_rows(figures):
    """Section 5's table: the plans, and the daphnes' memory."""
    rows = []
    for rate in SITE_RATES:
        plan = figures.median['site'][rate]
        gb = {
            stack: (
                plan[stack]['daphnes'] * figures.median[stack + '_daphne_mb_in_busy']
                + SITE * figures.median[stack + '_daphne_kb_per_idle_socket'] / 1024
            )
            / 1024
            for stack in ('legacy', 'modern')
        }
        rows.append(
            {
                'rate': fmt(rate),
                'legacy': figures.plan('site', rate, 'legacy'),
                'modern': figures.plan('site', rate, 'modern'),
                'legacy_memory_gb': fmt(gb['legacy'], fine=True),
                'modern_memory_gb': fmt(gb['modern'], fine=True),
            }
        )
    return rows


def highest_carried(results, stack):
    """Highest msg/s offered to one room of 10 that some system of the stack
    (no tuning rows) stored and delivered whole in every run, and its load."""
    runs = defaultdict(list)
    for r in results:
        if (
            r['system'].startswith(stack)
            and '+' not in r['system']
            and r['load'] in ('quiet', 'busy', '200', '300')
        ):
            runs[(r['system'], r['load'])].append(r)
    return max(
        (rs[0]['offered'], rs[0]['load'])
        for rs in runs.values()
        if all(r['lost_total'] == 0 and not r['close_codes'] for r in rs)
    )


def site_example(median, medians, results):
    """Section 5's arithmetic at 1,000 msg/s, and what the database carried."""
    per_message = median['modern_daphne_ms_per_message_room10']
    idle = SITE * median['modern_daphne_cpu_per_idle_socket']
    legacy, modern = highest_carried(results, 'legacy'), highest_carried(results, 'modern')
    return {
        'modern_cpu': fmt(1000 * per_message / 1000, fine=True),
        'idle_cpu': fmt(idle, fine=True),
        'idle_costs_much': idle > 0.5 * per_message,
        'legacy_carried': fmt(legacy[0], fine=True),
        'modern_carried': fmt(modern[0], fine=True),
        'modern_carried_p99_s': fmt(medians[(MODERN, modern[1])]['p99_ms'] / 1000, fine=True),
    }


def values(path):
    """Everything scaling.md shows, by name."""
    results, medians, passes, grouped = load_runs(path)
    figures = Figures(medians, passes)
    median, shown = figures.shown()
    return {
        'runs': len(results),
        'passes': len(passes),
        'budget': BUDGET,
        'budget_percent': round(100 * BUDGET),
        'room': fmt(ROOM),
        'site_room': SITE_ROOM,
        'idle': int(medians[(LEGACY, 'sockets')]['sockets'] - medians[(LEGACY, 'busy')]['sockets']),
        'by_process': by_process(medians, grouped),
        'measured': measured_directly(medians, grouped),
        'median': median,
        'ranged': shown,
        'breaking': breaking_order(figures.median),
        'room_rows': [
            {
                'rate': fmt(rate),
                'deliveries': fmt(rate * ROOM),
                'legacy': figures.plan('room', rate, 'legacy'),
                'modern': figures.plan('room', rate, 'modern'),
            }
            for rate in ROOM_RATES
        ],
        'room_example': room_example(figures.median),
        'site_rows': site_rows(figures),
        'site_example': site_example(figures.median, medians, results),
        'nginx_counted': nginx_counted(results),
    }


def main(path=RESULTS, docs=pages.DOCS):
    return pages.write('scaling.md', folder=docs, **values(path))


if __name__ == '__main__':
    main(*sys.argv[1:])
