"""
A generated WebSocket fuzz run against every generation: 1,000 frames of text,
binary, invalid UTF-8, huge, deeply nested JSON, wrong types and extra keys.
For each frame the test predicts what the chat must do (store it, close the
socket with 4009, or drop it) and compares the rows it finds, inside the
property, so hypothesis shrinks a failure to the smallest frame. Afterwards
the server still works and a normal message still reaches every member.
"""

import json
import os
import sqlite3

import pytest
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.blackbox.scenarios import MAX_HANDLE, MAX_MESSAGE
from lab.harness.client import frames, join, next_event, say
from lab.harness.stack import GENERATIONS, selected

ROOM = 'fuzz-room'
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def as_text(value):
    return ('text', json.dumps(value))


FRAMES = st.one_of(
    st.text(max_size=200).map(lambda text: ('text', text)),
    st.binary(max_size=200).map(lambda data: ('binary', data)),
    st.binary(min_size=1, max_size=50)
    .filter(lambda data: not valid_utf8(data))
    .map(lambda data: ('raw text', data)),
    st.integers(100000, 1000000).map(lambda size: ('text', 'x' * size)),
    st.integers(1000, 200000).map(lambda depth: ('text', '[' * depth + ']' * depth)),
    st.fixed_dictionaries({'handle': JSON_VALUES, 'message': JSON_VALUES}).map(as_text),
    st.fixed_dictionaries({'handle': st.text(max_size=60), 'message': st.text(max_size=2100)}).map(
        as_text
    ),
    st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5)
    .map(lambda extra: dict(extra, handle='h', message='m'))
    .map(as_text),
    JSON_VALUES.map(as_text),
)


def valid_utf8(data):
    try:
        data.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False


def predict(kind, payload):
    """What the chat must do with one frame: ('stored', (handle, message)),
    ('closed', 4009), or ('dropped',) for anything else, whether refused
    with a log line by the consumer or failed by the protocol layer."""
    if kind != 'text':
        return ('dropped',)
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return ('dropped',)
    if not isinstance(data, dict) or set(data) != {'handle', 'message'}:
        return ('dropped',)
    handle, message = data['handle'], data['message']
    if not isinstance(handle, str) or not isinstance(message, str) or not message:
        return ('dropped',)
    if len(handle) > MAX_HANDLE or len(message) > MAX_MESSAGE:
        return ('closed', 4009)
    return ('stored', (handle, message))


class Fuzzer(object):
    """One socket, reopened whenever the server ends it. After each frame it
    proves the frame was handled: a probe sent next on the same socket comes
    back, or the socket was closed; then the rows added since are exactly
    the frame's own (if any) and the probe's."""

    def __init__(self, stack):
        self.stack, self.sock, self.reopened, self.sent, self.probes = stack, None, 0, 0, 0
        self.db = sqlite3.connect(os.path.join(stack.workdir, 'db.sqlite3'))
        self.last_row = 0

    def rows_since_last(self):
        rows = self.db.execute(
            'SELECT chat_message.id, handle, message '
            'FROM chat_message JOIN chat_room ON chat_room.id = room_id '
            'WHERE label = ? AND chat_message.id > ? ORDER BY chat_message.id',
            (ROOM, self.last_row),
        ).fetchall()
        if rows:
            self.last_row = rows[-1][0]
        return [(handle, message) for _, handle, message in rows]

    def send(self, kind, payload):
        if self.sock is None:
            self.sock = join(self.stack, ROOM)
            self.reopened += 1
        if kind == 'binary':
            self.sock.send_binary(payload)
        else:
            # 'raw text' is invalid UTF-8 in a text frame: RFC 6455 makes the
            # server fail the connection (1007) before any consumer sees it.
            self.sock.send(payload, websocket.ABNF.OPCODE_TEXT)
        self.sent += 1

    def outcome(self):
        """('probed', probe) once the probe came back, else how the socket
        ended (next_event's ('closed', code) or ('dropped',))."""
        self.probes += 1
        probe = 'probe %d' % self.probes
        try:
            say(self.sock, 'fuzz', probe)
        except (ConnectionError, websocket.WebSocketException):
            pass  # already ended: next_event says how
        while True:
            event = next_event(self.sock, 30)
            if event[0] != 'frame':
                self.sock.close()
                self.sock = None
                return event
            frame = json.loads(event[1])
            if (frame['handle'], frame['message']) == ('fuzz', probe):
                return ('probed', probe)


@pytest.mark.parametrize('stack', selected(GENERATIONS), indirect=True, scope='module')
def test_a_thousand_generated_frames_break_nothing(stack):
    fuzzer = Fuzzer(stack)

    @settings(
        max_examples=1000,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(FRAMES)
    def send_one(frame):
        fuzzer.rows_since_last()  # what an earlier, failed example left
        expected = predict(*frame)
        fuzzer.send(*frame)
        seen = fuzzer.outcome()
        rows = fuzzer.rows_since_last()
        if expected[0] == 'stored':
            assert seen[0] == 'probed' and rows == [expected[1], ('fuzz', seen[1])]
        elif seen[0] == 'probed':
            assert expected == ('dropped',) and rows == [('fuzz', seen[1])]
        else:
            # The socket ended: with 4009 for a frame over the limits, or by
            # the protocol layer for invalid UTF-8 (1007, before any
            # consumer). Only the probe, already queued behind the frame,
            # may have been stored.
            assert expected == ('closed', 4009) and seen == expected or frame[0] == 'raw text', (
                frame,
                seen,
            )
            assert rows in ([], [('fuzz', 'probe %d' % fuzzer.probes)])

    send_one()
    if fuzzer.sock:
        fuzzer.sock.close()
    print(
        '%s: %d frames sent, socket opened %d times'
        % (stack.generation, fuzzer.sent, fuzzer.reopened)
    )
    assert fuzzer.sent >= 1000

    assert all(worker.alive() for worker in stack.workers) and stack.daphne.alive()
    assert 'Traceback' not in stack.logs()
    members = [join(stack, 'after-fuzz') for _ in range(3)]
    say(members[0], 'calm', 'all is well')
    for sock in members:
        assert [frame['message'] for frame in frames(sock, 1)] == ['all is well']
        sock.close()
