"""
`make run` as a newcomer runs it: Redis, daphne and exactly one runworker,
whose log reads as the post's; two members chat; Ctrl-C stops everything.
On free loopback ports and a database of its own, bounded in time.
"""
import os

import pytest

from lab.harness.client import fresh_label, frames, join, say
from lab.harness.make import MakeRun, command_line
from lab.harness.stack import port_open, wait_for

# The lines the post shows from its two terminals, as `make run` prints
# them; the worker's layer is the replica's own (deviations C20, C21).
DAPHNE = ['Starting server at tcp:port={port}:interface=127.0.0.1, channel layer chat.asgi:channel_layer.',
          'Using busy-loop synchronous mode on channel layer',
          'Listening on endpoint tcp:port={port}:interface=127.0.0.1']
WORKER = ['runworker - Using single-threaded worker.',
          'runworker - Running worker against channel layer default (vikander.layers.RedisChannelLayer)',
          'worker - Listening on channels http.request, websocket.connect, websocket.disconnect, websocket.receive']


@pytest.fixture
def make_run():
    running = MakeRun()
    try:
        yield running
    finally:
        running.close()


def test_make_run_is_the_post_one_runworker_its_log_and_ctrl_c_stops_it_all(make_run):
    # Setting up may install the virtualenv first; then the stack starts.
    expected = [line.format(port=make_run.port) for line in DAPHNE] + WORKER
    wait_for(lambda: 'worker - Listening on channels' in make_run.log() or make_run.process.poll() is not None,
             600, 'the runworker to listen', seen=make_run.log)
    assert make_run.process.poll() is None, make_run.log()
    wait_for(lambda: 'Listening on endpoint' in make_run.log(), 30, 'daphne to listen', seen=make_run.log)
    assert [line for line in expected if line not in make_run.log()] == []
    assert 'Serving http://127.0.0.1:%d/chat/' % make_run.port in make_run.log()

    label = fresh_label('make-run')
    alice, bob = join(make_run, label), join(make_run, label)
    say(alice, 'alice', 'hello from make run')
    assert [f['message'] for f in frames(bob, 1)] == ['hello from make run']
    wait_for(lambda: make_run.log().count('chat connect room=%s ' % label) == 2, 15, 'the consumers\' log lines',
             seen=make_run.log)
    for line in make_run.lines:
        if 'chat connect room=%s ' % label in line:
            assert 'client=127.0.0.1:' in line and 'path=/chat/%s/ reply_channel=websocket.send!' % label in line
    assert '"WSCONNECT /chat/%s/"' % label in make_run.log()
    alice.close()
    bob.close()

    # Exactly one runworker, as the post ran it; honcho started one worker.
    assert len(make_run.runworkers()) == 1, [command_line(p) for p in make_run.processes()]
    assert 'worker.1 ' in make_run.log() and 'worker.2 ' not in make_run.log()
    assert port_open(make_run.redis_port)

    make_run.ctrl_c()
    # make returns at once; honcho then stops what it started.
    wait_for(lambda: not make_run.alive(), 20, 'every process make run started to stop', seen=make_run.alive)
    assert not port_open(make_run.port) and not port_open(make_run.redis_port)
