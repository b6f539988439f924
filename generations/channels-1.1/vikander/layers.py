"""
asgi_redis 1.4.3's channel layer, saying what its group send loses.

As in 1.0.0 (the replica's deviation C20), a group send skips, without a
word, a member whose reply channel is full (100 messages daphne has not
delivered yet). This layer says so at WARNING, in the replica's words.
A message that expires unhandled (60 s in a channel) is still skipped
without a word: docs/generations.md says when.
"""

import logging

import asgi_redis

logger = logging.getLogger(__name__)


class RedisChannelLayer(asgi_redis.RedisChannelLayer):
    def send_group(self, group, message):
        # The library's loop, with the members it could not reach kept.
        full = []
        for channel in self.group_channels(group):
            try:
                self.send(channel, message)
            except self.ChannelFull:
                full.append(channel)
        if full:
            logger.warning(
                'group %s: message dropped for %d member(s) whose reply channel is full: %s',
                group,
                len(full),
                ' '.join(full),
            )
