#!/usr/bin/env bash
# Run redis-server on loopback in the foreground, without persistence.
#   usage: scripts/test-servers/redis.sh [PORT]    (default port 6379)
set -euo pipefail
port=${1:-6379}
command -v redis-server >/dev/null || { echo "redis-server is not installed: run ./setup.sh --test" >&2; exit 1; }
state=$(mktemp -d)
echo "redis at redis://127.0.0.1:$port" >&2
redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$state" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$state"' EXIT INT TERM
wait $pid
