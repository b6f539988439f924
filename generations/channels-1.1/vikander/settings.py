"""
Django settings for vikander on Channels 1.1.8: the replica's, which 1.1
takes unchanged but for where the shared files are. Deployment values
come from the environment (docs/deviations.md, C8 and C13).
"""
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The repository root: every generation uses its templates/, static/ and
# var/, so none copies a front-end file and all share one database.
REPO_ROOT = os.path.dirname(os.path.dirname(BASE_DIR))

# Deviation C8: every process (daphne and each runworker) signs channel
# sessions with this key, so it is one value, never generated per process.
# In production (DEBUG=0) it must come from the environment.
DEBUG = os.environ.get('DEBUG', '1') == '1'

SECRET_KEY = os.environ.get('SECRET_KEY', 'vikander-development-key-not-for-production' if DEBUG else '')
if not SECRET_KEY:
    raise ImproperlyConfigured('DEBUG=0 is production mode: set SECRET_KEY in the environment.')

ALLOWED_HOSTS = os.environ.get('ALLOWED_HOSTS', '127.0.0.1,localhost').split(',')

INSTALLED_APPS = [
    # Deviation F1: startproject's apps, which the post's block leaves out.
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'django.contrib.messages',
    'django.contrib.staticfiles',
    'channels',
    'chat',
]

MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware',
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
    'django.contrib.messages.middleware.MessageMiddleware',
    'django.middleware.clickjacking.XFrameOptionsMiddleware',
]

ROOT_URLCONF = 'vikander.urls'

TEMPLATES = [
    {
        'BACKEND': 'django.template.backends.django.DjangoTemplates',
        'DIRS': [os.path.join(REPO_ROOT, 'templates')],
        'APP_DIRS': True,
        'OPTIONS': {
            'context_processors': [
                'django.template.context_processors.debug',
                'django.template.context_processors.request',
                'django.contrib.auth.context_processors.auth',
                'django.contrib.messages.context_processors.messages',
            ],
        },
    },
]

WSGI_APPLICATION = 'vikander.wsgi.application'

# Runtime data (the SQLite file among it) lives in the ignored var/ folder.
# Deviation C18: CONN_MAX_AGE keeps a process's database connection for that
# many seconds instead of opening one per message (the cluster sets 60 for
# PostgreSQL); 0, Django's default, when unset.
DATABASES = {
    'default': dj_database_url.config(
        default='sqlite:///' + os.path.join(REPO_ROOT, 'var', 'db.sqlite3'),
        conn_max_age=int(os.environ.get('CONN_MAX_AGE', '0'))),
}

AUTH_PASSWORD_VALIDATORS = [
    {'NAME': 'django.contrib.auth.password_validation.UserAttributeSimilarityValidator'},
    {'NAME': 'django.contrib.auth.password_validation.MinimumLengthValidator'},
    {'NAME': 'django.contrib.auth.password_validation.CommonPasswordValidator'},
    {'NAME': 'django.contrib.auth.password_validation.NumericPasswordValidator'},
]

LANGUAGE_CODE = 'en-us'
TIME_ZONE = 'UTC'
USE_I18N = True
USE_L10N = True
USE_TZ = True

# Deviation C13: production mode assumes HTTPS in front of daphne (a proxy that sets
# X-Forwarded-Proto), so `manage.py check --deploy` has nothing to report.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_BROWSER_XSS_FILTER = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = 'DENY'

STATIC_URL = '/static/'
STATICFILES_DIRS = [os.path.join(REPO_ROOT, 'static')]
# Deviation C14: where `collectstatic` gathers the files that the web server
# in front of daphne serves in production (runworker serves them only in
# DEBUG).
STATIC_ROOT = os.environ.get('STATIC_ROOT', os.path.join(REPO_ROOT, 'var', 'static-channels-1.1'))

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "asgi_redis.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get('REDIS_URL', 'redis://localhost:6379')],
        },
        "ROUTING": "chat.routing.channel_routing",
    },
}
# As deviations C20 and C21 (vikander/layers.py): the same layer, saying at
# WARNING what a group send drops at capacity and what a receive finds
# expired.
CHANNEL_LAYERS["default"]["BACKEND"] = "vikander.layers.RedisChannelLayer"

# Deviation C9: the post's worker log shows the consumers' log.debug lines
# ("chat connect room=..."), so in development the chat logger prints at
# DEBUG, message only; production logs INFO and up (LOG_LEVEL overrides).
LOG_LEVEL = os.environ.get('LOG_LEVEL', 'DEBUG' if DEBUG else 'INFO')
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {'bare': {'format': '%(message)s'}},
    'handlers': {'console': {'class': 'logging.StreamHandler', 'formatter': 'bare'}},
    'loggers': {'chat': {'handlers': ['console'], 'level': LOG_LEVEL, 'propagate': False}},
}
