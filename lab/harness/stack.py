"""
Starts a whole chat stack on free loopback ports for tests: its own
redis-server, a fresh SQLite database, daphne, (for the legacy stack)
runworker processes, and (for production) nginx in front. Shared by the
legacy tests (CPython 3.5/3.6), the black-box suites and the QA drivers
(current CPython), so it stays valid Python 3.5 and uses only the standard
library.
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from urllib.error import HTTPError
from urllib.request import HTTPRedirectHandler, build_opener

from lab.harness.generations import GENERATIONS, ROOT, TABLE

__all__ = [
    'GENERATIONS',
    'Process',
    'ROOT',
    'STACKS',
    'Stack',
    'NoRedirect',
    'FRAMEWORK_ECHOES',
    'free_port',
    'port_open',
    'process_children',
    'process_tree',
    'redis_server',
    'selected',
    'sqlite_query',
    'variant',
    'wait_for',
]

# What each generation runs, from the folder it runs in: its Procfile's
# `web` and `worker` lines, with the port filled in and without
# ops/respawn, since tests stop and start workers themselves.
# tests/test_stack.py checks that they still match. A tree that runs
# workers is a Channels 1 tree: daphne serves its channel layer.
STACKS = {
    key: {
        'cwd': os.path.normpath(os.path.join(ROOT, generation.tree)),
        'venv': os.path.join(ROOT, generation.venv),
        'daphne': ['daphne', '-b', '127.0.0.1', '-p', '{port}']
        + ['chat.asgi:channel_layer' if generation.runworker else 'vikander.asgi:application'],
        'worker': ['python', 'manage.py', 'runworker'] if generation.runworker else None,
    }
    for key, generation in TABLE.items()
}
# The port as a user serves it with uvicorn instead of daphne (Channels 4's
# deployment docs name both; requirements/modern.txt pins it): `server=`.
SERVERS = {'uvicorn': ['uvicorn', '--host', '127.0.0.1', '--port', '{port}']}


def selected(default=('1.0', '4.3')):
    """The generations a suite runs on: the post and the port (or
    `default`), unless the STACKS variable names others."""
    return os.environ.get('STACKS', ','.join(default)).split(',')


def variant(module):
    """The environment that runs a stack on a settings module of lab/variants/."""
    return {'DJANGO_SETTINGS_MODULE': 'lab.variants.' + module, 'PYTHONPATH': ROOT}


# How each generation serves the framework echo (lab/variants/framework_echo.py)
# on /echo/: the
# comparison's view of what a generation does where the chat app's own
# rules hide it.
FRAMEWORK_ECHOES = {
    generation: {'env': variant('framework_echo_settings')}
    if STACKS[generation]['worker']
    else {'asgi': 'lab.variants.framework_echo_asgi:application', 'env': {'PYTHONPATH': ROOT}}
    for generation in STACKS
}


class NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def sqlite_query(database, sql, params=()):
    """Rows of a query on a SQLite file, as tuples."""
    db = sqlite3.connect(database)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def wait_for(check, timeout, what, seen=None):
    """Until check() is true; past `timeout` s, an error naming `what` it
    waited for and, when `seen` is given, what seen() says was there instead."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(
        'timed out after %ss waiting for %s%s'
        % (timeout, what, '; saw instead:\n  %s' % seen() if seen else '')
    )


def redis_server(port, workdir):
    """A throwaway redis-server on loopback: nothing saved to disk."""
    return [
        shutil.which('redis-server') or '/usr/bin/redis-server',
        '--port',
        str(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        workdir,
    ]


def process_children():
    """{pid: [its children's pids]}, from one pass over /proc."""
    children = {}
    for entry in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/%s/stat' % entry) as stat:
                parent = int(stat.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    return children


def process_tree(pid, children):
    """`pid` and every descendant of it in `children` (process_children())."""
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def port_open(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=0.5).close()
        return True
    except OSError:
        return False


PR_SET_PDEATHSIG = 1


def own_group_dying_with_parent():
    # Each server leads its own process group (one killpg stops it), and the
    # kernel sends it SIGTERM if the test process dies without cleaning up,
    # killed by a timeout, say, so no server outlives its test.
    os.setsid()
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Process(object):
    """One child process in its own process group, logging to a file."""

    def __init__(self, name, argv, cwd, env, logdir):
        self.name = name
        self.log_path = os.path.join(logdir, name + '.log')
        self.log = open(self.log_path, 'ab')
        self.popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=own_group_dying_with_parent,
        )

    def alive(self):
        return self.popen.poll() is None

    def output(self):
        with open(self.log_path, 'rb') as log:
            return log.read().decode('utf-8', 'replace')

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.alive():
            try:
                os.killpg(self.popen.pid, sig)
            except OSError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.log.close()

    def kill(self):
        self.stop(signal.SIGKILL)

    def signal(self, sig):
        os.killpg(self.popen.pid, sig)


class Stack(object):
    """
    A stack of one generation ('1.0', '2.4', '4.3': STACKS). Entering it (or
    `start()`) starts redis, migrates a fresh database, starts daphne and
    one worker, and returns once a page answers; leaving it (or `stop()`)
    stops them all. `url` is its base address.
    `asgi` replaces the target daphne serves (e.g. a test-only application).
    `server='uvicorn'` serves an ASGI generation's target with uvicorn
    (SERVERS) where daphne would; `daphnes` then holds uvicorn's processes.
    `proxy=True` is production's front as `make run-production` has it:
    collectstatic, then nginx with TLS (ops/proxy) before daphne; `url`
    and `ws_url` then lead through nginx, `daphne_url` past it (to the
    first of `daphnes` daphne processes, which nginx balances between).
    `root` runs the code of another checkout of the replica (the post's code
    laid over a copy, say) with this one's virtualenv.
    The working folder (database, logs) is removed on stop unless given.
    """

    def __init__(
        self,
        generation,
        workers=1,
        env=None,
        workdir=None,
        asgi=None,
        proxy=False,
        root=None,
        daphnes=1,
        server='daphne',
    ):
        self.config = dict(STACKS[generation], cwd=root) if root else STACKS[generation]
        self.generation = generation
        self.asgi = asgi
        self.server = server
        self.own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix='chat-%s-' % generation)
        self.ports = [free_port() for _ in range(daphnes)]
        self.port = self.ports[0]
        self.redis_port = free_port()
        self.daphne_url = 'http://127.0.0.1:%d' % self.port
        self.url = self.daphne_url
        self.ws_url = 'ws://127.0.0.1:%d' % self.port
        self.proxy = None
        self.wants_proxy = proxy
        if proxy:
            self.proxy_port = free_port()
            self.url = 'https://127.0.0.1:%d' % self.proxy_port
            self.ws_url = 'wss://127.0.0.1:%d' % self.proxy_port
        self.database = os.path.join(self.workdir, 'db.sqlite3')
        self.env = dict(os.environ)
        self.env.update(
            {
                'PYTHONUNBUFFERED': '1',
                'REDIS_URL': 'redis://127.0.0.1:%d' % self.redis_port,
                'DATABASE_URL': 'sqlite:///' + self.database,
                'STATIC_ROOT': os.path.join(self.workdir, 'static'),
                'PATH': os.path.join(self.config['venv'], 'bin') + os.pathsep + os.environ['PATH'],
            }
        )
        self.env.update(env or {})
        self.redis = None
        self.daphnes = []
        self.workers = []
        self.serial = 0
        self.workers_wanted = workers
        self.echo_stack = None

    def start(self):
        atexit.register(self.stop)
        try:
            self.start_redis()
            self.run(['python', 'manage.py', 'migrate', '--noinput', '-v0'])
            if self.wants_proxy:
                self.run(['python', 'manage.py', 'collectstatic', '--noinput', '-v0'])
                self.start_proxy()
            for port in self.ports:
                self.start_daphne(port)
            for _ in range(self.workers_wanted if self.config['worker'] else 0):
                self.start_worker()
            wait_for(self.http_ready, 30, 'a page from %s' % self.url)
        except Exception:
            self.stop()
            raise
        return self

    @property
    def daphne(self):
        return self.daphnes[0] if self.daphnes else None

    def argv(self, template, port=None):
        argv = [part.format(port=port or self.port) for part in template]
        argv[0] = os.path.join(self.config['venv'], 'bin', argv[0])
        return argv

    def run(self, template):
        subprocess.check_call(self.argv(template), cwd=self.config['cwd'], env=self.env)

    def spawn(self, name, argv):
        self.serial += 1
        return Process(
            '%s-%d' % (name, self.serial), argv, self.config['cwd'], self.env, self.workdir
        )

    def start_redis(self):
        self.redis = self.spawn('redis', redis_server(self.redis_port, self.workdir))
        wait_for(lambda: port_open(self.redis_port), 15, 'redis-server')

    def start_daphne(self, port=None):
        port = port or self.port
        daphne = self.config['daphne']
        argv = self.argv(SERVERS.get(self.server, daphne[:-1]) + daphne[-1:], port)
        if self.asgi:
            argv[-1] = self.asgi
        daphne = self.spawn(self.server, argv)
        self.daphnes.insert(self.ports.index(port), daphne)
        wait_for(
            lambda: self.daphne_listening(daphne, port),
            30,
            '%s on port %d' % (self.server, port),
        )

    def start_proxy(self):
        env = dict(
            self.env,
            PROXY_PORT=str(self.proxy_port),
            BIND='127.0.0.1',
            UPSTREAM=' '.join('127.0.0.1:%d' % port for port in self.ports),
            PROXY_DIR=os.path.join(self.workdir, 'proxy'),
        )
        self.proxy = Process('proxy', [os.path.join(ROOT, 'ops', 'proxy')], ROOT, env, self.workdir)
        wait_for(lambda: port_open(self.proxy_port) or not self.proxy.alive(), 15, 'nginx')
        if not self.proxy.alive():
            raise RuntimeError('nginx exited:\n' + self.proxy.output())

    def daphne_listening(self, daphne, port):
        if not daphne.alive():
            raise RuntimeError('%s exited:\n%s' % (self.server, daphne.output()))
        return port_open(port)

    def http_ready(self):
        # Under Channels 1.x a page needs a worker too: daphne only relays it.
        # Any answer will do (production mode redirects to HTTPS).
        try:
            build_opener(NoRedirect).open(self.daphne_url + '/chat/', timeout=2)
        except HTTPError:
            pass
        except OSError:
            return False
        return True

    def start_worker(self):
        worker = self.spawn('worker', self.argv(self.config['worker']))
        self.workers.append(worker)
        wait_for(
            lambda: 'Listening on channels' in worker.output() or not worker.alive(),
            30,
            'runworker',
        )
        if not worker.alive():
            raise RuntimeError('runworker exited:\n' + worker.output())
        return worker

    def framework_echo(self):
        """A stack of this generation serving the framework echo (FRAMEWORK_ECHOES) on
        /echo/,
        started on first use and stopped with this one."""
        if self.echo_stack is None:
            self.echo_stack = Stack(self.generation, **FRAMEWORK_ECHOES[self.generation]).start()
        return self.echo_stack

    def stop_framework_echo(self):
        """After a scenario that leaves the framework echo's stack changed."""
        if self.echo_stack:
            self.echo_stack.stop()
            self.echo_stack = None

    def restart_daphne(self):
        self.daphnes.pop(0).stop()
        self.start_daphne()

    def query(self, sql, params=()):
        """Rows of a query (`?` placeholders) on the stack's database."""
        return sqlite_query(self.database, sql, params)

    def redis_cli(self, *argv):
        """What redis-cli prints for one command on the stack's Redis."""
        return subprocess.run(
            ['redis-cli', '-p', str(self.redis_port)] + list(argv),
            stdout=subprocess.PIPE,
            universal_newlines=True,
            check=True,
            timeout=10,
        ).stdout

    def logs(self):
        procs = [self.redis, self.proxy] + self.daphnes + self.workers
        return '\n'.join('--- %s\n%s' % (p.name, p.output()) for p in procs if p)

    def stop(self):
        self.stop_framework_echo()
        for proc in self.workers + [self.proxy] + self.daphnes + [self.redis]:
            if proc:
                proc.stop()
        self.workers, self.daphnes = [], []
        self.proxy = self.redis = None
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
