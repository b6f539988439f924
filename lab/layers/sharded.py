"""
Deviation C17: asgi_redis 1.0.0 over several Redis servers, without its
stall, for the cluster (docker-compose.yml, lab/variants/cluster.py). Its
runworker receive blocks (BLPOP, 5 s) on one shard picked at random, while
daphne sent the message to another shard picked at random: the message
waits until that BLPOP times out and a later pick lands right
(docs/cluster.md). Here a receive looks at each shard in turn without
blocking; runworker polls again 10 ms after an empty look.
"""

import itertools

from vikander.layers import RedisChannelLayer


class ShardedRedisChannelLayer(RedisChannelLayer):
    def __init__(self, **kwargs):
        # Before the library's __init__, which picks a server already.
        self.turns = itertools.count()
        super().__init__(**kwargs)

    def random_index(self):
        # Where the library puts channels that no consistent hash places
        # (websocket.receive, http.request, ...): each shard in turn, so
        # that one receive per shard looks at all of them.
        return next(self.turns) % len(self.hosts)

    def receive(self, channels, block=False):
        for _ in self.hosts:
            channel, message = super().receive(channels, block=False)
            if channel is not None:
                return channel, message
        return None, None
