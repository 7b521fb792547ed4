#!/usr/bin/env bash
# Run a one-node Garage S3 store on loopback in the foreground, with bucket
# `pappus` and a key allowed to read and write it (the same bootstrap as the
# pappus-io tests). Prints the S3Config values to use.
#   usage: scripts/test-servers/garage.sh [S3_PORT]    (default port 3900)
# The garage binary: $PAPPUS_GARAGE, ~/.cache/pappus/garage/bin/garage or PATH.
set -euo pipefail
s3_port=${1:-3900}
rpc_port=$((s3_port + 1))
admin_port=$((s3_port + 3))
garage=${PAPPUS_GARAGE:-$HOME/.cache/pappus/garage/bin/garage}
[ -x "$garage" ] || garage=$(command -v garage || true)
[ -n "$garage" ] || { echo "garage is not installed: run ./setup.sh --test" >&2; exit 1; }
key_id=GK0123456789abcdef01234567
secret=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
region=pappus-test
state=$(mktemp -d)
cat > "$state/garage.toml" <<CONF
metadata_dir = "$state/meta"
data_dir = "$state/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$secret"

[s3_api]
s3_region = "$region"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
CONF
g() { "$garage" -c "$state/garage.toml" "$@"; }
RUST_LOG=warn "$garage" -c "$state/garage.toml" server &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$state"' EXIT INT TERM
for _ in $(seq 100); do g status >/dev/null 2>&1 && break; sleep 0.1; done
node=$(g node id -q | cut -d@ -f1)
g layout assign -z dc1 -c 1G "$node" >/dev/null
g layout apply --version 1 >/dev/null
g key import --yes -n pappus "$key_id" "$secret" >/dev/null
g bucket create pappus >/dev/null
g bucket allow --read --write pappus --key pappus >/dev/null
cat >&2 <<INFO
garage S3 at http://127.0.0.1:$s3_port (bucket pappus)
S3Config { endpoint: "http://127.0.0.1:$s3_port", region: "$region",
           access_key: "$key_id", secret_key: "$secret" }
INFO
wait $server
