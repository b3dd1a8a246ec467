#!/usr/bin/env bash
# Load: gunicorn on loopback under wrk, 30 s each on the advisory list, a download, and their baselines (the same
# bytes served as static files by the same gunicorn, through WhiteNoise).
#
#     bash bench/load.sh            (LOAD_SECONDS, LOAD_CONNECTIONS, LOAD_PORT, LOAD_WORKERS change the defaults)
#     bash bench/load.sh --smoke    (1 s each, 1 worker, 2 connections, on the --smoke seed, for CI)
#
# Needs the seeded bench database (bench/seed_scale.py) and wrk (installed with apt-get when missing and allowed).
# Every URL is checked before and after its run to be the page itself (status 200 and a marker of its content),
# and wrk counts every response other than 200 (bench/load_status.lua): a redirect or an error exits with status 2.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
SECONDS_PER_RUN=${LOAD_SECONDS:-30}
CONNECTIONS=${LOAD_CONNECTIONS:-8}
PORT=${LOAD_PORT:-8011}
WORKERS=${LOAD_WORKERS:-$(nproc)}
if [ "${1:-}" = "--smoke" ]; then
    SECONDS_PER_RUN=1
    WORKERS=1
    CONNECTIONS=2
fi

if ! command -v wrk >/dev/null; then
    echo "wrk is missing: installing it with apt-get (Debian package wrk)" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi

# An assignment, not eval "$(...)": a failed preparation (exit 2: not the real pages) stops the script here.
ASSIGNMENTS=$("$PYTHON" bench/load_support.py prepare)
eval "$ASSIGNMENTS"
export DJANGO_SETTINGS_MODULE=bench.settings DJANGO_DEBUG=false DJANGO_LOG_LEVEL=WARNING
export DATABASE_URL=${FOREWARN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fw_bench}
export CELERY_BROKER_URL=${FOREWARN_BENCH_REDIS_URL:-redis://127.0.0.1:6379/11}
export FOREWARN_VAR_DIR=${FOREWARN_BENCH_VAR_DIR:-$PWD/var/bench}

REPORTS=$(mktemp -d)
"$PYTHON" -m gunicorn config.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" --threads 4 \
    --worker-class gthread --access-logfile /dev/null --error-logfile "$REPORTS/gunicorn.log" &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null; wait $GUNICORN 2>/dev/null || true; rm -rf "$REPORTS"' EXIT
for _ in $(seq 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT$STATIC_LIST_URL" && break
    sleep 0.2
done

check() {  # url marker: the page itself, not a redirect or an error page
    local status
    status=$(curl -s -o "$REPORTS/body" -w '%{http_code}' -H "Cookie: $SESSION_COOKIE" "http://127.0.0.1:$PORT$1")
    if [ "$status" != 200 ] || ! grep -qF "$2" "$REPORTS/body"; then
        echo "bench: cannot measure: $1 answered $status without \"$2\", not the page" >&2
        exit 2
    fi
}

run() {  # name url marker
    check "$2" "$3"  # also the warm-up
    # A slow answer on a busy machine is still an answer: wrk's 2 s timeout would count it as an error.
    wrk --latency --timeout 10s -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s bench/load_status.lua \
        -H "Cookie: $SESSION_COOKIE" "http://127.0.0.1:$PORT$2" > "$REPORTS/$1.txt"
    check "$2" "$3"
    echo "$1: $(grep Requests/sec "$REPORTS/$1.txt")"
}
run list "$LIST_URL" "$LIST_MARKER"
run static_list "$STATIC_LIST_URL" "$LIST_MARKER"
run download "$DOWNLOAD_URL" "$DOWNLOAD_MARKER"
run static_download "$STATIC_DOWNLOAD_URL" "$DOWNLOAD_MARKER"
status=0
"$PYTHON" bench/load_support.py summary "$REPORTS" || status=$?
if [ "$status" != 0 ]; then
    tail -n 20 "$REPORTS/gunicorn.log" >&2
fi
exit "$status"
