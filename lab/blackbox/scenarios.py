"""
Black-box scenarios, written once and run against either stack. Each one
drives a stack only through HTTP and WebSocket on its URL (harness.client)
and returns what a client observed, as plain JSON values: status codes,
frames, close codes, headers, and time only as a bound where time is the
point ("answered within 2 s"), never a raw duration a loaded machine would
change.

A scenario never asserts that two recipients see one global order, nor that
live order matches the order of the history on reload.
"""

import asyncio
import http.client
import json
import re
import signal
import socket
import threading
import time
from urllib.error import HTTPError
from urllib.request import build_opener

import websocket

from lab.harness import load
from lab.harness.client import (
    PROMPT,
    connect,
    frames,
    fresh_label,
    get,
    history,
    join,
    next_event,
    say,
)
from lab.harness.logged import LOST_SILENTLY, account, losses, outcome
from lab.harness.stack import wait_for

SCENARIOS = []
NO_WORKER = {'applies': 'no: this stack has no worker processes'}
# The limits both stacks enforce (docs/deviations.md, C12): each stack
# defines its own; these scenarios and the fuzz test check they agree.
MAX_HANDLE, MAX_MESSAGE = 50, 2000


def scenario(function):
    SCENARIOS.append(function)
    return function


def after_bad_frame(stack, send):
    """Send one bad frame, then a good one: what comes back, what is stored."""
    label = fresh_label('bad')
    sock = join(stack, label)
    send(sock)
    first = next_event(sock)
    seen = {'after the bad frame': 'silence' if first == ('silence',) else list(first)}
    if first[0] in ('silence', 'frame'):
        say(sock, 'probe', 'still there?')
        probe = next_event(sock, 10)
        seen['a good frame next'] = 'broadcast' if probe[0] == 'frame' else list(probe)
        sock.close()
    seen['stored'] = [list(row) for row in history(stack, label)]
    return seen


def room_by_label(stack, label):
    """Visit /chat/<label>/, then open a socket on the same path."""
    page = get(stack, '/chat/%s/' % label)[0]
    sock, seen = connect(stack, '/chat/%s/' % label)
    if sock:
        sock.close()
    return {'page': page, 'socket': seen['handshake']}


def echo_of(stack, message, handle='h'):
    label = fresh_label('echo')
    sock = join(stack, label)
    try:
        say(sock, handle, message)
    except (ConnectionError, websocket.WebSocketConnectionClosedException):
        # The server ended the connection while the frame was still going out:
        # the kernel reports a reset, a TLS proxy a close. next_event says which.
        pass
    event = next_event(sock, 30)
    sock.close()
    if event[0] != 'frame':
        return {'echo': list(event), 'stored rows': len(history(stack, label))}
    frame = json.loads(event[1])
    stored = history(stack, label)
    return {
        'echo identical': frame['message'] == message and frame['handle'] == handle,
        'stored identical': stored == [(handle, message)],
    }


# --- The scenarios ---------------------------------------------------------


@scenario
def about_page(stack):
    status, headers, body = get(stack, '/chat/')
    return {
        'status': status,
        'content type': headers.get('Content-Type'),
        'links to /chat/new/': 'href="/chat/new/"' in body,
    }


@scenario
def new_room_redirect(stack):
    status, headers, _ = get(stack, '/chat/new/', follow=False)
    location = headers.get('Location', '')
    label = location.rstrip('/').rsplit('/', 1)[-1]
    return {
        'status': status,
        'location is /chat/<label>/': location == '/chat/%s/' % label,
        'label shape adjective-noun-number': bool(re.match(r'^[a-z]+-[a-z]+(-\d{1,4})?$', label)),
        'room page': get(stack, location)[0],
    }


@scenario
def history_of_50_in_order(stack):
    label = fresh_label('history')
    sock = join(stack, label)
    for n in range(55):
        say(sock, 'h', 'msg-%02d' % n)
        assert next_event(sock, 10)[0] == 'frame'
    sock.close()
    shown = [message for _, message in history(stack, label)]
    return {
        'rows shown': len(shown),
        'the last 50, oldest first': shown == ['msg-%02d' % n for n in range(5, 55)],
    }


@scenario
def any_path_creates_a_room(stack):
    return room_by_label(stack, fresh_label('anypath'))


@scenario
def socket_to_unknown_room(stack):
    sock, seen = connect(stack, '/chat/%s/' % fresh_label('never-visited'))
    return seen


@scenario
def socket_to_malformed_path(stack):
    return connect(stack, '/chat/a/b/')[1]


@scenario
def socket_to_unrouted_path(stack):
    return connect(stack, '/elsewhere/')[1]


@scenario
def broadcast_to_every_member(stack):
    label = fresh_label('members')
    members = [join(stack, label) for _ in range(3)]
    say(members[0], 'alice', 'hello all')
    received = [frames(sock, 1) for sock in members]
    for sock in members:
        sock.close()
    return {
        'members that received it': sum(1 for got in received if got),
        'frame keys': sorted(received[0][0]) if received[0] else None,
    }


@scenario
def isolation_between_rooms(stack):
    here, there = join(stack, fresh_label('here')), join(stack, fresh_label('there'))
    say(here, 'alice', 'only here')
    seen = {'same room': next_event(here, 10)[0], 'other room': next_event(there)[0]}
    here.close()
    there.close()
    return seen


@scenario
def text_that_is_not_json(stack):
    return after_bad_frame(stack, lambda sock: sock.send('not json'))


@scenario
def wrong_keys(stack):
    return after_bad_frame(stack, lambda sock: sock.send(json.dumps({'name': 'a', 'text': 'b'})))


@scenario
def extra_keys(stack):
    return after_bad_frame(
        stack,
        lambda sock: sock.send(json.dumps({'handle': 'a', 'message': 'b', 'room': 'elsewhere'})),
    )


@scenario
def empty_values(stack):
    return after_bad_frame(stack, lambda sock: sock.send(json.dumps({'handle': '', 'message': ''})))


@scenario
def json_that_is_not_an_object(stack):
    return after_bad_frame(stack, lambda sock: sock.send('["handle", "message"]'))


@scenario
def binary_frame(stack):
    return after_bad_frame(stack, lambda sock: sock.send_binary(b'\x00\xff binary'))


@scenario
def empty_frame(stack):
    return after_bad_frame(stack, lambda sock: sock.send(''))


@scenario
def unicode_and_emoji(stack):
    return echo_of(stack, 'h\u00e9llo \u4e16\u754c \U0001f389', handle='\u00e9mile')


@scenario
def html_in_a_message(stack):
    label = fresh_label('html')
    sock = join(stack, label)
    payload = '<script>alert(1)</script>'
    say(sock, '<b>h</b>', payload)
    frame = frames(sock, 1)
    sock.close()
    body = get(stack, '/chat/%s/' % label)[2]
    return {
        'frame carries it raw': bool(frame) and frame[0]['message'] == payload,
        'history escapes it': '&lt;script&gt;alert(1)&lt;/script&gt;' in body
        and payload not in body,
    }


@scenario
def message_of_2000_characters(stack):
    return echo_of(stack, 'y' * MAX_MESSAGE)


@scenario
def handle_of_51_characters(stack):
    return echo_of(stack, 'hello', handle='z' * (MAX_HANDLE + 1))


@scenario
def message_of_64_kib(stack):
    return echo_of(stack, 'x' * (64 * 1024))


@scenario
def message_of_2_mib(stack):
    return echo_of(stack, 'x' * (2 * 1024 * 1024))


@scenario
def label_of_50_characters(stack):
    return room_by_label(stack, 'a' * 50)


@scenario
def label_of_51_characters(stack):
    return room_by_label(stack, 'b' * 51)


@scenario
def non_ascii_label(stack):
    return room_by_label(stack, '%ED%95%9C%EA%B8%80')


@scenario
def foreign_origin(stack):
    label = fresh_label('origin')
    get(stack, '/chat/%s/' % label)
    sock, seen = connect(stack, '/chat/%s/' % label, origin='http://evil.example')
    if sock:
        sock.close()
    return {'handshake': seen['handshake']}


@scenario
def burst_of_50_from_one_client(stack):
    label = fresh_label('burst')
    sender, listener = join(stack, label), join(stack, label)
    for n in range(50):
        say(sender, 'burst', str(n))
    got = [int(frame['message']) for frame in frames(listener, 50)]
    sender.close()
    listener.close()
    return {'received': len(got), 'in the order sent': got == list(range(50))}


def crowd(stack, clients, each, paused=()):
    """`clients` members of one room each send `each` messages at once (with
    the `paused` processes stopped meanwhile), and only then read: did every
    member hear all of them, and did the server end any socket?"""
    label = fresh_label('crowd')
    members = [join(stack, label) for _ in range(clients)]
    for process in paused:
        process.signal(signal.SIGSTOP)
    threads = [threading.Thread(target=send_quietly, args=(sock, each)) for sock in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in paused:
        process.signal(signal.SIGCONT)
    counts, ended = [], 0
    for sock in members:
        count = 0
        event = next_event(sock, 5)
        while event[0] == 'frame':
            count += 1
            event = next_event(sock, 5)
        # A socket the server ends while its client still sends is reset
        # (a close frame, if any, is lost with it): count ends, not codes.
        ended += event[0] != 'silence'
        counts.append(count)
        sock.close()
    return {
        'every member heard all %d' % (clients * each): counts == [clients * each] * clients,
        'the server ended sockets': ended > 0,
    }


def send_quietly(sock, count):
    try:
        for n in range(count):
            say(sock, 'crowd', str(n))
    except (ConnectionError, websocket.WebSocketException):
        pass  # the server closed this socket: crowd() records how


@scenario
def many_senders_at_once(stack):
    return crowd(stack, clients=5, each=10)


@scenario
def many_senders_while_the_worker_is_busy(stack):
    # The worker is stopped while 200 frames arrive, more than the 100 the
    # shared websocket.receive channel holds.
    if not stack.workers:
        return NO_WORKER
    return crowd(stack, clients=10, each=20, paused=stack.workers)


# What a loaded room shows depends on this machine's speed: how many frames
# a second one runworker stores decides whether 100 msg/s fills the
# replica's websocket.receive (seen both ways here, on one checkout).
# `make bench` measures that; the suite asserts what holds on any machine,
# that no loss goes unreported, and reports the outcome class beside it.
MACHINE_BOUND = {
    'room_of_10_at_100_messages_a_second': 'outcome',
    'room_of_10_at_300_messages_a_second': 'outcome',
}


def under_load(stack, rate):
    """Ten members of one room, each sending `rate` messages a second for
    4 s (the benchmark's clients, lab/harness/load.py): the outcome class, with
    what the stack's logs account for classed as logged, as `make bench`
    classes it (lab/harness/logged.py), and whether every loss was reported (a
    close code or a WARNING line)."""
    counted = asyncio.run(load.run(load.Load('room', 1, 10, rate, 4), stack, {}))
    counted['lost'] = account(counted['lost'], losses(stack.logs()))
    seen = outcome(counted)
    return {'outcome': seen, 'every loss reported': seen != LOST_SILENTLY}


@scenario
def room_of_10_at_100_messages_a_second(stack):
    return under_load(stack, 10)


@scenario
def room_of_10_at_300_messages_a_second(stack):
    return under_load(stack, 30)


@scenario
def server_header_on_the_handshake(stack):
    sock = join(stack, fresh_label('header'))
    headers = sock.getheaders()
    sock.close()
    return {'Server': headers.get('server')}


@scenario
def reconnect_after_the_server_restarts(stack):
    label = fresh_label('restart')
    sock = join(stack, label)
    stack.restart_daphne()
    old = next_event(sock, 5)
    sock = join(stack, label)
    say(sock, 'h', 'after the restart')
    new = next_event(sock, 10)
    sock.close()
    return {'old socket': list(old), 'new socket chats': new[0] == 'frame'}


@scenario
def messages_sent_while_no_worker_runs(stack):
    if not stack.workers:
        return NO_WORKER
    label = fresh_label('noworker')
    sender, listener = join(stack, label), join(stack, label)
    worker = stack.workers.pop()
    worker.kill()
    say(sender, 'h', 'queued')
    quiet = next_event(listener)
    stack.start_worker()
    late = next_event(listener, 15)
    sender.close()
    listener.close()
    return {
        'while no worker': quiet[0],
        'once a worker starts': late[0],
        'stored': [list(row) for row in history(stack, label)],
    }


# --- What each generation of the framework does ----------------------------
# Through the chat app where it shows it, else through the framework echo
# (lab/variants/framework_echo.py: an echo on /echo/ whose frames `raise`,
# `sleep S` and `twice` are commands), which stack.framework_echo() serves
# beside the app.


def echo_socket(stack):
    sock, seen = connect(stack.framework_echo(), '/echo/')
    assert sock, 'the framework echo refused a socket: %r' % (seen,)
    return sock


@scenario
def a_consumer_that_raises(stack):
    sock = echo_socket(stack)
    sock.send('raise')
    first = next_event(sock, 5)
    if first[0] == 'silence':
        sock.send('still there?')
        first = next_event(sock, 10)
    sock.close()
    return {'after the exception': list(first)}


@scenario
def a_socket_to_a_path_no_consumer_takes(stack):
    # The chat app refuses other paths itself (socket_to_unrouted_path).
    started = time.time()
    sock, seen = connect(stack.framework_echo(), '/elsewhere/')
    if sock:
        sock.close()
    return {
        'handshake': seen['handshake'],
        'within 2 s': seen['answered within %d s' % PROMPT],
        'within 8 s': time.time() - started < 8,
    }


@scenario
def a_flood_of_200_frames_while_the_consumer_sleeps(stack):
    sock = echo_socket(stack)
    sock.send('sleep 2')
    for n in range(200):
        sock.send(str(n))
    echoed, event = 0, next_event(sock, 10)
    while event[0] == 'frame':
        echoed += event[1] != 'slept'
        event = next_event(sock, 5)
    sock.close()
    seen = {'frames echoed': 'all 200' if echoed == 200 else 'fewer', 'then': list(event)}
    # The echoes of what was queued go to a socket that is gone, and fill
    # its reply channel (capacity 100): does the runworker live through it?
    workers = stack.framework_echo().workers
    if workers:
        try:
            wait_for(lambda: not workers[0].alive(), 5, 'the runworker to exit')
            seen['the runworker'] = 'exited: ' + last_error(workers[0].output())
        except RuntimeError:
            seen['the runworker'] = 'still running'
    stack.stop_framework_echo()
    return seen


def last_error(log):
    """The last exception a process's log names, without its message."""
    raised = re.findall(r'^(\w[\w.]*(?:Error|Full|Exception))\b', log, re.M)
    return raised[-1] if raised else 'no exception named'


@scenario
def another_socket_while_a_consumer_sleeps(stack):
    sleeper, other = echo_socket(stack), echo_socket(stack)
    sleeper.send('sleep 3')
    time.sleep(0.5)  # the sleeper's frame first: it is the point, not a wait
    other.send('ping')
    answer = next_event(other, 2)
    slept = next_event(sleeper, 10)
    sleeper.close()
    other.close()
    return {
        'the other socket answered within 2 s': answer == ('frame', 'ping'),
        'the sleeper then': list(slept),
    }


@scenario
def when_a_consumers_sends_leave(stack):
    sock = echo_socket(stack)
    sock.send('twice')
    first = next_event(sock, 10)
    started = time.time()
    second = next_event(sock, 10)
    gap = time.time() - started
    sock.close()
    return {
        'frames': [first[-1], second[-1]],
        'the first left before the consumer returned': gap > 0.5,
    }


@scenario
def a_group_member_in_redis(stack):
    label = fresh_label('keys')
    sock = join(stack, label)
    groups = group_keys(stack, label)
    sock.close()
    return {
        'group key': [name.replace(label, '<label>') for name in groups] or 'none',
        'member': [
            re.sub(r'[A-Za-z0-9_]{8,}', '<random>', member)
            for members in groups.values()
            for member in members
        ],
    }


@scenario
def a_page_while_the_workers_are_stopped(stack):
    for worker in stack.workers:
        worker.signal(signal.SIGSTOP)
    try:
        opened = time.time()
        answered = http_status(stack, '/chat/', 3)
    finally:
        for worker in stack.workers:
            worker.signal(signal.SIGCONT)
    return {'page': answered, 'within 3 s': time.time() - opened < 3}


def http_status(stack, path, timeout):
    try:
        return build_opener().open(stack.url + path, timeout=timeout).status
    except HTTPError as error:
        return error.code
    except (OSError, socket.timeout):
        return 'no answer'


@scenario
def server_header_on_a_page(stack):
    return {'Server': get(stack, '/chat/')[1].get('Server')}


@scenario
def two_requests_on_one_connection(stack):
    connection = http.client.HTTPConnection('127.0.0.1', stack.port, timeout=10)
    statuses = []
    try:
        for _ in range(2):
            connection.request('GET', '/chat/')
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    except (http.client.HTTPException, OSError) as error:
        statuses.append(type(error).__name__)
    finally:
        connection.close()
    return {'answers': statuses}


@scenario
def a_page_with_a_query_string_and_a_socket_with_one(stack):
    label = fresh_label('query')
    page = get(stack, '/chat/%s/?from=test' % label)[0]
    sock, seen = connect(stack, '/chat/%s/?from=test' % label)
    if sock:
        sock.close()
    return {'page': page, 'socket': seen['handshake']}


@scenario
def an_open_socket_when_the_consumers_process_restarts(stack):
    # The process that runs the consumers: a runworker on 1.x, daphne after.
    label = fresh_label('restart-consumers')
    sock = join(stack, label)
    if stack.workers:
        stack.workers.pop().kill()
        stack.start_worker()
    else:
        stack.restart_daphne()
    try:
        say(sock, 'h', 'after the restart')
        after = next_event(sock, 10)
    except (ConnectionError, websocket.WebSocketException):
        after = ('dropped',)
    sock.close()
    return {
        'the consumers run in': 'a runworker' if stack.workers else 'daphne',
        'the open socket then': 'chats' if after[0] == 'frame' else list(after),
    }


# --- Stopping a process, as a deploy does ----------------------------------
# SIGTERM, then up to STOP_WAIT s before the harness sends SIGKILL.
STOP_WAIT = 10


def stop_timed(process):
    """SIGTERM to a process: whether it exited by itself within STOP_WAIT s."""
    stopped = time.time()
    process.stop(timeout=STOP_WAIT)
    return time.time() - stopped < STOP_WAIT


def frames_waiting(stack):
    """Frames daphne put in websocket.receive that no runworker took yet (1.x)."""
    return int(stack.redis_cli('llen', 'asgi:websocket.receive'))


def group_keys(stack, label):
    """{key: the channels it holds} for each Redis key naming the room: a
    group's sorted set of member channels."""
    names = stack.redis_cli('--scan', '--pattern', '*%s*' % label).split()
    return {name: stack.redis_cli('zrange', name, '0', '-1').split() for name in names}


def members_in_redis(stack, label):
    """How many channels the room's group holds in Redis, if any: Redis
    removes an empty group's key, and the port's Pub/Sub layer keeps none."""
    return sum(len(members) for members in group_keys(stack, label).values()) or 'none in Redis'


@scenario
def daphne_stopped_with_sockets_open(stack):
    # Whether each socket's disconnect runs and leaves the room's group is
    # what Redis says afterwards; 1.x's runworker may take a moment.
    label = fresh_label('stop-daphne')
    socks = [join(stack, label) for _ in range(2)]
    say(socks[0], 'h', 'before the stop')
    heard = [len(frames(sock, 1)) for sock in socks]
    before = members_in_redis(stack, label)
    exited = stop_timed(stack.daphnes.pop(0))
    seen = [next_event(sock, 3) for sock in socks]
    try:
        wait_for(lambda: members_in_redis(stack, label) == 'none in Redis', 5, 'the group')
    except RuntimeError:
        pass  # the members stayed: the result says how many
    after = members_in_redis(stack, label)
    stack.start_daphne()
    stored = [list(row) for row in history(stack, label)]
    # A channel's capacity is 100: past it, a member that is gone shows.
    sock = join(stack, label)
    for number in range(101):
        say(sock, 'h', 'after the stop %d' % number)
        frames(sock, 1)
    sock.close()
    dropped = 'group chat-%s: message dropped' % label
    return {
        'heard before the stop': heard,
        'the open sockets then': sorted(set(event[0] for event in seen)),
        'daphne exited within %d s' % STOP_WAIT: exited,
        'members in Redis before': before,
        'members in Redis after': after,
        'stored': stored,
        'then 101 messages: group sends that logged a drop': stack.logs().count(dropped),
    }


@scenario
def daphne_stopped_while_a_consumer_works(stack):
    # `twice` sends 'first', blocks 1 s and sends 'second': once 'first'
    # arrives the consumer is at work.
    if stack.workers:
        return {'applies': 'no: the consumers run in a runworker, not in daphne'}
    sock = echo_socket(stack)
    sock.send('twice')
    first = next_event(sock, 10)
    exited = stop_timed(stack.framework_echo().daphnes.pop(0))
    then = next_event(sock, 3)
    stack.stop_framework_echo()
    return {
        'first': list(first),
        'the socket then': list(then),
        'daphne exited within %d s' % STOP_WAIT: exited,
    }


@scenario
def a_runworker_stopped_while_a_consumer_works(stack):
    # A frame waits in Redis for no runworker; the next one takes it and
    # sleeps 2 s in the consumer; SIGTERM comes once it says it sleeps.
    if not stack.workers:
        return NO_WORKER
    echo = stack.framework_echo()
    sock = echo_socket(stack)
    echo.workers.pop().kill()
    sock.send('sleep 2')
    wait_for(lambda: frames_waiting(echo) == 1, 5, 'the frame to wait for a runworker')
    worker = echo.start_worker()
    wait_for(lambda: 'framework echo: asleep' in worker.output(), 5, 'the consumer to sleep')
    said = len(worker.output())
    exited = stop_timed(worker)
    echo.workers.remove(worker)
    answer = next_event(sock, 3)
    says = [line.split(' - ')[-1] for line in worker.output()[said:].splitlines()]
    stack.stop_framework_echo()
    return {
        'the socket then': list(answer),
        'the runworker exited within %d s' % STOP_WAIT: exited,
        'its exit status': worker.popen.returncode,
        'it says': says,
    }
