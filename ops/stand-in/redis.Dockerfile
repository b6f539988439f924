# vikander-stand-in/redis:7, for the official redis images: Debian's.
FROM vikander-stand-in/debian:12
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    redis-server >/dev/null \
 && rm -rf /var/lib/apt/lists/*
USER redis
CMD ["redis-server", "--protected-mode", "no"]
