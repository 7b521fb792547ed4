#!/usr/bin/env bash
# Serve a directory with nginx on loopback, in the foreground, with WebDAV PUT
# and DELETE (the same set-up the pappus-io tests use).
#   usage: scripts/test-servers/nginx.sh ROOT [PORT]    (default port 8080)
# Stop with Ctrl-C. State (config, logs, temp files) lives in a temp directory.
set -euo pipefail
root=$(realpath "${1:?usage: nginx.sh ROOT [PORT]}")
port=${2:-8080}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx is not installed: run ./setup.sh --test" >&2; exit 1; }
state=$(mktemp -d)
mkdir -p "$state/tmp" "$state/logs" "$root"
user=""
[ "$(id -u)" = 0 ] && user="user root;"
cat > "$state/nginx.conf" <<CONF
$user
daemon off;
master_process off;
worker_processes 1;
pid $state/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $state/tmp/body;
    proxy_temp_path $state/tmp/proxy;
    fastcgi_temp_path $state/tmp/fastcgi;
    uwsgi_temp_path $state/tmp/uwsgi;
    scgi_temp_path $state/tmp/scgi;
    client_max_body_size 0;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $root;
        location / {
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }
    }
}
CONF
echo "serving $root at http://127.0.0.1:$port/" >&2
"$nginx" -p "$state" -e stderr -c "$state/nginx.conf" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$state"' EXIT INT TERM
wait $pid
