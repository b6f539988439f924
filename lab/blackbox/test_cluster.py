"""
Each stack's cluster (docker-compose.yml, modern/docker-compose.yml) in
real containers, reached only through nginx on 127.0.0.1, with the faults
docs/cluster.md tabulates: what a client observes and
what PostgreSQL holds. The black-box scenarios run through it too.
"""

import json
import re
import zlib

import pytest

from lab.blackbox.comparison import expected
from lab.blackbox.scenarios import SCENARIOS
from lab.harness.browser import (
    describe,
    open_room,
    sockets,
    wait_messages,
    wait_settled,
    wait_sockets,
)
from lab.harness.browser import say as type_message
from lab.harness.client import frames, fresh_label, history, join, next_event, rows, say
from lab.harness.cluster import Cluster
from lab.harness.stack import selected, wait_for

# Scenarios that stop and start the one daphne or runworker of a
# single-host stack; the fault tests below do that to containers.
SINGLE_HOST = {
    'many_senders_while_the_worker_is_busy',
    'reconnect_after_the_server_restarts',
    'messages_sent_while_no_worker_runs',
    # The framework's own behaviour, which the comparison observes on one
    # host: a framework echo served beside the app, the stack's own Redis,
    # its workers and its daphne's port.
    'a_consumer_that_raises',
    'a_socket_to_a_path_no_consumer_takes',
    'a_flood_of_200_frames_while_the_consumer_sleeps',
    'another_socket_while_a_consumer_sleeps',
    'when_a_consumers_sends_leave',
    'a_group_member_in_redis',
    'a_page_while_the_workers_are_stopped',
    'an_open_socket_when_the_consumers_process_restarts',
    'two_requests_on_one_connection',
    # A process of one host stopped by signal, as a deploy stops it.
    'daphne_stopped_with_sockets_open',
    'daphne_stopped_while_a_consumer_works',
    'a_runworker_stopped_while_a_consumer_works',
}
# Rooms under load: nine containers and the load generator share two cores,
# so what they show is this machine's capacity, which `make bench-cluster`
# measures (docs/cluster.md), not a behaviour.
UNDER_LOAD = {'room_of_10_at_100_messages_a_second', 'room_of_10_at_300_messages_a_second'}
# What a client observes differently through the cluster's nginx.
THROUGH_NGINX = {
    'server_header_on_the_handshake': {'Server': 'nginx'},
    'server_header_on_a_page': {'Server': 'nginx'},
}
# What varies from run to run on the legacy cluster: its two runworkers take
# one client's frames at once, so a burst can be stored and broadcast out of
# order (seen here). Channels 1.x offered @enforce_ordering for that; the
# post does not use it.
UNORDERED_ON_LEGACY = {'burst_of_50_from_one_client': 'in the order sent'}


@pytest.fixture(scope='module', params=selected())
def cluster(request):
    with Cluster(request.param, env={'LOG_LEVEL': 'DEBUG'}) as running:
        yield running


def connects(cluster, label):
    """{daphne container: WebSocket handshakes it accepted for the room}."""
    accepted = re.compile(r'"WSCONNECT /chat/%s/"' % label)
    return {web: len(accepted.findall(cluster.logs(web))) for web in cluster.containers('web')}


def handled(cluster, label):
    """{worker container: chat messages its consumers handled for the room}."""
    line = 'chat message room=%s ' % label
    return {worker: cluster.logs(worker).count(line) for worker in cluster.containers('worker')}


def chat(cluster, label, count, prefix):
    """`count` messages from one member, each heard by another: the texts."""
    sender, listener = join(cluster, label), join(cluster, label)
    texts = ['%s %d' % (prefix, n) for n in range(count)]
    for text in texts:
        say(sender, 'h', text)
    received = [frame['message'] for frame in frames(listener, count, 30)]
    sender.close()
    listener.close()
    return sorted(received) == sorted(texts)


def test_members_on_different_daphnes_hear_each_other(cluster):
    label = fresh_label('spread')
    members, opened = {}, []
    # nginx's least_conn spreads sockets; join until both daphnes hold one.
    for _ in range(6):
        before = connects(cluster, label)
        sock = join(cluster, label)
        opened.append(sock)
        daphne = [web for web, count in connects(cluster, label).items() if count > before[web]][0]
        members.setdefault(daphne, sock)
        if len(members) == 2:
            break
    assert len(members) == 2
    alice, bob = members.values()
    say(alice, 'alice', 'across daphnes')
    assert [next_event(sock, 30)[0] for sock in (alice, bob)] == ['frame', 'frame']
    for sock in opened:
        sock.close()


def test_either_daphne_serves_the_history_from_postgresql(cluster):
    label = fresh_label('history')
    assert chat(cluster, label, 3, 'kept')
    pages = [history(cluster, label) for _ in range(4)]
    # The rows as stored, in the page's order (by timestamp): two runworkers
    # storing at once may insert them in another order than they stamped them.
    assert pages == [rows(cluster, label)] * 4
    assert sorted(pages[0]) == [('h', 'kept %d' % n) for n in range(3)]
    served = re.compile(r'"GET /chat/%s/"' % label)
    assert all(served.search(cluster.logs(web)) for web in cluster.containers('web'))


def test_workers_in_different_containers_handle_one_room(cluster):
    if cluster.generation == '4.3':
        pytest.skip('the modern port has no workers: its consumers run in daphne')
    label = fresh_label('workers')
    assert chat(cluster, label, 20, 'work')
    assert all(count > 0 for count in handled(cluster, label).values()), handled(cluster, label)
    assert len(rows(cluster, label)) == 20


def test_a_crashed_worker_comes_back_and_the_other_carries_the_chat(cluster):
    if cluster.generation == '4.3':
        pytest.skip('the modern port has no workers: its consumers run in daphne')
    label = fresh_label('crash')
    sender, listener = join(cluster, label), join(cluster, label)
    worker = cluster.containers('worker')[0]
    sent = {
        'before': ['before %d' % n for n in range(5)],
        'during': ['during %d' % n for n in range(5)],
    }
    for text in sent['before']:
        say(sender, 'h', text)
    received = [frame['message'] for frame in frames(listener, 5, 30)]
    restarts = cluster.crash(worker)
    for text in sent['during']:
        say(sender, 'h', text)
    wait_for(
        lambda: cluster.restarts(worker) > restarts and cluster.healthy(worker),
        60,
        'the restart policy to bring %s back' % worker,
    )
    received += [frame['message'] for frame in frames(listener, 5, 30)]
    sender.close()
    listener.close()
    stored = [text for _, text in rows(cluster, label)]
    # Every stored message heard once, nothing stored twice. At most one is
    # lost: the one a dying runworker had taken from Redis as it was killed
    # (Channels 1.x delivers at most once; docs/cluster.md).
    assert sorted(received) == sorted(stored) == sorted(set(stored))
    assert set(sent['before']) <= set(stored) and len(stored) >= 9


def test_a_crashed_daphne_comes_back_and_the_browser_reconnects(cluster, browser_factory):
    label = fresh_label('daphne')
    page = open_room(browser_factory, cluster, label)
    held = [web for web, count in connects(cluster, label).items() if count]
    assert len(held) == 1
    restarts = cluster.crash(held[0])
    # ReconnectingWebSocket opens a new socket through nginx, to the other
    # daphne or to the restarted one.
    wait_for(
        lambda: sum(connects(cluster, label).values()) >= 2,
        60,
        'the page to reconnect',
        seen=lambda: describe(page),
    )
    wait_for(
        lambda: cluster.restarts(held[0]) > restarts and cluster.healthy(held[0]),
        60,
        'the restart policy to bring %s back' % held[0],
    )
    # The restarted container's interface, configured, cannot cut the page's
    # socket short any more; the page's newest socket is open.
    wait_settled()
    wait_sockets(page, len(sockets(page)))
    type_message(page, 'browser', 'after the crash')
    wait_messages(page, [('browser', 'after the crash')], 20)
    assert rows(cluster, label) == [('browser', 'after the crash')]


def test_postgresql_down_is_logged_the_processes_survive_and_chat_goes_on(cluster):
    label = fresh_label('database')
    assert chat(cluster, label, 2, 'before')
    processes = cluster.containers('web') + cluster.containers('worker')
    started = {name: cluster.inspect(name)['State']['StartedAt'] for name in processes}
    sender, failed = join(cluster, label), failures(cluster, processes)
    cluster.stop_service('db')
    try:
        say(sender, 'h', 'while the database is down')
        wait_for(
            lambda: failures(cluster, processes) > failed, 30, "the consumer's failure in a log"
        )
    finally:
        cluster.start_service('db')
    wait_for(lambda: cluster.healthy(cluster.containers('db')[0]), 60, 'PostgreSQL')
    failed = failures(cluster, processes)
    sender, listener = join(cluster, label), join(cluster, label)
    after = ['after %d' % n for n in range(6)]
    for text in after:
        say(sender, 'h', text)
    received = [frame['message'] for frame in frames(listener, len(after), 15)]
    stored = [text for _, text in rows(cluster, label)]
    # Legacy: each runworker keeps its connection (CONN_MAX_AGE, C18) and
    # Django 1.11 does not check it before use, so the first message each
    # runworker handles on the connection the restart broke fails, logged.
    # The modern port checks first (CONN_HEALTH_CHECKS) and loses none.
    lost = len(set(after) - set(stored))
    assert lost <= len(cluster.containers('worker'))
    assert failures(cluster, processes) >= failed + lost
    # Workers store concurrently: the order of rows is not the order sent.
    assert sorted(received) == sorted(set(stored) & set(after))
    assert set(stored) - set(after) == {'before 0', 'before 1'}
    assert {name: cluster.inspect(name)['State']['StartedAt'] for name in processes} == started


def failures(cluster, processes):
    """Database errors the consumers logged, in all these containers."""
    return sum(
        len(re.findall(r'(OperationalError|InterfaceError): ', cluster.logs(name)))
        for name in processes
    )


def shard(cluster, group):
    """0 for redis1, 1 for redis2: where each layer's consistent hashing puts
    a group (asgi_redis 1.0.0: the top 12 bits of the name's CRC32;
    channels_redis: the low 12 bits of its group channel's)."""
    if cluster.generation == '1.0':
        return (zlib.crc32(group.encode()) & 0xFFFFFFFF) >> 20 >= 2048
    return zlib.crc32(('asgi__group__' + group).encode()) & 0xFFF >= 2048


def room_on(cluster, index):
    while True:
        label = fresh_label('shard')
        if shard(cluster, 'chat-' + label) == index:
            return label


def received(cluster, pair):
    say(pair[0], 'h', 'hello')
    return next_event(pair[1], 15)[0]


# What the members of two rooms hear while redis2 is down (docs/cluster.md's
# fault table). The legacy room on redis1 is left out: runworkers die each time
# they look at redis2 and are respawned, and daphne puts every other frame
# there, so whether one of its messages gets through varies.
WHILE_A_SHARD_IS_DOWN = {
    '1.0': {'room on redis2': 'no frame'},
    '4.3': {'room on redis1': 'frame', 'room on redis2': 'no frame'},
}
# What they hear after redis2 is started again, empty.
AFTER_A_SHARD_RESTART = {
    '1.0': {
        'room on redis1': 'frame',
        'room on redis2': 'silence',
        'room on redis2, members who join after': 'frame',
    },
    '4.3': {
        'room on redis1': 'frame',
        'room on redis2': 'frame',
        'room on redis2, members who join after': 'frame',
    },
}


def test_a_redis_shard_stopped_then_started(cluster):
    rooms = {'room on redis1': room_on(cluster, 0), 'room on redis2': room_on(cluster, 1)}
    pairs = {name: (join(cluster, label), join(cluster, label)) for name, label in rooms.items()}
    probes = {
        name: (join(cluster, rooms[name]), join(cluster, rooms[name]))
        for name in WHILE_A_SHARD_IS_DOWN[cluster.generation]
    }
    cluster.stop_service('redis2')
    try:
        during = {
            name: 'frame' if received(cluster, pair) == 'frame' else 'no frame'
            for name, pair in probes.items()
        }
    finally:
        cluster.start_service('redis2')
    assert during == WHILE_A_SHARD_IS_DOWN[cluster.generation]
    wait_for(lambda: cluster.healthy(cluster.containers('redis2')[0]), 30, 'redis2')
    wait_for(
        lambda: all(cluster.healthy(web) for web in cluster.containers('web')), 60, 'the daphnes'
    )
    observed = {name: received(cluster, pair) for name, pair in pairs.items()}
    label = rooms['room on redis2']
    observed['room on redis2, members who join after'] = received(
        cluster, (join(cluster, label), join(cluster, label))
    )
    assert observed == AFTER_A_SHARD_RESTART[cluster.generation]


def test_a_worker_cut_off_from_redis(cluster):
    if cluster.generation == '4.3':
        pytest.skip('the modern port has no workers: its consumers run in daphne')
    label = fresh_label('cut')
    first, second = cluster.containers('worker')
    sender, listener = join(cluster, label), join(cluster, label)
    cluster.disconnect(first, 'channels')
    try:
        for n in range(5):
            say(sender, 'h', 'cut off %d' % n)
        received = [frame['message'] for frame in frames(listener, 5, 30)]
    finally:
        cluster.connect(first, 'channels')
    sender.close()
    listener.close()
    stored = [text for _, text in rows(cluster, label)]
    # The other runworker carries the chat. At most one message is lost: the
    # one Redis hands to the cut-off runworker's last look at a shard, whose
    # reply never reaches it (docs/cluster.md).
    assert sorted(received) == sorted(stored) and len(stored) >= 4
    assert handled(cluster, label)[first] == 0
    # Back on the network, chat goes on. Whether the runworker takes its
    # share again varies from run to run; the message its last look held may
    # then arrive late (seen in CI), but never twice.
    assert chat(cluster, label, 5, 'back')
    final = [text for _, text in rows(cluster, label)]
    assert len(final) == len(set(final)) and set(stored) | {'back %d' % n for n in range(5)} <= set(
        final
    )


@pytest.mark.parametrize(
    'run',
    [run for run in SCENARIOS if run.__name__ not in SINGLE_HOST | UNDER_LOAD],
    ids=lambda run: run.__name__,
)
def test_scenario_through_the_cluster(cluster, run):
    observed = json.loads(json.dumps(run(cluster)))  # as expected.json stores it
    wanted = dict(THROUGH_NGINX.get(run.__name__, expected()[cluster.generation][run.__name__]))
    if cluster.generation == '1.0' and run.__name__ in UNORDERED_ON_LEGACY:
        observed.pop(UNORDERED_ON_LEGACY[run.__name__])
        wanted.pop(UNORDERED_ON_LEGACY[run.__name__])
    assert observed == wanted
