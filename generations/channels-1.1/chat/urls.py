from django.conf.urls import include, url

from . import views

urlpatterns = [
    url(r'^$', views.about, name='about'),
    url(r'^new/$', views.new_room, name='new_room'),
    # Deviation C6 (docs/deviations.md): the post's [\w-]{,50} also
    # matches non-ASCII letters on Python 3, which no Channels group name
    # may hold, and the empty label of /chat//; labels are the slugs
    # SlugField knows.
    url(r'^(?P<label>[a-zA-Z0-9_-]{1,50})/$', views.chat_room, name='chat_room'),
]
