# The cluster's front (docker-compose.yml, modern/docker-compose.yml):
# ops/proxy, as `make run-production` runs it, on an nginx image, with
# openssl for the certificate it makes at its first start.
ARG NGINX_IMAGE=nginx:1.24.0
FROM ${NGINX_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    openssl >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY ops/proxy ops/nginx.conf /ops/
ENV PROXY_DIR=/var/cache/proxy BIND=0.0.0.0 PROXY_PORT=8443 \
    STATIC_ROOT=/srv/static UPSTREAM=web:8001
EXPOSE 8443
CMD ["/ops/proxy"]
