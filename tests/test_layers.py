"""
The channel layers on real redis-servers. Deviation C17 (lab/layers/sharded.py,
the cluster's): the layer over two, sent to as daphne does and received
from as runworker does (a blocking receive, again and again). Deviation
C20 (vikander/layers.py): a group send says at WARNING which members it
dropped at capacity; C21: a receive says which messages it found expired;
the cluster's and the layer trace's layers (lab/layers/traced.py) too. The
layer trace's layer publishes what it did for the trace.
"""

import json
import logging
import shutil
import subprocess
import tempfile

import pytest
import redis
from asgi_redis import RedisChannelLayer

from lab.harness.stack import free_port, port_open, redis_server, wait_for
from lab.layers.sharded import ShardedRedisChannelLayer
from lab.layers.traced import TRACE_CHANNEL, TracedRedisChannelLayer
from vikander.layers import RedisChannelLayer as ReplicaLayer

LAYERS = {
    'replica': ReplicaLayer,
    'sharded': ShardedRedisChannelLayer,
    'traced': TracedRedisChannelLayer,
}


@pytest.fixture
def two_shards():
    workdir = tempfile.mkdtemp(prefix='shards-')
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(redis_server(port, workdir), stdout=subprocess.DEVNULL) for port in ports
    ]
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


@pytest.mark.parametrize('kind', sorted(LAYERS))
def test_a_group_send_logs_the_members_it_drops_at_capacity_and_reaches_the_rest(
    two_shards, kind, caplog
):
    # A reply channel holding as many messages as daphne lets wait.
    layer = LAYERS[kind](hosts=two_shards[:1], channel_capacity={'websocket.send*': 2})
    full, free = 'websocket.send!full', 'websocket.send!free'
    layer.group_add('chat-room', full)
    layer.group_add('chat-room', free)
    layer.send(full, {'text': 'old 1'})
    layer.send(full, {'text': 'old 2'})
    with caplog.at_level(logging.WARNING, logger='vikander.layers'):
        layer.send_group('chat-room', {'text': 'new'})
    assert layer.receive([free]) == (free, {'text': 'new'})
    assert [layer.receive([full])[1]['text'] for _ in range(2)] == ['old 1', 'old 2']
    assert layer.receive([full]) == (None, None)
    assert [r.getMessage() for r in caplog.records] == [
        'group chat-room: message dropped for 1 member(s) whose reply channel is full: '
        'websocket.send!full'
    ]


@pytest.mark.parametrize('kind', sorted(LAYERS))
def test_a_receive_logs_each_message_it_finds_expired_and_returns_the_next(
    two_shards, kind, caplog
):
    # Deviation C21, the layer's own "expiry" option set to 1 s.
    layer = LAYERS[kind](hosts=two_shards[:1], expiry=1)
    server = redis.StrictRedis.from_url(two_shards[0])
    reply = 'websocket.send!gone'
    layer.send('websocket.receive', {'text': 'stale'})
    layer.send(reply, {'text': 'stale reply'})
    # Where asgi_redis 1.0.0 removes the lists, one second after their
    # messages expire: nothing would be left to find.
    server.set('sentinel', 1, ex=2)
    wait_for(lambda: not server.exists('sentinel'), 10, "asgi_redis's lists to expire")
    assert server.llen('asgi:websocket.receive') == server.llen('asgi:' + reply) == 1
    layer.send('websocket.receive', {'text': 'fresh'})
    with caplog.at_level(logging.WARNING, logger='vikander.layers'):
        assert layer.receive(['websocket.receive'], block=True) == (
            'websocket.receive',
            {'text': 'fresh'},
        )
        assert layer.receive([reply]) == (None, None)
    assert [r.getMessage() for r in caplog.records] == [
        'channel websocket.receive: message expired unhandled, after the 1 s channel expiry: '
        'no runworker took it (a chat frame is never stored)',
        'channel websocket.send!gone: message expired unhandled, after the 1 s channel expiry: '
        'a reply daphne never took, which never reached its socket',
    ]


def test_the_traced_layer_tells_each_hop_and_pairs_sent_with_received(two_shards):
    url = two_shards[0]
    trace = redis.StrictRedis.from_url(url).pubsub(ignore_subscribe_messages=True)
    trace.subscribe('asgi:' + TRACE_CHANNEL)
    layer = TracedRedisChannelLayer(hosts=[url], capacity=1)
    layer.group_add('chat-room', 'websocket.send!a')
    layer.group_add('chat-room', 'websocket.send!b')
    frame = {
        'path': '/chat/room/',
        'reply_channel': 'websocket.send!a',
        'order': 1,
        'text': 'x' * 500,
    }
    layer.send('websocket.receive', frame)
    channel, message = layer.receive(['websocket.receive'], block=True)
    message['path'] = ''  # as Channels' routing does, after the receive
    layer.send_group('chat-room', {'text': 'hello'})
    layer.receive(['websocket.send!b'])
    with pytest.raises(layer.ChannelFull):
        layer.send('websocket.send!a', {'text': 'one too many'})
    events = []

    def published():
        published = trace.get_message(timeout=0.1)
        if published:
            events.extend(json.loads(str(published['data'], 'utf-8'))['events'])
        return len(events) >= 9

    wait_for(published, 15, 'the trace events')
    # In the order they happened, the group send published after its members' sends.
    assert [e['event'] for e in events] == [
        'group_add',
        'group_add',
        'send',
        'received',
        'send',
        'send',
        'group_send',
        'received',
        'full',
    ]
    kinds = {}
    for event in events:
        kinds.setdefault(event['event'], []).append(event)
    sent, took = kinds['send'][0], kinds['received'][0]
    assert (sent['channel'], took['channel']) == ('websocket.receive', 'websocket.receive')
    assert sent['digest'] == took['digest']
    assert sent['message']['text'] == 'x' * 200  # cut for the trace
    assert kinds['group_send'][0]['members'] == 2
    delivered = kinds['received'][1]
    assert delivered['channel'] == 'websocket.send!b'
    assert delivered['digest'] == next(
        e['digest'] for e in kinds['send'] if e['channel'] == 'websocket.send!b'
    )
    assert kinds['full'][0]['channel'] == 'websocket.send!a'
    assert all(
        event['by'].startswith(('daphne ', 'runworker ')) and event['at'] > 0 for event in events
    )
