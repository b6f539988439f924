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
from lab.harness.generations import GENERATIONS, TABLE, minors, pins
from lab.harness.make import MakeRun, command_line, make
from lab.harness.stack import free_port, port_open, wait_for


def said_first(channels):
    """What the first line of `make run CHANNELS=X` must name, from the
    generation's row and pins file (generations/generations.txt)."""
    pinned, row = pins(channels), TABLE[channels]
    processes = 'Redis, daphne and one runworker' if row.runworker else 'Redis and daphne'
    return [
        'make run CHANNELS=%s: ' % channels,
        'channels==%s ' % pinned['channels'],
        'daphne==%s ' % pinned['daphne'],
        ' on CPython %s: %s on ' % (' or '.join(minors(channels)), processes),
    ]


LATER = GENERATIONS[1:]


@pytest.mark.parametrize('channels', LATER)
def test_make_run_channels_chats_keeps_history_and_ctrl_c_stops_it_all(channels):
    running = MakeRun(CHANNELS=channels).start()
    try:
        running.wait_listening(600)
        first = running.lines[0]
        assert first.startswith(said_first(channels)[0]), first
        assert all(part in first for part in said_first(channels)), first
        label, received = running.two_members_chat('hello from %s' % channels)
        assert received == ['hello from %s' % channels]
        assert history(running, label) == [('alice', 'hello from %s' % channels)]
        runworkers = [pid for pid in running.processes() if 'runworker' in command_line(pid)[1:3]]
        assert len(runworkers) == (1 if TABLE[channels].runworker else 0), running.log()
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
        'make run: CHANNELS=2.0: no such generation: 1.0 (the post, the default), %s or %s'
        % (', '.join(LATER[:-1]), LATER[-1])
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
    # A PATH with no CPython of 2.4's and no pyenv.
    status, lines = run_make(
        'CHANNELS=2.4', PORT=str(free_port()), PATH='/usr/bin:/bin', PYENV_ROOT='/nonexistent'
    )
    assert status == 2, lines
    assert lines[1] == (
        'No CPython %s found: install pyenv (https://github.com/pyenv/pyenv#installation), run '
        "'pyenv install %s', then run make again." % (minors('2.4')[0], TABLE['2.4'].pythons[-1])
    ), lines
    assert len(lines) == 3, lines


def test_a_variable_only_the_post_takes_is_refused_by_name():
    status, lines = run_make('CHANNELS=3.0', 'RUNWORKERS=2')
    assert status == 2 and len(lines) == 2, lines
    assert lines[0] == (
        "make run: CHANNELS=3.0: RUNWORKERS, CONN_MAX_AGE, TRACE and RUNTIME are the post's "
        '(make run alone)'
    )
