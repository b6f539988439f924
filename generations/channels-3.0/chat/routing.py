from django.urls import re_path

from .consumers import ChatConsumer, UnknownPath
from .urls import LABEL

websocket_urlpatterns = [
    # The room page's path, on which chat.js opens its socket; the trailing
    # slash is optional, as it was for the legacy's path.strip('/').
    re_path(r'^chat/%s/*$' % LABEL, ChatConsumer.as_asgi()),
    # Any other path: URLRouter would raise "No route found", which daphne
    # answers with 500 and a traceback; Channels' WebsocketDenier refuses it
    # (403), as the legacy's ws_connect did with a path it could not parse.
    re_path(r'', UnknownPath.as_asgi()),
]
