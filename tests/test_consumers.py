"""
The three consumers, driven through Channels 1.x's own test tools: an
in-memory channel layer and HttpClient, which plays daphne's part.
"""

from channels import Group
from channels.tests import ChannelTestCase, HttpClient

from chat.consumers import MAX_HANDLE, MAX_MESSAGE
from chat.models import Message, Room

ROOM = '/chat/known-room/'


class ConsumerTestCase(ChannelTestCase):
    def setUp(self):
        self.room = Room.objects.create(label='known-room')

    def connect(
        self, path=ROOM, check_accept=True, headers=([b'origin', b'http://127.0.0.1:8001'],)
    ):
        # Headers as daphne sends them: [name, value] byte strings (HttpClient
        # would send its own dict of str), with an Origin the check allows.
        client = HttpClient()
        client.send_and_consume(
            'websocket.connect',
            {'client': ['127.0.0.1', 50000], 'headers': list(headers)},
            path=path,
            check_accept=check_accept,
        )
        return client

    def say(self, client, text=None, content=None):
        client.send_and_consume('websocket.receive', content or {}, text=text, path=ROOM)

    def assertNothingFor(self, *clients):
        for client in clients:
            self.assertIsNone(client.receive())


class ConnectTests(ConsumerTestCase):
    def test_known_room_is_accepted_and_joins_the_group(self):
        client = self.connect()  # HttpClient checks the {"accept": True} reply
        Group('chat-known-room').send({'text': '"ping"'})
        self.assertEqual(client.receive(), 'ping')

    def test_unknown_room_is_refused(self):
        # Deviation C5: the post sends nothing here.
        with self.assertLogs('chat.consumers', 'DEBUG') as logs:
            client = self.connect('/chat/no-such-room/', check_accept=False)
        self.assertEqual(client.receive(), {'close': True})
        self.assertIn('ws room does not exist label=no-such-room', logs.output[0])

    def test_malformed_paths_are_refused(self):
        for path in ('/', '/chat/', '/chat/known-room/extra/', '/other/known-room/'):
            client = self.connect(path, check_accept=False)
            self.assertEqual(client.receive(), {'close': True}, path)

    def test_refused_sockets_join_no_group(self):
        client = self.connect('/other/known-room/', check_accept=False)
        client.receive()
        Group('chat-known-room').send({'text': '"ping"'})
        self.assertNothingFor(client)


class TwoMembersTestCase(ConsumerTestCase):
    """alice and bob, both in the known room."""

    def setUp(self):
        super(TwoMembersTestCase, self).setUp()
        self.alice = self.connect()
        self.bob = self.connect()


class ReceiveTests(TwoMembersTestCase):
    def test_a_message_is_stored_and_broadcast(self):
        self.say(self.alice, {'handle': 'alice', 'message': 'hello'})
        stored = Message.objects.get()
        self.assertEqual(
            (stored.room, stored.handle, stored.message), (self.room, 'alice', 'hello')
        )
        for client in (self.alice, self.bob):
            self.assertEqual(client.receive(), stored.as_dict())

    def test_other_rooms_hear_nothing(self):
        Room.objects.create(label='other-room')
        other = self.connect('/chat/other-room/')
        self.say(self.alice, {'handle': 'alice', 'message': 'hello'})
        self.assertNothingFor(other)

    def refused(self, expected_log, text=None, content=None):
        stored = Message.objects.count()
        with self.assertLogs('chat.consumers', 'DEBUG') as logs:
            self.say(self.alice, text=text, content=content)
        self.assertEqual(Message.objects.count(), stored)
        self.assertNothingFor(self.alice, self.bob)
        self.assertTrue(any(expected_log in line for line in logs.output), logs.output)
        # The consumer returned normally, and the next message still goes through.
        self.say(self.alice, {'handle': 'alice', 'message': 'still here'})
        for client in (self.alice, self.bob):
            self.assertEqual(client.receive()['message'], 'still here')

    def test_text_that_is_not_json(self):
        # The post logs an undefined name `text` here (a NameError).
        self.refused("ws message isn't json text=not json", text='not json')

    def test_wrong_keys(self):
        self.refused('unexpected format', text={'handle': 'alice'})

    def test_extra_keys(self):
        self.refused('unexpected format', text={'handle': 'a', 'message': 'm', 'room': 'x'})

    def test_binary_frames(self):
        # The post reads message['text'], a KeyError on a binary frame.
        self.refused('ws message is binary', content={'bytes': b'\x00\xff'})

    def test_json_that_is_not_an_object(self):
        for text in ('[1, 2]', '"handle"', '42', 'null', 'true'):
            self.refused("ws message isn't a json object", text=text)

    def test_values_that_are_not_strings(self):
        self.refused('needs a string handle', text={'handle': ['a'], 'message': {'b': 1}})
        self.refused('needs a string handle', text={'handle': 'a', 'message': 7})

    def test_empty_message(self):
        self.refused('non-empty string message', text={'handle': 'alice', 'message': ''})

    def test_no_room_in_the_channel_session(self):
        stranger = HttpClient()
        with self.assertLogs('chat.consumers', 'DEBUG') as logs:
            stranger.send_and_consume(
                'websocket.receive', text={'handle': 'a', 'message': 'b'}, path=ROOM
            )
        self.assertIn('no room in channel_session', logs.output[0])
        self.assertEqual(Message.objects.count(), 0)


class DisconnectTests(ConsumerTestCase):
    def test_disconnect_leaves_the_group(self):
        leaver = self.connect()
        stayer = self.connect()
        leaver.send_and_consume('websocket.disconnect', {'code': 1000}, path=ROOM)
        self.say(stayer, {'handle': 'stayer', 'message': 'anyone?'})
        self.assertEqual(stayer.receive()['message'], 'anyone?')
        self.assertNothingFor(leaver)

    def test_disconnect_of_a_refused_socket_is_quiet(self):
        client = self.connect('/chat/no-such-room/', check_accept=False)
        self.assertEqual(client.receive(), {'close': True})  # the refusal
        # The disconnect that follows raises nothing, sends nothing and
        # touches no group.
        client.send_and_consume('websocket.disconnect', {'code': 1000}, path='/chat/no-such-room/')
        self.assertIsNone(client.receive())
        member = self.connect()
        Group('chat-known-room').send({'text': '"still here"'})
        self.assertEqual(member.receive(), 'still here')


class LimitTests(TwoMembersTestCase):
    def test_the_longest_handle_and_message_are_stored(self):
        self.say(self.alice, {'handle': 'h' * MAX_HANDLE, 'message': 'm' * MAX_MESSAGE})
        self.assertEqual(self.bob.receive()['message'], 'm' * MAX_MESSAGE)
        self.assertEqual(Message.objects.count(), 1)

    def test_a_longer_one_closes_the_socket_with_4009(self):
        # Deviation C12: the post stores any length.
        for data in (
            {'handle': 'h' * (MAX_HANDLE + 1), 'message': 'm'},
            {'handle': 'h', 'message': 'm' * (MAX_MESSAGE + 1)},
        ):
            with self.assertLogs('chat.consumers', 'DEBUG') as logs:
                self.say(self.alice, data)
            self.assertEqual(self.alice.receive(), {'close': 4009})
            self.assertIn('ws message too long', logs.output[-1])
        self.assertNothingFor(self.alice, self.bob)
        self.assertEqual(Message.objects.count(), 0)

    def test_deeply_nested_json_is_refused(self):
        with self.assertLogs('chat.consumers', 'DEBUG') as logs:
            self.say(self.alice, text='[' * 100000 + ']' * 100000)
        self.assertIn("ws message isn't json", logs.output[-1])
        self.assertNothingFor(self.alice, self.bob)


class OriginTests(ConsumerTestCase):
    """Deviation C11: the Origin must be an allowed host."""

    def connect_from(self, origin):
        headers = [[b'origin', origin.encode('latin1')]] if origin else []
        return self.connect(check_accept=False, headers=headers).receive()

    def test_only_allowed_hosts_in_every_mode(self):
        # As the modern port's AllowedHostsOriginValidator: DEBUG changes nothing.
        for debug in (True, False):
            with self.settings(DEBUG=debug, ALLOWED_HOSTS=['chat.example']):
                self.assertEqual(self.connect_from('https://chat.example'), {'accept': True})
                self.assertEqual(self.connect_from('https://chat.example:8443'), {'accept': True})
                self.assertEqual(self.connect_from('https://evil.example'), {'close': True})
                self.assertEqual(self.connect_from('null'), {'close': True})
                self.assertEqual(self.connect_from(None), {'close': True})
