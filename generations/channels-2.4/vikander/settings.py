"""
Django settings for vikander on Channels 2.4.0 (Django 2.2 LTS).
The same values as the legacy settings, read from the same environment
variables (docs/deviations.md, C8 and C13).
"""
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The repository root: every generation uses its templates/, static/ and
# var/, so none copies a front-end file and all share one database.
REPO_ROOT = os.path.dirname(os.path.dirname(BASE_DIR))

# No channel sessions to sign any more, but every daphne process serving the
# site must still verify what the others signed (sessions), so the key stays
# one fixed value, never generated per process.
DEBUG = os.environ.get('DEBUG', '1') == '1'

SECRET_KEY = os.environ.get('SECRET_KEY', 'vikander-development-key-not-for-production' if DEBUG else '')
if not SECRET_KEY:
    raise ImproperlyConfigured('DEBUG=0 is production mode: set SECRET_KEY in the environment.')

ALLOWED_HOSTS = os.environ.get('ALLOWED_HOSTS', '127.0.0.1,localhost').split(',')

INSTALLED_APPS = [
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
ASGI_APPLICATION = 'vikander.routing.application'

# One SQLite file for every generation: each `make run CHANNELS=...` sees
# the same rooms and messages.
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
USE_TZ = True

# Production mode assumes HTTPS in front of daphne (a proxy that sets
# X-Forwarded-Proto), so `manage.py check --deploy` has nothing to report.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Off by default in Django 2.2, as in 1.11: Django 3.0 turned nosniff on
    # and dropped the XSS filter's check (security.W007).
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_BROWSER_XSS_FILTER = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = 'DENY'

STATIC_URL = '/static/'
STATICFILES_DIRS = [os.path.join(REPO_ROOT, 'static')]
# Where `collectstatic` gathers them for the web server in front of daphne;
# Django 2.2's admin files differ from 1.11's, so not the legacy folder.
STATIC_ROOT = os.environ.get('STATIC_ROOT', os.path.join(REPO_ROOT, 'var', 'static-channels-2.4'))

# Channels 2 keeps only groups and channel messages in Redis: the
# consumers run inside daphne, so there is no ROUTING here and no runworker.
CHANNEL_LAYERS = {
    "default": {
        # channels_redis's layer, saying whose message a full channel loses.
        "BACKEND": "vikander.layers.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get('REDIS_URL', 'redis://localhost:6379')],
        },
    },
}
# The consumers' log.debug lines ("chat connect room=...") print as in the
# legacy worker log: the chat logger at DEBUG in development, message only;
# production logs INFO and up (LOG_LEVEL overrides). A group send that skips
# a daphne's full channel loses the message for each of its members:
# vikander/layers.py says so at WARNING, members counted.
LOG_LEVEL = os.environ.get('LOG_LEVEL', 'DEBUG' if DEBUG else 'INFO')
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {
        'bare': {'format': '%(message)s'},
        'levelled': {'format': '%(levelname)s %(name)s %(message)s'},
    },
    'filters': {'members_lost': {'()': 'vikander.layers.MembersLost'}},
    'handlers': {
        'console': {'class': 'logging.StreamHandler', 'formatter': 'bare'},
        'losses': {'class': 'logging.StreamHandler', 'formatter': 'levelled', 'filters': ['members_lost']},
    },
    'loggers': {
        'chat': {'handlers': ['console'], 'level': LOG_LEVEL, 'propagate': False},
        'channels_redis': {'handlers': ['losses'], 'level': 'INFO', 'propagate': False},
    },
}
