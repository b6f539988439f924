# The settings of a Channels 1.x tree (the replica, generations/channels-1.1)
# with the WebSocket channels routed to the framework echo
# (lab/variants/framework_echo.py) on /echo/ alone: a socket to any other
# path reaches no consumer. Pages still go through the chat views.
from channels.routing import route

from lab.variants.framework_echo import ws_connect, ws_receive
from vikander.settings import *

channel_routing = [
    route('websocket.connect', ws_connect, path=r'^/echo/$'),
    route('websocket.receive', ws_receive, path=r'^/echo/$'),
]
CHANNEL_LAYERS['default']['ROUTING'] = 'lab.variants.framework_echo_settings.channel_routing'
