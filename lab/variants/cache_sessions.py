"""
A tuning step of the benchmark (legacy stack, CPython 3.5/3.6): channel
sessions in Redis through Channels 1.x's own CHANNEL_SESSION_ENGINE and
django-redis 4.8 (April 2017), on the channel layer's Redis.
"""

from vikander.settings import *
from vikander.settings import os

CACHES = {
    'default': {
        'BACKEND': 'django_redis.cache.RedisCache',
        'LOCATION': os.environ.get('REDIS_URL', 'redis://localhost:6379'),
    },
}
CHANNEL_SESSION_ENGINE = 'django.contrib.sessions.backends.cache'
