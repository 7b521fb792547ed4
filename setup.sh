#!/usr/bin/env bash
# Installs everything Pappus needs beyond the Rust toolchain, idempotently:
#   - the guest toolchain (Debian's rustc/cargo with the wasm32 standard library,
#     clang and lld for C guests), see docs/toolchain.md;
#   - the servers the tests start on loopback: nginx (with WebDAV), Redis, and
#     Garage (an S3-compatible object store, built once into a cache directory);
#   - the baselines the benchmarks compare against: runc, gVisor (runsc), QEMU
#     with a distribution kernel for the microVM baseline;
# then builds the example guest functions.
#
# Usage: ./setup.sh [--no-garage] [--no-bench-tools]
# Environment: PAPPUS_CACHE (default: $HOME/.cache/pappus) holds the Garage build.
set -euo pipefail
cd "$(dirname "$0")"

want_garage=1
want_bench_tools=1
for arg in "$@"; do
  case "$arg" in
    --no-garage) want_garage=0 ;;
    --no-bench-tools) want_bench_tools=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

cache="${PAPPUS_CACHE:-$HOME/.cache/pappus}"
garage_version="2.5.0"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

packages=(rustc cargo libstd-rust-dev-wasm32 clang lld nginx-light redis-server)
if [ "$want_bench_tools" = 1 ]; then
  packages+=(runc runsc qemu-system-x86 busybox-static linux-image-amd64)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present"
fi

# Garage: no Debian package, so build it once with cargo into the cache.
if [ "$want_garage" = 1 ]; then
  garage_bin="$cache/garage/bin/garage"
  if [ -x "$garage_bin" ] && "$garage_bin" --version 2>/dev/null | grep -q "$garage_version"; then
    echo "setup: garage $garage_version present"
  else
    echo "setup: building garage $garage_version (once per machine, about 20 minutes on 2 cores)"
    mkdir -p "$cache/garage"
    cargo install --locked "garage@$garage_version" --root "$cache/garage" \
      --target-dir "$cache/garage-build"
  fi
fi

examples/functions/build.sh
echo "setup: done"
