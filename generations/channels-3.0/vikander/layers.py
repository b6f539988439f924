"""
channels_redis 3.4.1's RedisChannelLayer, saying each message it loses.

It loses messages in three places without saying whose:
- A group send skips a Redis key that holds `capacity` (100) messages.
  Every socket of one daphne has its channel in that daphne's one key, so
  one full key loses the message for each of them, and the library says
  "N of M channels over capacity in group G" at INFO, N counting keys.
- A consumer's receive buffer holds `capacity` messages and, full, drops
  its oldest without a word (BoundedQueue, channels_redis#212).
- A receive waiting in BZPOPMIN for every socket of the daphne is
  cancelled when its own socket closes; a message Redis popped for it
  just then is never put in the backup its ZADD would have written
  (`_brpop_with_clean`: two commands, not one step; channels#1683).
This layer says all three at WARNING, in the replica's words (its deviation
C20), and changes nothing the library does with a message: `MembersLost`
rewrites the library's own line (settings.py's LOGGING puts it on its
handler), and `PopSaid` ends a cancelled BZPOPMIN one round trip before
the library's close would, to read what it popped.
"""

import asyncio
import collections
import contextvars
import logging
import re

from channels_redis import core

logger = logging.getLogger(__name__)
# The members of each Redis key of this task's group send.
MEMBERS = contextvars.ContextVar('members', default=None)
OVER_CAPACITY = re.compile(r'^(\d+) of \d+ channels over capacity in group (\S+)')


class MembersLost(logging.Filter):
    """The library's over-capacity line said as the members who lost the
    message, at WARNING. With several daphnes the library does not say
    which keys were full: then the fewest it can be, and the most."""

    def filter(self, record):
        match = OVER_CAPACITY.match(record.getMessage())
        members = MEMBERS.get()
        if match and members:
            full, counts = int(match.group(1)), sorted(members.values())
            # The library logs only when a key was full: full >= 1.
            fewest, most = sum(counts[:full]), sum(counts[-full:])
            record.msg = (
                'group %s: message dropped for %d member(s) whose channel is full '
                '(%d of %d Redis keys over capacity%s)'
            ) % (
                match.group(2),
                fewest,
                full,
                len(counts),
                '' if fewest == most else ', at most %d members' % most,
            )
            record.args, record.exc_info, record.exc_text = (), None, None
            record.levelno, record.levelname = logging.WARNING, 'WARNING'
        return True


class CountedQueue(core.BoundedQueue):
    """A consumer's receive buffer that says what it drops."""

    def __init__(self, capacity, channel):
        super().__init__(capacity)
        self.channel = channel

    def put_nowait(self, item):
        if self.full():
            logger.warning(
                'channel %s: message dropped for 1 member whose receive buffer is full '
                '(%d): the oldest it held',
                self.channel,
                self.maxsize,
            )
        return super().put_nowait(item)


class ReceiveBuffer(dict):
    """The library's defaultdict of BoundedQueues, each knowing its channel."""

    def __init__(self, capacity):
        super().__init__()
        self.capacity = capacity

    def __missing__(self, channel):
        queue = self[channel] = CountedQueue(self.capacity, channel)
        return queue


class PopSaid:
    """A connection of the library's pool whose BZPOPMIN, cancelled, says
    what Redis popped for it. The library closes a cancelled receive's
    connection, and Redis may have popped a message for it just before,
    whose answer nobody reads. This one asks Redis to end the BZPOPMIN
    first (CLIENT UNBLOCK, what the close does to it), reads the answer,
    and says the message if there was one; then the library closes."""

    def __init__(self, connection, pool, layer):
        self.connection, self.pool, self.layer = connection, pool, layer

    def __getattr__(self, name):
        return getattr(self.connection, name)

    async def bzpopmin(self, key, timeout):
        if not hasattr(self.connection, 'client_id'):
            self.connection.client_id = await self.connection.execute(b'CLIENT', b'ID')
        popped = self.connection.bzpopmin(key, timeout=timeout)
        try:
            return await asyncio.shield(popped)
        except asyncio.CancelledError:
            try:
                if not popped.done():
                    await self.unblock()
                self.layer.popped_for_nobody(key, await popped)
            except Exception as error:  # Redis gone: the cancel goes on as the library's.
                logger.warning(
                    'channel %s: could not read what Redis popped for a cancelled receive '
                    '(%r): a message it popped, if any, is lost',
                    key,
                    error,
                )
            raise

    async def unblock(self):
        other = await self.pool.pop()
        try:
            await other.execute(b'CLIENT', b'UNBLOCK', self.connection.client_id)
        finally:
            self.pool.push(other)


class Connection(core.RedisChannelLayer.ConnectionContextManager):
    """The library's `async with self.connection(index)`, giving PopSaid."""

    def __init__(self, pool, layer):
        super().__init__(pool)
        self.layer = layer

    async def __aenter__(self):
        return PopSaid(await super().__aenter__(), self.pool, self.layer)


class RedisChannelLayer(core.RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.receive_buffer = ReceiveBuffer(self.capacity)

    def connection(self, index):
        return Connection(super().connection(index).pool, self)

    def popped_for_nobody(self, key, popped):
        if popped is None:
            return
        message = self.deserialize(popped[1])
        members = message.get('__asgi_channel__')
        members = members if isinstance(members, list) else [members]
        logger.warning(
            'channel %s: message dropped for %d member(s): Redis popped it for a receive '
            'cancelled as its socket closed, before the library kept a backup: %s',
            key,
            len(members),
            ' '.join(members),
        )

    def _map_channel_keys_to_connection(self, channel_names, message):
        # The library's keys: a process-specific channel lives in its process's.
        MEMBERS.set(
            collections.Counter(
                self.prefix + (self.non_local_name(name) if '!' in name else name)
                for name in channel_names
            )
        )
        return super()._map_channel_keys_to_connection(channel_names, message)
