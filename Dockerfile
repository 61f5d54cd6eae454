# syntax=docker/dockerfile:1
# Campus-safety API. Two stages: the builder resolves the locked dependencies into a venv;
# the final image holds that venv and the code, runs as a non-root user, and starts through
# scripts/prestart.sh (wait for the database, migrate, serve with several workers).
# scripts/check_dockerfile_steps.sh runs these same steps outside Docker (tests/ops).

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# Every package is pinned in requirements.txt; --no-deps refuses anything not listed there,
# and pip check proves the listed set is complete and consistent.
RUN /opt/venv/bin/pip install --no-deps -r /tmp/requirements.txt \
    && /opt/venv/bin/pip check

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    DOCS_ENABLED=false \
    WORKERS=4 \
    STORAGE_DIR=/data/attachments \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data/attachments \
    && chown -R app:app /data
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY alembic.ini ./alembic.ini
COPY migrations ./migrations
COPY app ./app
COPY scripts/prestart.sh ./scripts/prestart.sh
USER app
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3).status != 200)"
ENTRYPOINT ["scripts/prestart.sh"]
