import re
import json
import logging
from channels import Channel, Group
from channels.sessions import channel_session
from .models import Room, Message
from django.http import HttpResponse
from channels.handler import AsgiHandler
from channels.auth import http_session_user, channel_session_user, channel_session_user_from_http
# Channels 1.1.4's origin check, which deviation C11 wrote by hand for 1.0.3.
from channels.security.websockets import allowed_hosts_only

log = logging.getLogger(__name__)

# Deviation C12: the longest handle and message stored; a longer one closes
# the socket with 4009. (WebSocket's own 1009, "message too big", is for the
# protocol layer: autobahn refuses to send it on an application's behalf.)
MAX_HANDLE = 50
MAX_MESSAGE = 2000
TOO_BIG = 4009

@allowed_hosts_only
@channel_session
def ws_connect(message):
    # Extract the room from the message. This expects message.path to be of the
    # form /chat/{label}/, and finds a Room if the message path is applicable,
    # and if the Room exists. Otherwise, bails (meaning this is a some othersort
    # of websocket). So, this is effectively a version of _get_object_or_404.
    # Deviations C5 and C9: a socket is refused with an answer (C5) wherever
    # the post bails below; every piece of user data in a log line is cut to
    # 200 characters (C9), so no client writes a megabyte into the worker's
    # log. allowed_hosts_only refused a socket from another site already.
    try:
        prefix, label = message['path'].strip('/').split('/')
        if prefix != 'chat':
            # Deviations C5 and C9
            log.debug('invalid ws path=%.200s', message['path'])
            return refuse(message)
        room = Room.objects.get(label=label)
    except ValueError:
        # Deviations C5 and C9
        log.debug('invalid ws path=%.200s', message['path'])
        return refuse(message)
    except Room.DoesNotExist:
        # Deviations C5 and C9
        log.debug('ws room does not exist label=%.200s', label)
        return refuse(message)

    # Deviation C9
    log.debug('chat connect room=%s client=%s:%s path=%.200s reply_channel=%s',
        room.label, message['client'][0], message['client'][1], message['path'], message.reply_channel)

    # Need to be explicit about the channel layer so that testability works
    # This may be a FIXME?
    message.reply_channel.send({"accept": True})
    Group('chat-'+label, channel_layer=message.channel_layer).add(message.reply_channel)

    message.channel_session['room'] = room.label


def refuse(message):
    # Deviation C5: the post bails without an answer, which leaves the
    # handshake hanging until autobahn drops it after 5 s. A close before
    # accept makes daphne answer 403 at once.
    message.reply_channel.send({"close": True})


@channel_session
def ws_receive(message):
    # Look up the room from the channel session, bailing if it doesn't exist
    try:
        label = message.channel_session['room']
        room = Room.objects.get(label=label)
        log.debug('recieved message, room exist label=%s', room.label)
    except KeyError:
        log.debug('no room in channel_session')
        return
    except Room.DoesNotExist:
        log.debug('recieved message, buy room does not exist label=%s', label)
        return

    # Parse out a chat message from the content text, bailing if it doesn't
    # conform to the expected message format.
    # Deviations C1, C2, C3, C4 and C12: the post reads message['text'] (a KeyError
    # on a binary frame), logs an undefined name `text`, calls .keys() on
    # whatever JSON arrives and stores values of any type and length.
    text = message.content.get('text')
    if text is None:
        log.debug("ws message is binary, not text bytes=%d", len(message.content.get('bytes') or b''))
        return
    try:
        # Deviations C1, C3, C4, C9 and C12: each refusal below is one log
        # line, cut short.
        data = json.loads(text)
    except (ValueError, RecursionError):
        log.debug("ws message isn't json text=%.200s", text)
        return
    if not isinstance(data, dict):
        log.debug("ws message isn't a json object data=%.200s", data)
        return
    if set(data.keys()) != set(('handle', 'message')):
        # Deviations C4, C9 and C12
        log.debug("ws message unexpected format data=%.200s", data)
        return
    if not all(isinstance(value, str) for value in data.values()) or not data['message']:
        log.debug("ws message needs a string handle and a non-empty string message data=%.200s", data)
        return
    if len(data['handle']) > MAX_HANDLE or len(data['message']) > MAX_MESSAGE:
        log.debug('ws message too long handle=%d message=%d characters, closing with %d',
            len(data['handle']), len(data['message']), TOO_BIG)
        message.reply_channel.send({"close": TOO_BIG})
        return

    if data:
        # Deviation C9
        log.debug('chat message room=%s handle=%.200s message=%.200s',
            room.label, data['handle'], data['message'])
        m = room.messages.create(**data)

        # See above for the note about Group
        Group('chat-'+label, channel_layer=message.channel_layer).send({'text': json.dumps(m.as_dict())})

@channel_session
def ws_disconnect(message):
    try:
        label = message.channel_session['room']
        room = Room.objects.get(label=label)
        Group('chat-'+label, channel_layer=message.channel_layer).discard(message.reply_channel)
    except (KeyError, Room.DoesNotExist):
        pass
