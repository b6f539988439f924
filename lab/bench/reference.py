"""
The benchmark's reference: the least this app must do, in one asyncio
process. It speaks the stacks' protocol (GET /chat/<label>/ makes the room,
a socket on the same path joins it, a {"handle", "message"} frame is checked
with the same limits, stored in SQLite and sent to every member as the
stacks send it), with nothing else: no channel layer, no sessions, no
Django. Every stack is reported as a ratio to it, measured in the same run.

    python -m lab.bench.reference PORT DATABASE
"""

import asyncio
import json
import logging
import re
import sqlite3
import sys
from datetime import datetime, timezone
from http import HTTPStatus

from websockets.asyncio.server import broadcast, serve

log = logging.getLogger('reference')

ROOM_PATH = re.compile(r'^/chat/([\w-]{1,50})/$')
# The stacks' own limits (chat/consumers.py, modern/chat/consumers.py).
MAX_HANDLE = 50
MAX_MESSAGE = 2000
TOO_BIG = 4009

# The stacks' tables, so the benchmark counts stored rows the same way.
SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_room (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
    label TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS chat_message (id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL,
    handle TEXT NOT NULL, message TEXT NOT NULL, timestamp TEXT NOT NULL);
"""


class Chat(object):
    def __init__(self, database):
        # Autocommit: each message is its own transaction, as Django's.
        self.db = sqlite3.connect(database, isolation_level=None)
        self.db.executescript(SCHEMA)
        self.members = {}  # label -> set of open sockets

    def room_id(self, label, create=False):
        if create:
            self.db.execute(
                'INSERT OR IGNORE INTO chat_room (name, label) VALUES (?, ?)', (label, label)
            )
        row = self.db.execute('SELECT id FROM chat_room WHERE label = ?', (label,)).fetchone()
        return row and row[0]

    def page(self, connection, request):
        match = ROOM_PATH.match(request.path)
        if request.headers.get('Upgrade', '').lower() == 'websocket':
            return (
                None
                if match and self.room_id(match.group(1))
                else connection.respond(HTTPStatus.FORBIDDEN, '')
            )
        if not match:
            return connection.respond(HTTPStatus.NOT_FOUND, '')
        self.room_id(match.group(1), create=True)
        return connection.respond(HTTPStatus.OK, 'room %s\n' % match.group(1))

    async def member(self, socket):
        label = ROOM_PATH.match(socket.request.path).group(1)
        room_id = self.room_id(label)
        members = self.members.setdefault(label, set())
        members.add(socket)
        try:
            async for text in socket:
                await self.receive(socket, room_id, members, text)
        finally:
            members.discard(socket)

    async def receive(self, socket, room_id, members, text):
        try:
            data = json.loads(text)
        except (TypeError, ValueError, RecursionError):
            data = None
        if not (
            isinstance(data, dict)
            and set(data) == {'handle', 'message'}
            and all(isinstance(value, str) for value in data.values())
            and data['message']
        ):
            log.debug('refused %.200r', text)
            return
        if len(data['handle']) > MAX_HANDLE or len(data['message']) > MAX_MESSAGE:
            await socket.close(TOO_BIG)
            return
        now = datetime.now(timezone.utc)
        self.db.execute(
            'INSERT INTO chat_message (room_id, handle, message, timestamp) VALUES (?, ?, ?, ?)',
            (room_id, data['handle'], data['message'], now.isoformat()),
        )
        # broadcast() writes to every member without waiting on any of them.
        broadcast(
            members,
            json.dumps(
                {
                    'handle': data['handle'],
                    'message': data['message'],
                    'timestamp': now.strftime('%b %-d %-I:%M %p'),
                }
            ),
        )


async def main(port, database):
    chat = Chat(database)
    async with serve(
        chat.member,
        '127.0.0.1',
        port,
        process_request=chat.page,
        ping_interval=None,
        max_size=2**20,
    ) as server:
        await server.serve_forever()


if __name__ == '__main__':
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
