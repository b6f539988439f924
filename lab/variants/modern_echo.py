"""
The modern port's ASGI application with every WebSocket path routed to an
echo consumer: the endpoint `make conformance` fuzzes with the Autobahn
testsuite (lab/qa/conformance.py). Served from modern/ as `daphne
lab.variants.modern_echo:application` with the repository's root on
PYTHONPATH; pages still go through the chat views.
"""

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter
from vikander.asgi import application as chat_application  # sets Django up first


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send(text_data=text_data)
        else:
            await self.send(bytes_data=bytes_data)


application = ProtocolTypeRouter(
    {
        'http': chat_application,
        'websocket': EchoConsumer.as_asgi(),
    }
)
