"""
What a client does and sees, for every suite: pages over HTTP(S), sockets
over ws:// or wss://, the next thing a socket receives, and the rows a
stack's database holds. Only the standard library and websocket-client, in
code valid on CPython 3.5: the legacy tests use it too.
"""

import html
import json
import re
import ssl
import struct
import time
import uuid
from urllib.error import HTTPError
from urllib.request import HTTPSHandler, build_opener

import websocket

from lab.harness.stack import NoRedirect

__all__ = [
    'PROMPT',
    'UNVERIFIED',
    'connect',
    'frames',
    'fresh_label',
    'get',
    'history',
    'join',
    'next_event',
    'rows',
    'say',
    'silent',
]

QUIET = 1.5  # seconds of silence that count as "nothing arrived"
# A refusal is answered at once; 2 s leaves a loaded machine room and
# still tells it from the post's 5 s hang (docs/deviations.md, C5).
PROMPT = 2
# Production's proxy has a self-signed certificate (ops/proxy).
UNVERIFIED = ssl.create_default_context()
UNVERIFIED.check_hostname = False
UNVERIFIED.verify_mode = ssl.CERT_NONE


def fresh_label(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


# --- HTTP ---------------------------------------------------------------


def get(stack, path, follow=True):
    handlers = [HTTPSHandler(context=UNVERIFIED)] + ([] if follow else [NoRedirect])
    opener = build_opener(*handlers)
    try:
        response = opener.open(stack.url + path, timeout=30)
    except HTTPError as error:
        response = error
    return response.status, dict(response.headers), response.read().decode('utf-8', 'replace')


def history(stack, label):
    """The (handle, message) rows the room page shows, oldest first."""
    status, _, body = get(stack, '/chat/%s/' % label)
    rows = re.findall(
        r'<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>', body, re.S
    )
    return [(html.unescape(handle), html.unescape(message)) for _, handle, message in rows]


# --- WebSocket ------------------------------------------------------------


def connect(stack, path, **options):
    """(socket or None, what the client saw of the handshake)."""
    started = time.time()
    options.setdefault('sslopt', {'cert_reqs': ssl.CERT_NONE, 'check_hostname': False})
    sock = None
    try:
        sock = websocket.create_connection(stack.ws_url + path, timeout=15, **options)
        handshake = 'accepted'
    except websocket.WebSocketBadStatusException as refused:
        handshake = 'refused %d' % refused.status_code
    except websocket.WebSocketTimeoutException:
        handshake = 'no answer within 15 s'
    except (ConnectionError, websocket.WebSocketConnectionClosedException):
        handshake = 'connection dropped without an answer'
    return sock, {
        'handshake': handshake,
        'answered within %d s' % PROMPT: time.time() - started < PROMPT,
    }


def join(stack, label, **options):
    get(stack, '/chat/%s/' % label)
    sock, seen = connect(stack, '/chat/%s/' % label, **options)
    assert sock, 'could not join %s: %r' % (label, seen)
    return sock


def next_event(sock, wait=QUIET):
    """The next thing a client sees: a text frame, a close, or silence."""
    timeout = sock.gettimeout()
    deadline = time.time() + wait
    opcode = websocket.ABNF.OPCODE_PING
    try:
        # daphne pings every 20 s; a ping is no news for the client, and
        # does not extend the wait.
        while opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):
            if time.time() >= deadline:
                return ('silence',)
            sock.settimeout(deadline - time.time())
            opcode, frame = sock.recv_data_frame(True)
    except websocket.WebSocketTimeoutException:
        return ('silence',)
    except (ConnectionError, websocket.WebSocketConnectionClosedException):
        return ('dropped',)
    finally:
        sock.settimeout(timeout)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        code = struct.unpack('!H', frame.data[:2])[0] if len(frame.data) >= 2 else None
        return ('closed', code)
    return ('frame', frame.data.decode('utf-8'))


def frames(sock, count, wait=10):
    got = []
    while len(got) < count:
        event = next_event(sock, wait)
        if event[0] != 'frame':
            break
        got.append(json.loads(event[1]))
    return got


def say(sock, handle, message):
    sock.send(json.dumps({'handle': handle, 'message': message}))


def silent(sock, seconds=QUIET):
    """True when nothing arrives for `seconds`; anything else fails the test."""
    event = next_event(sock, seconds)
    assert event == ('silence',), 'expected silence, got %r' % (event,)
    return True


def rows(stack, label):
    """The (handle, message) rows stored for a room, in the stack's database,
    in the room page's order: by timestamp, which two runworkers storing at
    once can make differ from the order of the rows' ids."""
    return [
        tuple(row)
        for row in stack.query(
            'SELECT handle, message FROM chat_message JOIN chat_room ON chat_room.id = room_id '
            'WHERE label = ? ORDER BY chat_message.timestamp, chat_message.id',
            (label,),
        )
    ]
