"""
What goes wrong, and what survives, when a process of the legacy stack
fails: real redis-server, daphne and runworker processes (lab/harness/stack.py),
real signals, real WebSocket clients. Every assertion is what was observed
by running the fault, not what the documentation promises.

Each test starts its own stack, since every fault leaves one behind that
is no longer fresh.
"""

import glob
import json
import os
import signal
import sqlite3
import threading
import time
from http.client import RemoteDisconnected
from urllib.request import urlopen

import pytest
import redis
import websocket
from asgi_redis import RedisChannelLayer

from lab.harness.client import frames, join, rows, say, silent
from lab.harness.stack import Stack, variant, wait_for

# The replica's settings with a 3 s channel expiry instead of asgi_redis's 60 s.
SHORT_EXPIRY = variant('short_expiry')
SHORT_EXPIRY_SECONDS = 3
# And with room for 2 messages in each reply channel instead of 100.
SMALL_REPLY_CHANNELS = variant('small_reply')


def start(**kwargs):
    running = Stack('1.0', **kwargs).start()
    running.redis_client = redis.StrictRedis(port=running.redis_port)
    return running


@pytest.fixture
def stack():
    running = start()
    yield running
    stop_and_print_logs(running)


def stop_and_print_logs(running):
    # stack.logs() shows only the current daphne and redis; after a restart
    # the first ones' logs are the interesting part, so print every file
    # (before stop() removes them).
    for path in sorted(glob.glob(os.path.join(running.workdir, '*.log'))):
        with open(path, 'rb') as log:
            print('--- %s\n%s' % (os.path.basename(path), log.read().decode('utf-8', 'replace')))
    running.stop()


def drain(sock, quiet=2.0):
    """Every chat message text a socket receives until it is quiet for `quiet` s."""
    texts = []
    sock.settimeout(quiet)
    try:
        while True:
            texts.append(json.loads(sock.recv())['message'])
    except websocket.WebSocketTimeoutException:
        return texts
    finally:
        sock.settimeout(10)


def texts_in_db(stack, label):
    return [message for _, message in rows(stack, label)]


def queued(stack, channel='websocket.receive'):
    return stack.redis_client.llen('asgi:' + channel)


def waiting_in_blpop(stack):
    """How many Redis clients (runworkers) are blocked waiting for a message."""
    return sum(1 for client in stack.redis_client.client_list() if client['cmd'] == 'blpop')


def dropped(sock):
    """True when the server closed the TCP connection without a close frame
    (a browser reports code 1006 and ReconnectingWebSocket reconnects)."""
    sock.settimeout(5)
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        sock.recv_data_frame(control_frame=True)
    return True


def hold_lock(stack):
    """An exclusive lock on the stack's SQLite file: no other connection can
    read or write until the returned connection rolls back."""
    db = sqlite3.connect(os.path.join(stack.workdir, 'db.sqlite3'), isolation_level=None)
    db.execute('BEGIN EXCLUSIVE')
    return db


# 1. The worker is SIGKILLed mid-conversation, then restarted.


def test_killed_worker_messages_wait_in_redis_and_are_handled_once_when_a_worker_returns(stack):
    alice, bob = join(stack, 'f-kill'), join(stack, 'f-kill')
    say(alice, 'alice', 'before')
    assert drain(alice) == drain(bob) == ['before']

    stack.workers[0].kill()
    say(alice, 'alice', 'down-1')
    say(bob, 'bob', 'down-2')
    say(alice, 'alice', 'down-3')
    # Nothing is handled: no frame, no row; the frames wait in Redis.
    assert silent(alice) and silent(bob)
    assert texts_in_db(stack, 'f-kill') == ['before']
    assert queued(stack) == 3

    stack.start_worker()
    say(bob, 'bob', 'after')
    # The same two sockets, never closed, get each message exactly once
    # (inside the 60 s expiry), both in the same order: the order daphne queued
    # them, which keeps each sender's order but not the order across sockets
    # (daphne enqueues every frame it has buffered from one socket before the
    # next socket's; observed: down-1, down-3, down-2 as often as not).
    received = drain(alice)
    assert drain(bob) == received
    assert sorted(received) == ['after', 'down-1', 'down-2', 'down-3']
    assert received.index('down-1') < received.index('down-3') and received[-1] == 'after'
    assert alice.connected and bob.connected
    assert texts_in_db(stack, 'f-kill') == ['before'] + received
    assert stack.daphne.output().count('"WSCONNECT /chat/f-kill/"') == 2
    assert 'Traceback' not in stack.logs()


def past_the_librarys_list(stack):
    """A key that expires when asgi_redis 1.0.0 would remove a channel's
    list sent to now: one second after its messages (3 s here)."""
    stack.redis_client.set('sentinel', 1, ex=SHORT_EXPIRY_SECONDS + 1)
    return lambda: not stack.redis_client.exists('sentinel')


def messages_in_redis(stack):
    return stack.redis_client.keys('asgi:[0-9a-f]*')


@pytest.mark.slow
def test_past_the_channel_expiry_a_waiting_frame_is_lost_and_the_runworker_says_so():
    # Deviation C21. CHANNEL_LAYERS CONFIG "expiry" set to 3 s by
    # lab/variants/short_expiry.py; every process of the stack
    # (daphne too) reads it.
    stack = start(env=SHORT_EXPIRY)
    try:
        alice, bob = join(stack, 'f-expiry'), join(stack, 'f-expiry')
        stack.workers[0].kill()
        say(alice, 'alice', 'stale')
        wait_for(lambda: queued(stack) == 1, 5, 'daphne to queue the frame')
        gone = past_the_librarys_list(stack)
        # The frame's message expires after 3 s; asgi_redis would remove the
        # list 1 s later, and no process would ever see it.
        wait_for(
            lambda: gone() and not messages_in_redis(stack),
            10,
            'the queued frame to expire',
            seen=lambda: 'list of %d, %r' % (queued(stack), messages_in_redis(stack)),
        )
        assert queued(stack) == 1
        worker = stack.start_worker()
        warned = (
            'channel websocket.receive: message expired unhandled, after the 3 s channel expiry: '
            'no runworker took it (a chat frame is never stored)'
        )
        wait_for(lambda: warned in worker.output(), 10, 'the warning', seen=worker.output)
        say(alice, 'alice', 'fresh')
        # The client hears nothing: no frame, no close, the socket stays
        # open and chats on; 'stale' is in no row.
        assert drain(alice) == drain(bob) == ['fresh']
        assert alice.connected and bob.connected
        assert texts_in_db(stack, 'f-expiry') == ['fresh']
        assert worker.output().count(warned) == 1 and queued(stack) == 0
        logs = stack.logs()
        assert 'stale' not in logs and 'ERROR' not in logs and 'Traceback' not in logs
    finally:
        stop_and_print_logs(stack)


@pytest.mark.slow
def test_past_the_channel_expiry_a_reply_daphne_did_not_take_is_lost_and_daphne_says_so():
    # Deviation C21, on the reply channels: a stopped daphne, as one that
    # stopped polling them, for longer than the 3 s expiry.
    stack = start(env=SHORT_EXPIRY)
    try:
        alice, bob = join(stack, 'f-reply'), join(stack, 'f-reply')
        layer = RedisChannelLayer(
            hosts=['redis://127.0.0.1:%d' % stack.redis_port], expiry=SHORT_EXPIRY_SECONDS
        )
        members = layer.group_channels('chat-f-reply')
        stack.daphne.signal(signal.SIGSTOP)
        try:
            layer.send(
                'websocket.receive',
                {
                    'reply_channel': members[0],
                    'path': '/chat/f-reply/',
                    'order': 1,
                    'text': json.dumps({'handle': 'alice', 'message': 'unheard'}),
                },
            )
            wait_for(
                lambda: all(queued(stack, member) == 1 for member in members), 15, 'both replies'
            )
            gone = past_the_librarys_list(stack)
            wait_for(
                lambda: gone() and not messages_in_redis(stack),
                10,
                'the replies to expire',
                seen=lambda: repr(messages_in_redis(stack)),
            )
        finally:
            stack.daphne.signal(signal.SIGCONT)
        warned = [
            'channel %s: message expired unhandled, after the 3 s channel expiry: '
            'a reply daphne never took, which never reached its socket' % member
            for member in members
        ]
        wait_for(
            lambda: all(line in stack.daphne.output() for line in warned),
            10,
            'the warnings',
            seen=stack.daphne.output,
        )
        # Stored, and heard by nobody; the room chats on.
        assert texts_in_db(stack, 'f-reply') == ['unheard']
        assert silent(alice) and silent(bob)
        say(bob, 'bob', 'after')
        assert drain(alice) == drain(bob) == ['after']
    finally:
        stop_and_print_logs(stack)


def test_a_member_whose_reply_channel_is_full_misses_what_follows_and_the_runworker_says_so():
    # Deviation C20: asgi_redis's group send skips a full reply channel
    # without a word; the replica's layer logs each one at WARNING.
    stack = start(env=SMALL_REPLY_CHANNELS)
    try:
        alice, bob = join(stack, 'f-full'), join(stack, 'f-full')
        layer = RedisChannelLayer(hosts=['redis://127.0.0.1:%d' % stack.redis_port])
        members = layer.group_channels('chat-f-full')  # in the order the runworker sends to them
        sent = ['m%d' % n for n in range(5)]
        # A stopped daphne delivers nothing, as one that has fallen behind:
        # the runworker's replies wait in the reply channels. The frames are
        # put in websocket.receive as daphne puts them.
        stack.daphne.signal(signal.SIGSTOP)
        try:
            for order, text in enumerate(sent, 1):
                layer.send(
                    'websocket.receive',
                    {
                        'reply_channel': members[0],
                        'path': '/chat/f-full/',
                        'order': order,
                        'text': json.dumps({'handle': 'alice', 'message': text}),
                    },
                )
            wait_for(lambda: len(rows(stack, 'f-full')) == 5, 15, 'the five rows')
            warned = (
                'group chat-f-full: message dropped for 2 member(s) whose reply channel is full: %s'
                % (' '.join(members))
            )
            wait_for(lambda: stack.workers[0].output().count(warned) == 3, 15, 'three warnings')
        finally:
            stack.daphne.signal(signal.SIGCONT)
        for sock in (alice, bob):
            assert [frame['message'] for frame in frames(sock, 2)] == sent[:2]
            assert silent(sock)
    finally:
        stop_and_print_logs(stack)


def test_the_message_a_worker_is_handling_when_killed_is_lost(stack):
    # A lock on the database holds the worker inside the consumer, so the
    # SIGKILL lands deterministically while a message is in its hands.
    alice, bob = join(stack, 'f-inflight'), join(stack, 'f-inflight')
    worker = stack.workers[0]
    db = hold_lock(stack)
    try:
        assert waiting_in_blpop(stack) == 1
        say(alice, 'alice', 'in-flight')
        # The worker's BLPOP takes the frame the moment daphne queues it, so
        # the queue is empty before and after; but once it has the frame the
        # worker is no longer blocked in BLPOP: it waits on the lock.
        wait_for(
            lambda: waiting_in_blpop(stack) == 0 and queued(stack) == 0,
            10,
            'the worker to take the frame',
        )
        worker.kill()
    finally:
        db.execute('ROLLBACK')
        db.close()
    stack.start_worker()
    say(alice, 'alice', 'next')
    # BLPOP removed it from Redis; nobody redelivers it: at most once.
    assert drain(alice) == drain(bob) == ['next']
    assert texts_in_db(stack, 'f-inflight') == ['next']


# 2. Two workers, one killed while a conversation streams.


def test_two_workers_one_killed_mid_stream_the_other_carries_the_room_alone():
    stack = start(workers=2)
    try:
        alice, bob, carol = (join(stack, 'f-two') for _ in range(3))
        victim, survivor = stack.workers
        sent = ['m%03d' % i for i in range(150)]
        killed_at = []

        def stream():
            # One frame every 50 ms: slower than one worker drains them, so
            # websocket.receive never nears asgi_redis's capacity of 100 (a
            # flood past it makes daphne close the sender with code 1013).
            for index, text in enumerate(sent):
                say(alice, 'alice', text)
                if index == 50:
                    victim.kill()
                    killed_at.append(index)
                time.sleep(0.05)

        sender = threading.Thread(target=stream)
        sender.start()
        sender.join(30)
        assert killed_at == [50] and not victim.alive() and survivor.alive()

        received = {'bob': drain(bob, 3), 'carol': drain(carol, 3), 'alice': drain(alice, 3)}
        stored = texts_in_db(stack, 'f-two')
        # Nothing is ever handled twice: no duplicate row, and every listener
        # (the sender too) hears each stored message exactly once.
        assert len(set(stored)) == len(stored)
        for name, texts in received.items():
            assert sorted(texts) == sorted(stored), name
        # Both workers took turns before the kill; the survivor handled
        # everything after it, each message stored once and heard once by all.
        handled = {
            w: [t for t in sent if 'message=%s\n' % t in w.output()] for w in (victim, survivor)
        }
        assert handled[victim] and handled[survivor]
        assert max(handled[victim]) <= 'm050'
        after = [t for t in sent if t > 'm050']
        assert set(after) <= set(stored)
        for texts in received.values():
            assert set(after) <= set(texts)
        # At most the one frame the victim held when it died can be lost.
        # Observed: none, in every run at this pace (the kill lands while the
        # victim waits in BLPOP); a flood of frames without the 50 ms pause
        # lost one in 3 of 5 runs, and
        # test_the_message_a_worker_is_handling_when_killed_is_lost shows that
        # loss deterministically.
        lost = set(sent) - set(stored)
        print('lost with the killed worker: %s' % (sorted(lost) or 'none'))
        assert len(lost) <= 1 and all(text <= 'm050' for text in lost)
        assert 'Traceback' not in stack.logs()
    finally:
        stop_and_print_logs(stack)


# 3. Redis stops, and a new, empty one starts on the same port.


@pytest.mark.slow
@pytest.mark.known_defect
def test_redis_restart_kills_the_worker_daphne_survives_and_old_sockets_become_ghosts(stack):
    alice, bob = join(stack, 'f-redis'), join(stack, 'f-redis')
    say(alice, 'alice', 'before')
    assert drain(alice) == drain(bob) == ['before']
    worker, daphne = stack.workers[0], stack.daphne
    refused = 'Error 111 connecting to 127.0.0.1:%d. Connection refused.' % stack.redis_port

    stack.redis.stop()
    # runworker dies at once: its BLPOP raises, nothing catches it.
    wait_for(lambda: not worker.alive(), 10, 'runworker to exit')
    assert worker.popen.returncode == 1
    assert worker.output().rstrip().endswith('redis.exceptions.ConnectionError: ' + refused)
    # daphne stays up and logs one line every 5 s while Redis is away.
    wait_for(
        lambda: 'ERROR    Error at trying to receive messages: ' + refused in daphne.output(),
        10,
        'daphne to log the lost Redis',
    )
    assert daphne.alive()

    # While Redis is away daphne drops, with no answer and no log line, a page
    # request, a new handshake, and any open socket that sends a frame; an
    # open socket that stays quiet stays open.
    with pytest.raises(RemoteDisconnected):
        urlopen(stack.url + '/chat/f-redis/', timeout=10)
    with pytest.raises((websocket.WebSocketException, ConnectionError)):
        websocket.create_connection(stack.ws_url + '/chat/f-redis/', timeout=10)
    say(bob, 'bob', 'during')
    assert dropped(bob)
    assert alice.connected

    stack.start_redis()  # the same port, empty
    assert stack.redis_client.keys('*') == []
    assert daphne.alive() and not worker.alive()  # nothing restarts the worker
    stack.start_worker()

    # New sockets (a browser's ReconnectingWebSocket, after the drop) chat again.
    carol, dave = join(stack, 'f-redis'), join(stack, 'f-redis')
    say(carol, 'carol', 'after')
    assert drain(carol) == drain(dave) == ['after']
    # alice's socket survived the outage but its group membership did not:
    # it is deaf, not mute. What it says is stored (its channel session is
    # in SQLite) and reaches the new members, but never comes back to it, and
    # it hears nobody: a browser on it shows its own words nowhere and never
    # updates, with no error and no reconnect.
    assert silent(alice)
    say(alice, 'alice', 'ghost')
    assert drain(carol) == drain(dave) == ['ghost']
    assert drain(alice) == []
    assert alice.connected
    # Every row survived: the database is SQLite, not Redis.
    assert texts_in_db(stack, 'f-redis') == ['before', 'after', 'ghost']
    assert stack.redis_client.zcard('asgi::group:chat-f-redis') == 2  # carol and dave


# 4. daphne restarts.


def test_daphne_restart_drops_sockets_and_a_reconnected_client_chats_again(stack):
    alice, bob = join(stack, 'f-daphne'), join(stack, 'f-daphne')
    say(alice, 'alice', 'before')
    assert drain(alice) == drain(bob) == ['before']
    stack.restart_daphne()  # SIGTERM, then a new daphne on the same port
    assert dropped(alice) and dropped(bob)
    # On SIGTERM daphne sent websocket.disconnect for both: the group is clean.
    wait_for(
        lambda: stack.redis_client.zcard('asgi::group:chat-f-daphne') == 0, 5, 'the group to empty'
    )
    alice, bob = join(stack, 'f-daphne'), join(stack, 'f-daphne')
    say(bob, 'bob', 'after')
    assert drain(alice) == drain(bob) == ['after']
    assert texts_in_db(stack, 'f-daphne') == ['before', 'after']


# 5. The database is locked.


@pytest.mark.slow
def test_database_locked_past_the_sqlite_timeout_loses_the_message_and_the_worker_survives(stack):
    alice, bob = join(stack, 'f-lock'), join(stack, 'f-lock')
    worker = stack.workers[0]

    # Shorter than Django's 5 s SQLite timeout: the message waits, then goes through.
    db = hold_lock(stack)
    say(alice, 'alice', 'short lock')
    assert silent(alice) and silent(bob)  # held up by the lock for 1.5 s
    db.execute('ROLLBACK')
    assert drain(alice) == drain(bob) == ['short lock']

    # Longer: the consumer fails 5 s after it took the frame.
    db.execute('BEGIN EXCLUSIVE')
    started = time.time()
    try:
        say(alice, 'alice', 'long lock')
        wait_for(lambda: 'database is locked' in worker.output(), 15, 'the consumer to fail')
        failed_after = time.time() - started
    finally:
        db.execute('ROLLBACK')
        db.close()
    assert 4.5 < failed_after < 12
    log = worker.output()
    assert 'Error processing message with consumer chat.consumers.ws_receive:\nTraceback' in log
    # It fails in Channels' @channel_session loading the session, before
    # chat/consumers.py runs a line.
    assert 'in session_for_reply_channel' in log
    assert log.rstrip().endswith('django.db.utils.OperationalError: database is locked')
    # The frame is gone: no retry, no row, no frame, no close; the worker lives.
    assert worker.alive()
    assert drain(alice) == drain(bob) == []
    assert alice.connected and bob.connected

    say(bob, 'bob', 'after unlock')
    assert drain(alice) == drain(bob) == ['after unlock']
    assert texts_in_db(stack, 'f-lock') == ['short lock', 'after unlock']
