#!/usr/bin/env bash
# Builds peek.wasm (the WASI function reading its static sets) from peek.c.
# Needs clang, lld and Debian's wasi-libc and libclang-rt-dev-wasm32 (installed
# by the repository's setup script).
set -euo pipefail
cd "$(dirname "$0")"
# Only when the source is newer, and through a temporary file renamed into place.
if [ ! -f peek.wasm ] || [ peek.c -nt peek.wasm ]; then
    clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-all -o peek.wasm.tmp.$$ peek.c
    mv peek.wasm.tmp.$$ peek.wasm
fi
echo "built $(pwd)/peek.wasm"
