import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def setting(name, **env):
    environ = dict(os.environ, DJANGO_SETTINGS_MODULE='vikander.settings')
    environ.pop('SECRET_KEY', None)
    environ.pop('CHANNEL_TRACE', None)
    environ.update(env)
    return subprocess.check_output(
        [sys.executable, '-c', 'from django.conf import settings; print(settings.%s)' % name],
        cwd=ROOT, env=environ).decode().strip()


def test_every_process_gets_the_same_secret_key():
    # daphne and each runworker sign and read the same channel sessions.
    first, second = setting('SECRET_KEY'), setting('SECRET_KEY')
    assert first == second and len(first) > 20


def test_the_environment_overrides_the_secret_key():
    assert setting('SECRET_KEY', SECRET_KEY='from-the-environment') == 'from-the-environment'


def test_redis_url_sets_the_channel_layer_host():
    hosts = setting('CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]', REDIS_URL='redis://127.0.0.1:7000')
    assert hosts == "['redis://127.0.0.1:7000']"


def test_several_redis_urls_shard_the_channel_layer():
    # Deviation C16: the cluster's two shards.
    hosts = setting('CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]', REDIS_URL='redis://redis1:6379 redis://redis2:6379')
    assert hosts == "['redis://redis1:6379', 'redis://redis2:6379']"


def test_one_redis_keeps_the_posts_layer_and_several_the_sharded_one():
    # Deviation C17.
    backend = 'CHANNEL_LAYERS["default"]["BACKEND"]'
    assert setting(backend, REDIS_URL='redis://127.0.0.1:7000') == 'vikander.layers.RedisChannelLayer'
    assert setting(backend, REDIS_URL='redis://redis1:6379 redis://redis2:6379') == 'vikander.layers.ShardedRedisChannelLayer'


def test_conn_max_age_keeps_database_connections():
    # Deviation C18: Django's default (a connection per message) unless set.
    assert setting('DATABASES["default"]["CONN_MAX_AGE"]') == '0'
    assert setting('DATABASES["default"]["CONN_MAX_AGE"]', CONN_MAX_AGE='60') == '60'


def test_channel_trace_tells_the_trace_from_the_same_layer_and_sessions():
    # Deviation C19: `make run` sets CHANNEL_TRACE=1 for `make trace`.
    backend, one, two = 'CHANNEL_LAYERS["default"]["BACKEND"]', 'redis://127.0.0.1:7000', 'redis://a:1 redis://b:2'
    assert setting(backend, CHANNEL_TRACE='1', REDIS_URL=one) == 'vikander.layers.TracedRedisChannelLayer'
    assert setting(backend, CHANNEL_TRACE='1', REDIS_URL=two) == 'vikander.layers.TracedShardedRedisChannelLayer'
    assert setting(backend, CHANNEL_TRACE='0', REDIS_URL=one) == 'vikander.layers.RedisChannelLayer'
    assert setting('CHANNEL_SESSION_ENGINE', CHANNEL_TRACE='1') == 'vikander.sessions'
    assert setting('SESSION_ENGINE', CHANNEL_TRACE='1') == 'django.contrib.sessions.backends.db'
