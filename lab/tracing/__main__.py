"""
`make trace`: one line per hop through the channel layer of a running
stack, as it happens, until Ctrl-C (or --seconds). Beside a plain `make
run`, the hops are read from Redis's MONITOR, the stack unchanged; --layer
reads what the layer itself publishes instead, when the stack runs the layer
trace's settings (`make run TRACE=layer`). The modern port's are read from
MONITOR, with what its layer publishes there under `make run-modern
TRACE=layer`.

    python -m lab.tracing [--stack legacy|channels-1.1|channels-2.4|channels-3.0|modern]
                          [--layer] [--redis URL]
                          [--summary] [--seconds N] [--record FILE]

--stack (default $STACK, else legacy) picks how to read the trail; --redis
(default $REDIS_URL, or for modern $MODERN_REDIS_URL, as `make run` and
`make run-modern` use them, and for a generation the database `make run
CHANNELS=X` gives it) the server and database to watch.
"""

import argparse
import json
import os
import signal
import sys
import time
from urllib.parse import urlparse

from lab.tracing import hops as trail
from lab.tracing.monitor import Clients, commands
from lab.tracing.pubsub import events

DEFAULT_REDIS = {
    'legacy': ('REDIS_URL', 'redis://127.0.0.1:6379'),
    'modern': ('MODERN_REDIS_URL', 'redis://127.0.0.1:6379/1'),
    # make run CHANNELS=X's own databases (ops/run-channels)
    'channels-1.1': (None, 'redis://127.0.0.1:6379/2'),
    'channels-2.4': (None, 'redis://127.0.0.1:6379/3'),
    'channels-3.0': (None, 'redis://127.0.0.1:6379/4'),
}
# channels_redis's key prefix: 'asgi:' until 3.0 made it 'asgi'.
CORE_PREFIX = {'channels-2.4': 'asgi:', 'channels-3.0': 'asgi'}
# asgi_redis's default prefix, before lab/layers/traced.py's TRACE_CHANNEL.
LEGACY_TRACE = 'asgi:__trace__'


def hops(args, url, stop):
    """Each hop; None once Redis is sending what the trace reads, and
    whenever nothing more has come."""
    host, port = url.hostname, url.port or 6379
    database = int((url.path or '/0').strip('/') or 0)
    if args.stack == 'legacy' and args.layer:
        reader = trail.Legacy()
        for event in events(host, port, LEGACY_TRACE, stop):
            if event is None:
                yield None
            else:
                yield from reader.from_layer(event)
        return
    if args.stack in CORE_PREFIX:
        reader = trail.Core(Clients(), CORE_PREFIX[args.stack])
    elif args.stack in ('legacy', 'channels-1.1'):
        reader = trail.Monitored(Clients())
    else:
        reader = trail.Modern(Clients())
    for command in commands(host, port, reader.COMMANDS, stop=stop):
        if command is None:
            yield None
        elif command[1] == database:
            yield from reader.feed(command[0], command[2], command[3])


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        '--stack', choices=sorted(DEFAULT_REDIS), default=os.environ.get('STACK') or 'legacy'
    )
    parser.add_argument(
        '--layer',
        action='store_true',
        help='read the hops the layer publishes (make run TRACE=layer)',
    )
    parser.add_argument('--redis')
    parser.add_argument('--summary', action='store_true', help='a line per message at the end')
    parser.add_argument('--seconds', type=float, help='stop after this long')
    parser.add_argument('--record', help='write every hop to this JSON file at the end')
    args = parser.parse_args(argv)
    variable, default = DEFAULT_REDIS[args.stack]
    url = urlparse(args.redis or os.environ.get(variable or '') or default)
    deadline = time.time() + args.seconds if args.seconds else float('inf')
    interrupted = []
    # Ctrl-C ends the reading loop, which prints what it still holds.
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    seen, started = [], False
    for hop in hops(args, url, lambda: interrupted or time.time() > deadline):
        if hop is None:  # nothing more for now: show what came
            if not started:
                started = True
                print(
                    'Tracing the %s stack on redis://%s:%s%s, %s (Ctrl-C stops)'
                    % (
                        args.stack,
                        url.hostname,
                        url.port or 6379,
                        url.path or '',
                        'from what its layer publishes' if args.layer else "from Redis's MONITOR",
                    )
                )
            sys.stdout.flush()
            continue
        seen.append(hop)
        print(hop.line())
    if args.summary:
        print('\n'.join(['', 'Per message:'] + trail.summary_lines(trail.summary(seen))))
    if args.record:
        with open(args.record, 'w') as out:
            json.dump(seen, out, indent=1)


if __name__ == '__main__':
    sys.exit(main())
