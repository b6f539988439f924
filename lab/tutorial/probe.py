"""
The checks that run inside a workspace's Django (lab/tutorial/check.py
starts this with the workspace as the working folder and the check's own
database): each step's behaviour, in order, until the first that fails.

    python -m lab.tutorial.probe STEP [STEP ...]

prints one JSON line per step: {"step", "ok", "expected", "saw", "hint"}.
Step 5's parts (lab/tutorial/consumers.py) ask it what the channel layer
holds, one JSON line each:

    python -m lab.tutorial.probe members GROUP       the group's channels
    python -m lab.tutorial.probe session CHANNEL     a reply channel's session

Valid Python 3.5.
"""

import json
import os
import re
import sys
import traceback

HAIKU = re.compile(r'^[a-z]+-[a-z]+-\d+$')


class Failed(Exception):
    def __init__(self, expected, saw, hint):
        super(Failed, self).__init__(expected)
        self.expected, self.saw, self.hint = expected, saw, hint


def expect(condition, expected, saw, hint):
    if not condition:
        raise Failed(expected, saw, hint)


def last_line(error):
    return traceback.format_exception_only(type(error), error)[-1].strip()


def last_error(log, workspace):
    """The last exception in a traceback or a process's log (its last line,
    or a line logged at ERROR), and where in the workspace it was raised;
    None when there is none."""
    errors = list(
        re.finditer(r'^([A-Za-z_][\w.]*(?:Error|Exception)\b.*)$|\bERROR\W+(.*)$', log, re.M)
    )
    if not errors:
        return None
    error = errors[-1]
    printed = error.group(1) or error.group(2)
    places = [
        (path, line, function)
        for path, line, function in re.findall(
            r'File "([^"]+)", line (\d+), in (\S+)', log[: error.start()]
        )
        if os.path.abspath(path).startswith(workspace + os.sep)
    ]
    if not places or not error.group(1):
        return printed
    path, line, function = places[-1]
    return '%s, line %s, in %s: %s' % (os.path.relpath(path, workspace), line, function, printed)


def where(error):
    """An exception raised in the workspace's code, said as last_error says it."""
    return last_error(
        ''.join(traceback.format_exception(type(error), error, error.__traceback__)), os.getcwd()
    ) or last_line(error)


def step_1():
    import pkg_resources
    from django.conf import settings
    from django.core.management import call_command

    call_command('check', tags=['models'])  # the whole check waits for the URLs (2.3)
    apps = list(settings.INSTALLED_APPS)
    expect(
        'channels' in apps and 'chat' in apps,
        "'channels' and 'chat' in INSTALLED_APPS",
        apps,
        'add them at the end of INSTALLED_APPS in vikander/settings.py',
    )
    version = pkg_resources.get_distribution('channels').version
    expect(
        version == '1.0.3',
        'channels 1.0.3 installed',
        version,
        'make setup-legacy installs the pins',
    )


def step_2_1():
    from django.core.management import call_command

    call_command('migrate', verbosity=0)
    try:
        from chat.models import Message, Room
    except ImportError as error:
        raise Failed(
            'chat/models.py defining Room and Message',
            last_line(error),
            "the post's section 2, part 1",
        )
    room = Room.objects.create(name='probe', label='probe-models')
    message = Message.objects.create(room=room, handle='alice', message='hello')
    seen = message.as_dict()
    expect(
        sorted(seen) == ['handle', 'message', 'timestamp'],
        'as_dict() with handle, message and timestamp',
        seen,
        'chat/models.py: Message.as_dict()',
    )
    expect(
        seen['timestamp'] == message.timestamp.strftime('%b %-d %-I:%M %p'),
        "the timestamp formatted '%b %-d %-I:%M %p'",
        seen['timestamp'],
        'Message.formatted_timestamp',
    )
    expect(
        list(room.messages.all()) == [message],
        "the room's messages through related_name='messages'",
        list(room.messages.all()),
        "Message.room = models.ForeignKey(Room, related_name='messages')",
    )


def step_2_2():
    from django.test import RequestFactory

    from chat import views
    from chat.models import Room

    missing = [name for name in ('about', 'new_room', 'chat_room') if not hasattr(views, name)]
    expect(
        not missing,
        'chat/views.py defining about, new_room and chat_room',
        'missing: %s' % ', '.join(missing),
        "the post's section 2, part 2",
    )
    before = set(Room.objects.values_list('label', flat=True))
    try:
        views.new_room(RequestFactory().get('/chat/new/'))
    except Exception:  # the redirect needs the URLs of the next step
        pass
    made = set(Room.objects.values_list('label', flat=True)) - before
    expect(
        len(made) == 1 and HAIKU.match(made.pop()),
        'new_room creates one room with a haikunated label',
        sorted(set(Room.objects.values_list('label', flat=True)) - before),
        'chat/views.py: new_room, with Haikunator.haikunate()',
    )
    try:
        views.chat_room(RequestFactory().get('/chat/probe-views/'), 'probe-views')
    except Exception:  # the template comes at step 2.4
        pass
    expect(
        Room.objects.filter(label='probe-views').exists(),
        'chat_room creates the room it is asked for',
        'no room probe-views',
        'chat/views.py: chat_room, Room.objects.get_or_create(label=label)',
    )


def step_2_3():
    from django.core.management import call_command
    from django.urls import Resolver404, resolve

    from chat import views

    for path, view in (
        ('/chat/', views.about),
        ('/chat/new/', views.new_room),
        ('/chat/a-room/', views.chat_room),
    ):
        try:
            found = resolve(path).func
        except Resolver404 as error:
            found = last_line(error)
        expect(
            found == view,
            '%s served by views.%s' % (path, view.__name__),
            found,
            "chat/urls.py, and url(r'^chat/', include('chat.urls')) in vikander/urls.py",
        )
    call_command('check')  # manage.py check, the URLs included


def step_2_4():
    try:
        serves_the_pages()
    except Failed:
        raise
    except Exception as error:
        raise Failed(
            "the about page, the new room's redirect and the room page",
            last_line(error),
            "templates/chat/about.html and room.html, and TEMPLATES 'DIRS' naming templates/",
        )


def serves_the_pages():
    from django.test import Client

    from chat.models import Message, Room

    client = Client()
    about = client.get('/chat/')
    expect(
        about.status_code == 200 and 'href="/chat/new/"' in about.content.decode(),
        'the about page, linking to /chat/new/',
        about.status_code,
        'templates/chat/about.html',
    )
    new = client.get('/chat/new/')
    label = new.get('Location', '').rstrip('/').rsplit('/', 1)[-1]
    expect(
        new.status_code == 302 and HAIKU.match(label),
        'a redirect to a new haikunated room',
        (new.status_code, new.get('Location')),
        'chat/views.py: new_room',
    )
    room = Room.objects.get(label=label)
    Message.objects.create(room=room, handle='alice', message='history kept')
    page = client.get('/chat/%s/' % label).content.decode()
    for needle in ('id="chatform"', 'id="handle"', 'id="message"', 'id="chat"', 'history kept'):
        expect(
            needle in page,
            'the room page with its form and history (%s)' % needle,
            page[:200],
            'templates/chat/room.html',
        )


def step_3():
    from django.contrib.staticfiles import finders
    from django.test import Client

    from chat.models import Room

    Room.objects.get_or_create(label='probe-static')
    page = Client().get('/chat/probe-static/').content.decode()
    linked = re.findall(r'(?:href|src)="/static/([^"]+)"', page)
    missing = [path for path in linked if not finders.find(path)]
    expect(
        linked and not missing,
        'every static file the room page links',
        missing or 'no static links',
        "static/assets/ (css/, js/), and STATICFILES_DIRS = [os.path.join(BASE_DIR, 'static')]",
    )


def step_4_2():
    import asgi_redis
    import redis

    found = {
        'asgi_redis': getattr(asgi_redis, '__version__', asgi_redis.__file__),
        'redis': getattr(redis, '__version__', redis.__file__),
    }
    expect(
        found == {'asgi_redis': '1.0.0', 'redis': '2.10.5'},
        'asgi_redis 1.0.0 and redis 2.10.5 importable',
        found,
        'make setup-legacy installs the pins; a file named asgi_redis.py or redis.py in the '
        'workspace hides them',
    )


def step_4_3():
    from django.conf import settings
    from django.utils.module_loading import import_string

    layers = getattr(settings, 'CHANNEL_LAYERS', {})
    expect(
        'default' in layers,
        'CHANNEL_LAYERS in vikander/settings.py',
        layers or 'no CHANNEL_LAYERS',
        "the post's section 4, part 3",
    )
    config = layers['default']
    layer = import_string(config['BACKEND'])(**config.get('CONFIG', {}))
    layer.send('tutorial.probe', {'text': 'through Redis'})
    received = layer.receive(['tutorial.probe'], block=True)
    expect(
        received == ('tutorial.probe', {'text': 'through Redis'}),
        'a message sent and received on the layer',
        received,
        'CHANNEL_LAYERS in vikander/settings.py, on REDIS_URL',
    )
    expect(
        config.get('ROUTING') == 'chat.routing.channel_routing',
        'ROUTING = "chat.routing.channel_routing"',
        config.get('ROUTING'),
        "the post's CHANNEL_LAYERS names its routing",
    )


CONSUMERS = ('ws_connect', 'ws_receive', 'ws_disconnect')


def consumers_written():
    try:
        from chat import consumers
    except ImportError:
        return False
    return all(hasattr(consumers, name) for name in CONSUMERS)


def waiting_for_consumers(module, part):
    """`module` (chat.routing, chat.asgi) imported, or None while it cannot
    import consumers that step 5 has not written yet: the post's reader met
    the same, reading in order."""
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    path = module.replace('.', '/') + '.py'
    if not os.path.exists(path):
        raise Failed(path, 'no such file', "the post's section 4, part %s" % part)
    try:
        return importlib.import_module(module)
    except (ImportError, ImproperlyConfigured) as error:
        expect(
            not consumers_written() and ('consumers' in str(error) or 'ws_' in str(error)),
            '%s importing' % path,
            last_line(error),
            path,
        )
        return None


def step_4_4():
    routing = waiting_for_consumers('chat.routing', 4)
    if routing is None:
        return 'waits for the consumers of step 5'
    from channels.routing import Router

    channels = set(Router(routing.channel_routing).channels)
    wanted = {'websocket.connect', 'websocket.receive', 'websocket.disconnect'}
    expect(
        wanted <= channels,
        'routes for %s' % ', '.join(sorted(wanted)),
        sorted(channels),
        'chat/routing.py',
    )


def step_4_5():
    asgi = waiting_for_consumers('chat.asgi', 5)
    if asgi is None:
        return 'waits for the consumers of step 5'
    from django.conf import settings

    layer = getattr(asgi, 'channel_layer', None)
    backend = settings.CHANNEL_LAYERS['default']['BACKEND'].rsplit('.', 1)[-1]
    expect(
        type(layer).__name__ == backend,
        'chat.asgi.channel_layer, the %s daphne serves' % backend,
        type(layer).__name__,
        'chat/asgi.py: channels.asgi.get_channel_layer()',
    )


def members(group):
    from channels import DEFAULT_CHANNEL_LAYER, channel_layers

    return sorted(channel_layers[DEFAULT_CHANNEL_LAYER].channel_layer.group_channels(group))


def session(channel):
    from channels.sessions import session_for_reply_channel

    return dict(session_for_reply_channel(channel).items())


def unloadable(error, steps):
    """The result for a project that does not load, said at the step that
    writes the file the error was raised in."""
    from lab.tutorial.steps import step_writing

    saw = where(error)
    number = step_writing(saw.split(',')[0])
    return {
        'step': number if number in steps else steps[0],
        'ok': False,
        'expected': 'the project to load (django.setup())',
        'saw': saw,
        'hint': 'the file and line named here, in your workspace',
    }


def run_step(number):
    result = {'step': number, 'ok': True}
    try:
        note = globals()['step_' + number.replace('.', '_')]()
        if note:
            result['note'] = note
    except Failed as failed:
        result.update(
            ok=False, expected=failed.expected, saw=repr(failed.saw)[:300], hint=failed.hint
        )
    except Exception as error:
        result.update(
            ok=False,
            expected='step %s to run' % number,
            saw=where(error),
            hint='the file and line named here, in your workspace',
        )
    return result


def main(steps):
    import django

    try:
        django.setup()
    except Exception as error:  # the settings, an app or its models
        print(json.dumps(unloadable(error, steps)))
        return 1
    if steps[0] in ('members', 'session'):
        print(json.dumps(globals()[steps[0]](steps[1])))
        return 0
    from django.test.utils import setup_test_environment

    setup_test_environment()
    for number in steps:
        result = run_step(number)
        print(json.dumps(result))
        sys.stdout.flush()
        if not result['ok']:
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
