# The replica's settings with a 3 s channel expiry instead of asgi_redis's
# 60 s default, so test_faults.py can wait past it quickly.
from vikander.settings import *  # noqa: F401,F403

CHANNEL_LAYERS["default"]["CONFIG"]["expiry"] = 3
