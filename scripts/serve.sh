#!/usr/bin/env bash
# Serve Clarion: uvicorn (HTTP + WebSockets) in the foreground, Celery beat beside it.
# On the embedded default beat executes the periodic tasks itself (tasks are eager),
# so retries and recovery work without a broker or a worker; what it sends reaches open
# pages through the live feed the processes share (var/live.sqlite3). Stopping the server
# stops beat too. WebSockets are pinged every 20 s (a dead client is dropped 20 s later)
# and not compressed (half the memory per idle socket; see bench/RESULTS.md).
set -euo pipefail
host="${1:-127.0.0.1}"
port="${2:-8000}"
mkdir -p var
# Django answers only the host names it knows (ALLOWED_HOSTS, loopback by default). Serving
# on another address, follow it: every interface brings this machine's names and addresses.
if [ -z "${ALLOWED_HOSTS:-}" ]; then
  case "$host" in
    127.0.0.1|localhost|::1) ;;
    0.0.0.0|::)
      ALLOWED_HOSTS="127.0.0.1,localhost,[::1]"
      for name in $(hostname 2>/dev/null) $(hostname -f 2>/dev/null) $(hostname -I 2>/dev/null); do
        case "$name" in *:*) name="[$name]" ;; esac  # an IPv6 address, as a Host header has it
        ALLOWED_HOSTS="$ALLOWED_HOSTS,$name"
      done
      export ALLOWED_HOSTS
      echo "Answering for: $ALLOWED_HOSTS (set ALLOWED_HOSTS to choose)" ;;
    *) export ALLOWED_HOSTS="127.0.0.1,localhost,[::1],$host" ;;
  esac
fi
.venv/bin/celery -A config beat --loglevel=WARNING --pidfile= --schedule=var/celerybeat-schedule \
  > var/beat.log 2>&1 &
beat_pid=$!
trap 'kill "$beat_pid" 2>/dev/null || true' EXIT INT TERM
shown="$host"; case "$host" in 0.0.0.0|::) shown=127.0.0.1 ;; esac
echo "Clarion is serving on http://$shown:$port/  (admin: /admin/, inbox: /inbox/, API docs: /api/docs/)"
echo "E-mails land in var/outbox/; beat log in var/beat.log. Stop with Ctrl-C."
.venv/bin/uvicorn config.asgi:application --host "$host" --port "$port" --lifespan off \
  --ws-ping-interval 20 --ws-ping-timeout 20 --ws-per-message-deflate false
