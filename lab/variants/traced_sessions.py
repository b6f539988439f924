"""
The layer trace's channel sessions (lab/variants/layer_trace.py): Django's
own (SESSION_ENGINE, the database by default), also publishing for `make trace`
when a consumer loads and saves one.
"""

from importlib import import_module

from channels import DEFAULT_CHANNEL_LAYER, channel_layers
from django.conf import settings

Base = import_module(settings.SESSION_ENGINE).SessionStore


class SessionStore(Base):
    def load(self):
        try:
            return super().load()
        finally:
            self.trace('session_load')

    def save(self, must_create=False):
        super().save(must_create)
        self.trace('session_save')

    def trace(self, event):
        channel_layers[DEFAULT_CHANNEL_LAYER].channel_layer.trace(event=event)
