#!/usr/bin/env bash
# Run the Dockerfile's build and start-up steps outside Docker (no Docker on the CI host):
#   1. builder stage: a fresh venv, `pip install --no-deps -r requirements.txt`, `pip check`;
#   2. final stage: only the paths the Dockerfile COPYs, laid out the same way;
#   3. ENTRYPOINT scripts/prestart.sh: wait for the database, migrate, uvicorn with 2 workers
#      on a free loopback port (same ENV as the image: production, docs off, multiproc metrics);
#   4. /health, /ready, /metrics, /docs (404), and the HEALTHCHECK command itself;
#   5. stop the server (SIGTERM), which must exit cleanly.
# The database is a temporary SQLite file, or DATABASE_URL when set (it must be empty).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dockerfile-steps.XXXXXX")"
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        sleep 2
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; [[ -f "$WORK/server.log" ]] && tail -n 40 "$WORK/server.log" >&2; exit 1; }

DOCKERFILE="$ROOT/Dockerfile"
grep -q '^FROM python:3.11-slim AS builder' "$DOCKERFILE" || fail "builder stage missing"
grep -q '^USER app' "$DOCKERFILE" || fail "final stage must run as the non-root user"
grep -q '^ENTRYPOINT \["scripts/prestart.sh"\]' "$DOCKERFILE" || fail "entrypoint must be scripts/prestart.sh"

step "builder: venv + locked requirements (pip install --no-deps, pip check)"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$ROOT/requirements.txt" \
    2> >(grep -v "is ignored: it is neither" >&2)
"$WORK/venv/bin/pip" check

step "final stage: copy exactly what the Dockerfile COPYs"
mkdir -p "$WORK/app"
# COPY lines of the final stage that take from the build context (not --from=builder).
awk '/^FROM /{stage++} stage==2 && /^COPY / && !/--from=/ {print $2, $3}' "$DOCKERFILE" >"$WORK/copies"
[[ -s "$WORK/copies" ]] || fail "no COPY lines found in the final stage"
while read -r src dst; do
    dst="${dst#./}"
    mkdir -p "$WORK/app/$(dirname "$dst")"
    cp -R "$ROOT/$src" "$WORK/app/$dst"
done <"$WORK/copies"
find "$WORK/app" -name __pycache__ -prune -exec rm -rf {} +

PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
if [[ -n "${DATABASE_URL:-}" ]]; then
    DB_URL="$DATABASE_URL"
else
    DB_URL="sqlite:///$WORK/data/campus_safety.db"
    mkdir -p "$WORK/data"
fi

step "entrypoint: scripts/prestart.sh (wait-for-db, migrate, uvicorn --workers 2) on port $PORT"
(
    cd "$WORK/app"
    exec env -i \
        PATH="$WORK/venv/bin:/usr/bin:/bin" \
        HOME="$WORK" \
        PYTHONDONTWRITEBYTECODE=1 \
        ENVIRONMENT=production \
        DOCS_ENABLED=false \
        SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')" \
        DATABASE_URL="$DB_URL" \
        STORAGE_DIR="$WORK/data/attachments" \
        PROMETHEUS_MULTIPROC_DIR="$WORK/prometheus" \
        WEBHOOK_WORKER_INLINE=false \
        DB_WAIT_SECONDS=30 \
        HOST=127.0.0.1 \
        PORT="$PORT" \
        WORKERS=2 \
        scripts/prestart.sh
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 120); do
    curl -fsS "$BASE/health" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited during start-up"
    sleep 0.5
done

step "GET /health"
curl -fsS "$BASE/health" | grep -q '"status":"ok"' || fail "/health"
step "GET /ready (database reachable, migrations at head)"
ready="$(curl -sS -w ' %{http_code}' "$BASE/ready")"
echo "   $ready"
[[ "$ready" == *'"status":"ok"'*' 200' ]] || fail "/ready: $ready"
step "GET /docs is off in production (404)"
code="$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/docs")"
[[ "$code" == 404 ]] || fail "/docs answered $code"
step "GET /metrics sums both workers"
for _ in $(seq 1 20); do curl -fsS "$BASE/health" >/dev/null; done
metrics="$(curl -fsS "$BASE/metrics")"
count="$(grep -E '^http_requests_total\{.*route="/health".*status="200"' <<<"$metrics" | awk '{s+=$2} END {print s+0}')"
[[ "${count%.*}" -ge 21 ]] || fail "/metrics counted $count /health requests, expected at least 21"
echo "   http_requests_total{route=\"/health\"} = $count"
pids="$(ls "$WORK/prometheus" | grep -oE '_[0-9]+\.db$' | sort -u | wc -l)"
echo "   metric files from $pids worker processes"

step "HEALTHCHECK command"
health_cmd="$(awk '/^HEALTHCHECK/{grab=1; next} grab && /CMD/{sub(/^ *CMD /, ""); print; exit}' "$DOCKERFILE")"
[[ -n "$health_cmd" ]] || fail "no HEALTHCHECK CMD"
(cd "$WORK/app" && PATH="$WORK/venv/bin:$PATH" eval "${health_cmd//8000/$PORT}") || fail "HEALTHCHECK failed"

step "stop (SIGTERM)"
kill -TERM "$SERVER_PID"
for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.25; done
if kill -0 "$SERVER_PID" 2>/dev/null; then fail "server did not stop on SIGTERM"; fi
wait "$SERVER_PID" || true
SERVER_PID=""
grep -q '"level":"error"' "$WORK/server.log" && fail "errors in the server log"
echo "OK: the Dockerfile's steps build, migrate, serve with 2 workers, answer and stop"
