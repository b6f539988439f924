"""
ASGI entrypoint. Configures Django and then runs the application
defined in the ASGI_APPLICATION setting.
"""

import os

import django
from channels.routing import get_default_application
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vikander.settings")
django.setup()
application = get_default_application()

if settings.DEBUG:
    # Daphne serves no files itself: in DEBUG Channels answers /static/, as
    # the legacy runworker did.
    from channels.staticfiles import StaticFilesWrapper

    application = StaticFilesWrapper(application)
