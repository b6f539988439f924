"""
The shell blocks a reader types, run as written in a fresh copy of the
project: the README's two terminals (and the Redis terminal before them),
then the walk-through's two terminals on a workspace at step 5 (README
terminal 0 for its Redis). What installs runs on this machine; what serves
runs in a network namespace of its own, where the post's `-b 0.0.0.0` and
port 8001 reach only the namespace's loopback. Two members chat through
each, and daphne and the runworker print what the README shows.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

from lab.harness.make import fresh_copy as copy_of_the_tree
from lab.harness.stack import ROOT, wait_for

# A terminal's shell: what a newcomer's login has, nothing of this test's.
SHELL_ENV = {
    'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'HOME': os.path.expanduser('~'),
    'LANG': 'C.UTF-8',
}
# Two members join a room on the namespace's port 8001; one speaks.
CHAT = r"""
import json, sys
from lab.harness.client import fresh_label, frames, join, say
class Served: url, ws_url = 'http://127.0.0.1:8001', 'ws://127.0.0.1:8001'
label = fresh_label('readme')
alice, bob = join(Served, label), join(Served, label)
say(alice, 'alice', sys.argv[1])
print(json.dumps([frame['message'] for frame in frames(bob, 1)]))
"""


def read(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        return handle.read()


def shell_block(text, heading):
    """The first ```sh block under a heading (a line starting with it)."""
    text = '\n' + text
    section = text[text.index('\n' + heading) :]
    return re.search(r'```sh\n(.*?)```', section, re.S).group(1)


def terminals(block):
    """(the lines before any terminal, {number: the lines of terminal N})."""
    before, each, current = [], {}, None
    for line in block.splitlines():
        match = re.match(r'^# terminal (\d+)', line)
        if match:
            current = each.setdefault(match.group(1), [])
        elif line.strip() and not line.startswith('#'):
            (before if current is None else current).append(line)
    return before, each


def shown(text, after):
    """The INFO lines of the log block the README shows after `after`."""
    phrase = r'\s+'.join(re.escape(word) for word in after.split())
    block = re.search(phrase + r'.*?```\n(.*?)```', text, re.S).group(1)
    return [line.split('INFO', 1)[1].strip(' -') for line in block.splitlines() if 'INFO' in line]


class Namespace(object):
    """A network namespace of its own, with its loopback up."""

    def __init__(self):
        self.name = 'vikander-readme-%d' % os.getpid()
        self.terminals = []
        subprocess.run(['ip', 'netns', 'add', self.name], check=True)
        try:
            self.run('ip', 'link', 'set', 'lo', 'up')
        except subprocess.CalledProcessError:
            self.close()
            raise

    def argv(self, *argv):
        return ['ip', 'netns', 'exec', self.name] + list(argv)

    def run(self, *argv, **options):
        return subprocess.run(
            self.argv(*argv), check=True, stdout=subprocess.PIPE, universal_newlines=True, **options
        ).stdout

    def terminal(self, lines, cwd):
        """The lines in a shell of their own, as typed in a new terminal."""
        log = tempfile.TemporaryFile(mode='w+')
        process = subprocess.Popen(
            self.argv('bash', '-c', 'set -e\n' + '\n'.join(lines)),
            cwd=cwd,
            env=SHELL_ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.terminals.append(process)

        def printed():
            log.seek(0)
            return log.read() + (
                '' if process.poll() is None else "\n[the terminal's shell exited]"
            )

        return printed

    def chat(self, text):
        reply = self.run(
            os.path.join(ROOT, 'var', 'venv-tools', 'bin', 'python'),
            '-c',
            CHAT,
            text,
            cwd=ROOT,
            env=dict(SHELL_ENV, PYTHONPATH=ROOT),
            timeout=60,
        )
        return reply.strip()

    def ctrl_c(self):
        """Ctrl-C in every terminal, as a reader ends them."""
        for process in self.terminals:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        for process in self.terminals:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self.terminals = []

    def close(self):
        self.ctrl_c()
        subprocess.run(['ip', 'netns', 'delete', self.name])


@pytest.fixture(scope='module')
def fresh_copy():
    """What a clone of this tree holds: every tracked file, as it is now."""
    folder = copy_of_the_tree(tempfile.mkdtemp(prefix='readme-'))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def namespace():
    made = Namespace()
    try:
        yield made
    finally:
        made.close()


def type_in(lines, cwd):
    """Lines typed on this machine's shell (they install: the network)."""
    for line in lines:
        done = subprocess.run(
            ['bash', '-c', line],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            timeout=900,
        )
        assert done.returncode == 0, '%s:\n%s' % (line, done.stdout[-3000:])


def serve_and_chat(namespace, redis, daphne, runworker, cwd):
    """Each its own terminal; (what daphne and the runworker printed, and
    what the second member heard) once both listen."""
    namespace.terminal(redis, cwd)
    web = namespace.terminal(daphne, cwd)
    worker = namespace.terminal(runworker, cwd)
    for printed, listening in ((web, 'Listening on endpoint'), (worker, 'Listening on channels')):
        wait_for(
            lambda: listening in printed() or 'exited]' in printed(), 60, listening, seen=printed
        )
        assert listening in printed(), printed()
    received = namespace.chat('hello from the README')
    return web(), worker(), received


def test_the_readmes_two_terminals_run_as_written_and_chat(fresh_copy, namespace):
    readme = read('README.md')
    before, typed = terminals(shell_block(readme, '## The two terminals'))
    assert before == ['make setup-legacy migrate'] and sorted(typed) == ['0', '1', '2'], (
        before,
        typed,
    )
    type_in(before, fresh_copy)

    web, worker, received = serve_and_chat(
        namespace, typed['0'], typed['1'], typed['2'], fresh_copy
    )
    assert received == '["hello from the README"]'
    for line in shown(readme, 'daphne prints what the post shows'):
        assert line in web, (line, web)
    for line in shown(readme, 'and the worker:'):
        assert line in worker, (line, worker)
    namespace.ctrl_c()
    assert not os.path.exists(os.path.join(fresh_copy, 'dump.rdb'))


def test_the_walk_throughs_two_terminals_run_as_written_and_chat(fresh_copy, namespace):
    redis = terminals(shell_block(read('README.md'), '## The two terminals'))[1]['0']
    walk = read('docs/tutorial.md')
    _, typed = terminals(shell_block(walk, '## 4.5.'))
    assert sorted(typed) == ['1', '2'], typed
    assert 'make tutorial STEP=2.2' in shell_block(walk, '# The post, step by step')
    type_in(['make setup-legacy', 'make tutorial STEP=5'], fresh_copy)

    web, worker, received = serve_and_chat(namespace, redis, typed['1'], typed['2'], fresh_copy)
    assert received == '["hello from the README"]'
    # The workspace's own processes: its asgi module and its settings.
    assert 'channel layer chat.asgi:channel_layer' in web
    assert (
        'Running worker against channel layer default (asgi_redis.core.RedisChannelLayer)' in worker
    ), worker
