"""
A tuning step of the benchmark (legacy stack, CPython 3.5/3.6): asgi_redis's
own channel_capacity option lets 2,000 frames wait in websocket.receive
(100 by default) before daphne closes a sender with 1013.
"""

from vikander.settings import *
from vikander.settings import CHANNEL_LAYERS

CHANNEL_LAYERS['default']['CONFIG']['channel_capacity'] = {'websocket.receive': 2000}
