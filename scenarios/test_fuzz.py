"""
A generated WebSocket fuzz run against each stack: 1,000 frames of text,
binary, invalid UTF-8, huge, deeply nested JSON, wrong types and extra keys.
Afterwards the server still works, the database holds only string rows
within the limits, and a normal message still reaches every member.
"""
import json
import os
import sqlite3

import websocket
from hypothesis import HealthCheck, given, settings, strategies as st

from scenarios import frames, join, say

ROOM = 'fuzz-room'
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def as_text(value):
    return ('text', json.dumps(value))


FRAMES = st.one_of(
    st.text(max_size=200).map(lambda text: ('text', text)),
    st.binary(max_size=200).map(lambda data: ('binary', data)),
    st.binary(min_size=1, max_size=50).filter(lambda data: not valid_utf8(data)).map(lambda data: ('raw text', data)),
    st.integers(100000, 1000000).map(lambda size: ('text', 'x' * size)),
    st.integers(1000, 200000).map(lambda depth: ('text', '[' * depth + ']' * depth)),
    st.fixed_dictionaries({'handle': JSON_VALUES, 'message': JSON_VALUES}).map(as_text),
    st.fixed_dictionaries({'handle': st.text(max_size=60), 'message': st.text(max_size=2100)}).map(as_text),
    st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5).map(
        lambda extra: dict(extra, handle='h', message='m')).map(as_text),
    JSON_VALUES.map(as_text),
)


def valid_utf8(data):
    try:
        data.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False


class Fuzzer(object):
    """One socket, reopened whenever the server ends it."""

    def __init__(self, stack):
        self.stack, self.sock, self.reopened, self.sent = stack, None, 0, 0

    def send(self, kind, payload):
        for attempt in range(2):
            if self.sock is None:
                self.sock = join(self.stack, ROOM)
                self.reopened += 1
            try:
                if kind == 'binary':
                    self.sock.send_binary(payload)
                elif kind == 'raw text':
                    # RFC 6455 makes the server fail the connection (1007):
                    # start the next frame on a fresh socket.
                    self.sock.send(payload, websocket.ABNF.OPCODE_TEXT)
                    self.sock.close()
                    self.sock = None
                else:
                    self.sock.send(payload)
                self.sent += 1
                return
            except (ConnectionError, websocket.WebSocketException):
                self.sock.close()
                self.sock = None


def test_a_thousand_generated_frames_break_nothing(stack):
    fuzzer = Fuzzer(stack)

    @settings(max_examples=1000, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(FRAMES)
    def send_one(frame):
        fuzzer.send(*frame)

    send_one()
    if fuzzer.sock:
        fuzzer.sock.close()
    print('%s: %d frames sent, socket opened %d times' % (stack.name, fuzzer.sent, fuzzer.reopened))
    assert fuzzer.sent >= 1000

    assert all(worker.alive() for worker in stack.workers) and stack.daphne.alive()
    assert 'Traceback' not in stack.logs()
    db = sqlite3.connect(os.path.join(stack.workdir, 'db.sqlite3'))
    kinds = db.execute('SELECT DISTINCT typeof(handle), typeof(message) FROM chat_message').fetchall()
    longest = db.execute('SELECT max(length(handle)), max(length(message)), min(length(message)) '
                         'FROM chat_message').fetchone()
    db.close()
    assert kinds in ([], [('text', 'text')])
    assert longest == (None, None, None) or (longest[0] <= 50 and longest[1] <= 2000 and longest[2] >= 1)

    members = [join(stack, 'after-fuzz') for _ in range(3)]
    say(members[0], 'calm', 'all is well')
    for sock in members:
        assert [frame['message'] for frame in frames(sock, 1)] == ['all is well']
        sock.close()
