"""
asgi_redis 1.4.3's channel layer, saying what it loses, as the replica's
does for 1.0.0 (its deviations C20 and C21) and in its words.

A group send skips, without a word, a member whose reply channel is full
(100 messages daphne has not delivered yet). This layer says so at
WARNING.

A receive skips, without a word, a message that waited longer than the
channel expiry (60 s: no runworker took it, or daphne never polled its
reply channel), and Redis removes the channel's list one second after its
newest message expires, expired messages and all. This layer keeps the
list as long as a group membership (group_expiry), so the next receive
finds each expired message and says so at WARNING. A list nobody reads
(daphne's http.disconnect, which no route takes; a stopped daphne's
process channel) then holds up to 100 names of expired messages for a
day, as the replica's does.
"""

import logging
import random

import asgi_redis

logger = logging.getLogger(__name__)

# What an expired message was, by its channel: a reply channel's messages
# were on their way to a socket, the others waited for a runworker.
EXPIRED_UNHANDLED = {
    'reply': 'a reply daphne never took, which never reached its socket',
    'request': 'no runworker took it (a chat frame is never stored)',
}

# The library's send script, with the channel's list kept for group_expiry
# seconds (%d) after its last send instead of one second past its newest
# message.
KEEP_THE_LIST = """
    if redis.call('llen', KEYS[2]) >= tonumber(ARGV[3]) then
        return redis.error_reply("full")
    end
    redis.call('set', KEYS[1], ARGV[1])
    redis.call('expire', KEYS[1], ARGV[2])
    redis.call('rpush', KEYS[2], KEYS[1])
    redis.call('expire', KEYS[2], math.max(tonumber(ARGV[2]) + 1, %d))
"""


class RedisChannelLayer(asgi_redis.RedisChannelLayer):
    def _register_scripts(self):
        self.lua_chansend = KEEP_THE_LIST % self.group_expiry
        super()._register_scripts()

    def receive(self, channels, block=False):
        # The library's loop, saying which expired messages it skips.
        indexes = self._receive_list_names(channels)
        if indexes is None:
            return None, None
        while True:
            got_expired_content = False
            for index, list_names in indexes.items():
                random.shuffle(list_names)
                connection = self.connection(index)
                if block:
                    result = connection.blpop(list_names, timeout=self.blpop_timeout)
                else:
                    result = self.lpopmany(keys=list_names, client=connection)
                if result:
                    content = connection.get(result[1])
                    connection.delete(result[1])
                    channel = result[0][len(self.prefix) :].decode('utf8')
                    if content is None:
                        self.say_expired(channel)
                        got_expired_content = True
                        continue
                    message = self.deserialize(content)
                    if '__asgi_channel__' in message:
                        channel = message.pop('__asgi_channel__')
                    return channel, message
            if not got_expired_content:
                return None, None

    def say_expired(self, channel):
        logger.warning(
            'channel %s: message expired unhandled, after the %d s channel expiry: %s',
            channel,
            self.expiry,
            EXPIRED_UNHANDLED['reply' if '!' in channel else 'request'],
        )

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
