"""
The channel layers the lab runs inside a stack, beside the post's own
(vikander/layers.py, deviations C20 and C21): the cluster's sharded layer
(sharded.py, C17) and the layer trace's (traced.py for Channels 1.x,
modern_traced.py for the modern port).
"""
