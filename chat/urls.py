from django.conf.urls import include, url

from . import views

# Deviation (docs/deviations.md, "Non-ASCII room labels"): the post's
# [\w-] also matches non-ASCII letters on Python 3, and such a label can never
# be a Channels group name; labels are the ASCII slugs SlugField describes.
urlpatterns = [
    url(r'^$', views.about, name='about'),
    url(r'^new/$', views.new_room, name='new_room'),
    url(r'^(?P<label>[a-zA-Z0-9_-]{,50})/$', views.chat_room, name='chat_room'),
]
