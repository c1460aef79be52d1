# The front door of docker-compose.yml: Debian's nginx with the brotli filter and static modules (the
# official nginx image has no brotli), configured by deploy/nginx.conf. The same packages and the same
# configuration are run and checked without docker by deploy/nginx_local.py.
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx libnginx-mod-http-brotli-filter \
      libnginx-mod-http-brotli-static wget \
 && rm -rf /var/lib/apt/lists/* \
 && ln -sf /dev/stderr /var/log/nginx/error.log \
 && mkdir -p /var/cache/nginx

STOPSIGNAL SIGQUIT
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
