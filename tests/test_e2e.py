"""
End to end with no test doubles: a real redis-server, a real daphne and a
real runworker on free loopback ports, real WebSocket clients.
"""

import json
from urllib.request import urlopen

import pytest
import websocket

from chat.consumers import MAX_HANDLE, MAX_MESSAGE
from lab.harness.client import join, rows, say, silent
from lab.harness.stack import Stack


@pytest.fixture(scope='module')
def stack():
    with Stack('1.0') as running:
        yield running
        print(running.logs())


def test_two_members_chat_and_another_room_hears_nothing(stack):
    alice, bob = join(stack, 'e2e-room'), join(stack, 'e2e-room')
    carol = join(stack, 'e2e-other')
    say(alice, 'alice', 'hello bob')
    for sock in (alice, bob):
        frame = json.loads(sock.recv())
        assert sorted(frame) == ['handle', 'message', 'timestamp']
        assert (frame['handle'], frame['message']) == ('alice', 'hello bob')
    assert silent(carol)
    assert rows(stack, 'e2e-room') == [('alice', 'hello bob')]
    page = urlopen(stack.url + '/chat/e2e-room/').read().decode()
    assert '<td>hello bob</td>' in page and '<td>alice</td>' in page
    # The consumers' log.debug lines show, as in the post's worker terminal.
    worker_log = stack.workers[0].output()
    assert 'chat connect room=e2e-room client=127.0.0.1:' in worker_log
    assert 'chat message room=e2e-room handle=alice message=hello bob' in worker_log


def test_bad_frames_are_dropped_and_the_worker_keeps_consuming(stack):
    alice, bob = join(stack, 'e2e-bad'), join(stack, 'e2e-bad')
    alice.send_binary(b'\x00\xff')
    for text in ('not json', '[1, 2]', 'null', '{"handle": "x"}', '{"handle": "x", "message": 7}'):
        alice.send(text)
    say(alice, 'alice', 'after the junk')
    assert json.loads(bob.recv())['message'] == 'after the junk'
    assert rows(stack, 'e2e-bad') == [('alice', 'after the junk')]
    assert all(worker.alive() for worker in stack.workers)
    assert 'Traceback' not in stack.logs()


def test_user_data_in_the_log_is_cut_short(stack):
    # Deviation C9: each refused frame is one log line, however big the frame.
    sock = join(stack, 'e2e-long')
    big = 'x' * 100000
    for text in (
        big,
        json.dumps([big]),
        json.dumps({big: 1}),
        json.dumps({'handle': 1, 'message': big}),
    ):
        sock.send(text)
    say(sock, 'h' * MAX_HANDLE, big[:MAX_MESSAGE])
    assert json.loads(sock.recv())['handle'] == 'h' * MAX_HANDLE
    lines = stack.workers[0].output().splitlines()
    assert any(line.startswith("ws message isn't json text=xxx") for line in lines)
    assert max(len(line) for line in lines) < 500


def test_unknown_room_and_bad_paths_are_refused_with_403(stack):
    for path in ('/chat/never-created/', '/chat/a/b/', '/elsewhere/'):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(stack.ws_url + path, timeout=10)
        assert refused.value.status_code == 403, path


def test_static_files_are_served(stack):
    for path in ('assets/js/chat.js', 'assets/css/chat.css', 'assets/js/jquery-2.1.0.min.js'):
        assert urlopen(stack.url + '/static/' + path).status == 200
