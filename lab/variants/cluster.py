"""
The cluster's settings (docker-compose.yml sets DJANGO_SETTINGS_MODULE):
the post's, with the channel layer sharded over every Redis server that
REDIS_URL names, separated by spaces (deviations C16 and C17).
"""

import os

from vikander.settings import *
from vikander.settings import CHANNEL_LAYERS

CHANNEL_LAYERS['default']['BACKEND'] = 'lab.layers.sharded.ShardedRedisChannelLayer'
CHANNEL_LAYERS['default']['CONFIG']['hosts'] = os.environ.get(
    'REDIS_URL', 'redis://localhost:6379'
).split()
