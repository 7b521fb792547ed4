#!/usr/bin/env bash
# Builds wordfreq.wasm (the WASI function) and, for comparison, the native
# `wordfreq` from the same source. Needs clang, lld and Debian's wasi-libc and
# libclang-rt-dev-wasm32 (installed by the repository's setup script).
set -euo pipefail
cd "$(dirname "$0")"
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-all -o wordfreq.wasm wordfreq.c
cc -O2 -o wordfreq wordfreq.c
echo "built $(pwd)/wordfreq.wasm and the native $(pwd)/wordfreq"
