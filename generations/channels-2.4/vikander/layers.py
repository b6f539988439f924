"""
channels_redis 2.4.2's RedisChannelLayer, saying whose message it loses.

A group send skips a Redis key that holds `capacity` (100) messages.
Every socket of one daphne has its channel in that daphne's one key, so
one full key loses the message for each of them, and the library says
"N of M channels over capacity in group G" (at ERROR, through
logger.exception outside any exception), N counting keys. This layer says
it at WARNING as the members who lost the message, in the replica's words
(its deviation C20), and changes nothing the library does: `MembersLost`
rewrites the library's own line (settings.py's LOGGING puts it on its
handler). A consumer's receive buffer here is unbounded: it drops nothing.
"""

import collections
import contextvars
import logging
import re

from channels_redis import core

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


class RedisChannelLayer(core.RedisChannelLayer):
    def _map_channel_keys_to_connection(self, channel_names, message):
        # The library's keys: a process-specific channel lives in its process's.
        MEMBERS.set(
            collections.Counter(
                self.prefix + (self.non_local_name(name) if '!' in name else name)
                for name in channel_names
            )
        )
        return super()._map_channel_keys_to_connection(channel_names, message)
