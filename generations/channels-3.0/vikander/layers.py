"""
channels_redis 3.4.1's RedisChannelLayer, saying each message it loses.

It loses messages in two places without saying whose:
- A group send skips a Redis key that holds `capacity` (100) messages.
  Every socket of one daphne has its channel in that daphne's one key, so
  one full key loses the message for each of them, and the library says
  "N of M channels over capacity in group G" at INFO, N counting keys.
- A consumer's receive buffer holds `capacity` messages and, full, drops
  its oldest without a word (BoundedQueue, channels_redis#212).
This layer says both at WARNING, in the replica's words (its deviation
C20), and changes nothing the library does: `MembersLost` rewrites the
library's own line (settings.py's LOGGING puts it on its handler).
"""

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


class RedisChannelLayer(core.RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.receive_buffer = ReceiveBuffer(self.capacity)

    def _map_channel_keys_to_connection(self, channel_names, message):
        # The library's keys: a process-specific channel lives in its process's.
        MEMBERS.set(
            collections.Counter(
                self.prefix + (self.non_local_name(name) if '!' in name else name)
                for name in channel_names
            )
        )
        return super()._map_channel_keys_to_connection(channel_names, message)
