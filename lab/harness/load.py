"""
One load against one running stack, by real WebSocket clients (asyncio,
websockets), and everything a user would care about counted: what was sent,
stored and delivered, where each lost message went, latency from send to
receipt, close codes, and the server processes' CPU and memory.

Each message carries its own id and send time ("<run>:<sender>:<n> <t>"), so
a delivery is matched to its message exactly and the rows stored are found
by the run's prefix.
"""

import asyncio
import functools
import json
import os
import random
import statistics
import time
import uuid
from collections import Counter, defaultdict
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from lab.harness.client import UNVERIFIED
from lab.harness.logged import HELLO_LOST, NEVER_STORED, SILENT
from lab.harness.stack import process_children, process_tree

__all__ = [
    'Load',
    'Member',
    'in_thread',
    'memory',
    'run',
    'tally',
]

# Sockets opened at once: enough to open 1,000 in seconds, few enough not
# to overflow daphne's listen backlog.
OPENING = 25
# How long a room's page or a socket's handshake may take before it counts
# as refused.
OPEN_TIMEOUT = 30
# After the last send, how long the clients keep listening: until every
# stored message has reached every member, or nothing new came for SETTLE s.
SETTLE = 3
DRAIN_LIMIT = 20
# Before the measured sends, each room's first member says hello and the
# load waits, at most this long, until every member of the room has it: a
# fresh stack's first message pays for what it sets up (channels_redis
# 4.3's Pub/Sub reader polls every 100 ms until its first subscription
# is live), which is not what a room that has been talking sees.
WARM_LIMIT = 10


class Load(object):
    """`rooms` rooms of `members` sockets, `senders` of them in each room
    sending `rate` messages a second for `seconds`; `idle` more sockets open
    in rooms of their own that never speak. Each sender starts at a random
    phase, or with `burst` all at the same instant, as a room does when
    everyone answers the same moment of a live event."""

    def __init__(self, name, rooms, members, rate, seconds, senders=None, idle=0, burst=False):
        self.name, self.rooms, self.members, self.rate = name, rooms, members, rate
        self.seconds, self.idle, self.burst = seconds, idle, burst
        self.senders = members if senders is None else senders

    @property
    def offered(self):
        """Messages a second sent into the whole site."""
        return self.rooms * self.senders * self.rate

    def describe(self):
        text = '%d room%s of %d, %d × %g msg/s' % (
            self.rooms,
            '' if self.rooms == 1 else 's',
            self.members,
            self.senders,
            self.rate,
        )
        text += ', all at once' if self.burst else ''
        return text + (', %d idle sockets' % self.idle if self.idle else '')


class Member(object):
    def __init__(self, room, index):
        self.room, self.index = room, index
        self.socket = None
        self.refused = None  # what the handshake got instead of a socket
        self.close_code = None
        self.received = {}  # message id -> latency in seconds
        self.greeted = None  # latency of the room's hello, before the load


def memory(tree, field):
    """A memory field of /proc/PID/status (VmRSS, VmHWM) in bytes, summed
    over a process tree; a process gone meanwhile counts 0."""
    total = 0
    for pid in tree:
        try:
            with open('/proc/%d/status' % pid) as status:
                total += next(
                    int(line.split()[1]) * 1024 for line in status if line[:6] == field + ':'
                )
        except (OSError, StopIteration):
            pass
    return total


class ProcessWatch(object):
    """CPU seconds and peak RSS of server processes, from /proc: each named
    pid with its descendants (nginx's workers under its master, daphne and
    runworker under a container's honcho)."""

    TICK = os.sysconf('SC_CLK_TCK')

    def __init__(self, pids):
        self.pids = dict(pids)  # name -> pid
        self.start = {name: self.cpu(tree) for name, tree in self.trees().items()}

    def trees(self):
        """{name: its pid and every descendant's}, from one pass over /proc."""
        children = process_children()
        return {name: process_tree(pid, children) for name, pid in self.pids.items()}

    def cpu(self, tree):
        total = 0.0
        for pid in tree:
            try:
                with open('/proc/%d/stat' % pid) as stat:
                    fields = stat.read().rsplit(')', 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / self.TICK
            except OSError:
                pass
        return total

    def result(self):
        return {
            name: {
                'cpu_seconds': round(self.cpu(tree) - self.start[name], 3),
                'peak_rss_mb': round(memory(tree, 'VmHWM') / 2**20, 1),
            }
            for name, tree in self.trees().items()
        }


def percentile(values, share):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


def stored_rows(stack, prefix):
    """(room label, message) of every row this run stored."""
    return stack.query(
        'SELECT label, message FROM chat_message JOIN chat_room ON chat_room.id = room_id '
        'WHERE message LIKE ?',
        (prefix + '%',),
    )


def in_thread(work, *args):
    """`work(*args)` in the loop's thread pool, awaited: what
    asyncio.to_thread does, in the harness's Python 3.5 terms."""
    return asyncio.get_event_loop().run_in_executor(None, functools.partial(work, *args))


async def open_member(member, ws_url, origin):
    try:
        member.socket = await connect(
            '%s/chat/%s/' % (ws_url, member.room),
            origin=origin,
            ping_interval=None,
            open_timeout=OPEN_TIMEOUT,
            max_size=2**20,
            ssl=UNVERIFIED if ws_url.startswith('wss:') else None,
        )
    except InvalidStatus as refused:
        member.refused = 'refused %d' % refused.response.status_code
    except (OSError, asyncio.TimeoutError) as error:
        member.refused = type(error).__name__


async def listen(member, prefix, clock):
    try:
        async for text in member.socket:
            message = json.loads(text).get('message', '')
            if message.startswith(prefix):
                ident, sent = message.split(' ')
                member.received[ident] = clock() - float(sent)
            elif message.startswith('hello ' + prefix):
                member.greeted = clock() - float(message.split(' ')[2])
    except ConnectionClosed:
        pass
    member.close_code = member.socket.close_code if member.socket.close_code != 1000 else None


async def speak(member, load, prefix, clock, sent, began, rounds):
    """Send at a steady rate from a random phase (or from `began`, in a
    burst); a send on a closed socket counts as refused, with the code the
    socket was closed with."""
    interval = 1.0 / load.rate
    start = began + (0 if load.burst else random.uniform(0, interval))
    for n in range(int(load.seconds * load.rate)):
        delay = start + n * interval - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        ident = '%s:%s:%d:%d' % (prefix, member.room, member.index, n)
        rounds[n].append(clock())
        try:
            await member.socket.send(
                json.dumps(
                    {'handle': 'm%d' % member.index, 'message': '%s %.6f' % (ident, clock())}
                )
            )
            sent[ident] = member
        except ConnectionClosed:
            # The rest of what this member meant to say is refused too.
            for rest in range(n, int(load.seconds * load.rate)):
                sent['%s:%s:%d:%d' % (prefix, member.room, member.index, rest)] = member
            return


async def fetch_rooms(stack, labels):
    """Each room's page, as a browser loads it before its socket opens;
    returns the refusals counted by status."""
    pages = Counter()
    for label in labels:
        # The header nginx adds in production (ops/nginx.conf), so the page is
        # served rather than redirected to HTTPS.
        page = Request('%s/chat/%s/' % (stack.url, label), headers={'X-Forwarded-Proto': 'https'})
        try:
            await in_thread(lambda: urlopen(page, timeout=OPEN_TIMEOUT, context=UNVERIFIED).read())
        except HTTPError as refused:
            # Counted; the room's sockets are then refused and counted too.
            pages['room page %d' % refused.code] += 1
        except OSError as failed:
            # Not answered (a handshake that timed out, say): counted so too.
            pages['room page %s' % type(failed).__name__] += 1
    return pages


async def open_all(everyone, stack):
    """Opens every member's socket, OPENING at a time."""
    for start in range(0, len(everyone), OPENING):
        await asyncio.gather(
            *(open_member(m, stack.ws_url, stack.url) for m in everyone[start : start + OPENING])
        )


async def greet(in_room, prefix, clock):
    """Each room's hello (see WARM_LIMIT), in every room at once; returns
    how many members never got theirs, and the latency of the slowest."""
    for members in in_room.values():
        if members:
            hello = 'hello %s %.6f' % (prefix, clock())
            try:
                await members[0].socket.send(json.dumps({'handle': 'bench', 'message': hello}))
            except ConnectionClosed:
                pass  # its members count as never greeted
    everyone = [m for members in in_room.values() for m in members]
    deadline = clock() + WARM_LIMIT
    while clock() < deadline and any(m.greeted is None and m.close_code is None for m in everyone):
        await asyncio.sleep(0.05)
    missed = sum(1 for m in everyone if m.greeted is None)
    slowest = max((m.greeted for m in everyone if m.greeted is not None), default=None)
    return missed, slowest


async def drain(stack, prefix, sent, in_room, clock):
    """Until every stored message reached every open member of its room, or
    nothing changed for SETTLE seconds, or DRAIN_LIMIT."""

    def missing():
        rows = stored_rows(stack, prefix)
        return rows, sum(
            1
            for label, text in rows
            for m in in_room[label]
            if text.split(' ')[0] not in m.received and m.close_code is None
        )

    last, last_change, deadline = None, clock(), clock() + DRAIN_LIMIT
    while clock() < deadline:
        rows, waiting = await in_thread(missing)
        if waiting == 0 and len(rows) == len(sent):
            break
        if (len(rows), waiting) != last:
            last, last_change = (len(rows), waiting), clock()
        elif clock() - last_change > SETTLE:
            break
        await asyncio.sleep(0.2)


async def close_all(opened, members, listeners):
    """Closes every socket. Deliveries count within the drain only; rows
    count once the sockets are closed, so that a message stored late is
    counted as stored and its deliveries as not delivered within the drain,
    never as delivered but not expected."""
    within = {m: dict(m.received) for m in members}
    for m in opened:
        await m.socket.close()
    await asyncio.gather(*listeners)
    for m in members:
        m.received = within[m]


async def run(load, stack, pids):
    """Run `load` against `stack` (url, ws_url, query); returns the counts."""
    clock = time.monotonic
    prefix = 'b' + uuid.uuid4().hex[:6]
    labels = ['%s-%d' % (prefix, r) for r in range(load.rooms)]
    idle_labels = ['%s-idle-%d' % (prefix, r) for r in range((load.idle + 9) // 10)]
    pages = await fetch_rooms(stack, labels + idle_labels)
    members = [Member(label, i) for label in labels for i in range(load.members)]
    idle = [Member(idle_labels[i // 10], i) for i in range(load.idle)]
    everyone = idle + members
    await open_all(everyone, stack)
    opened = [m for m in everyone if m.socket]
    listeners = [asyncio.ensure_future(listen(m, prefix, clock)) for m in opened]
    in_room = {label: [m for m in members if m.room == label and m.socket] for label in labels}
    unwelcome, first = await greet(in_room, prefix, clock)

    watch = ProcessWatch(pids)
    own_cpu = time.process_time()
    sent = {}
    talking = [m for m in members if m.socket and m.index < load.senders]
    began = clock()
    rounds = defaultdict(list)  # n -> when each member sent its nth message
    await asyncio.gather(*(speak(m, load, prefix, clock, sent, began, rounds) for m in talking))
    sending = clock() - began
    await drain(stack, prefix, sent, in_room, clock)
    elapsed = clock() - began
    servers = watch.result()
    generator_cpu = time.process_time() - own_cpu
    await close_all(opened, members, listeners)
    rows = await in_thread(stored_rows, stack, prefix)
    counted = tally(load, sent, rows, in_room, everyone, servers, sending, elapsed, generator_cpu)
    counted['refused'].update(pages)
    counted['first_ms'] = ms(first)
    # How far apart a round's sends went out: about 1/rate at random phases,
    # the generator's own pace in a burst.
    counted['round_spread_ms'] = ms(
        statistics.median(max(times) - min(times) for times in rounds.values()) if rounds else None
    )
    if unwelcome:
        counted['lost'][HELLO_LOST] = unwelcome
        counted['lost_total'] += unwelcome
    return counted


def tally(load, sent, rows, in_room, everyone, servers, sending, elapsed, generator_cpu):
    stored = {text.split(' ')[0]: label for label, text in rows}
    latencies = [
        lat for members in in_room.values() for m in members for lat in m.received.values()
    ]
    lost = Counter()
    for ident, sender in sent.items():
        if ident not in stored:
            lost[
                'never stored, sender closed %s' % sender.close_code
                if sender.close_code
                else NEVER_STORED
            ] += 1
    expected = 0
    for ident, label in stored.items():
        for m in in_room[label]:
            expected += 1
            if ident not in m.received:
                lost['stored, member closed %s' % m.close_code if m.close_code else SILENT] += 1
    delivered = len(latencies)
    cpu = sum(s['cpu_seconds'] for s in servers.values())
    closes = Counter(str(m.close_code) for m in everyone if m.close_code)
    return {
        'load': load.name,
        'describe': load.describe(),
        'offered': load.offered,
        'sockets': len(everyone),
        'opened': sum(1 for m in everyone if m.socket),
        'refused': dict(Counter(m.refused for m in everyone if m.refused)),
        'sent': len(sent),
        'stored': len(stored),
        'expected': expected,
        'delivered': delivered,
        'lost': dict(lost),
        'lost_total': sum(lost.values()),
        'close_codes': dict(closes),
        'p50_ms': ms(percentile(latencies, 0.50)),
        'p95_ms': ms(percentile(latencies, 0.95)),
        'p99_ms': ms(percentile(latencies, 0.99)),
        'max_ms': ms(max(latencies) if latencies else None),
        'sending_s': round(sending, 2),
        'elapsed_s': round(elapsed, 2),
        'delivered_per_s': round(delivered / elapsed, 1) if elapsed else 0,
        'servers': servers,
        'cpu_s_per_1000': round(cpu * 1000 / delivered, 3) if delivered else None,
        'peak_rss_mb': round(sum(s['peak_rss_mb'] for s in servers.values()), 1),
        'generator_cpu_share': round(generator_cpu / elapsed, 2) if elapsed else 0,
    }


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 2)
