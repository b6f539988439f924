"""
The Pub/Sub channel layer, telling `make trace` what Redis cannot show.
Only a room's first member in each daphne subscribes in Redis, and
group_send's pushes to each member happen inside daphne; with
CHANNEL_TRACE=1 (settings.py) this layer also publishes each group_add,
group_discard and each message a consumer takes, on one trace channel that
the trace reads from Redis's MONITOR. Off, the plain layer runs.
"""
from channels_redis.pubsub import RedisPubSubChannelLayer

TRACE_CHANNEL = '__trace__'


class TracedPubSubChannelLayer(RedisPubSubChannelLayer):
    # RedisPubSubChannelLayer hands every call to a layer of the running
    # event loop (_get_layer()); these do the same, then tell the trace.
    async def trace(self, **event):
        await self._get_layer().send(TRACE_CHANNEL, event)

    async def group_add(self, group, channel):
        await self._get_layer().group_add(group, channel)
        await self.trace(event='group_add', group=group, channel=channel)

    async def group_discard(self, group, channel):
        await self._get_layer().group_discard(group, channel)
        await self.trace(event='group_discard', group=group, channel=channel)

    async def receive(self, channel):
        message = await self._get_layer().receive(channel)
        await self.trace(event='received', channel=channel, type=message.get('type'), text=message.get('text'))
        return message
