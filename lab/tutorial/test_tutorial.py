"""
The walk-through as a learner drives it, through make: a walk from an empty
workspace to the last step with the check after each; a workspace without
each step failing the check at that step; the replica's own tree passing;
and each refusal.
"""

import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from lab.harness.client import get
from lab.harness.cluster import Engine
from lab.harness.make import MakeRun
from lab.harness.stack import ROOT, port_open, wait_for

STEPS = ['1', '2.1', '2.2', '2.3', '2.4', '3', '4.1', '4.2', '4.3', '4.4', '4.5', '5']
LEGACY_PYTHON = os.path.join(ROOT, 'var', 'venv-legacy', 'bin', 'python')


def make(workspace, *arguments, **env):
    done = subprocess.run(
        ['make', '--no-print-directory', '-s'] + list(arguments) + ['TUTORIAL_DIR=%s' % workspace],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        env=dict(os.environ, **env),
        timeout=600,
    )
    return done.returncode, done.stdout


def check(workspace, **env):
    status, output = make(workspace, 'tutorial-check', **env)
    return status, output, re.findall(r'^step (\S+) +passed', output, re.M)


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    """A workspace walked to the last step, one step at a time."""
    workspace = str(tmp_path_factory.mktemp('walk') / 'tutorial')
    walked = []
    for number in STEPS:
        status, shown = make(workspace, 'tutorial', 'STEP=' + number)
        assert status == 0, shown
        assert '## %s. ' % number in shown  # the step's own section of docs/tutorial.md
        status, output, passed = check(workspace)
        walked.append((number, status, passed, output))
    return workspace, walked, shown


def test_a_walk_from_an_empty_workspace_passes_the_check_after_each_step(finished):
    workspace, walked, _ = finished
    for number, status, passed, output in walked:
        # Every step up to this one passes; the check stops at a later one
        # (the installs of 4.1 and 4.2 are the machine's, there already).
        upto = STEPS.index(number) + 1
        assert passed[:upto] == STEPS[:upto], output
        if number == STEPS[-1]:
            assert status == 0 and 'every step passes' in output, output
        else:
            stopped = re.search(r'^stopped at step (\S+)$', output, re.M).group(1)
            assert status != 0 and STEPS.index(stopped) >= upto, output
    status, listing = make(workspace, 'tutorial')
    assert status == 0 and listing.count('[done]') == len(STEPS), listing


def test_the_last_step_shows_the_posts_consumers_on_the_frames_the_replica_refuses(finished):
    rows = re.findall(
        r'^  (.+)\n    the room heard: (.+)\n    runworker said: (.+)\n', finished[2], re.M
    )
    assert [(sent, printed) for sent, _, printed in rows] == [
        ('not JSON at all', "NameError: name 'text' is not defined"),
        ('[1, 2]', "AttributeError: 'list' object has no attribute 'keys'"),
        ('{"handle": "alice"}', 'nothing'),
        ('{"handle": 1, "message": ["x"]}', 'nothing'),
    ], finished[2]
    received = [received for _, received, _ in rows]
    assert received[:3] == ['nothing'] * 3, finished[2]
    # Values that are not strings are stored and sent to the room as they came.
    assert {key: json.loads(received[3])[key] for key in ('handle', 'message')} == {
        'handle': 1,
        'message': ['x'],
    }


def test_make_tutorial_run_serves_the_workspace_a_chat_two_sockets_share(finished):
    running = MakeRun('tutorial-run', TUTORIAL_DIR=finished[0]).start()
    try:
        running.wait_serving(120)
        # The workspace's own settings: the post's layer, as it printed it.
        assert (
            'Running worker against channel layer default (asgi_redis.core.RedisChannelLayer)'
            in running.log()
        )
        assert running.two_members_chat('hello from the workspace')[1] == [
            'hello from the workspace'
        ]
        running.ctrl_c()
        wait_for(
            lambda: not running.alive(),
            20,
            'every process tutorial-run started to stop',
            seen=running.alive,
        )
        assert not port_open(running.port) and not port_open(running.redis_port)
    finally:
        running.close()


def test_make_tutorial_run_in_docker_mounts_the_workspace_so_an_edit_shows_on_reload(
    finished, tmp_path
):
    engine = Engine().start()
    workspace = mutated(finished, tmp_path, lambda workspace: None)
    running = MakeRun('tutorial-run', TUTORIAL_DIR=workspace, RUNTIME='docker').start()
    try:
        running.wait_serving(1200)
        assert (
            'Running worker against channel layer default (asgi_redis.core.RedisChannelLayer)'
            in running.log()
        )
        assert 'Create new chat room' in get(running, '/chat/')[2]
        edit(
            os.path.join(workspace, 'templates', 'chat', 'about.html'),
            'Create new chat room',
            'Create a room, edited in the workspace',
        )
        assert 'Create a room, edited in the workspace' in get(running, '/chat/')[2]
        running.ctrl_c(signal.SIGTERM)
        wait_for(lambda: not running.alive(), 60, 'tutorial-run to stop', seen=running.alive)
        left = subprocess.run(
            ['docker', 'ps', '-aq', '--filter', 'name=vikander-run-'],
            stdout=subprocess.PIPE,
            universal_newlines=True,
        ).stdout.split()
        assert left == [], running.log()
    finally:
        running.close()
        engine.stop()


def test_the_steps_show_the_posts_pitfalls(tmp_path):
    workspace = str(tmp_path / 'tutorial')
    status, output = make(workspace, 'tutorial', 'STEP=4.4')
    assert status == 0, output
    assert re.search(
        r'redis\.exceptions\.ConnectionError: '
        r'Error 111 connecting to localhost:\d+\. Connection refused\.',
        output,
    ), output
    assert "No module named 'chat.consumers'" in output, output
    assert 'channels 1.0.3' in output and 'asgi-redis 1.0.0' in output, output


def mutated(finished, tmp_path, change):
    workspace = str(tmp_path / 'tutorial')
    shutil.copytree(finished[0], workspace)
    change(workspace)
    return workspace


def edit(path, old, new):
    with open(path) as handle:
        text = handle.read()
    assert old in text
    with open(path, 'w') as handle:
        handle.write(text.replace(old, new))


def remove(*names):
    def change(workspace):
        for name in names:
            target = os.path.join(workspace, name)
            shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)

    return change


def without_apps(workspace):
    edit(os.path.join(workspace, 'vikander', 'settings.py'), "    'channels',\n    'chat',\n", '')


def with_startapps_views(workspace):
    with open(os.path.join(workspace, 'chat', 'views.py'), 'w') as handle:
        handle.write('from django.shortcuts import render\n\n# Create your views here.\n')


def without_the_chat_urls(workspace):
    edit(
        os.path.join(workspace, 'vikander', 'urls.py'),
        "    url(r'^chat/', include('chat.urls')),\n",
        '',
    )


def without_channel_layers(workspace):
    path = os.path.join(workspace, 'vikander', 'settings.py')
    with open(path) as handle:
        text = handle.read()
    with open(path, 'w') as handle:
        handle.write(text[: text.index('CHANNEL_LAYERS = {')])


def with_a_stray_asgi_redis(workspace):
    with open(os.path.join(workspace, 'asgi_redis.py'), 'w') as handle:
        handle.write("# a learner's scratch file, named like the package\n")


MUTATIONS = {
    '1': (without_apps, "'channels' and 'chat' in INSTALLED_APPS"),
    '2.1': (
        remove('chat/models.py', 'chat/migrations'),
        'chat/models.py defining Room and Message',
    ),
    '2.2': (with_startapps_views, 'chat/views.py defining about, new_room and chat_room'),
    '2.3': (without_the_chat_urls, '/chat/ served by views.about'),
    '2.4': (remove('templates'), 'the about page'),
    '3': (remove('static/assets/js/chat.js'), 'every static file the room page links'),
    '4.1': (None, 'redis-server to run'),
    '4.2': (with_a_stray_asgi_redis, 'asgi_redis 1.0.0 and redis 2.10.5 importable'),
    '4.3': (without_channel_layers, 'CHANNEL_LAYERS in vikander/settings.py'),
    '4.4': (remove('chat/routing.py'), 'chat/routing.py'),
    '4.5': (remove('chat/asgi.py'), 'chat/asgi.py'),
    '5': (remove('chat/consumers.py'), 'daphne and runworker to start'),
}


@pytest.mark.parametrize('number', STEPS)
def test_a_workspace_without_a_step_fails_the_check_at_that_step(finished, tmp_path, number):
    change, expected = MUTATIONS[number]
    if change is None:
        # Redis-Server not installed: a PATH without it (the virtualenv only).
        workspace = finished[0]
        done = subprocess.run(
            [LEGACY_PYTHON, '-m', 'lab.tutorial', 'check', workspace],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            env=dict(os.environ, PATH=os.path.dirname(LEGACY_PYTHON), PYTHONPATH=ROOT),
            timeout=300,
        )
        status, output = done.returncode, done.stdout
    else:
        status, output, _ = check(mutated(finished, tmp_path, change))
    assert status != 0, output
    assert 'step %-4s FAILED' % number in output and 'stopped at step %s' % number in output, output
    assert 'expected: %s' % expected in output and '  hint:' in output, output


def slip(name, old, new):
    """A learner's slip: one line of a file of the workspace changed."""
    return lambda workspace: edit(os.path.join(workspace, name), old, new)


ADD = "    Group('chat-'+label, channel_layer=message.channel_layer).add(message.reply_channel)\n"
DISCARD = (
    "        Group('chat-'+label, channel_layer=message.channel_layer)"
    '.discard(message.reply_channel)\n'
)
# Each slip, the step and part the check stops at, and the words of its
# report a learner reads: what it saw, what the workspace's processes
# said, and the hint naming the consumer and the post's line.
SLIPS = {
    'no accept': (
        slip('chat/consumers.py', '    message.reply_channel.send({"accept": True})\n', ''),
        '5',
        [
            'step 5    FAILED, part: accept',
            'saw:      connection dropped without an answer',
            "hint:     ws_connect in chat/consumers.py, the post's line: "
            'message.reply_channel.send({"accept": True})',
        ],
    ),
    'no group add': (
        slip('chat/consumers.py', ADD, ''),
        '5',
        [
            'step 5    FAILED, part: join',
            "expected: the socket's reply channel in the group chat-<label>, in Redis",
            "hint:     ws_connect in chat/consumers.py, the post's line: " + ADD.strip(),
        ],
    ),
    'no channel_session on ws_connect': (
        slip('chat/consumers.py', '@channel_session\ndef ws_connect', 'def ws_connect'),
        '5',
        [
            'step 5    FAILED, part: session',
            "in ws_connect: AttributeError: 'Message' object has no attribute 'channel_session'",
            "hint:     ws_connect in chat/consumers.py, the post's line above it: @channel_session",
        ],
    ),
    'no channel_session on ws_receive': (
        slip('chat/consumers.py', '@channel_session\ndef ws_receive', 'def ws_receive'),
        '5',
        [
            'step 5    FAILED, part: store',
            'runworker said: chat/consumers.py, line 45, in ws_receive: '
            "AttributeError: 'Message' object has no "
            "attribute 'channel_session'",
            "hint:     ws_receive in chat/consumers.py, the post's line above it: @channel_session",
        ],
    ),
    'a misspelt name': (
        slip('chat/consumers.py', 'room.messages.create(**data)', 'room.message.create(**data)'),
        '5',
        [
            'step 5    FAILED, part: store',
            "in ws_receive: AttributeError: 'Room' object has no attribute 'message'",
            "hint:     ws_receive in chat/consumers.py, the post's line: "
            'm = room.messages.create(**data)',
        ],
    ),
    "'text' misspelt": (
        slip(
            'chat/consumers.py',
            ".send({'text': json.dumps(m.as_dict())})",
            ".send({'txt': json.dumps(m.as_dict())})",
        ),
        '5',
        [
            'step 5    FAILED, part: broadcast',
            "saw:      the members got ['nothing within 10 s', 'nothing within 10 s']",
            'daphne said: HTTP/WS send decode error: '
            'Got invalid WebSocket reply message on websocket.send!',
            "contains unknown keys {'txt'}",
            "hint:     ws_receive in chat/consumers.py, the post's line: Group('chat-'+label, "
            "channel_layer=message.channel_layer).send({'text': json.dumps(m.as_dict())})",
        ],
    ),
    'no discard': (
        slip('chat/consumers.py', DISCARD, '        pass\n'),
        '5',
        [
            'step 5    FAILED, part: leave',
            'expected: a closed socket gone from the group',
            "hint:     ws_disconnect in chat/consumers.py, the post's line: " + DISCARD.strip(),
        ],
    ),
    'a wrong import': (
        slip(
            'chat/views.py',
            'from haikunator import Haikunator',
            'from haikunator import haikunator',
        ),
        '2.2',
        [
            'saw:      chat/views.py, line 5, in <module>: ImportError: cannot import name '
            "'haikunator'",
            'hint:     the file and line named here, in your workspace',
        ],
    ),
    'a misspelt field': (
        slip('chat/models.py', 'models.TextField()', 'models.TextFeild()'),
        '2.1',
        [
            'expected: the project to load (django.setup())',
            'saw:      chat/models.py, line 8, in Room: '
            "AttributeError: module 'django.db.models' has no attribute "
            "'TextFeild'",
        ],
    ),
}


@pytest.mark.parametrize('name', sorted(SLIPS))
def test_each_slip_gets_its_own_diagnosis_never_a_traceback(finished, tmp_path, name):
    change, number, words = SLIPS[name]
    status, output, _ = check(mutated(finished, tmp_path, change))
    assert status != 0 and 'stopped at step %s' % number in output, output
    assert 'Traceback' not in output and 'an error of the check itself' not in output, output
    for printed in words:
        assert printed in output, output


def test_the_check_passes_on_the_replicas_own_tree():
    status, output, passed = check(ROOT)
    assert status == 0 and passed == STEPS, output


def test_a_folder_that_is_not_a_walkthroughs_is_refused(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    status, output = make(str(tmp_path), 'tutorial', 'STEP=1')
    assert status != 0 and "is not empty and not a walk-through's workspace" in output, output
    assert os.listdir(str(tmp_path)) == ['notes.txt']


def test_a_step_out_of_range_is_refused(tmp_path):
    status, output = make(str(tmp_path / 'tutorial'), 'tutorial', 'STEP=6')
    assert status != 0 and "there is no step '6'; the steps are 1, 2.1," in output, output
    assert not os.path.exists(str(tmp_path / 'tutorial'))


def test_a_file_the_learner_changed_is_never_replaced_unless_named(tmp_path):
    workspace = str(tmp_path / 'tutorial')
    assert make(workspace, 'tutorial', 'STEP=2.1')[0] == 0
    mine = '# my own views\n'
    with open(os.path.join(workspace, 'chat', 'views.py'), 'w') as handle:
        handle.write(mine)
    status, output = make(workspace, 'tutorial', 'STEP=2.2')
    assert status != 0 and 'chat/views.py was changed since the walk-through wrote it' in output, (
        output
    )
    assert 'REPLACE=chat/views.py' in output
    with open(os.path.join(workspace, 'chat', 'views.py')) as handle:
        assert handle.read() == mine
    status, output = make(workspace, 'tutorial', 'STEP=2.2', 'REPLACE=chat/views.py')
    assert status == 0, output
    with open(os.path.join(workspace, 'chat', 'views.py')) as handle:
        assert 'def new_room(request):' in handle.read()


def test_a_step_already_done_is_refused(tmp_path):
    workspace = str(tmp_path / 'tutorial')
    assert make(workspace, 'tutorial', 'STEP=2.1')[0] == 0
    status, output = make(workspace, 'tutorial', 'STEP=1')
    assert status != 0 and 'is already past step 1' in output, output


def test_checking_a_workspace_that_does_not_exist_is_refused(tmp_path):
    status, output = make(str(tmp_path / 'nothing'), 'tutorial-check')
    assert status != 0 and 'does not exist; make tutorial STEP=1 begins one' in output, output
