"""
Production mode (DEBUG=0): no start without a SECRET_KEY, a clean
`check --deploy`, and sockets from other origins refused by real processes.
"""

import logging
import os
import subprocess
import sys

import pytest
import websocket

from lab.harness.stack import Stack

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = 'a-long-and-random-production-key-' + 'q7Zx9Lm2Pw4Rt6Yv8Bn0Cs3Df5Gh1Jk'


def manage(*args, **env):
    environ = dict(os.environ, DEBUG='0')
    environ.pop('SECRET_KEY', None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, 'manage.py'] + list(args),
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = manage('check')
    assert result.returncode != 0
    assert 'DEBUG=0 is production mode: set SECRET_KEY in the environment.' in result.stdout


def test_check_deploy_has_nothing_to_report():
    result = manage('check', '--deploy', SECRET_KEY=KEY)
    assert result.returncode == 0, result.stdout
    assert 'System check identified no issues (0 silenced).' in result.stdout


def test_collectstatic_gathers_the_files_for_the_web_server(tmpdir):
    # Deviation C14: with no STATIC_ROOT, collectstatic refuses to run.
    result = manage('collectstatic', '--noinput', SECRET_KEY=KEY, STATIC_ROOT=str(tmpdir))
    assert result.returncode == 0, result.stdout
    with open(os.path.join(ROOT, 'static', 'assets', 'js', 'chat.js'), 'rb') as source:
        assert tmpdir.join('assets', 'js', 'chat.js').read_binary() == source.read()


def test_production_logs_info_and_up():
    result = manage(
        'shell', '-c', 'import logging; print(logging.getLogger("chat").level)', SECRET_KEY=KEY
    )
    assert result.stdout.split() == [str(logging.INFO)], result.stdout


@pytest.fixture(scope='module')
def production():
    with Stack('1.0', env={'DEBUG': '0', 'SECRET_KEY': KEY}) as running:
        yield running


def test_sockets_from_other_origins_are_refused(production):
    # The page itself redirects to HTTPS now, so the room is made the way a
    # proxy would ask for it.
    from urllib.request import Request, urlopen

    urlopen(
        Request(production.url + '/chat/prod-room/', headers={'X-Forwarded-Proto': 'https'})
    ).read()
    url = production.ws_url + '/chat/prod-room/'
    websocket.create_connection(url, origin='https://127.0.0.1', timeout=10).close()
    # Production logs INFO and up: the consumers' DEBUG lines stay out.
    assert 'chat connect' not in production.logs()
    for options in ({'origin': 'https://evil.example'}, {'suppress_origin': True}):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, timeout=10, **options)
        assert refused.value.status_code == 403
