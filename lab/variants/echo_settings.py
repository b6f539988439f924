# The replica's settings with the WebSocket channels routed to echo
# consumers: the endpoint `make conformance` fuzzes with the Autobahn
# testsuite (lab/qa/conformance.py). Pages still go through the chat views.
from vikander.settings import *

CHANNEL_LAYERS['default']['ROUTING'] = 'lab.variants.echo.channel_routing'
