#!/usr/bin/env bash
# Installs what Pappus needs beyond the host's Rust toolchain, idempotently, then
# builds the example guest functions.
#
#   ./setup.sh           the guest toolchains, all that building and running
#                        compositions needs (docs/toolchain.md): Debian's Rust 1.96
#                        (rustc-web, cargo-web, rust-web-src) for Rust guests, clang,
#                        lld and wasi-libc (with compiler-rt and libc++) for C/C++ ones
#   ./setup.sh --test    also the servers the tests start on loopback: nginx (with
#                        WebDAV), Redis, and Garage (an S3-compatible object store,
#                        built once into a cache directory, about 20 minutes)
#   ./setup.sh --bench   also the benchmarks' baselines: runc, gVisor (runsc), QEMU
#                        with busybox and a distribution kernel, and nginx for the
#                        render-logs workload (scripts/bench.sh passes this)
#   --no-garage          with --test: skip Garage (the S3 tests then fail)
#
# Environment: PAPPUS_CACHE (default: $HOME/.cache/pappus) holds the Garage build.
set -euo pipefail
cd "$(dirname "$0")"

want_test=0
want_garage=1
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    --no-garage) want_garage=0 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

cache="${PAPPUS_CACHE:-$HOME/.cache/pappus}"
garage_version="2.5.0"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

# Installing rustc-web removes Debian's rustc/cargo 1.63 (they conflict); the
# libc++abi package has no version-less name in Debian 12, so it follows clang 14.
packages=(rustc-web cargo-web rust-web-src clang lld
  wasi-libc libclang-rt-dev-wasm32 libc++-dev-wasm32 libc++abi-14-dev-wasm32)
if [ "$want_test" = 1 ]; then
  packages+=(nginx-light redis-server)
fi
if [ "$want_bench" = 1 ]; then
  packages+=(nginx-light runc runsc qemu-system-x86 busybox-static linux-image-amd64)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # Duplicates (nginx-light with --test --bench) are harmless to apt.
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present"
fi

# Garage: no Debian package, so build it once with cargo into the cache.
if [ "$want_test" = 1 ] && [ "$want_garage" = 1 ]; then
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

if [ ! -f examples/functions/wasm/noop.wasm ]; then
  echo "setup: building the example guests (the first build compiles Rust's std for wasm32, about a minute)"
fi
examples/functions/build.sh
# The WASI examples (C, C++ and Rust std programs), each built by its own script.
for build in examples/wordfreq-c/build.sh examples/wordfreq-cpp/build.sh examples/wordlen-rust/build.sh; do
  "$build" >/dev/null
done
echo "setup: done"
