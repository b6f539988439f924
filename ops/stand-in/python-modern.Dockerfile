# vikander-stand-in/python:3.11, for python:3.11-slim-bookworm: Debian's
# CPython 3.11 with pip, installing where the official image lets it.
FROM vikander-stand-in/debian:12
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-pip python-is-python3 >/dev/null \
 && rm -rf /var/lib/apt/lists/* /usr/lib/python3*/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip
CMD ["python3"]
