"""
The trace as a running process beside a stack, and one chat message
through it: shared by the tests and the diagram (tracing/diagram.py).
"""
import signal
import subprocess
import sys
import threading

from harness.client import frames, fresh_label, join, say
from harness.stack import ROOT, wait_for

# How `make run` and `make run-modern` start a stack for `make trace`: its
# layer tells the trace what it does.
TRACED = {'CHANNEL_TRACE': '1'}


def command(stack, *options):
    """`python -m tracing` for a stack that harness/stack.py started."""
    return [sys.executable, '-m', 'tracing', '--stack', stack.kind, '--redis', stack.env['REDIS_URL']] + list(options)


class Trace(object):
    """The trace of a stack, its lines collected as they come."""

    def __init__(self, stack, *options):
        self.lines = []
        self.process = subprocess.Popen(command(stack, *options), cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        wait_for(lambda: self.lines, 15, 'the trace to start')

    def read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    def stop(self):
        self.process.send_signal(signal.SIGINT)  # Ctrl-C
        self.process.wait(15)
        self.reader.join(15)
        return self.lines


def chat(stack, trace, delivered):
    """Two members, one message: the trace's lines once `delivered` of them
    name deliveries (and the Ctrl-C summary after them)."""
    label = fresh_label('trace')
    alice, bob = join(stack, label), join(stack, label)
    say(alice, 'alice', 'hello, trace')
    assert frames(alice, 1) and frames(bob, 1)
    wait_for(lambda: sum(delivered in line for line in trace.lines) >= 2, 15, 'two deliveries in the trace')
    alice.close()
    bob.close()
    return label, trace.stop()
