"""
`make run CHANNELS=X` as a user runs it, for each generation after the
post (4.3 is the modern port): the first line names it, two members chat, the history
is there after a reload, the processes are those the generation had, and
Ctrl-C leaves nothing running. Then its refusals, each one line. On free
loopback ports and a database of its own, bounded in time.
"""

import socket

import pytest

from lab.harness.client import history
from lab.harness.make import MakeRun, command_line, make
from lab.harness.stack import free_port, port_open, wait_for

FIRST_LINES = {
    '1.1': 'make run CHANNELS=1.1: Django==1.11.29 channels==1.1.8 daphne==1.4.2 asgiref==1.1.2 '
    'asgi-redis==1.4.3 on CPython 3.6: Redis, daphne and one runworker',
    '2.4': 'make run CHANNELS=2.4: Django==2.2.28 channels==2.4.0 daphne==2.5.0 asgiref==3.2.10 '
    'channels-redis==2.4.2 on CPython 3.8: Redis and daphne',
    '3.0': 'make run CHANNELS=3.0: Django==3.2.25 channels==3.0.5 daphne==3.0.2 asgiref==3.5.2 '
    'channels-redis==3.4.1 on CPython 3.10: Redis and daphne',
    '4.3': 'make run CHANNELS=4.3: Django==5.2.19 asgiref==3.13.0 channels==4.3.2 '
    'channels_redis==4.3.0 daphne==4.2.3 on CPython 3.13 or 3.12 or 3.11: Redis and daphne',
}


@pytest.mark.parametrize('channels', sorted(FIRST_LINES))
def test_make_run_channels_chats_keeps_history_and_ctrl_c_stops_it_all(channels):
    running = MakeRun(CHANNELS=channels).start()
    try:
        running.wait_listening(600)
        assert running.lines[0].startswith(FIRST_LINES[channels]), running.lines[0]
        label, heard = running.two_members_chat('hello from %s' % channels)
        assert heard == ['hello from %s' % channels]
        assert history(running, label) == [('alice', 'hello from %s' % channels)]
        runworkers = [pid for pid in running.processes() if 'runworker' in command_line(pid)[1:3]]
        assert len(runworkers) == (1 if channels == '1.1' else 0), running.log()
        running.ctrl_c()
        wait_for(lambda: not running.alive(), 20, 'every process to stop', seen=running.alive)
        assert not port_open(running.port) and not port_open(running.redis_port)
    finally:
        running.close()


def run_make(*arguments, **env):
    status, printed = make('run', *arguments, **env)
    return status, printed.splitlines()


def test_a_generation_that_does_not_exist_is_one_line():
    status, lines = run_make('CHANNELS=2.0')
    assert status == 2 and len(lines) == 2, lines
    assert lines[0] == (
        'make run: CHANNELS=2.0: no such generation: 1.0 (the post, the default), 1.1, 2.4, '
        '3.0 or 4.3'
    )


def test_a_port_taken_is_one_line_and_nothing_starts():
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        redis_port = free_port()
        status, lines = run_make(
            'CHANNELS=2.4', PORT=str(port), REDIS_URL='redis://127.0.0.1:%d' % redis_port
        )
    assert status == 2 and len(lines) == 2, lines
    assert lines[0] == (
        'make run: CHANNELS=2.4: port %d is taken on 127.0.0.1; PORT=... make run CHANNELS=2.4 '
        'serves another' % port
    )
    assert not port_open(redis_port)


def test_a_missing_interpreter_is_named_with_the_way_to_get_it():
    # A PATH with no CPython 3.8 and no pyenv.
    status, lines = run_make(
        'CHANNELS=2.4', PORT=str(free_port()), PATH='/usr/bin:/bin', PYENV_ROOT='/nonexistent'
    )
    assert status == 2, lines
    assert lines[1] == (
        'No CPython 3.8 found: install pyenv (https://github.com/pyenv/pyenv#installation), run '
        "'pyenv install 3.8.18', then run make again."
    ), lines
    assert len(lines) == 3, lines


def test_a_variable_only_the_post_takes_is_refused_by_name():
    status, lines = run_make('CHANNELS=3.0', 'RUNWORKERS=2')
    assert status == 2 and len(lines) == 2, lines
    assert lines[0] == (
        "make run: CHANNELS=3.0: RUNWORKERS, CONN_MAX_AGE, TRACE and RUNTIME are the post's "
        '(make run alone)'
    )
