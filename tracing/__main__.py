"""
`make trace`: one line per hop through the channel layer of a running
stack, as it happens, until Ctrl-C (or --seconds), read from Redis's MONITOR.

    python -m tracing [--stack legacy|modern] [--redis URL] [--summary]
                      [--seconds N] [--record FILE]

--stack (default $STACK, else legacy) picks how to read the trail; --redis
(default $REDIS_URL, or for modern $MODERN_REDIS_URL, as `make run` and
`make run-modern` use them) the server and database to watch.
"""
import argparse
import json
import os
import sys
import time
from urllib.parse import urlparse

from tracing import hops as trail
from tracing.monitor import Clients, commands

DEFAULT_REDIS = {'legacy': ('REDIS_URL', 'redis://127.0.0.1:6379'),
                 'modern': ('MODERN_REDIS_URL', 'redis://127.0.0.1:6379/1')}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--stack', choices=('legacy', 'modern'), default=os.environ.get('STACK') or 'legacy')
    parser.add_argument('--redis')
    parser.add_argument('--summary', action='store_true', help='a line per message at the end')
    parser.add_argument('--seconds', type=float, help='stop after this long')
    parser.add_argument('--record', help='write every hop to this JSON file at the end')
    args = parser.parse_args(argv)
    variable, default = DEFAULT_REDIS[args.stack]
    url = urlparse(args.redis or os.environ.get(variable) or default)
    database = int((url.path or '/0').strip('/') or 0)
    reader = (trail.Legacy if args.stack == 'legacy' else trail.Modern)(Clients())
    deadline = time.time() + args.seconds if args.seconds else None
    seen = []
    print('Tracing the %s stack on redis://%s:%s/%d (Ctrl-C stops)' % (
        args.stack, url.hostname, url.port or 6379, database), flush=True)
    try:
        for when, db, client, command in commands(url.hostname, url.port or 6379, reader.COMMANDS,
                                                  stop=lambda: deadline and time.time() > deadline):
            if db != database:
                continue
            for hop in reader.feed(when, client, command):
                seen.append(hop)
                print(hop.line(), flush=True)
    except KeyboardInterrupt:
        pass
    if args.summary:
        print('\n'.join(['', 'Per message:'] + trail.summary_lines(trail.summary(seen))), flush=True)
    if args.record:
        with open(args.record, 'w') as out:
            json.dump(seen, out, indent=1)


if __name__ == '__main__':
    sys.exit(main())
