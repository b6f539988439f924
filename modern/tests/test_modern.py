"""
The modern port's consumer driven through Channels 4's WebsocketCommunicator
against the real ASGI application (routing, origin check and all), and its
page views through Django's test client.
"""

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.staticfiles import finders
from vikander.asgi import application

from chat import consumers
from chat.models import Message, Room

ORIGIN = [(b'origin', b'http://127.0.0.1')]

# The consumer's database work runs in other threads, which must see the
# rows each test commits: so real transactions, not TestCase's rollback.
db = pytest.mark.django_db(transaction=True)


async def connect(path='/chat/known-room/', headers=ORIGIN):
    client = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await client.connect()
    return client, connected


@db
def test_a_message_is_stored_and_broadcast_to_the_room_only():
    room = Room.objects.create(label='known-room')
    Room.objects.create(label='other-room')

    async def scenario():
        alice, accepted = await connect()
        bob, _ = await connect()
        carol, _ = await connect('/chat/other-room/')
        assert accepted
        await alice.send_json_to({'handle': 'alice', 'message': 'hello'})
        frames = [await alice.receive_json_from(), await bob.receive_json_from()]
        assert await carol.receive_nothing()
        for client in (alice, bob, carol):
            await client.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    stored = Message.objects.get()
    assert (stored.room, stored.handle, stored.message) == (room, 'alice', 'hello')
    assert frames == [stored.as_dict(), stored.as_dict()]
    assert sorted(frames[0]) == ['handle', 'message', 'timestamp']


@db
def test_a_delivery_does_not_wait_for_the_database_thread():
    # A slow insert elsewhere in the process holds the one database thread
    # (thread-sensitive sync_to_async); members still get what was sent.
    Room.objects.create(label='known-room')
    holding, release = threading.Event(), threading.Event()

    def hold():
        holding.set()
        release.wait(10)

    async def scenario():
        bob, _ = await connect()
        held = asyncio.ensure_future(sync_to_async(hold)())
        await sync_to_async(holding.wait, thread_sensitive=False)(10)
        try:
            await get_channel_layer().group_send(
                'chat-known-room', {'type': 'chat.message', 'text': '{"n": 1}'}
            )
            return await bob.receive_from(timeout=3)
        finally:
            release.set()
            await held
            await bob.disconnect()

    assert async_to_sync(scenario)() == '{"n": 1}'


@db
@pytest.mark.parametrize(
    'path, logged',
    [
        ('/chat/no-such-room/', 'ws room does not exist label=no-such-room'),
        ('/chat/known-room/extra/', 'invalid ws path=/chat/known-room/extra/'),
        ('/elsewhere/', 'invalid ws path=/elsewhere/'),
        ('/', 'invalid ws path=/'),
    ],
)
def test_unknown_rooms_and_other_paths_are_refused_before_accept(path, logged, chat_log):
    Room.objects.create(label='known-room')
    client, accepted = async_to_sync(connect)(path)
    assert not accepted
    assert logged in chat_log.messages


@db
def test_a_foreign_origin_is_refused():
    Room.objects.create(label='known-room')
    for headers in ([(b'origin', b'http://evil.example')], []):
        _, accepted = async_to_sync(connect)(headers=headers)
        assert not accepted, headers


@db
def test_frames_that_are_not_a_chat_message_are_dropped(chat_log):
    Room.objects.create(label='known-room')
    junk = [
        ({'bytes_data': b'\x00\xff'}, 'ws message is binary, not text bytes=2'),
        ({'text_data': 'not json'}, "ws message isn't json text=not json"),
        ({'text_data': '[1, 2]'}, "ws message isn't a json object"),
        ({'text_data': 'null'}, "ws message isn't a json object"),
        ({'text_data': '{"handle": "a"}'}, 'ws message unexpected format'),
        (
            {'text_data': '{"handle": "a", "message": "m", "room": "x"}'},
            'ws message unexpected format',
        ),
        ({'text_data': '{"handle": ["a"], "message": 7}'}, 'needs a string handle'),
        ({'text_data': '{"handle": "a", "message": ""}'}, 'non-empty string message'),
    ]

    async def scenario():
        alice, _ = await connect()
        bob, _ = await connect()
        for frame, _ in junk:
            await alice.send_to(**frame)
        assert await alice.receive_nothing() and await bob.receive_nothing()
        # The consumer is still there: the next real message goes through.
        await alice.send_json_to({'handle': 'alice', 'message': 'after the junk'})
        received = (await bob.receive_json_from())['message']
        await alice.disconnect()
        await bob.disconnect()
        return received

    assert async_to_sync(scenario)() == 'after the junk'
    assert list(Message.objects.values_list('message', flat=True)) == ['after the junk']
    for _, logged in junk:
        assert any(logged in line for line in chat_log.messages), logged


@db
def test_user_data_in_the_log_is_cut_short(chat_log):
    Room.objects.create(label='known-room')
    big = 'x' * 100000

    async def scenario():
        client, _ = await connect()
        for text in (
            big,
            json.dumps([big]),
            json.dumps({big: 1}),
            json.dumps({'handle': 1, 'message': big}),
        ):
            await client.send_to(text_data=text)
        await client.send_json_to(
            {'handle': 'h' * consumers.MAX_HANDLE, 'message': big[: consumers.MAX_MESSAGE]}
        )
        return await client.receive_json_from()

    assert async_to_sync(scenario)()['handle'] == 'h' * consumers.MAX_HANDLE
    assert "ws message isn't json text=xxx" in chat_log.text
    assert max(len(line) for line in chat_log.messages) < 500


@db
def test_the_pages(client):
    assert b'href="/chat/new/"' in client.get('/chat/').content

    response = client.get('/chat/new/')
    assert response.status_code == 302
    label = re.match(r'^/chat/([a-z]+-[a-z]+(-\d{1,4})?)/$', response['Location']).group(1)
    assert Room.objects.filter(label=label).exists()

    page = client.get('/chat/fresh-room/')
    assert page.status_code == 200
    assert Room.objects.filter(label='fresh-room').exists()
    links = re.findall(r'(?:href|src)="/static/([^"]+)"', page.content.decode())
    assert links == [
        'assets/css/normalize.css',
        'assets/css/skeleton.css',
        'assets/css/chat.css',
        'assets/js/jquery-2.1.0.min.js',
        'assets/js/reconnecting-websocket.min.js',
        'assets/js/chat.js',
    ]
    assert all(finders.find(link) for link in links)

    for path in ('/chat/%s/' % ('a' * 51), '/chat/caf%C3%A9/', '/chat//'):
        assert client.get(path).status_code == 404, path


@db
def test_inputs_refuse_more_than_the_consumer_stores(client):
    # The shared room.html's maxlength must be this consumer's limits too.
    html = client.get('/chat/limits/').content.decode()
    assert re.findall(r'<input id="handle"[^>]* maxlength="(\d+)"', html) == [
        str(consumers.MAX_HANDLE)
    ]
    assert re.findall(r'<input id="message"[^>]* maxlength="(\d+)"', html) == [
        str(consumers.MAX_MESSAGE)
    ]


@db
def test_a_longer_message_or_handle_closes_the_socket_with_4009():
    Room.objects.create(label='known-room')

    async def scenario():
        codes = []
        for data in (
            {'handle': 'h' * (consumers.MAX_HANDLE + 1), 'message': 'm'},
            {'handle': 'h', 'message': 'm' * (consumers.MAX_MESSAGE + 1)},
        ):
            client, _ = await connect()
            await client.send_json_to(data)
            codes.append((await client.receive_output())['code'])
        return codes

    assert async_to_sync(scenario)() == [4009, 4009]
    assert Message.objects.count() == 0


def manage(*args, **env):
    environ = dict(os.environ, DEBUG='0')
    environ.pop('SECRET_KEY', None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, 'manage.py', *args],
        env=environ,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = manage('check')
    assert result.returncode != 0
    assert 'DEBUG=0 is production mode: set SECRET_KEY in the environment.' in result.stdout


KEY = 'a-long-and-random-production-key-q7Zx9Lm2Pw4Rt6Yv8Bn0Cs3Df5Gh1Jk'


def test_check_deploy_has_nothing_to_report():
    result = manage('check', '--deploy', SECRET_KEY=KEY)
    assert result.returncode == 0, result.stdout
    assert 'System check identified no issues (0 silenced).' in result.stdout


def test_collectstatic_gathers_the_shared_files(tmp_path):
    result = manage('collectstatic', '--noinput', SECRET_KEY=KEY, STATIC_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stdout
    assert (tmp_path / 'assets' / 'js' / 'chat.js').read_bytes() == open(
        finders.find('assets/js/chat.js'), 'rb'
    ).read()


def test_production_logs_info_and_up():
    result = manage(
        'shell',
        '--no-imports',
        '-c',
        'import logging; print(logging.getLogger("chat").level)',
        SECRET_KEY=KEY,
    )
    assert result.stdout.split() == [str(logging.INFO)], result.stdout


def test_conn_max_age_keeps_database_connections_checked_before_reuse():
    # 60 unless the environment says otherwise; the check means a restarted
    # database loses no message.
    code = (
        'from django.db import connection as c; '
        'print(c.settings_dict["CONN_MAX_AGE"], c.settings_dict["CONN_HEALTH_CHECKS"])'
    )
    assert manage('shell', '--no-imports', '-c', code, SECRET_KEY=KEY).stdout.split() == [
        '60',
        'True',
    ]
    assert manage(
        'shell', '--no-imports', '-c', code, SECRET_KEY=KEY, CONN_MAX_AGE='0'
    ).stdout.split() == ['0', 'True']
