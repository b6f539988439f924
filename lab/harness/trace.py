"""
`make trace` (lab/tracing/) as a running process beside a stack, and one
chat message through it: shared by the trace's tests, its diagram
(lab/tracing/diagram.py) and the benchmark's traced systems.
"""

import os
import signal
import subprocess
import threading

from lab.harness.client import frames, fresh_label, join, say
from lab.harness.stack import ROOT, variant, wait_for

__all__ = [
    'Trace',
    'chat',
    'command',
    'layer_trace',
]


def layer_trace(generation):
    """The environment of a stack whose channel layer publishes each hop for the trace,
    as `make run TRACE=layer` and `make run-modern TRACE=layer` start it."""
    return variant('layer_trace' if generation == '1.0' else 'modern_layer_trace')


# The trace's own virtualenv, as `make trace` runs it: the standard library
# and msgpack (requirements/trace.txt).
PYTHON = os.path.join(ROOT, 'var', 'venv-trace', 'bin', 'python')


def command(stack, *options):
    """`python -m lab.tracing` for a stack that lab/harness/stack.py started."""
    return [
        PYTHON,
        '-m',
        'lab.tracing',
        '--channels',
        stack.generation,
        '--redis',
        stack.env['REDIS_URL'],
    ] + list(options)


class Trace(object):
    """The trace of a stack, its lines collected as they come. Entering it
    (or `start()`) starts `make trace` and returns once it prints; leaving
    it (or `stop()`) interrupts it as Ctrl-C does."""

    def __init__(self, stack, *options):
        self.argv = command(stack, *options)
        self.lines = []
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
        )
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        wait_for(lambda: self.lines, 15, 'the trace to start')
        return self

    def read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    def stop(self):
        self.process.send_signal(signal.SIGINT)  # Ctrl-C
        self.process.wait(15)
        self.reader.join(15)
        return self.lines

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def chat(stack, trace, delivered):
    """Two members, one message: the trace's lines once `delivered` of them
    name deliveries (and the Ctrl-C summary after them)."""
    label = fresh_label('trace')
    alice, bob = join(stack, label), join(stack, label)
    say(alice, 'alice', 'hello, trace')
    assert frames(alice, 1) and frames(bob, 1)
    wait_for(
        lambda: sum(delivered in line for line in trace.lines) >= 2,
        15,
        'two deliveries in the trace',
        seen=lambda: '\n  '.join(trace.lines),
    )
    alice.close()
    bob.close()
    return label, trace.stop()
