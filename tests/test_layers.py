"""
Deviation C17 (vikander/layers.py): the layer over two real redis-servers,
sent to as daphne does and received from as runworker does (a blocking
receive, again and again).
"""
import shutil
import subprocess
import tempfile

import pytest
import redis
from asgi_redis import RedisChannelLayer

from harness.stack import free_port, port_open, redis_server, wait_for
from vikander.layers import ShardedRedisChannelLayer


@pytest.fixture
def two_shards():
    workdir = tempfile.mkdtemp(prefix='shards-')
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen(redis_server(port, workdir), stdout=subprocess.DEVNULL) for port in ports]
    try:
        for port in ports:
            wait_for(lambda: port_open(port), 15, 'redis-server on %d' % port)
        yield ['redis://127.0.0.1:%d' % port for port in ports]
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(workdir)


def queued(shards):
    return [redis.StrictRedis.from_url(url).llen('asgi:websocket.receive') for url in shards]


def test_frames_go_to_the_shards_in_turn(two_shards):
    # asgi_redis 1.0.0's own layer picks a shard at random for each.
    layer = ShardedRedisChannelLayer(hosts=two_shards)
    for n in range(10):
        layer.send('websocket.receive', {'text': 'frame %d' % n})
    assert queued(two_shards) == [5, 5]


def test_every_blocking_receive_finds_a_message_on_either_shard(two_shards):
    # All ten on the second shard, as asgi_redis's random pick can leave them.
    sent = ['frame %d' % n for n in range(10)]
    second = RedisChannelLayer(hosts=two_shards[1:])
    for text in sent:
        second.send('websocket.receive', {'text': text})
    assert queued(two_shards) == [0, 10]
    # asgi_redis 1.0.0's own layer blocks on one shard picked at random: a
    # receive that picks the empty one returns nothing (after 5 s).
    layer = ShardedRedisChannelLayer(hosts=two_shards)
    received = [layer.receive(['websocket.connect', 'websocket.receive'], block=True) for _ in sent]
    assert [message['text'] for _, message in received if message] == sent
