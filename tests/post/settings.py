# The replica's settings, routed to the post's consumers as printed, and
# with the post's room URL pattern.
from vikander.settings import *  # noqa: F401,F403

CHANNEL_LAYERS["default"]["ROUTING"] = "post.routing.channel_routing"
ROOT_URLCONF = 'post.urls'
LOGGING['loggers']['post'] = LOGGING['loggers']['chat']
