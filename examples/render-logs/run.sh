#!/usr/bin/env bash
# Renders one user's log page with the RenderLogs composition: starts nginx on a
# free loopback port serving www/ (the auth service's answers under /auth/ and
# the log shards under /logs/), runs `pappus run`, writes the page, stops nginx.
#   usage: examples/render-logs/run.sh [TOKEN [OUT_DIR]]
#          TOKEN defaults to alice-7f3a (try bob-19c2, or an unknown one);
#          the page is written to OUT_DIR/Page/index.html (default render-logs-out).
# Needs ./setup.sh --test to have run once (nginx-light and the guest toolchain).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
token=${1:-alice-7f3a}
out=${2:-render-logs-out}

bash "$root/examples/functions/build.sh"
(cd "$root" && cargo build -q --bin pappus)
pappus="${CARGO_TARGET_DIR:-$root/target}/debug/pappus"

# A free loopback port: the first one in the range nobody answers on.
port=""
for candidate in $(seq 18080 18180); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        port=$candidate
        break
    fi
done
[ -n "$port" ] || { echo "no free port in 18080-18180" >&2; exit 1; }

"$root/scripts/test-servers/nginx.sh" "$here/www" "$port" 2>/dev/null &
nginx=$!
trap 'kill $nginx 2>/dev/null; wait $nginx 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done

request=$(printf 'server: http://127.0.0.1:%s\ntoken: %s\n' "$port" "$token")
"$pappus" run "$here/render-logs.pap" --input "Request=$request" --out-dir "$out" --timings >/dev/null
echo "page: $out/Page/index.html"
grep -o '<p>[^<]*</p>\|<h1>[^<]*</h1>' "$out/Page/index.html" | sed 's/<[^>]*>//g'
