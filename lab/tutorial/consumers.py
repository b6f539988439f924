"""
Step 5 of `make tutorial-check`, part by part as the post explains its
consumers, each part seen from outside: the sockets, the check's database,
and the channel layer's own group membership and channel sessions (asked
of the workspace's Django through lab/tutorial/probe.py). A part that does
not hold names the consumer, the post's line it misses, and what the
runworker (or daphne) logged. Valid Python 3.5.
"""

import json
import re
import subprocess
import sys
import time

from lab.harness.client import connect, fresh_label, get, next_event, say
from lab.harness.stack import sqlite_query
from lab.tutorial.probe import last_error
from lab.tutorial.steps import BLOCKS

CONSUMERS_PY = [block for block in BLOCKS if block.path == 'chat/consumers.py'][0].text
# How long a part waits for what the runworker does (a second is plenty on
# an idle machine; a loaded one is slower).
WAIT = 10
# The post's consumers, part by part: what holds when the part is written,
# the consumer it belongs to, and a piece of the post's line it needs.
PARTS = {
    'accept': (
        'the socket accepted (ws_connect answers the handshake)',
        'ws_connect',
        'message.reply_channel.send({"accept": True})',
    ),
    'join': (
        "the socket's reply channel in the group chat-<label>, in Redis",
        'ws_connect',
        '.add(message.reply_channel)',
    ),
    'session': (
        "the room's label kept in the socket's channel session, for ws_receive",
        'ws_connect',
        "message.channel_session['room'] = room.label",
    ),
    'store': (
        'the frame parsed and stored as a Message of the room',
        'ws_receive',
        'room.messages.create(**data)',
    ),
    'broadcast': (
        "every member sent {'text': json.dumps(m.as_dict())}, the sender too",
        'ws_receive',
        ".send({'text': json.dumps(m.as_dict())})",
    ),
    'other room': (
        'another room hearing nothing',
        'ws_receive',
        ".send({'text': json.dumps(m.as_dict())})",
    ),
    'leave': (
        'a closed socket gone from the group',
        'ws_disconnect',
        '.discard(message.reply_channel)',
    ),
}


class PartFailed(Exception):
    def __init__(self, part, saw):
        super(PartFailed, self).__init__(part)
        self.part, self.saw = part, saw


def post_line(piece):
    """The whole line of the post's consumers.py that holds `piece`."""
    return [line.strip() for line in CONSUMERS_PY.splitlines() if piece in line][0]


class Visit(object):
    """Members of a room of the workspace's stack, and what the check sees
    of them; each part raises PartFailed when it does not hold."""

    def __init__(self, stack, check):
        self.stack, self.check = stack, check
        self.label = fresh_label('tutorial')
        self.sockets, self.channels = [], []

    def probe(self, *argv):
        """What the workspace's Django says of the layer; None when it says
        nothing within WAIT seconds."""
        try:
            done = subprocess.run(
                [sys.executable, '-m', 'lab.tutorial.probe'] + list(argv),
                cwd=self.check.workspace,
                env=self.check.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                universal_newlines=True,
                timeout=WAIT,
            )
        except subprocess.TimeoutExpired:
            return None
        return json.loads(done.stdout.strip().splitlines()[-1])

    def members(self):
        return self.probe('members', 'chat-' + self.label) or []

    def join(self):
        """A member's socket, its reply channel found as the group's new one."""
        get(self.stack, '/chat/%s/' % self.label)
        before = set(self.members())
        sock, seen = connect(self.stack, '/chat/%s/' % self.label)
        if sock is None:
            raise PartFailed('accept', seen['handshake'])
        self.sockets.append(sock)
        new = self.wait(lambda: set(self.members()) - before)
        if not new:
            raise PartFailed(
                'join', 'the group chat-%s holds %r' % (self.label, sorted(self.members()))
            )
        self.channels.append(new.pop())
        return sock

    def kept_in_session(self):
        session = self.probe('session', self.channels[0]) or {}
        if session.get('room') != self.label:
            raise PartFailed(
                'session', 'the channel session of %s holds %r' % (self.channels[0], session)
            )

    def stored(self, text):
        say(self.sockets[0], 'alice', text)
        found = self.wait(
            lambda: sqlite_query(
                self.check.own['TUTORIAL_CHECK_DB'],
                'SELECT handle, message FROM chat_message JOIN chat_room '
                'ON chat_room.id = room_id WHERE label = ?',
                (self.label,),
            )
        )
        if found != [('alice', text)]:
            raise PartFailed('store', 'the room %s has %r stored' % (self.label, found))

    def broadcast(self, text):
        received = [next_event(sock, WAIT) for sock in self.sockets]
        frames = [json.loads(event[1]) if event[0] == 'frame' else event for event in received]
        fine = all(
            isinstance(frame, dict)
            and frame.get('handle') == 'alice'
            and frame.get('message') == text
            and 'timestamp' in frame
            for frame in frames
        )
        if not fine:
            raise PartFailed(
                'broadcast',
                'the members got %r'
                % ['nothing within %d s' % WAIT if f == ('silence',) else f for f in frames],
            )

    def other_room_silent(self, other):
        event = next_event(other, 1)
        if event != ('silence',):
            raise PartFailed('other room', 'a member of another room got %r' % (event,))

    def left(self):
        leaving = self.channels[1]
        self.sockets.pop().close()
        if not self.wait(lambda: leaving not in self.members()):
            raise PartFailed('leave', '%s still in the group chat-%s' % (leaving, self.label))

    def wait(self, found):
        """What `found()` returns once it is something, or its last answer
        after WAIT seconds."""
        deadline = time.time() + WAIT
        while True:
            answer = found()
            if answer or time.time() > deadline:
                return answer
            time.sleep(0.2)

    def close(self):
        for sock in self.sockets:
            sock.close()


def walk(visit):
    """Every part, in the post's order, until one does not hold; a member of
    another room listens from before the message is sent."""
    visit.join()
    visit.join()
    visit.kept_in_session()
    other = Visit(visit.stack, visit.check)
    try:
        listening = other.join()
        visit.stored('hello, tutorial')
        visit.broadcast('hello, tutorial')
        visit.other_room_silent(listening)
    finally:
        other.close()
    visit.left()


def failure(part, logged):
    """Step 5's failure at `part`: what was expected, and the hint naming
    the consumer and the post's line; a consumer without @channel_session
    is named from what the runworker said instead."""
    expected, consumer, piece = PARTS[part]
    hint = "%s in chat/consumers.py, the post's line: %s" % (consumer, post_line(piece))
    for _, what in logged:
        undecorated = re.search(
            r"in (ws_\w+): AttributeError: .* has no attribute 'channel_session'", what
        )
        if undecorated:
            hint = (
                "%s in chat/consumers.py, the post's line above it: @channel_session"
                % undecorated.group(1)
            )
    return {'step': '5', 'ok': False, 'part': part, 'expected': expected, 'hint': hint}


def check(stack, checking):
    """Step 5's result for a workspace's stack and its Check: ok, with the
    parts that held, or the first part that did not, with what the
    workspace's processes logged."""
    visit = Visit(stack, checking)
    try:
        walk(visit)
        return {
            'step': '5',
            'ok': True,
            'note': 'accepted, joined, session kept, stored, broadcast, another room silent, left',
        }
    except PartFailed as failed:
        logged = [
            (who, what)
            for who, what in (
                ('runworker said', last_error(stack.workers[0].output(), checking.workspace)),
                ('daphne said', last_error(stack.daphnes[0].output(), checking.workspace)),
            )
            if what
        ]
        return dict(failure(failed.part, logged), saw=failed.saw, logged=logged)
    finally:
        visit.close()
