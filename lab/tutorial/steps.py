"""
The post's steps, in its order and with its headings, and what each does
to a workspace: the post's commands where it runs one, its code where it
shows code (from docs/post.md, through lab/harness/post.py), and the files
it names without printing from the replica's. Valid Python 3.5: it runs on
the legacy virtualenv, whose django-admin the post's reader ran.
"""

import hashlib
import io
import json
import os
import subprocess
import sys

from lab.harness.post import snippets
from lab.harness.stack import ROOT, free_port

MARKER = '.walkthrough'
# The post's code blocks (docs/post.md), read once.
BLOCKS = snippets()


class Step(object):
    def __init__(self, number, heading, blocks=(), does=None):
        self.number, self.heading, self.blocks, self.does = number, heading, blocks, does

    @property
    def title(self):
        return '%s. %s' % (self.number, self.heading)


# What the post implies but does not print: the top-level templates/ and
# static/ folders it names need these two settings.
TEMPLATE_DIRS = "'DIRS': [os.path.join(BASE_DIR, 'templates')],"
STATIC_DIRS = "STATICFILES_DIRS = [os.path.join(BASE_DIR, 'static')]"


def run(ws, *argv):
    """A command in the workspace, as the reader typed it; its output. What
    it creates counts as the walk-through's."""
    before = ws.files()
    done = subprocess.run(
        list(argv),
        cwd=ws.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        env=reader_environment(),
    )
    for name in ws.files() - before:
        ws.state['created'][name] = digest(ws.read(name))
    if done.returncode:
        raise SystemExit(
            'tutorial: `%s` failed in %s:\n%s' % (' '.join(argv), ws.path, done.stdout)
        )
    return done.stdout


def reader_environment():
    """The machine's environment, without a settings module or a path of
    ours: manage.py names the workspace's own, and startproject refuses a
    name it can already import."""
    env = dict(os.environ)
    env.pop('DJANGO_SETTINGS_MODULE', None)
    env.pop('PYTHONPATH', None)
    return env


def python(*argv):
    return (sys.executable,) + argv


def attempt(ws, code):
    """The last line a piece of the reader's Python prints when it fails:
    a pitfall reproduced, not narrated."""
    done = subprocess.run(
        python('-c', 'import django; django.setup()\n' + code),
        cwd=ws.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        env=dict(reader_environment(), DJANGO_SETTINGS_MODULE='vikander.settings'),
    )
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else '(nothing)'


def versions(*names):
    import pkg_resources

    return '\n'.join(
        '  %s %s' % (name, pkg_resources.get_distribution(name).version) for name in names
    )


def start_project(ws):
    # The project the post's settings.py implies: startproject's, named by
    # its asgi.py ("vikander.settings").
    run(
        ws,
        os.path.join(os.path.dirname(sys.executable), 'django-admin'),
        'startproject',
        'vikander',
        '.',
    )
    run(ws, *python('manage.py', 'startapp', 'chat'))
    settings = ws.read('vikander/settings.py')
    apps = BLOCKS[0].text.splitlines()[1:-1]  # the post's 'channels', 'chat'
    settings = settings.replace(
        "    'django.contrib.staticfiles',\n]",
        "    'django.contrib.staticfiles',\n" + '\n'.join(apps) + '\n]',
        1,
    )
    ws.write('vikander/settings.py', settings)
    return (
        'The pinned install (requirements-legacy.txt, in var/venv-legacy) '
        "has what the post's pip log shows:\n"
        + versions(
            'channels', 'daphne', 'asgiref', 'autobahn', 'Twisted', 'txaio', 'zope.interface'
        )
    )


def migrate(ws):
    return run(ws, *python('manage.py', 'makemigrations', 'chat')) + run(
        ws, *python('manage.py', 'migrate')
    )


def template_dirs(ws):
    ws.write(
        'vikander/settings.py',
        ws.read('vikander/settings.py').replace("'DIRS': [],", TEMPLATE_DIRS, 1),
    )


def static_files(ws):
    # The post names these without printing them: the replica's copies
    # (their packages, licences and checksums: ops/fetch-assets).
    for folder in ('css', 'js', 'licenses'):
        source = os.path.join(ROOT, 'static', 'assets', folder)
        for name in sorted(os.listdir(source)):
            target = 'static/assets/%s/%s' % (folder, name)
            if not ws.exists(target):
                with io.open(os.path.join(source, name), encoding='utf-8') as handle:
                    ws.write(target, handle.read())
    settings = ws.read('vikander/settings.py')
    ws.write(
        'vikander/settings.py',
        settings.replace("STATIC_URL = '/static/'", "STATIC_URL = '/static/'\n" + STATIC_DIRS, 1),
    )


def redis_server(ws):
    closed = free_port()
    refused = attempt(
        ws,
        'import asgi_redis\nasgi_redis.RedisChannelLayer(hosts=["redis://localhost:%d"])'
        '.send("websocket.receive", {"text": "hi"})' % closed,
    )
    installed = subprocess.run(
        ['redis-server', '--version'], stdout=subprocess.PIPE, universal_newlines=True
    )
    return (
        'Before a Redis server runs, the layer says what the post printed '
        '(here on port %d, where none '
        'listens):\n  %s\nInstalled: %s' % (closed, refused, installed.stdout.strip())
    )


def redis_layer(ws):
    return "asgi_redis came with the pinned install, at the post's versions:\n" + versions(
        'asgi-redis', 'redis', 'msgpack-python'
    )


def routing_waits(ws):
    return (
        'The routing imports consumers the post writes only in section 5; '
        'importing it now says:\n  %s' % attempt(ws, 'import chat.routing')
    )


def asgi_waits(ws):
    return (
        'daphne loads chat.asgi, whose channel layer loads that routing: '
        'until section 5 it stops with\n  %s' % attempt(ws, 'import chat.asgi')
    )


def channel_layers(ws):
    ws.write(
        'vikander/settings.py',
        ws.read('vikander/settings.py').rstrip('\n') + '\n\n' + BLOCKS[9].text,
    )


STEPS = [
    Step('1', 'Install Channels & Configure INSTALLED_APPS', (), start_project),
    Step('2.1', 'Define Model', (1,), migrate),
    Step('2.2', 'Views', (2,)),
    Step('2.3', 'URLs', (3, 4)),
    Step('2.4', 'Templates', (5, 6), template_dirs),
    Step('3', 'Look at client code (chat.js)', (7, 8), static_files),
    Step('4.1', 'Install Redis-Server', (), redis_server),
    Step('4.2', 'Install the Redis layer', (), redis_layer),
    Step('4.3', 'Choose the channel layer', (), channel_layers),
    Step('4.4', 'Channel routing', (10,), routing_waits),
    Step('4.5', 'Run Channels: asgi.py and the two terminals', (11,), asgi_waits),
    Step('5', 'WebSocket Consumers', (12,)),
]
NUMBERS = [step.number for step in STEPS]


def step_writing(path):
    """The first step that writes `path`, one of the post's files, or None."""
    for item in STEPS:
        if any(BLOCKS[index].path == path for index in item.blocks):
            return item.number
    return None


def step(number):
    if number not in NUMBERS:
        raise SystemExit(
            'tutorial: there is no step %r; the steps are %s (make tutorial lists them)'
            % (number, ', '.join(NUMBERS))
        )
    return STEPS[NUMBERS.index(number)]


def digest(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


class Workspace(object):
    """A folder the walk-through builds, and what it remembers of it: the
    steps done, and a digest of every file it wrote, so that a file the
    learner changed since is never overwritten unless named."""

    def __init__(self, path, replace=()):
        self.path = os.path.abspath(path)
        self.replace = set(replace)
        # The steps done; digests of the files it wrote, and of those its
        # commands (startproject, startapp, makemigrations) created.
        self.state = {'done': [], 'wrote': {}, 'created': {}}
        marker = os.path.join(self.path, MARKER)
        if os.path.exists(marker):
            with io.open(marker, encoding='utf-8') as handle:
                self.state = json.load(handle)
        elif os.path.isdir(self.path) and os.listdir(self.path):
            raise SystemExit(
                "tutorial: %s is not empty and not a walk-through's workspace; "
                'name another with TUTORIAL_DIR=..., or check it with make tutorial-check'
                % os.path.relpath(self.path)
            )

    def exists(self, name):
        return os.path.exists(os.path.join(self.path, name))

    def read(self, name):
        with io.open(os.path.join(self.path, name), encoding='utf-8') as handle:
            return handle.read()

    def write(self, name, text):
        self.guard(name)
        target = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with io.open(target, 'w', encoding='utf-8') as handle:
            handle.write(text)
        self.state['wrote'][name] = digest(text)

    def guard(self, name):
        """Refuse to replace a file the learner wrote or changed."""
        if not self.exists(name) or name in self.replace:
            return
        if self.state['wrote'].get(name, self.state['created'].get(name)) != digest(
            self.read(name)
        ):
            raise SystemExit(
                'tutorial: %s was changed since the walk-through wrote it; '
                'keep your copy elsewhere, '
                'or REPLACE=%s to let the next step overwrite it' % (name, name)
            )

    def files(self):
        found = set()
        for folder, _, names in os.walk(self.path):
            for name in names:
                relative = os.path.relpath(os.path.join(folder, name), self.path)
                if relative != MARKER and not relative.endswith(('.pyc', '.sqlite3')):
                    found.add(relative)
        return found

    def save(self):
        with io.open(os.path.join(self.path, MARKER), 'w', encoding='utf-8') as handle:
            json.dump(self.state, handle, indent=1, sort_keys=True)

    def done(self):
        return list(self.state['done'])

    def advance(self, target):
        """Every step after the last one done, up to `target`."""
        done = self.done()
        last = NUMBERS.index(done[-1]) if done else -1
        wanted = NUMBERS.index(step(target).number)
        if wanted <= last:
            raise SystemExit(
                'tutorial: %s is already past step %s (done: %s); a fresh TUTORIAL_DIR starts over'
                % (os.path.relpath(self.path), target, done[-1])
            )
        os.makedirs(self.path, exist_ok=True)
        performed = []
        for item in STEPS[last + 1 : wanted + 1]:
            # Every file this step writes is checked before any is written.
            for index in item.blocks:
                self.guard(BLOCKS[index].path)
            output = ''
            for index in item.blocks:
                snippet = BLOCKS[index]
                self.write(snippet.path, snippet.text)
            if item.does:
                output = item.does(self) or ''
            self.state['done'].append(item.number)
            self.save()
            performed.append((item, output))
        return performed
