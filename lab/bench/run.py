"""
`make bench`: every system under every load, each on a fresh stack started
by the project's launcher (lab/harness/stack.py) or, for the reference, by
lab/bench/reference.py; results to artefacts/bench/results.json, then the
report (lab/bench/report.py). Without --systems, one plan in one run:
the main systems under every load, every other generation of Channels
under the loads users asked about, the tuning and trace rows under three.

    python -m lab.bench.run [--systems legacy-1,modern] [--loads quiet,busy]
                        [--seconds 6] [--repeat 1] [--out DIR]
"""

import argparse
import asyncio
import functools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

from lab.harness.cluster import Cluster
from lab.harness.load import Load, run
from lab.harness.logged import account, losses
from lab.harness.stack import (
    GENERATIONS,
    ROOT,
    Process,
    Stack,
    free_port,
    port_open,
    sqlite_query,
    variant,
    wait_for,
)
from lab.harness.trace import command, layer_trace


def loads(seconds):
    return [
        Load('quiet', 1, 10, 1, seconds),
        Load('busy', 1, 10, 10, seconds),
        Load('200', 1, 10, 20, seconds),
        Load('300', 1, 10, 30, seconds),
        Load('room30', 1, 30, 1, seconds),
        Load('large50', 1, 100, 0.5, seconds),
        Load('large75', 1, 100, 0.75, seconds),
        Load('large', 1, 100, 1, seconds),
        Load('rooms', 50, 4, 1, seconds),
        Load('sockets', 1, 10, 10, seconds, idle=990),
        Load('burst', 1, 30, 1, seconds, burst=True),
    ]


class Reference(object):
    """lab/bench/reference.py on a free port with a fresh SQLite file."""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix='chat-reference-')
        self.database = os.path.join(self.workdir, 'db.sqlite3')
        port = free_port()
        self.url, self.ws_url = 'http://127.0.0.1:%d' % port, 'ws://127.0.0.1:%d' % port
        self.server = Process(
            'reference',
            [sys.executable, '-m', 'lab.bench.reference', str(port), self.database],
            ROOT,
            dict(os.environ, PYTHONPATH=ROOT),
            self.workdir,
        )
        wait_for(
            lambda: port_open(port) or not self.server.alive(),
            15,
            'the reference server',
            seen=self.server.output,
        )
        if not self.server.alive():
            raise RuntimeError('the reference server exited:\n' + self.server.output())

    def query(self, sql, params=()):
        return sqlite_query(self.database, sql, params)

    def pids(self):
        return {'reference': self.server.popen.pid}

    def logs(self):
        return self.server.output()

    def stop(self):
        self.server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


# Production mode, as a site under load runs: DEBUG off (no query log),
# the chat logger at INFO. Pages then expect the proxy's X-Forwarded-Proto.
PRODUCTION = {'DEBUG': '0', 'SECRET_KEY': 'benchmark-key'}


class Launched(object):
    """A stack as lab/harness/stack.py starts it, with what the benchmark needs.
    `wal` puts the SQLite file in write-ahead-log mode before the load, as an
    operator would once with the sqlite3 shell (the mode stays with the file)."""

    def __init__(
        self, generation, workers=1, env=None, wal=False, daphnes=1, trace=None, server='daphne'
    ):
        # Several daphnes need a balancer in front: production's nginx.
        self.stack = Stack(
            generation,
            workers=workers,
            env=dict(PRODUCTION, **(env or {})),
            daphnes=daphnes,
            proxy=daphnes > 1,
            server=server,
        ).start()
        self.url, self.ws_url, self.database = (
            self.stack.url,
            self.stack.ws_url,
            self.stack.database,
        )
        self.query = self.stack.query
        # `make trace` beside it, printing every hop (to its log): reading
        # MONITOR ('monitor') or what the traced layer publishes ('layer').
        options = ['--layer'] if trace == 'layer' else []
        self.trace = (
            Process(
                'trace',
                command(self.stack, *options),
                ROOT,
                dict(os.environ, PYTHONPATH=ROOT),
                self.stack.workdir,
            )
            if trace
            else None
        )
        if trace:
            wait_for(lambda: 'Tracing' in self.trace.output(), 15, 'the trace')
        if wal:
            sqlite3.connect(self.database).execute('PRAGMA journal_mode=WAL').fetchall()

    def pids(self):
        stack = self.stack
        pids = {'redis': stack.redis.popen.pid}
        pids.update(
            ('%s %d' % (stack.server, n), d.popen.pid) for n, d in enumerate(stack.daphnes, 1)
        )
        if stack.proxy:
            pids['nginx'] = stack.proxy.popen.pid
        pids.update(('worker %d' % n, w.popen.pid) for n, w in enumerate(stack.workers, 1))
        return pids

    def logs(self):
        return self.stack.logs()

    def stop(self):
        if self.trace:
            self.trace.stop(signal.SIGINT)
        self.stack.stop()


class Clustered(object):
    """`make cluster`'s containers (lab/harness/cluster.py), driven through its
    nginx: every process in them counted from the host's /proc, and
    docker-proxy, which carries the published port to nginx."""

    NAMES = {
        'proxy': 'nginx',
        'web': 'daphne',
        'worker': 'worker',
        'redis1': 'redis',
        'redis2': 'redis',
        'db': 'postgres',
    }

    def __init__(self, generation):
        self.cluster = Cluster(generation).start()
        self.url, self.ws_url, self.query = (
            self.cluster.url,
            self.cluster.ws_url,
            self.cluster.query,
        )

    def pids(self):
        pids, serial = {}, {}
        for service, name in self.NAMES.items():
            for container in self.cluster.containers(service):
                serial[name] = serial.get(name, 0) + 1
                pids['%s %d' % (name, serial[name])] = self.cluster.inspect(container)['State'][
                    'Pid'
                ]
        forwarder = subprocess.run(
            ['pgrep', '-f', 'docker-proxy .*-host-port %d ' % self.cluster.port],
            stdout=subprocess.PIPE,
            universal_newlines=True,
        ).stdout.split()
        pids.update(('docker-proxy %d' % n, int(pid)) for n, pid in enumerate(forwarder, 1))
        return pids

    def logs(self):
        return ''.join(
            self.cluster.logs(c)
            for c in self.cluster.containers('web') + self.cluster.containers('worker')
        )

    def stop(self):
        self.cluster.stop()


SYSTEMS = {
    'reference': Reference,
    'legacy-1': lambda: Launched('1.0', 1),
    'legacy-2': lambda: Launched('1.0', 2),
    'legacy-4': lambda: Launched('1.0', 4),
    'modern': lambda: Launched('4.3'),
    'modern-uvicorn': lambda: Launched('4.3', server='uvicorn'),
    'legacy-2x2': lambda: Launched('1.0', 2, daphnes=2),
    'modern-x2': lambda: Launched('4.3', daphnes=2),
}
# Every generation in history's order, each as `make run CHANNELS=X` starts
# it, under the loads that answer what users asked when they migrated:
# latency and deliveries as a room of 10 talks faster (channels#859: is
# 2.x slower on one core?), CPU per delivery as a room grows (channels#943,
# channels_redis#83: is group_send slower?), and the burst.
# Each is named as users type it (generations/generations.txt). Two of
# SYSTEMS already start the same stack, so the default plan runs them once:
# the post with its one runworker, and the port.
EVERY_GENERATION = {
    generation: functools.partial(Launched, generation) for generation in GENERATIONS
}
HISTORY = ['reference'] + GENERATIONS
SAME_AS = {'1.0': 'legacy-1', '4.3': 'modern'}
GENERATION_LOADS = ['quiet', 'busy', '300', 'room30', 'large', 'burst']
# The room of 100 at half and three quarters of its rate, for the port
# under daphne and uvicorn beside the reference: how its latency grows as
# its one server process nears a core (docs/performance.md).
NEAR_A_CORE = ['large50', 'large75']
# make cluster's topology on this one machine: not in the default plan
# (each start builds and starts nine containers); --systems names them.
CLUSTERS = {
    'legacy-cluster': lambda: Clustered('1.0'),
    'modern-cluster': lambda: Clustered('4.3'),
}
# The legacy stack's deployment choices, one change at a time from the
# post's (one runworker, SQLite's default rollback journal, channel sessions
# in the database, 100 frames waiting in websocket.receive at most).
CACHE_SESSIONS = variant('cache_sessions')
SYNC_NORMAL = variant('sync_normal')
PERSISTENT = {'CONN_MAX_AGE': '60'}
BIG_QUEUE = variant('big_queue')
TUNING = {
    'legacy-1+wal': lambda: Launched('1.0', 1, wal=True),
    'legacy-1+sync': lambda: Launched('1.0', 1, env=SYNC_NORMAL),
    'legacy-1+persistent': lambda: Launched('1.0', 1, env=PERSISTENT),
    'legacy-1+cache': lambda: Launched('1.0', 1, env=CACHE_SESSIONS),
    'legacy-2+cache': lambda: Launched('1.0', 2, env=CACHE_SESSIONS),
    'legacy-2+capacity': lambda: Launched('1.0', 2, env=BIG_QUEUE),
    # `make trace` beside a plain `make run` (MONITOR), and the layer trace
    # (`make run TRACE=layer`). Does tracing a stack change what it measures?
    'legacy-1+monitor': lambda: Launched('1.0', 1, trace='monitor'),
    'legacy-1+layer-trace': lambda: Launched('1.0', 1, env=layer_trace('1.0'), trace='layer'),
    'modern+monitor': lambda: Launched('4.3', trace='monitor'),
    'modern+layer-trace': lambda: Launched('4.3', env=layer_trace('4.3'), trace='layer'),
}


EVERY = dict(SYSTEMS, **TUNING, **CLUSTERS, **EVERY_GENERATION)


def measure(system, load):
    running = EVERY[system]()
    try:
        result = asyncio.run(run(load, running, running.pids()))
        result['logged'] = losses(running.logs())
        result['lost'] = account(result['lost'], result['logged'])
    finally:
        running.stop()
    result['system'] = system
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--systems')
    parser.add_argument('--loads', default=None)
    parser.add_argument('--seconds', type=float, default=6)
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--out', default=os.path.join(ROOT, 'artefacts', 'bench'))
    args = parser.parse_args(argv)
    names = args.loads.split(',') if args.loads else None
    chosen = [load for load in loads(args.seconds) if not names or load.name in names]
    if args.systems:
        plan = [(s, load) for load in chosen for s in args.systems.split(',')]
    else:
        plan = [(s, load) for load in chosen for s in everything(load)]
    out = args.out
    os.makedirs(out, exist_ok=True)
    results, began, total = [], time.monotonic(), len(plan) * args.repeat
    for repeat in range(args.repeat):
        for system, load in plan:
            result = measure(system, load)
            result['repeat'] = repeat
            results.append(result)
            rest = (time.monotonic() - began) / len(results) * (total - len(results))
            print(
                '%d/%d %s; about %d min left' % (len(results), total, summary(result), rest // 60),
                flush=True,
            )
            with open(os.path.join(out, 'results.json'), 'w') as written:
                json.dump(results, written, indent=1)
    return results


def everything(load):
    """What the default plan runs under `load`, each load's systems one
    after another so that each meets the machine as its reference did."""
    if load.name in NEAR_A_CORE:
        return ['reference', 'modern', 'modern-uvicorn']
    return (
        list(SYSTEMS)
        + [g for g in GENERATIONS if g not in SAME_AS and load.name in GENERATION_LOADS]
        + (list(TUNING) if load.name in ('quiet', 'busy', '300') else [])
    )


def summary(r):
    return (
        '%-12s %-8s sent %5d stored %5d delivered %6d/%-6d lost %5d  p50 %7s p99 %7s ms  '
        'first %7s ms  cpu/1000 %6s s  rss %6s MB  closes %s  gen %.2f'
        % (
            r['system'],
            r['load'],
            r['sent'],
            r['stored'],
            r['delivered'],
            r['expected'],
            r['lost_total'],
            r['p50_ms'],
            r['p99_ms'],
            r['first_ms'],
            r['cpu_s_per_1000'],
            r['peak_rss_mb'],
            r['close_codes'] or '-',
            r['generator_cpu_share'],
        )
    )


if __name__ == '__main__':
    main()
