"""
The framework echo for Channels 2 and later (generations/channels-2.4, -3.0 and the
modern port): lab/variants/framework_echo.py's commands in a synchronous
WebsocketConsumer, as the 2.x tutorial's first consumer was, on /echo/
alone. Served from the tree as `daphne lab.variants.framework_echo_asgi:application`
with the repository's root on PYTHONPATH; pages still go through the chat
views.
"""

from channels.generic.websocket import WebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import re_path
from vikander.asgi import application as chat_application  # sets Django up first

from lab.variants.framework_echo import answer


class FrameworkEcho(WebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        answer(text_data or '', lambda text: self.send(text_data=text))


# Channels 3 made each consumer an ASGI application of its own, as_asgi();
# 2.x routes take the class.
consumer = FrameworkEcho.as_asgi() if hasattr(FrameworkEcho, 'as_asgi') else FrameworkEcho

application = ProtocolTypeRouter(
    {
        'http': chat_application,
        # Only /echo/: a socket to any other path reaches no consumer.
        'websocket': URLRouter([re_path(r'^echo/$', consumer)]),
    }
)
