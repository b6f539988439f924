"""
`make cluster`: the stack over several containers behind nginx, until
Ctrl-C, which stops and removes them (docs/cluster.md).

    python -m lab.cluster 1.0|4.3 [PORT]
"""

import signal
import sys

from lab.harness.cluster import COMPOSE, Cluster
from lab.harness.stack import free_port


def interrupted(*_):
    raise KeyboardInterrupt


def main(generation, port):
    if generation not in COMPOSE or not port.isdigit():
        sys.exit(
            'make cluster: CHANNELS=%s CLUSTER_PORT=%s: '
            'CHANNELS is 1.0 (the post) or 4.3 (the port), CLUSTER_PORT a port number'
            % (generation, port)
        )
    # Stopped as by Ctrl-C when a process manager sends SIGTERM instead.
    signal.signal(signal.SIGTERM, interrupted)
    cluster = Cluster(generation, int(port)).start()
    try:
        print(
            'Serving %s/chat/ through nginx (Ctrl-C stops and removes the cluster)' % cluster.url,
            flush=True,
        )
        cluster.compose('logs', '-f', '--tail', '5', check=False, follow=True)
    except KeyboardInterrupt:
        pass
    finally:
        print('Stopping and removing the cluster', flush=True)
        cluster.stop()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else str(free_port()))
