# The legacy stack on the CPython the post used (3.5): the Procfile's
# commands (`make run` proves them on a machine without Docker). BASE is
# the official image; ops/stand-in-images makes one from Debian's
# packages where no registry answers (docs/cluster.md).
# The full python image has gcc, which Twisted, zope.interface and
# msgpack-python need to build from their 2017 sdists.
ARG BASE=python:3.5.10-buster
FROM ${BASE}

RUN useradd --create-home --uid 1000 chat
WORKDIR /app

COPY requirements/bootstrap.txt requirements/
COPY requirements-legacy.txt ./
RUN pip install -q -r requirements/bootstrap.txt \
 && pip install -q --no-deps -r requirements-legacy.txt \
 && pip check

# What runs, and nothing else: no tests, no docs, no modern port.
COPY manage.py Procfile ./
COPY vikander vikander/
COPY chat chat/
COPY templates templates/
COPY static static/
COPY ops/respawn ops/healthcheck ops/
# The cluster's settings and sharded layer (docker-compose.yml).
COPY lab/__init__.py lab/
COPY lab/variants/__init__.py lab/variants/cluster.py lab/variants/
COPY lab/layers/__init__.py lab/layers/sharded.py lab/layers/
# collectstatic fills STATIC_ROOT, the volume the proxy serves.
RUN mkdir -p var static-collected && chown chat var static-collected
USER chat

# Production mode unless DEBUG=1 is given: the settings then refuse to start
# without SECRET_KEY, which only the environment supplies (never the image).
ENV DEBUG=0 STATIC_ROOT=/app/static-collected PORT=8001 BIND=0.0.0.0 \
    REDIS_URL=redis://redis:6379 PYTHONUNBUFFERED=1
EXPOSE 8001
HEALTHCHECK --interval=5s --timeout=6s --start-period=20s CMD ["python", "ops/healthcheck"]
CMD ["honcho", "start", "-f", "Procfile", "web"]
