"""
`make trace`: one line per hop through the channel layer of a running
stack, as it happens, until Ctrl-C (or --seconds). Beside a plain `make
run`, the hops are read from Redis's MONITOR, the stack unchanged; --layer
reads what the layer itself publishes instead, when the stack runs the layer
trace's settings (`make run TRACE=layer`). The modern port's are read from
MONITOR, with what its layer publishes there under `make run-modern
TRACE=layer`.

    python -m lab.tracing [--channels 1.0|1.1|2.4|3.0|4.3]
                          [--layer] [--redis URL]
                          [--summary] [--seconds N] [--record FILE]

--channels (default $CHANNELS, else 1.0, the post) picks the generation
whose trail to read; --redis the server and database to watch: by default
$REDIS_URL for the post and $MODERN_REDIS_URL for the port, as `make run`
and `make run-modern` take them, else the database `make run CHANNELS=X`
gives that generation (generations/generations.txt).
"""

import argparse
import json
import os
import signal
import sys
import time
from urllib.parse import urlparse

from lab.harness.generations import GENERATIONS, TABLE
from lab.tracing import hops as trail
from lab.tracing.monitor import Clients, commands
from lab.tracing.pubsub import events

# Where `make run` and `make run-modern` take their Redis from.
VARIABLES = {'1.0': 'REDIS_URL', '4.3': 'MODERN_REDIS_URL'}
# channels_redis's key prefix: 'asgi:' until 3.0 made it 'asgi'.
CORE_PREFIX = {'2.4': 'asgi:', '3.0': 'asgi'}
# asgi_redis's default prefix, before lab/layers/traced.py's TRACE_CHANNEL.
LEGACY_TRACE = 'asgi:__trace__'


def default_redis(generation):
    variable = VARIABLES.get(generation)
    return os.environ.get(variable or '') or 'redis://127.0.0.1:6379/%d' % TABLE[generation].redis


def hops(args, url, stop):
    """Each hop; None once Redis is sending what the trace reads, and
    whenever nothing more has come."""
    host, port = url.hostname, url.port or 6379
    database = int((url.path or '/0').strip('/') or 0)
    if args.channels == '1.0' and args.layer:
        reader = trail.Legacy()
        for event in events(host, port, LEGACY_TRACE, stop):
            if event is None:
                yield None
            else:
                yield from reader.from_layer(event)
        return
    if args.channels in CORE_PREFIX:
        reader = trail.Core(Clients(), CORE_PREFIX[args.channels])
    elif TABLE[args.channels].runworker:
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
        '--channels', choices=GENERATIONS, default=os.environ.get('CHANNELS') or '1.0'
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
    if args.channels not in TABLE:  # a default from $CHANNELS is not checked against choices
        parser.exit(
            2,
            'make trace: CHANNELS=%s: no such generation: %s\n'
            % (args.channels, ', '.join(GENERATIONS)),
        )
    if args.layer and args.channels not in VARIABLES:
        parser.exit(
            2, 'make trace: CHANNELS=%s: TRACE=layer traces 1.0 and 4.3 only\n' % args.channels
        )
    url = urlparse(args.redis or default_redis(args.channels))
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
                    'Tracing Channels %s on redis://%s:%s%s, %s (Ctrl-C stops)'
                    % (
                        args.channels,
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
