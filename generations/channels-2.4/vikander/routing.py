from urllib.parse import urlparse

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security import websocket
from django.conf import settings
from django.utils.http import is_same_domain

import chat.routing


class OriginValidator(websocket.OriginValidator):
    """
    Channels 2.4.0's own, which calls urlparse(pattern, scheme=None): every
    CPython since 3.6.14, 3.7.11 and 3.8.11 (bpo-43882) raises on that, so
    each socket would be reset. Channels 3.0.4 fixed it (channels#1716,
    #1719); the backport to 2.x was closed unmerged (#1769). ALLOWED_HOSTS
    names hosts, never schemes, so the host branch is all it needs.
    """

    def match_allowed_origin(self, parsed_origin, pattern):
        if parsed_origin is None or parsed_origin.hostname is None:
            return False
        return is_same_domain(parsed_origin.hostname, urlparse('//' + pattern).hostname or pattern)


application = ProtocolTypeRouter({
    # (http->django views is added by default)
    # A page on another site may not open sockets here with its visitors'
    # cookies: the Origin header must name one of ALLOWED_HOSTS, as
    # AllowedHostsOriginValidator would check.
    "websocket": OriginValidator(
        URLRouter(chat.routing.websocket_urlpatterns), settings.ALLOWED_HOSTS
    ),
})
