# possync: the wheel in a virtualenv on a slim Python, run as a non-root user.
#   docker build -t possync .                      (pip downloads the dependencies)
#   pip wheel . -w wheels/ && docker build -t possync .   (offline: wheels/ is used as is)
# Configuration comes only from the environment (POSSYNC_*) and from secret files in
# /run/secrets (one file per setting, named like the variable: possync_database_url).
ARG BASE=python:3.12-slim

FROM ${BASE} AS build
COPY . /src
# Build the wheels unless the context brings them (air-gapped builds), then install the wheel,
# never the source tree, into a virtualenv that the next stage copies whole.
RUN python3 -m venv /opt/possync \
 && if ! ls /src/wheels/possync-*.whl >/dev/null 2>&1; then \
        /opt/possync/bin/pip wheel --no-cache-dir --wheel-dir /src/wheels /src; \
    fi \
 && /opt/possync/bin/pip install --no-cache-dir --no-index --find-links /src/wheels possync \
 && /opt/possync/bin/pip uninstall --yes pip \
 && /opt/possync/bin/possync --version

FROM ${BASE}
# A fixed numeric id, so orchestrators can check runAsNonRoot and secret files can be chowned.
RUN groupadd --gid 10001 possync \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/possync --create-home \
        --shell /usr/sbin/nologin possync
COPY --from=build /opt/possync /opt/possync
ENV PATH=/opt/possync/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    POSSYNC_DATA_DIR=/var/lib/possync \
    HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
USER 10001:10001
# No .env here: settings come from the environment and /run/secrets only.
WORKDIR /var/lib/possync
EXPOSE 8080
# /healthz answers 200 when the database is up and migrated and serve's worker and scheduler
# beat, 503 otherwise ("down" or "degraded"); urllib raises on 503.
# Serving on another port? Set HEALTHCHECK_URL to match.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]
ENTRYPOINT ["possync"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
