"""
`make run TRACE=told`, and the benchmark's traced systems: the post's
settings, with the layer and the channel sessions also telling `make trace`
what they do (lab/tracing/layers.py, lab/tracing/sessions.py).
"""

from vikander.settings import *
from vikander.settings import CHANNEL_LAYERS

CHANNEL_LAYERS['default']['BACKEND'] = 'lab.tracing.layers.TracedRedisChannelLayer'
CHANNEL_SESSION_ENGINE = 'lab.tracing.sessions'
