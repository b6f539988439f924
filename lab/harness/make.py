"""
`make run` and its kin as a user runs them, for the project's tests of itself and
of the walk-through: the make process, everything it starts, Ctrl-C.
Valid Python 3.5.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

from lab.harness.client import frames, fresh_label, join, say
from lab.harness.generations import GENERATIONS, TABLE
from lab.harness.stack import (
    ROOT,
    free_port,
    port_open,
    process_children,
    process_tree,
    wait_for,
)

__all__ = [
    'MakeRun',
    'command_line',
    'fresh_copy',
    'make',
    'targets',
]


def targets():
    """Every target of the Makefile a user may type: a pattern target
    (setup-channels-%) once for each generation between the post and the
    port, whose trees it builds."""
    with open(os.path.join(ROOT, 'Makefile'), encoding='utf-8') as makefile:
        defined = re.findall(r'^([a-z][a-z0-9%.-]*):(?!=)', makefile.read(), re.M)
    between = [g for g in GENERATIONS if TABLE[g].tree.startswith('generations/')]
    named = set()
    for target in defined:
        if '%' in target:
            named.update(target.replace('%', g) for g in between)
        else:
            named.add(target)
    return named


def fresh_copy(folder):
    """What a clone of this tree holds, in `folder`: every tracked file as
    it is now. Returns `folder`."""
    listed = subprocess.check_output(['git', 'ls-files', '-z'], cwd=ROOT).decode().split('\0')
    for path in filter(None, listed):
        os.makedirs(os.path.join(folder, os.path.dirname(path)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), os.path.join(folder, path), follow_symlinks=False)
    return folder


def make(*arguments, **env):
    """`make ARGUMENTS` in the project (or in `cwd=`, a copy), run to its end,
    with `env` added to its environment: (exit status, what it printed on
    both streams)."""
    cwd = env.pop('cwd', ROOT)
    done = subprocess.run(
        ['make', '--no-print-directory'] + list(arguments),
        cwd=cwd,
        env=dict(os.environ, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        timeout=600,
    )
    return done.returncode, done.stdout


def descendants(pid):
    """Every living process below `pid`."""
    return process_tree(pid, process_children())[1:]


def command_line(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as cmdline:
            return cmdline.read().decode('utf-8', 'replace').split('\0')
    except OSError:
        return []


class MakeRun(object):
    """`make TARGET` (run, tutorial-run) as a user runs it, on free loopback
    ports and a database of its own, in its own session. Entering it (or
    `start()`) starts make; `ctrl_c()` stops it as Ctrl-C does; leaving it
    (or `close()`) also kills whatever it left. `variables` go on make's
    command line, `env` into its environment (a PATH of its own)."""

    def __init__(self, target='run', env=None, **variables):
        self.target = target
        self.port, self.redis_port = free_port(), free_port()
        self.workdir = tempfile.mkdtemp(prefix='make-run-')
        self.url = 'http://127.0.0.1:%d' % self.port
        self.ws_url = 'ws://127.0.0.1:%d' % self.port
        # What lab/harness/trace.py reads a stack by: `make run` is the legacy one.
        self.generation, self.env = '1.0', {'REDIS_URL': 'redis://127.0.0.1:%d' % self.redis_port}
        environment = dict(
            os.environ,
            PORT=str(self.port),
            REDIS_URL=self.env['REDIS_URL'],
            DATABASE_URL='sqlite:///' + os.path.join(self.workdir, 'db.sqlite3'),
        )
        for variable in (
            'RUNWORKERS',
            'CONN_MAX_AGE',
            'TRACE',
            'DJANGO_SETTINGS_MODULE',
            'MAKEFLAGS',
            'MFLAGS',
        ):
            environment.pop(variable, None)
        environment.update(env or {})
        self.environment = environment
        self.argv = ['make', '--no-print-directory', target] + [
            '%s=%s' % item for item in sorted(variables.items())
        ]
        self.process = None

    def start(self):
        # Its own session: Ctrl-C in a terminal reaches every process of the
        # foreground group, as the signal below does.
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            start_new_session=True,
        )
        self.lines = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        self.seen = set()
        return self

    def read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    def log(self):
        return '\n'.join(self.lines)

    def processes(self):
        pids = descendants(self.process.pid)
        self.seen.update(pids)
        return pids

    def runworkers(self):
        return [
            pid
            for pid in self.processes()
            if os.path.basename(command_line(pid)[0]).startswith('python')
            and 'runworker' in command_line(pid)
        ]

    def wait_serving(self, timeout):
        """Until the runworker and daphne listen (setting up may come first)."""
        wait_for(
            lambda: (
                'worker - Listening on channels' in self.log() or self.process.poll() is not None
            ),
            timeout,
            'the runworker to listen',
            seen=self.log,
        )
        if self.process.poll() is not None:
            raise RuntimeError('make %s exited:\n%s' % (self.target, self.log()))
        wait_for(
            lambda: 'Listening on endpoint' in self.log(), 30, 'daphne to listen', seen=self.log
        )

    def wait_listening(self, timeout):
        """Until daphne answers on the port (setting up may come first)."""
        wait_for(
            lambda: port_open(self.port) or self.process.poll() is not None,
            timeout,
            'daphne to listen',
            seen=self.log,
        )
        if self.process.poll() is not None:
            raise RuntimeError('make %s exited:\n%s' % (self.target, self.log()))

    def two_members_chat(self, text):
        """(label, what the second member heard) after the first said `text`."""
        label = fresh_label('make-' + self.target)
        alice, bob = join(self, label), join(self, label)
        say(alice, 'alice', text)
        received = [frame['message'] for frame in frames(bob, 1)]
        alice.close()
        bob.close()
        return label, received

    def ctrl_c(self, sig=signal.SIGINT):
        """Ctrl-C in its terminal; SIGTERM as a script stops it (a shell's
        background job ignores SIGINT)."""
        self.processes()
        os.killpg(self.process.pid, sig)
        self.process.wait(60)
        self.reader.join(10)

    def alive(self):
        return [command_line(pid) for pid in sorted(self.seen) if command_line(pid)]

    def close(self):
        # Whatever a failed test left: Ctrl-C first, then SIGKILL for the rest.
        if self.process and self.process.poll() is None:
            self.ctrl_c()
        try:
            wait_for(
                lambda: not self.alive(),
                20,
                'every process make run started to stop',
                seen=self.alive,
            )
        finally:
            for pid in self.seen:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
