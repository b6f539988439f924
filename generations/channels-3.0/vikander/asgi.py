import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vikander.settings")
# Set Django up before chat.routing imports the models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

import chat.routing

if settings.DEBUG:
    # Daphne serves no files itself: in DEBUG Django answers /static/, as the
    # legacy runworker did.
    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    # A page on another site may not open sockets here with its visitors'
    # cookies: the Origin header must name one of ALLOWED_HOSTS.
    "websocket": AllowedHostsOriginValidator(
        URLRouter(chat.routing.websocket_urlpatterns)
    ),
})
