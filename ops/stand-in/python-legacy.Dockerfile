# vikander-stand-in/python:3.x, for python:3.5.10-buster: the machine's own
# CPython build (the context ops/stand-in-images prepares) in /usr/local,
# as the official image has it.
FROM vikander-stand-in/debian:12
ARG LIBRARIES
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $LIBRARIES gcc libc6-dev make >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY . /usr/local/
RUN echo /usr/local/lib > /etc/ld.so.conf.d/python.conf && ldconfig \
 && python3 -m ensurepip --default-pip >/dev/null \
 && ln -sf python3 /usr/local/bin/python && python -c 'import ssl, sqlite3, ctypes, pip'
CMD ["python3"]
