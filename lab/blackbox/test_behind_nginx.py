"""
Production mode on each stack, as `make run-production` runs it: DEBUG=0,
a SECRET_KEY from the environment, collectstatic, and nginx with TLS in
front (ops/proxy). Pages, static files and sockets all go through nginx.
"""

import os
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from lab.harness.client import connect, get, join, next_event, say
from lab.harness.stack import ROOT, Stack, selected

PRODUCTION = {
    'DEBUG': '0',
    'SECRET_KEY': 'a-long-and-random-production-key-q7Zx9Lm2Pw4Rt6Yv8Bn0Cs3Df5Gh1Jk',
}


@pytest.fixture(scope='module', params=selected())
def production(request):
    with Stack(request.param, env=PRODUCTION, proxy=True) as running:
        yield running


def test_the_page_loads_chat_js_from_the_web_server(production):
    status, _, body = get(production, '/chat/prod-room/')
    assert status == 200
    assert '<script src="/static/assets/js/chat.js"></script>' in body
    status, headers, served = get(production, '/static/assets/js/chat.js')
    with open(os.path.join(ROOT, 'static', 'assets', 'js', 'chat.js'), encoding='utf-8') as source:
        assert (status, served) == (200, source.read())
    assert headers['Content-Type'] == 'application/javascript'
    # nginx serves it from STATIC_ROOT; daphne itself serves no files in production.
    assert 'daphne' not in headers.get('Server', '').lower()


def test_daphne_serves_no_static_files_itself(production):
    # Asked as the proxy asks (over "HTTPS"), past nginx: not found.
    request = Request(
        production.daphne_url + '/static/assets/js/chat.js', headers={'X-Forwarded-Proto': 'https'}
    )
    with pytest.raises(HTTPError) as answer:
        urlopen(request, timeout=10)
    assert answer.value.code == 404


def test_members_chat_over_tls_through_the_proxy(production):
    alice, bob = join(production, 'prod-chat'), join(production, 'prod-chat')
    say(alice, 'alice', 'over wss')
    assert [next_event(sock, 10)[0] for sock in (alice, bob)] == ['frame', 'frame']
    alice.close()
    bob.close()
    # INFO and up: the consumers' DEBUG lines ("chat message room=...") stay out.
    assert 'chat message room=' not in production.logs()


def test_a_foreign_origin_is_refused(production):
    get(production, '/chat/prod-origin/')
    for origin in ('https://evil.example', 'null'):
        sock, seen = connect(production, '/chat/prod-origin/', origin=origin)
        assert sock is None and seen['handshake'] == 'refused 403', origin
