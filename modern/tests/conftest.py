import logging

import pytest


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    # The consumers run in this process, so groups need no Redis here.
    settings.CHANNEL_LAYERS = {'default': {'BACKEND': 'channels.layers.InMemoryChannelLayer'}}


@pytest.fixture
def chat_log(caplog):
    # The chat logger does not propagate (settings.LOGGING), so caplog's
    # handler, which sits on the root logger, is attached to it directly.
    logger = logging.getLogger('chat')
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)
