# The legacy stack on the CPython the post used (3.5). The full python image
# already has gcc, which Twisted, zope.interface and msgpack-python need to
# build from their 2017 sdists. The commands are the Makefile's and the
# Procfile's, so `make run` on a machine without Docker proves them.
FROM python:3.5.10-buster

RUN useradd --create-home --uid 1000 chat
WORKDIR /app

COPY requirements-bootstrap.txt requirements-legacy.txt ./
RUN pip install -q -r requirements-bootstrap.txt \
 && pip install -q --no-deps -r requirements-legacy.txt \
 && pip check

COPY . .
# Production mode unless DEBUG=1 is given: the settings then refuse to start
# without SECRET_KEY, which only the environment supplies (never the image).
# The static files are collected here, outside the var/ volume, for the web
# server in front.
ENV DEBUG=0 STATIC_ROOT=/app/static-collected
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
 && mkdir -p var && chown chat var
USER chat

ENV PORT=8001 BIND=0.0.0.0 REDIS_URL=redis://redis:6379 PYTHONUNBUFFERED=1
EXPOSE 8001
CMD ["honcho", "start", "-f", "Procfile", "web"]
