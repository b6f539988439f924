"""
The layer trace (lab/variants/layer_trace.py, `make run TRACE=layer`): the
replica's layer, also publishing for `make trace` each send, receive and group
change, with its time and process, on a Redis Pub/Sub channel
(lab/tracing/pubsub.py reads it). Unlike MONITOR, which `make trace` reads
beside a plain `make run`, it costs Redis one PUBLISH per batch, not a
copy of every command, daphne's polls of each reply channel among them:
docs/trace.md says what each costs, from `make bench`.
"""

import collections
import json
import logging
import os
import sys
import threading
import time
import zlib

from vikander.layers import RedisChannelLayer

TRACE_CHANNEL = '__trace__'
# Frames up to 2,000 characters (C15); the trace prints a few dozen.
GLIMPSE = 200

logger = logging.getLogger(__name__)


class HopPublisher(object):
    """This process's trace events, published together by a thread of their
    own, 50 ms after the first of them: daphne and the runworker never wait
    for the trace, and the messages' digests and glimpses are made there."""

    def __init__(self, connection, channel):
        self.connection, self.channel = connection, channel
        self.events = collections.deque()
        self.waiting = threading.Event()
        self.by = '%s %d' % ('runworker' if 'runworker' in sys.argv else 'daphne', os.getpid())
        self.thread = None

    def __call__(self, message=None, **event):
        # `message` is a copy, made as it was sent or received: the
        # consumers and Channels' routing may change the original later.
        event.setdefault('at', time.time())
        self.events.append((event, message))
        if not self.waiting.is_set():
            self.waiting.set()
        if self.thread is None:  # started in the process that publishes, after any fork
            self.thread = threading.Thread(target=self.publish, name='channel trace', daemon=True)
            self.thread.start()

    def publish(self):
        while True:
            self.waiting.wait()
            time.sleep(0.05)
            self.waiting.clear()
            events = [self.events.popleft() for _ in range(len(self.events))]
            try:
                done = {}
                events = [self.encoded(event, message, done) for event, message in events]
                self.connection.publish(self.channel, json.dumps({'events': events}))
            except Exception as error:  # the thread goes on: only these events are lost
                logger.warning('channel trace: %d events not published (%r)', len(events), error)

    def encoded(self, event, message, done):
        """The event as published. `done` keeps each digest and glimpse made
        in this batch: a group send's members share one copy of its message,
        made once; a received message needs no glimpse."""
        event['by'] = self.by
        if message is not None:
            event['digest'] = once(done, digest, message)
            if event['event'] != 'received':
                event['message'] = once(done, glimpse, message)
        return event


def once(done, work, message):
    if (work, id(message)) not in done:
        done[work, id(message)] = work(message)
    return done[work, id(message)]


def digest(message):
    """The same for a message as sent and as received (on Python 3.5 too,
    whose dicts keep no order), so the trace pairs them."""
    return zlib.crc32(json.dumps(message, sort_keys=True, default=repr).encode('utf-8'))


def glimpse(message):
    """What the trace prints of a message: no headers, bytes as a length,
    text cut to GLIMPSE characters."""
    seen = {}
    for key, value in message.items():
        if key == 'headers':
            continue
        if isinstance(value, bytes):
            value = '<%d bytes>' % len(value)
        elif isinstance(value, str):
            value = value[:GLIMPSE]
        elif isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
            pass  # client and server: [host, port]
        elif not isinstance(value, (int, float, bool, type(None))):
            value = repr(value)[:GLIMPSE]
        seen[key] = value
    return seen


class Traced(object):
    """What a layer does, also published for the trace (HopPublisher). The events carry
    their own times, so the trace puts them back in order."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.trace = HopPublisher(self.connection(0), self.prefix + TRACE_CHANNEL)
        self.sends, self.group_message = 0, None

    def send(self, channel, message):
        at = time.time()
        self.sends += 1
        copy = self.group_message or dict(message)
        try:
            super().send(channel, message)
        except self.ChannelFull:
            self.trace(event='full', at=at, channel=channel, message=copy)
            raise
        self.trace(event='send', at=at, channel=channel, message=copy)

    def receive(self, channels, block=False):
        channel, message = super().receive(channels, block)
        if channel is not None:
            self.trace(event='received', channel=channel, message=dict(message))
        return channel, message

    def group_add(self, group, channel):
        super().group_add(group, channel)
        self.trace(event='group_add', group=group, channel=channel)

    def group_discard(self, group, channel):
        super().group_discard(group, channel)
        self.trace(event='group_discard', group=group, channel=channel)

    def send_group(self, group, message):
        at, before = time.time(), self.sends
        self.group_message = dict(message)  # one copy for every member's send
        try:
            super().send_group(group, message)  # one send per member
        finally:
            copy, self.group_message = self.group_message, None
        self.trace(
            event='group_send', at=at, group=group, members=self.sends - before, message=copy
        )


class TracedRedisChannelLayer(Traced, RedisChannelLayer):
    pass
