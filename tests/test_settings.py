import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def setting(name, **env):
    environ = dict(os.environ, DJANGO_SETTINGS_MODULE='vikander.settings')
    environ.pop('SECRET_KEY', None)
    environ.update(env)
    return (
        subprocess.check_output(
            [sys.executable, '-c', 'from django.conf import settings; print(settings.%s)' % name],
            cwd=ROOT,
            env=environ,
        )
        .decode()
        .strip()
    )


def test_every_process_gets_the_same_secret_key():
    # daphne and each runworker sign and read the same channel sessions.
    first, second = setting('SECRET_KEY'), setting('SECRET_KEY')
    assert first == second and len(first) > 20


def test_the_environment_overrides_the_secret_key():
    assert setting('SECRET_KEY', SECRET_KEY='from-the-environment') == 'from-the-environment'


def test_redis_url_sets_the_channel_layer_host():
    hosts = setting(
        'CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]', REDIS_URL='redis://127.0.0.1:7000'
    )
    assert hosts == "['redis://127.0.0.1:7000']"


def test_the_posts_layer_stands_then_the_replica_names_its_own():
    # Deviations C20 and C21, after the post's CHANNEL_LAYERS as printed.
    with open(os.path.join(ROOT, 'vikander', 'settings.py')) as settings:
        text = settings.read()
    posts, replicas = (
        text.index('"BACKEND": "asgi_redis.RedisChannelLayer",'),
        text.index('CHANNEL_LAYERS["default"]["BACKEND"] = "vikander.layers.RedisChannelLayer"'),
    )
    assert posts < replicas
    assert setting('CHANNEL_LAYERS["default"]["BACKEND"]') == 'vikander.layers.RedisChannelLayer'
    # The settings pick nothing from a tool's flag.
    assert 'TRACE' not in text


def test_the_cluster_shards_the_layer_over_every_redis_url():
    # Deviations C16 and C17: lab/variants/cluster.py, the post's settings otherwise.
    cluster = dict(
        DJANGO_SETTINGS_MODULE='lab.variants.cluster',
        REDIS_URL='redis://redis1:6379 redis://redis2:6379',
    )
    assert (
        setting('CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]', **cluster)
        == "['redis://redis1:6379', 'redis://redis2:6379']"
    )
    assert (
        setting('CHANNEL_LAYERS["default"]["BACKEND"]', **cluster)
        == 'lab.layers.sharded.ShardedRedisChannelLayer'
    )
    assert (
        setting('CHANNEL_LAYERS["default"]["ROUTING"]', **cluster) == 'chat.routing.channel_routing'
    )


def test_conn_max_age_keeps_database_connections():
    # Deviation C18: Django's default (a connection per message) unless set.
    assert setting('DATABASES["default"]["CONN_MAX_AGE"]') == '0'
    assert setting('DATABASES["default"]["CONN_MAX_AGE"]', CONN_MAX_AGE='60') == '60'


def test_the_layer_trace_brings_its_own_settings_over_the_posts():
    layer_trace = dict(DJANGO_SETTINGS_MODULE='lab.variants.layer_trace')
    assert (
        setting('CHANNEL_LAYERS["default"]["BACKEND"]', **layer_trace)
        == 'lab.layers.traced.TracedRedisChannelLayer'
    )
    assert setting('CHANNEL_SESSION_ENGINE', **layer_trace) == 'lab.variants.traced_sessions'
    assert setting('SESSION_ENGINE', **layer_trace) == 'django.contrib.sessions.backends.db'
