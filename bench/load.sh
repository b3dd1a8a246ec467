#!/usr/bin/env bash
# Load: gunicorn on loopback under wrk, 30 s each on the advisory list, a download, and their baselines (the same
# bytes served as static files by the same gunicorn, through WhiteNoise).
#
#     bash bench/load.sh            (LOAD_SECONDS, LOAD_CONNECTIONS, LOAD_PORT to change the defaults)
#
# Needs the seeded bench database (bench/seed_scale.py) and wrk (installed with apt-get when missing and allowed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
SECONDS_PER_RUN=${LOAD_SECONDS:-30}
CONNECTIONS=${LOAD_CONNECTIONS:-8}
PORT=${LOAD_PORT:-8011}
WORKERS=${LOAD_WORKERS:-$(nproc)}

if ! command -v wrk >/dev/null; then
    echo "wrk is missing: installing it with apt-get (Debian package wrk)" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi

eval "$("$PYTHON" bench/load_support.py prepare)"
export DJANGO_SETTINGS_MODULE=bench.settings DJANGO_DEBUG=false DJANGO_LOG_LEVEL=WARNING
export DATABASE_URL=${FOREWARN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fw_bench}
export CELERY_BROKER_URL=${FOREWARN_BENCH_REDIS_URL:-redis://127.0.0.1:6379/11}
export FOREWARN_VAR_DIR=$PWD/var/bench

REPORTS=$(mktemp -d)
"$PYTHON" -m gunicorn config.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" --threads 4 \
    --worker-class gthread --access-logfile /dev/null --error-logfile "$REPORTS/gunicorn.log" &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null; wait $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT$STATIC_LIST_URL" && break
    sleep 0.2
done

run() {  # name url
    curl -fs -o /dev/null -H "Cookie: $SESSION_COOKIE" "http://127.0.0.1:$PORT$2"  # warm-up and check
    wrk --latency -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -H "Cookie: $SESSION_COOKIE" \
        "http://127.0.0.1:$PORT$2" > "$REPORTS/$1.txt"
    echo "$1: $(grep Requests/sec "$REPORTS/$1.txt")"
}
run list "$LIST_URL"
run static_list "$STATIC_LIST_URL"
run download "$DOWNLOAD_URL"
run static_download "$STATIC_DOWNLOAD_URL"
"$PYTHON" bench/load_support.py summary "$REPORTS"
