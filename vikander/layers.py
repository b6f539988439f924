"""
asgi_redis's channel layer, which vikander/settings.py names after the
post's CHANNEL_LAYERS, saying what it loses.

Deviation C20: asgi_redis 1.0.0's group send skips, without a word, a
member whose reply channel is full (100 messages daphne has not delivered
yet). This layer says so at WARNING.

Deviation C21: asgi_redis 1.0.0's receive skips, without a word, a message
that waited longer than the channel expiry (60 s: no runworker took it, or
daphne never polled its reply channel), and Redis removes the channel's
list one second after its newest message expires, expired messages and
all. This layer keeps the list as long as a group membership
(group_expiry), so the next receive finds each expired message and says
so at WARNING.
"""

import logging
import random
import uuid

import asgi_redis
import redis

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
        assert isinstance(message, dict), 'message is not a dict'
        assert self.valid_channel_name(channel), 'Channel name not valid'
        message_key = self.prefix + uuid.uuid4().hex
        channel_key = self.prefix + channel
        if '!' in channel or '?' in channel:
            connection = self.connection(self.consistent_hash(channel))
        else:
            connection = self.connection(None)
        try:
            self.chansend(
                keys=[message_key, channel_key],
                args=[
                    self.serialize(message),
                    self.expiry,
                    self.get_capacity(channel),
                    self.group_expiry,
                ],
                client=connection,
            )
        except redis.exceptions.ResponseError as e:
            if e.args[0] == 'full':
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
            channel = result[0][len(self.prefix) :].decode('utf8')
            content = connection.get(result[1])
            if content is None:
                logger.warning(
                    'channel %s: message expired unhandled, after the %d s channel expiry: %s',
                    channel,
                    self.expiry,
                    EXPIRED_UNHANDLED['reply' if '!' in channel else 'request'],
                )
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
            logger.warning(
                'group %s: message dropped for %d member(s) whose reply channel is full: %s',
                group,
                len(full),
                ' '.join(full),
            )
