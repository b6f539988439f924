"""
The channel layers the settings pick (vikander/settings.py).

Deviation C17: asgi_redis 1.0.0 over several Redis servers, without its
stall. Its runworker receive blocks (BLPOP, 5 s) on one shard picked at
random, while daphne sent the message to another shard picked at random:
the message waits until that BLPOP times out and a later pick lands right
(README, "On several machines"). Here a receive looks at each shard in
turn without blocking; runworker polls again 10 ms after an empty look.

Deviation C19: with CHANNEL_TRACE=1 (`make run`), the same layer also
tells `make trace` each send, receive and group change, with its time and
process. Redis cannot show them cheaply: its MONITOR streams every command,
daphne's polls of every reply channel among them, and slowed the chat it
watched (README, "Watch it work").

Deviation C20: asgi_redis 1.0.0's group send skips, without a word, a
member whose reply channel is full (100 messages daphne has not delivered
yet). Every layer here says so at WARNING.

Deviation C21: asgi_redis 1.0.0's receive skips, without a word, a message
that waited longer than the channel expiry (60 s: no runworker took it, or
daphne never polled its reply channel), and Redis removes the channel's
list one second after its last send, expired messages and all. Every layer
here keeps the list as long as a group membership (group_expiry), so the
next receive finds each expired message and says so at WARNING.
"""
import collections
import itertools
import json
import logging
import os
import random
import sys
import threading
import time
import uuid
import zlib

import asgi_redis
import redis

TRACE_CHANNEL = '__trace__'
# Frames up to 2,000 characters (C15); the trace prints a few dozen.
GLIMPSE = 200

logger = logging.getLogger(__name__)

# What an expired message was, by its channel: a reply channel's messages
# were on their way to a socket, the others waited for a runworker.
EXPIRED_UNHANDLED = {
    'reply': 'a reply daphne never took, which never reached its socket',
    'request': 'no runworker took it (a chat frame is never stored)',
}


class RedisChannelLayer(asgi_redis.RedisChannelLayer):

    # The library's send script, with the channel's list kept for
    # group_expiry seconds (ARGV[4]) after its last send instead of one
    # second longer than its messages.
    lua_chansend = """
        if redis.call('llen', KEYS[2]) >= tonumber(ARGV[3]) then
            return redis.error_reply("full")
        end
        redis.call('set', KEYS[1], ARGV[1])
        redis.call('expire', KEYS[1], ARGV[2])
        redis.call('rpush', KEYS[2], KEYS[1])
        redis.call('expire', KEYS[2], math.max(tonumber(ARGV[2]) + 1, tonumber(ARGV[4])))
    """

    def send(self, channel, message):
        # The library's send, with the list's lifetime as the script's fourth
        # argument.
        assert isinstance(message, dict), "message is not a dict"
        assert self.valid_channel_name(channel), "Channel name not valid"
        message_key = self.prefix + uuid.uuid4().hex
        channel_key = self.prefix + channel
        if "!" in channel or "?" in channel:
            connection = self.connection(self.consistent_hash(channel))
        else:
            connection = self.connection(None)
        try:
            self.chansend(
                keys=[message_key, channel_key],
                args=[self.serialize(message), self.expiry, self.get_capacity(channel), self.group_expiry],
                client=connection,
            )
        except redis.exceptions.ResponseError as e:
            if e.args[0] == "full":
                raise self.ChannelFull
            raise

    def receive(self, channels, block=False):
        # The library's loop, saying which expired messages it skips.
        indexes = self._receive_list_names(channels)
        if indexes is None:
            return None, None
        while True:
            index = random.choice(list(indexes.keys()))
            list_names = indexes[index]
            random.shuffle(list_names)
            connection = self.connection(index)
            if block:
                result = connection.blpop(list_names, timeout=self.blpop_timeout)
            else:
                result = self.lpopmany(keys=list_names, client=connection)
            if not result:
                return None, None
            channel = result[0][len(self.prefix):].decode("utf8")
            content = connection.get(result[1])
            if content is None:
                logger.warning('channel %s: message expired unhandled, after the %d s channel expiry: %s',
                               channel, self.expiry, EXPIRED_UNHANDLED['reply' if '!' in channel else 'request'])
                continue
            return channel, self.deserialize(content)

    def send_group(self, group, message):
        # The library's loop, with the members it could not reach kept.
        full = []
        for channel in self.group_channels(group):
            try:
                self.send(channel, message)
            except self.ChannelFull:
                full.append(channel)
        if full:
            logger.warning('group %s: message dropped for %d member(s) whose reply channel is full: %s',
                           group, len(full), ' '.join(full))


class ShardedRedisChannelLayer(RedisChannelLayer):

    def __init__(self, **kwargs):
        # Before the library's __init__, which picks a server already.
        self.turns = itertools.count()
        super().__init__(**kwargs)

    def random_index(self):
        # Where the library puts channels that no consistent hash places
        # (websocket.receive, http.request, ...): each shard in turn, so
        # that one receive per shard looks at all of them.
        return next(self.turns) % len(self.hosts)

    def receive(self, channels, block=False):
        for _ in self.hosts:
            channel, message = super().receive(channels, block=False)
            if channel is not None:
                return channel, message
        return None, None


class Teller(object):
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
        if self.thread is None:  # started in the process that tells, after any fork
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
                events = [self.told(event, message, done) for event, message in events]
                self.connection.publish(self.channel, json.dumps({'events': events}))
            except Exception as error:  # the thread goes on: only these events are lost
                logger.warning('channel trace: %d events not published (%r)', len(events), error)

    def told(self, event, message, done):
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
    """What a layer does, also told to the trace (Teller). The events carry
    their own times, so the trace puts them back in order."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tell = Teller(self.connection(0), self.prefix + TRACE_CHANNEL)
        self.sends, self.group_message = 0, None

    def send(self, channel, message):
        at = time.time()
        self.sends += 1
        copy = self.group_message or dict(message)
        try:
            super().send(channel, message)
        except self.ChannelFull:
            self.tell(event='full', at=at, channel=channel, message=copy)
            raise
        self.tell(event='send', at=at, channel=channel, message=copy)

    def receive(self, channels, block=False):
        channel, message = super().receive(channels, block)
        if channel is not None:
            self.tell(event='received', channel=channel, message=dict(message))
        return channel, message

    def group_add(self, group, channel):
        super().group_add(group, channel)
        self.tell(event='group_add', group=group, channel=channel)

    def group_discard(self, group, channel):
        super().group_discard(group, channel)
        self.tell(event='group_discard', group=group, channel=channel)

    def send_group(self, group, message):
        at, before = time.time(), self.sends
        self.group_message = dict(message)  # one copy for every member's send
        try:
            super().send_group(group, message)  # one send per member
        finally:
            copy, self.group_message = self.group_message, None
        self.tell(event='group_send', at=at, group=group, members=self.sends - before, message=copy)


class TracedRedisChannelLayer(Traced, RedisChannelLayer):
    pass


class TracedShardedRedisChannelLayer(Traced, ShardedRedisChannelLayer):
    pass
