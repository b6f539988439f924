"""
The post's code exactly as printed (docs/post.md), every complete file of it
laid over a copy of the replica, run in real daphne and runworker processes:
what each deviation in docs/deviations.md is there to prevent, observed
rather than claimed.
"""

import json
import time
from urllib.request import urlopen

import pytest
import websocket

from lab.harness.client import join, rows, say, silent
from lab.harness.post import post_as_printed
from lab.harness.stack import wait_for


@pytest.fixture(scope='module')
def post():
    with post_as_printed() as running:
        yield running


def test_unknown_room_handshake_hangs_until_autobahn_drops_it(post):
    # C5: no reply to websocket.connect, so no HTTP answer at all; autobahn's
    # 5 s opening-handshake timeout closes the TCP connection.
    started = time.time()
    with pytest.raises((ConnectionError, websocket.WebSocketException)):
        websocket.create_connection(post.ws_url + '/chat/never-created/', timeout=30)
    assert 3 < time.time() - started < 10


def test_non_json_binary_and_non_object_frames_raise_in_the_worker(post):
    # C1, C2, C3: each is an exception in the worker, which runworker logs and
    # survives; the replica logs a one-line refusal instead.
    sock = join(post, 'printed-room')
    sock.send('not json')
    sock.send_binary(b'\x00')
    sock.send('[1]')
    say(sock, 'h', 'after')
    assert json.loads(sock.recv())['message'] == 'after'
    logs = post.logs()
    assert "NameError: name 'text' is not defined" in logs
    assert "KeyError: 'text'" in logs
    assert "AttributeError: 'list' object has no attribute 'keys'" in logs
    assert all(worker.alive() for worker in post.workers)


def test_non_string_values_are_broadcast_raw_and_stored_as_their_repr(post):
    # C4: live clients get the list and the number back, a reload shows
    # Python's repr of them.
    sock = join(post, 'printed-values')
    say(sock, ['a'], 7)
    frame = json.loads(sock.recv())
    assert (frame['handle'], frame['message']) == (['a'], 7)
    assert rows(post, 'printed-values') == [("['a']", '7')]


def test_non_ascii_room_opens_a_socket_that_can_never_chat(post):
    # C6: the page creates the room, the socket is accepted, then joining the
    # group raises, so the channel session never learns the room.
    assert urlopen(post.url + '/chat/%ED%95%9C%EA%B8%80/').status == 200
    sock = websocket.create_connection(post.ws_url + '/chat/%ED%95%9C%EA%B8%80/', timeout=10)
    say(sock, 'h', 'lost')
    wait_for(
        lambda: 'no room in channel_session' in post.logs(), 10, 'the worker to drop the frame'
    )
    assert silent(sock)
    assert 'TypeError: Group name must be a valid unicode string' in post.logs()
    assert rows(post, '\ud55c\uae00') == []
