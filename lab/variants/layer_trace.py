"""
`make run TRACE=layer`, and the benchmark's traced systems: the post's
settings, with the layer and the channel sessions also publishing for `make trace`
what they do (lab/layers/traced.py, lab/variants/traced_sessions.py).
"""

from vikander.settings import *
from vikander.settings import CHANNEL_LAYERS

CHANNEL_LAYERS['default']['BACKEND'] = 'lab.layers.traced.TracedRedisChannelLayer'
CHANNEL_SESSION_ENGINE = 'lab.variants.traced_sessions'
