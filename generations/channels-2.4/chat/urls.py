from django.urls import re_path

from . import views

# The legacy's label pattern (docs/deviations.md, C6): the slugs
# SlugField knows, which are also valid Channels group names. routing.py
# takes it for the socket's path too.
LABEL = r'(?P<label>[a-zA-Z0-9_-]{1,50})'

urlpatterns = [
    re_path(r'^$', views.about, name='about'),
    re_path(r'^new/$', views.new_room, name='new_room'),
    re_path(r'^%s/$' % LABEL, views.chat_room, name='chat_room'),
]
