"""
A stack's cluster (docker-compose.yml, modern/docker-compose.yml) for
`make cluster` and the cluster tests: it starts a Docker engine if none
runs (and stops it again), builds the images (on stand-ins from Debian's
packages when no registry answers: ops/stand-in-images), starts the
topology with the proxy published on 127.0.0.1 only, and removes every
container, network and volume it made on stop. `url` and `ws_url` lead
through the proxy, as a browser's would; the methods below are the faults
a test puts on it. Standard library only, valid Python 3.5, like stack.py.
`make cluster` runs it through lab/cluster/.
"""

import atexit
import binascii
import json
import os
import re
import signal
import subprocess
from urllib.error import HTTPError

from lab.harness.stack import ROOT, free_port, wait_for

__all__ = [
    'COMPOSE',
    'Cluster',
    'Engine',
    'engine_answers',
]

COMPOSE = {
    '1.0': os.path.join(ROOT, 'docker-compose.yml'),
    '4.3': os.path.join(ROOT, 'modern', 'docker-compose.yml'),
}
# Asked of a registry before anything is built: one small official image
# from the compose files. No answer means stand-ins.
PROBE = 'redis:7.0.15'


def quiet(argv, **options):
    return subprocess.run(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, **options
    )


def engine_answers():
    return quiet(['docker', 'info']).returncode == 0


class Engine(object):
    """The Docker engine. Entering it (or `start()`) uses the running one,
    or starts a plain `dockerd` through ops/docker-engine (as root); leaving
    it (or `stop()`) stops only a dockerd it started."""

    def __init__(self):
        self.dockerd = None

    def start(self):
        started = subprocess.run(
            [os.path.join(ROOT, 'ops', 'docker-engine')],
            stdout=subprocess.PIPE,
            universal_newlines=True,
        )
        if started.returncode:
            raise RuntimeError('no Docker engine: ops/docker-engine failed (its reason above)')
        self.dockerd = int(started.stdout) if started.stdout.strip() else None
        return self

    def stop(self):
        if self.dockerd and running(self.dockerd):
            os.kill(self.dockerd, signal.SIGTERM)
            wait_for(lambda: not running(self.dockerd), 30, 'dockerd to stop')
        self.dockerd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def running(pid):
    """Whether `pid` runs (a zombie nobody reaps has stopped)."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def image_variables():
    """{} when a registry answers, else the stand-ins' image variables."""
    if (
        quiet(['docker', 'image', 'inspect', PROBE]).returncode == 0
        or quiet(['docker', 'pull', '-q', PROBE], timeout=120).returncode == 0
    ):
        return {}
    print('No registry answers: building stand-in images (ops/stand-in-images)', flush=True)
    made = subprocess.run(
        [os.path.join(ROOT, 'ops', 'stand-in-images')],
        check=True,
        stdout=subprocess.PIPE,
        universal_newlines=True,
    ).stdout
    return dict(line.split('=', 1) for line in made.split())


class Cluster(object):
    """A generation's cluster ('1.0' or '4.3', COMPOSE). Entering it (or
    `start()`) starts an engine if needed, builds the images, starts the
    containers and returns once nginx answers; leaving it (or `stop()`)
    removes them and stops the engine it started."""

    def __init__(self, generation, port=None, env=None):
        self.generation = generation
        self.file = COMPOSE[generation]
        self.project = 'vikander-%s-%d' % (generation.replace('.', ''), os.getpid())
        self.port = port or free_port()
        self.url = 'https://127.0.0.1:%d' % self.port
        self.ws_url = 'wss://127.0.0.1:%d' % self.port
        self.engine = Engine()
        self.env = dict(
            os.environ,
            CLUSTER_PORT=str(self.port),
            SECRET_KEY=os.environ.get('SECRET_KEY') or binascii.hexlify(os.urandom(32)).decode(),
        )
        self.env.update(env or {})
        self.started = False

    def start(self):
        atexit.register(self.stop)
        self.engine.start()
        try:
            # Inside the try: a failure here must stop the engine it started too.
            self.env.update(image_variables())
            self.compose('build', '-q')
            self.started = True
            self.compose('up', '-d', '--quiet-pull')
            wait_for(self.answers, 120, 'the proxy at ' + self.url)
        except Exception:
            self.stop()
            raise
        return self

    def compose(self, *args, **options):
        """docker-compose on this cluster; its output is shown only when it
        fails, unless `follow` (make cluster's logs)."""
        follow = options.get('follow', False)
        done = subprocess.run(
            ['docker-compose', '-f', self.file, '-p', self.project] + list(args),
            env=self.env,
            universal_newlines=True,
            stdout=None if follow else subprocess.PIPE,
            stderr=None if follow else subprocess.STDOUT,
        )
        if options.get('check', True) and done.returncode:
            raise RuntimeError('docker-compose %s failed:\n%s' % (' '.join(args), done.stdout))
        return done

    def answers(self):
        from lab.harness.client import get

        try:
            return get(self, '/chat/')[0] == 200
        except (OSError, HTTPError):
            return False

    # --- what runs --------------------------------------------------------

    def containers(self, service):
        """The names of a service's containers, by number: web_1, web_2...
        (docker compose v2 writes web-1)."""
        listed = quiet(
            [
                'docker',
                'ps',
                '-a',
                '--format',
                '{{.Names}}',
                '--filter',
                'label=com.docker.compose.project=' + self.project,
                '--filter',
                'label=com.docker.compose.service=' + service,
            ]
        ).stdout.split()
        return sorted(listed, key=lambda name: int(re.split('[-_]', name)[-1]))

    def inspect(self, container):
        return json.loads(quiet(['docker', 'inspect', container]).stdout)[0]

    def restarts(self, container):
        return self.inspect(container)['RestartCount']

    def healthy(self, container):
        state = self.inspect(container)['State']
        return state['Running'] and state.get('Health', {}).get('Status', 'healthy') == 'healthy'

    def logs(self, container):
        return quiet(['docker', 'logs', container]).stdout

    def query(self, sql, params=()):
        """Rows of a query (`?` placeholders) on the cluster's PostgreSQL,
        through psql in its container, as tuples of strings."""
        literals = iter("'%s'" % str(param).replace("'", "''") for param in params)
        done = quiet(
            [
                'docker',
                'exec',
                self.containers('db')[0],
                'psql',
                '-U',
                'chat',
                '-At',
                '-F',
                '\t',
                '-c',
                re.sub(r'\?', lambda _: next(literals), sql),
            ]
        )
        if done.returncode:
            raise RuntimeError('psql failed:\n' + done.stdout)
        return [tuple(line.split('\t')) for line in done.stdout.splitlines() if line]

    # --- faults -----------------------------------------------------------

    def crash(self, container):
        """SIGKILL to the container's main process from outside, as a crash
        looks (`docker kill` would count as an operator's stop, which the
        restart policy respects)."""
        pid = self.inspect(container)['State']['Pid']
        before = self.restarts(container)
        os.kill(pid, signal.SIGKILL)
        return before

    def stop_service(self, service):
        self.compose('stop', service)

    def start_service(self, service):
        self.compose('start', service)

    def network(self, name):
        return '%s_%s' % (self.project, name)

    def disconnect(self, container, network):
        quiet(['docker', 'network', 'disconnect', self.network(network), container])

    def connect(self, container, network):
        quiet(['docker', 'network', 'connect', self.network(network), container])

    def stop(self):
        if self.started:
            self.started = False
            self.compose('down', '-v', '--remove-orphans', '-t', '5', check=False)
        self.engine.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
