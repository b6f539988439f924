"""
`make run-modern TRACE=told`, and the benchmark's traced modern system: the
modern port's settings (run from modern/), with the Pub/Sub layer also
telling `make trace` what happens inside daphne (lab/tracing/modern_layers.py).
"""

from vikander.settings import *
from vikander.settings import CHANNEL_LAYERS

CHANNEL_LAYERS['default']['BACKEND'] = 'lab.tracing.modern_layers.TracedPubSubChannelLayer'
