import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import WebsocketDenier

from .models import Room

log = logging.getLogger(__name__)

# The longest handle and message stored; a longer one closes the socket with
# 4009, as in the legacy replica (autobahn refuses to send WebSocket's own
# 1009 on an application's behalf).
MAX_HANDLE = 50
MAX_MESSAGE = 2000
TOO_BIG = 4009


# database_sync_to_async rather than plain sync_to_async: it also closes the
# stale database connections that a long-lived socket would otherwise keep.
def room_named(label):
    return Room.objects.filter(label=label).first()


get_room = database_sync_to_async(room_named)


@database_sync_to_async
def store(label, data):
    """
    The message saved in its room, or None when the room is gone. One trip
    to the database thread for both queries: each trip is a handoff between
    threads, and all of a process's trips wait in line for that one thread.
    """
    # Look the room up again, as the legacy did, so a room deleted since
    # connect() takes no more messages.
    room = room_named(label)
    if room is None:
        log.debug('received message, but the room does not exist label=%s', label)
        return None
    log.debug('received message, room exists label=%s', room.label)
    log.debug('chat message room=%s handle=%.200s message=%.200s', room.label, data['handle'], data['message'])
    return room.messages.create(**data)


class ChatConsumer(AsyncWebsocketConsumer):
    """
    One instance per socket: what the legacy kept in the channel session
    (the room's label) lives on the instance, and self.channel_name stands
    where message.reply_channel stood.
    """

    label = None  # the room's label, once connect() has let the socket in

    async def connect(self):
        # ws_connect
        # The URL router parsed the path already (routing.py); every other
        # path went to UnknownPath. A close before accept makes daphne answer
        # the handshake with 403.
        label = self.scope['url_route']['kwargs']['label']
        room = await get_room(label)
        if room is None:
            log.debug('ws room does not exist label=%.200s', label)
            return await self.close()

        # ASGI makes the client address optional (the test communicator sends none).
        host, port = self.scope.get('client') or ('-', '-')
        log.debug('chat connect room=%s client=%s:%s path=%.200s reply_channel=%s',
            room.label, host, port, self.scope['path'], self.channel_name)

        self.label = room.label
        await self.channel_layer.group_add('chat-' + self.label, self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        # ws_receive
        # Parse out a chat message from the frame, bailing if it doesn't
        # conform to the expected message format.
        if text_data is None:
            log.debug("ws message is binary, not text bytes=%d", len(bytes_data))
            return
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):
            log.debug("ws message isn't json text=%.200s", text_data)
            return
        if not isinstance(data, dict):
            log.debug("ws message isn't a json object data=%.200s", data)
            return
        if set(data.keys()) != set(('handle', 'message')):
            log.debug("ws message unexpected format data=%.200s", data)
            return
        if not all(isinstance(value, str) for value in data.values()) or not data['message']:
            log.debug("ws message needs a string handle and a non-empty string message data=%.200s", data)
            return
        if len(data['handle']) > MAX_HANDLE or len(data['message']) > MAX_MESSAGE:
            log.debug('ws message too long handle=%d message=%d characters, closing with %d',
                len(data['handle']), len(data['message']), TOO_BIG)
            return await self.close(code=TOO_BIG)
        m = await store(self.label, data)
        if m is not None:
            # The event's type names the handler that each member socket runs.
            await self.channel_layer.group_send(
                'chat-' + self.label, {'type': 'chat.message', 'text': json.dumps(m.as_dict())})

    async def chat_message(self, event):
        await self.send(text_data=event['text'])

    async def disconnect(self, code):
        # ws_disconnect
        # A refused socket (closed before accept) joined no group.
        if self.label is not None:
            await self.channel_layer.group_discard('chat-' + self.label, self.channel_name)


class UnknownPath(WebsocketDenier):
    """Any path but a room's: refused before accept (403), and logged."""

    async def connect(self):
        log.debug('invalid ws path=%.200s', self.scope['path'])
        await super().connect()
