# vikander-stand-in/nginx:1.22, for the official nginx images: Debian's.
FROM vikander-stand-in/debian:12
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nginx-light >/dev/null \
 && rm -rf /var/lib/apt/lists/*
CMD ["nginx", "-g", "daemon off;"]
