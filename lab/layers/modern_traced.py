"""
The Pub/Sub channel layer, publishing for `make trace` what Redis cannot show.
Only a room's first member in each daphne subscribes in Redis, and
group_send's pushes to each member happen inside daphne; in the layer trace
(lab/variants/modern_layer_trace.py, `make run-modern TRACE=layer`) this
layer also publishes each group_add, group_discard and each message a
consumer takes, with its time, on one trace channel that the trace reads
from Redis's MONITOR.
"""

import asyncio
import time

from channels_redis.pubsub import RedisPubSubChannelLayer

TRACE_CHANNEL = '__trace__'


class TracedPubSubChannelLayer(RedisPubSubChannelLayer):
    # RedisPubSubChannelLayer hands every call to a layer of the running
    # event loop (_get_layer()); these do the same, then publish for the trace.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pending = []
        self.sending = set()  # holds each PUBLISH's task until it is done

    def trace(self, **event):
        """Noted with its time now, sent after this turn of the event loop
        with the turn's other events in one PUBLISH: a group send's ten
        deliveries cost one Redis round trip, not ten, and none waits for it."""
        if not self.pending:
            # The running loop: trace() is called from a coroutine.
            asyncio.get_event_loop().call_soon(self.flush)
        self.pending.append(dict(event, at=time.time()))

    def flush(self):
        events, self.pending = self.pending, []
        sending = asyncio.ensure_future(self._get_layer().send(TRACE_CHANNEL, {'events': events}))
        self.sending.add(sending)
        sending.add_done_callback(self.sending.discard)

    async def group_add(self, group, channel):
        await self._get_layer().group_add(group, channel)
        self.trace(event='group_add', group=group, channel=channel)

    async def group_discard(self, group, channel):
        await self._get_layer().group_discard(group, channel)
        self.trace(event='group_discard', group=group, channel=channel)

    async def receive(self, channel):
        message = await self._get_layer().receive(channel)
        self.trace(
            event='received', channel=channel, type=message.get('type'), text=message.get('text')
        )
        return message
