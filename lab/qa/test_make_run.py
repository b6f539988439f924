"""
`make run` as a newcomer runs it: Redis, daphne and exactly one runworker,
whose log reads as the post's; two members chat; Ctrl-C stops everything.
On free loopback ports and a database of its own, bounded in time.
"""

import os
import re
import signal
import socket
import subprocess

import pytest

from lab.harness.client import history
from lab.harness.cluster import Engine, engine_answers
from lab.harness.generations import TABLE
from lab.harness.make import MakeRun, command_line, make
from lab.harness.post import DAPHNE_LINES, RUNWORKER_LINES, missing_lines
from lab.harness.stack import ROOT, free_port, port_open, wait_for
from lab.harness.trace import Trace, chat

# The replica's layer is its own (deviations C20, C21).
LAYER = 'vikander.layers.RedisChannelLayer'


@pytest.fixture
def make_run():
    running = MakeRun().start()
    try:
        yield running
    finally:
        running.close()


def test_make_run_is_the_post_one_runworker_its_log_and_ctrl_c_stops_it_all(make_run):
    # Setting up may install the virtualenv first; then the stack starts.
    make_run.wait_serving(600)
    assert (
        missing_lines(make_run.log(), DAPHNE_LINES, port=make_run.port, interface='127.0.0.1') == []
    )
    assert missing_lines(make_run.log(), RUNWORKER_LINES, layer=LAYER) == []
    assert 'Serving http://127.0.0.1:%d/chat/' % make_run.port in make_run.log()

    label, received = make_run.two_members_chat('hello from make run')
    assert received == ['hello from make run']
    wait_for(
        lambda: make_run.log().count('chat connect room=%s ' % label) == 2,
        15,
        "the consumers' log lines",
        seen=make_run.log,
    )
    for line in make_run.lines:
        if 'chat connect room=%s ' % label in line:
            assert (
                'client=127.0.0.1:' in line
                and 'path=/chat/%s/ reply_channel=websocket.send!' % label in line
            )
    assert '"WSCONNECT /chat/%s/"' % label in make_run.log()

    # Exactly one runworker, as the post ran it; honcho started one worker.
    assert len(make_run.runworkers()) == 1, [command_line(p) for p in make_run.processes()]
    assert 'worker.1 ' in make_run.log() and 'worker.2 ' not in make_run.log()
    assert port_open(make_run.redis_port)

    make_run.ctrl_c()
    # make returns at once; honcho then stops what it started.
    wait_for(
        lambda: not make_run.alive(),
        20,
        'every process make run started to stop',
        seen=make_run.alive,
    )
    assert not port_open(make_run.port) and not port_open(make_run.redis_port)


def docker_names(kind):
    listed = subprocess.run(
        ['docker', kind, 'ls', '-q', '--filter', 'name=vikander-run-']
        + (['-a'] if kind == 'container' else []),
        stdout=subprocess.PIPE,
        universal_newlines=True,
    )
    return listed.stdout.split()


def volumes():
    return set(
        subprocess.run(
            ['docker', 'volume', 'ls', '-q'], stdout=subprocess.PIPE, universal_newlines=True
        ).stdout.split()
    )


@pytest.fixture
def engine():
    running = Engine().start()
    try:
        yield running
    finally:
        running.stop()


def test_make_run_in_docker_is_the_post_in_the_legacy_image_and_sigterm_removes_it(engine):
    before = volumes()
    make_run = MakeRun(RUNTIME='docker').start()
    try:
        make_run.wait_serving(1200)
        log = make_run.log()
        assert log.splitlines()[0] == 'make run: RUNTIME=docker (as asked)'
        assert missing_lines(log, RUNWORKER_LINES, layer=LAYER) == []
        # The official image's 3.5, or the stand-in's own version.
        base, version = re.search(
            r'^Image vikander-legacy on (\S+): Python (\d+\.\d+)', log, re.M
        ).groups()
        assert version == ('3.5' if base.startswith('python:3.5') else base.rsplit(':', 1)[1]), log

        label, received = make_run.two_members_chat('hello from a container')
        assert received == ['hello from a container']
        assert history(make_run, label) == [('alice', 'hello from a container')]  # after a reload
        # `make trace` beside it: Redis at REDIS_URL, each hop's process named
        # from inside the containers.
        label, lines = chat(make_run, Trace(make_run).start(), 'delivered websocket.send!')
        assert any('runworker ' in line and 'took websocket.receive' in line for line in lines), (
            lines
        )
        assert any(
            'daphne ' in line and '→ websocket.receive path=/chat/%s/' % label in line
            for line in lines
        )
        assert len(docker_names('container')) == 3

        make_run.ctrl_c(signal.SIGTERM)
        wait_for(lambda: not make_run.alive(), 60, 'make run to stop', seen=make_run.alive)
        assert docker_names('container') == [] and docker_names('network') == [], make_run.log()[
            -1500:
        ]
        assert volumes() == before
    finally:
        make_run.close()
        for name in docker_names('container'):
            subprocess.run(['docker', 'rm', '-f', '-v', name], stdout=subprocess.DEVNULL)


def without_pyenv():
    """This machine's PATH less pyenv's folders: no CPython 3.5 or 3.6."""
    return os.pathsep.join(
        folder for folder in os.environ['PATH'].split(os.pathsep) if '.pyenv' not in folder
    )


def build_stand_ins():
    """The images this machine can build, built first while pyenv's CPython
    3.6 is at hand (a stand-in copies it); make run must then reuse them."""
    with Engine():
        official = (
            subprocess.run(
                ['docker', 'image', 'inspect', 'python:3.5.10-buster'],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ).returncode
            == 0
        )
        if not official:
            subprocess.run(
                [os.path.join(ROOT, 'ops', 'stand-in-images'), 'legacy', 'redis'],
                check=True,
                stdout=subprocess.DEVNULL,
            )


def first_line(engine_before):
    why = 'a Docker engine answers' if engine_before else "Debian's Docker engine is started"
    return 'make run: RUNTIME=docker (no CPython 3.5 or 3.6 nor pyenv here%s%s)' % (
        ', and ' if engine_before else ': ',
        why,
    )


def test_without_python_or_pyenv_make_run_starts_an_engine_and_serves_the_post_in_containers():
    build_stand_ins()
    engine_before = engine_answers()
    make_run = MakeRun(env={'PATH': without_pyenv()}, RUNWORKERS='2', TRACE='layer').start()
    try:
        make_run.wait_serving(1200)
        log = make_run.log()
        assert log.splitlines()[0] == first_line(engine_before), log
        # RUNWORKERS, TRACE and REDIS_URL as the host takes them.
        wait_for(
            lambda: make_run.log().count('worker - Listening on channels') == 2,
            60,
            'two runworkers',
            seen=make_run.log,
        )
        assert (
            missing_lines(
                make_run.log(), RUNWORKER_LINES, layer='lab.layers.traced.TracedRedisChannelLayer'
            )
            == []
        )
        assert 'worker.2 | ' in make_run.log() and port_open(make_run.redis_port)
        label, lines = chat(
            make_run, Trace(make_run, '--layer').start(), 'delivered websocket.send!'
        )
        assert any('runworker ' in line and 'took websocket.receive' in line for line in lines), (
            lines
        )

        make_run.ctrl_c()
        wait_for(lambda: not make_run.alive(), 60, 'make run to stop', seen=make_run.alive)
        assert engine_answers() == engine_before, make_run.log()[-1500:]
    finally:
        make_run.close()
    with Engine():
        assert docker_names('container') == [] and docker_names('network') == []


def run_make(*arguments, **env):
    status, printed = make('run', *arguments, **env)
    return status, printed.splitlines()


def test_without_python_pyenv_or_an_engine_make_run_names_both_ways():
    # A PATH with neither CPython 3.5/3.6 nor pyenv, and the only engine
    # allowed (DOCKER_HOST's) not answering: nothing can work.
    status, lines = run_make(
        PATH='/usr/bin:/bin',
        PYENV_ROOT='/nonexistent',
        DOCKER_HOST='unix:///nonexistent/docker.sock',
    )
    assert status != 0
    assert lines[0] == (
        'make run: RUNTIME=none (no CPython 3.5 or 3.6, no pyenv, and no Docker engine answers '
        'or can be started here)'
    ), lines
    assert lines[1] == (
        "make run: install pyenv and run 'pyenv install %s', or install and start Docker; "
        'then make run again' % TABLE['1.0'].pythons[-1]
    ), lines
    assert not [
        line for line in lines if 'denied' in line or 'Error 127' in line or 'not found' in line
    ], lines


def test_in_docker_an_engine_that_does_not_answer_is_one_line():
    status, lines = run_make('RUNTIME=docker', DOCKER_HOST='unix:///nonexistent/docker.sock')
    assert status != 0
    # The runtime's line, this one, and make's own "Error 2".
    assert lines[1] == (
        'docker-engine: the Docker engine at DOCKER_HOST=unix:///nonexistent/docker.sock does not '
        'answer (docker info)'
    ), lines
    assert len(lines) == 3 and re.match(r'make(\[\d+\])?: \*\*\* ', lines[2]), lines


@pytest.mark.parametrize(
    'variable',
    ['RUNWORKERS=two', 'RUNWORKERS=0', 'CONN_MAX_AGE=forever', 'TRACE=loud', 'RUNTIME=podman'],
)
def test_a_variable_make_run_cannot_use_is_refused_by_name(variable):
    status, lines = run_make(variable)
    assert status == 2 and lines[0].startswith('make run: %s: ' % variable), lines
    assert len(lines) == 2, lines


def test_make_trace_refuses_a_trace_it_cannot_use_by_name():
    status, printed = make('trace', 'TRACE=loud')
    assert status == 2
    assert (
        'make trace: TRACE=loud: '
        'TRACE=layer (the channel layer publishes each hop for make trace), or unset' in printed
    )


def test_in_docker_a_port_taken_is_one_line_and_nothing_is_left(engine):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status, lines = run_make(
            'RUNTIME=docker', PORT=str(port), REDIS_URL='redis://127.0.0.1:%d' % free_port()
        )
    assert status != 0
    assert (
        'make run: port %d is taken on 127.0.0.1; PORT=... make run serves another' % port in lines
    ), lines
    assert docker_names('container') == [] and docker_names('network') == []
