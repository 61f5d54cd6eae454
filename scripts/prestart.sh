#!/bin/sh
# Container entrypoint (also run outside Docker by scripts/check_dockerfile_steps.sh):
# wait for the database, bring its schema to head, then serve with several workers.
set -eu

python -m app wait-for-db --seconds "${DB_WAIT_SECONDS:-60}"
python -m app migrate

if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    # Multiprocess metrics live in files per worker pid; stale files from a previous run
    # would be summed into the new one.
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi

exec uvicorn app.main:app \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --workers "${WORKERS:-4}" \
    --proxy-headers \
    --forwarded-allow-ips="${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
    --no-access-log
