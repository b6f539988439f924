"""
`make soak`: the reference and every generation, each for a bounded time
under churn (rooms that come and go, sockets that join, chat and leave),
with the server's resources sampled through the run: each process's
resident memory and open file descriptors (with its children), and Redis's
connected clients, keys and memory. A leak is a slope: each series' slope after
its first WARM seconds, per repeat, with its spread over the repeats.
Results to artefacts/soak/results.json; lab/bench/soak_report.py writes
docs/generated/soak.md and soak.png from them.

    python -m lab.bench.soak [--systems reference,1.0] [--seconds 180] [--repeat 3]
"""

import argparse
import asyncio
import json
import os
import time
import uuid
from urllib.request import Request, urlopen

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from lab.bench.run import EVERY, HISTORY
from lab.harness.load import in_thread, memory
from lab.harness.logged import losses
from lab.harness.stack import ROOT, process_children, process_tree

OUT = os.path.join(ROOT, 'artefacts', 'soak')
# Rooms alive at once, the sockets of each, and how long a room may take to
# hear every member's message before the cycle counts it as failed.
ROOMS, MEMBERS, HEARD_LIMIT = 4, 5, 10
SAMPLE_EVERY = 1.0
# What each slope leaves out: a fresh process fills its caches, and on 1.x
# daphne's http.disconnect messages, which no consumer reads, fill their
# channel to its capacity and expire 60 s later.
WARM = 90
# A soak is bounded: it stops itself, after at least a minute of slope.
SHORTEST, LONGEST = WARM + 60, 3600


def resident_and_fds(tree):
    """Resident memory (bytes) and open file descriptors of a process tree."""
    fds = 0
    for pid in tree:
        try:
            fds += len(os.listdir('/proc/%d/fd' % pid))
        except OSError:
            pass
    return memory(tree, 'VmRSS'), fds


def redis_figures(running):
    """Redis's connected clients, keys and memory, where the system has one."""
    stack = getattr(running, 'stack', None)
    if stack is None:
        return {}
    info = dict(line.split(':', 1) for line in stack.redis_cli('info').split() if ':' in line)
    return {
        'redis clients': int(info['connected_clients']),
        'redis keys': int(stack.redis_cli('dbsize')),
        'redis used MB': round(int(info['used_memory']) / 2**20, 2),
    }


def sample(running, pids):
    """One sample of every series: 'daphne 1 rss MB', 'worker 1 fds', ..."""
    children = process_children()
    figures = {}
    for name, pid in pids.items():
        rss, fds = resident_and_fds(process_tree(pid, children))
        figures[name + ' rss MB'], figures[name + ' fds'] = round(rss / 2**20, 2), fds
    figures.update(redis_figures(running))
    return figures


async def cycle(running, tally):
    """One room's life: its page, MEMBERS sockets, one message from each
    heard by all (what is not heard within HEARD_LIMIT s is counted), then
    every socket closed."""
    label = 'soak-%s' % uuid.uuid4().hex[:8]
    # The header production's nginx adds, as lab/harness/load.py sends it.
    page = Request('%s/chat/%s/' % (running.url, label), headers={'X-Forwarded-Proto': 'https'})
    await in_thread(lambda: urlopen(page, timeout=30).read())
    url = '%s/chat/%s/' % (running.ws_url, label)
    sockets = []
    try:
        for _ in range(MEMBERS):
            sockets.append(await connect(url, origin=running.url, open_timeout=30))
            tally['sockets'] += 1
        for n, sock in enumerate(sockets):
            await sock.send(json.dumps({'handle': 'soak', 'message': '%s %d' % (label, n)}))
        heard = [0] * len(sockets)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(hear(sock, heard, n) for n, sock in enumerate(sockets))),
                HEARD_LIMIT,
            )
        finally:
            tally['delivered'] += sum(heard)
            tally['unheard'] += len(sockets) * MEMBERS - sum(heard)
    finally:
        for sock in sockets:
            await sock.close()
    tally['cycles'] += 1


async def hear(sock, heard, n):
    while heard[n] < MEMBERS:
        await sock.recv()
        heard[n] += 1


async def churn(running, seconds, tally):
    """ROOMS rooms at once, each replaced by a new one when it ends, until
    `seconds` have passed; a cycle that fails is counted, not retried."""
    deadline = time.monotonic() + seconds

    async def one_room():
        while time.monotonic() < deadline:
            try:
                await cycle(running, tally)
            except (OSError, ConnectionClosed, InvalidHandshake, asyncio.TimeoutError) as error:
                tally['failed'] += 1
                tally['failures'][type(error).__name__] = (
                    tally['failures'].get(type(error).__name__, 0) + 1
                )

    await asyncio.gather(*(one_room() for _ in range(ROOMS)))


async def watch(running, pids, seconds, samples):
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        figures = await in_thread(sample, running, pids)
        samples.append(dict(figures, seconds=round(time.monotonic() - began, 2)))
        await asyncio.sleep(SAMPLE_EVERY)


async def soak(running, seconds):
    pids = running.pids()
    tally = {'cycles': 0, 'sockets': 0, 'delivered': 0, 'unheard': 0, 'failed': 0, 'failures': {}}
    samples = []
    await asyncio.gather(
        churn(running, seconds, tally), watch(running, pids, seconds + SAMPLE_EVERY, samples)
    )
    return dict(tally, samples=samples)


def measure(system, seconds):
    """`system` (one of lab/bench/run.py's) soaked for `seconds`."""
    running = EVERY[system]()
    try:
        result = asyncio.run(soak(running, seconds))
        result['logged'] = losses(running.logs())
    finally:
        running.stop()
    return dict(result, system=system, seconds=seconds)


def slope(samples, series):
    """One series after WARM seconds, fitted with a least-squares line:
    its slope a minute, and whether it grows, that is, whether the line's
    rise over those minutes is more than twice the series' scatter around
    it (so a count that swings with the open sockets does not). None when
    the run is too short to have any."""
    points = [
        (s['seconds'] / 60.0, s[series]) for s in samples if series in s and s['seconds'] >= WARM
    ]
    if len(points) < 3:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    across = sum((t - mean_t) ** 2 for t, _ in points)
    per_minute = sum((t - mean_t) * (v - mean_v) for t, v in points) / across
    scatter = (
        sum((v - mean_v - per_minute * (t - mean_t)) ** 2 for t, v in points) / len(points)
    ) ** 0.5
    rise = per_minute * (points[-1][0] - points[0][0])
    return {'per_minute': per_minute, 'grows': rise > 2 * scatter}


def bounded(text):
    seconds = float(text)
    if not SHORTEST <= seconds <= LONGEST:
        raise argparse.ArgumentTypeError(
            'a soak run lasts from %d to %d seconds (slopes start at %d s), not %s'
            % (SHORTEST, LONGEST, WARM, text)
        )
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--systems', default=','.join(HISTORY))
    parser.add_argument('--seconds', type=bounded, default=180)
    parser.add_argument('--repeat', type=int, choices=range(1, 11), default=3)
    args = parser.parse_args(argv)
    systems = args.systems.split(',')
    unknown = [s for s in systems if s not in HISTORY]
    if unknown:
        parser.error('no such system: %s (known: %s)' % (', '.join(unknown), ', '.join(HISTORY)))
    os.makedirs(OUT, exist_ok=True)
    plan = [(repeat, system) for repeat in range(args.repeat) for system in systems]
    results, began = [], time.monotonic()
    for repeat, system in plan:
        r = dict(measure(system, args.seconds), repeat=repeat)
        results.append(r)
        rest = (time.monotonic() - began) / len(results) * (len(plan) - len(results))
        print(
            'soak %d/%d: %s, repeat %d: %d rooms, %d sockets, %d failed; about %d min left'
            % (
                len(results),
                len(plan),
                system,
                repeat,
                r['cycles'],
                r['sockets'],
                r['failed'],
                rest // 60,
            ),
            flush=True,
        )
        with open(os.path.join(OUT, 'results.json'), 'w') as written:
            json.dump(results, written, indent=1)
    return results


if __name__ == '__main__':
    main()
