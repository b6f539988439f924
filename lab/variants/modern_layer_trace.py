"""
`make run-modern TRACE=layer`, and the benchmark's traced modern system: the
modern port's settings (run from modern/), with the Pub/Sub layer also
publishing for `make trace` what happens inside daphne (lab/layers/modern_traced.py).
"""

from vikander.settings import *
from vikander.settings import CHANNEL_LAYERS

CHANNEL_LAYERS['default']['BACKEND'] = 'lab.layers.modern_traced.TracedPubSubChannelLayer'
