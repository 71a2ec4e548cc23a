# Terril: the collector (`terril collect`), the analytics scheduler (`terril run`) and the web portal (`terril web`).
# Build: docker compose build   (see docs/deploy.md)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TERRIL_DATA_DIR=/var/lib/terril

WORKDIR /opt/terril
COPY pyproject.toml README.md ./
COPY terril ./terril
COPY collector ./collector
COPY analytics ./analytics
COPY dashboards ./dashboards
COPY firmware_sim ./firmware_sim
COPY portal ./portal
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/terril --create-home terril \
    && mkdir -p /etc/terril && chown terril: /var/lib/terril

USER terril
VOLUME ["/var/lib/terril"]
ENTRYPOINT ["terril"]
CMD ["collect"]
