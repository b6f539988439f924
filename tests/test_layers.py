"""
Deviation C17 (vikander/layers.py): the layer over two real redis-servers,
received from as runworker does (a blocking receive, again and again).
"""
import shutil
import subprocess
import tempfile

import pytest
import redis

from harness.stack import free_port, port_open, wait_for
from vikander.layers import ShardedRedisChannelLayer


@pytest.fixture
def two_shards():
    workdir = tempfile.mkdtemp(prefix='shards-')
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen(
        [shutil.which('redis-server') or '/usr/bin/redis-server', '--port', str(port),
         '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workdir],
        stdout=subprocess.DEVNULL) for port in ports]
    try:
        for port in ports:
            wait_for(lambda: port_open(port), 15, 'redis-server on %d' % port)
        yield ['redis://127.0.0.1:%d' % port for port in ports]
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(workdir)


def test_every_blocking_receive_finds_a_message_on_either_shard(two_shards):
    layer = ShardedRedisChannelLayer(hosts=two_shards)
    sent = ['frame %d' % n for n in range(10)]
    for text in sent:
        layer.send('websocket.receive', {'text': text})
    queued = [redis.StrictRedis.from_url(url).llen('asgi:websocket.receive') for url in two_shards]
    assert all(queued) and sum(queued) == len(sent)
    # asgi_redis 1.0.0's own layer blocks on one shard picked at random: a
    # receive that picks the emptied one returns nothing (after 5 s) while
    # messages wait on the other.
    received = [layer.receive(['websocket.connect', 'websocket.receive'], block=True) for _ in sent]
    assert sorted(message['text'] for _, message in received if message) == sorted(sent)
