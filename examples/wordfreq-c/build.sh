#!/usr/bin/env bash
# Builds wordfreq.wasm (the WASI function) and, for comparison, the native
# `wordfreq` from the same source. Needs clang, lld and Debian's wasi-libc and
# libclang-rt-dev-wasm32 (installed by the repository's setup script).
set -euo pipefail
cd "$(dirname "$0")"
# Only when the source is newer, and through a temporary file renamed into
# place: a program already running (or a module being read) keeps its old copy.
if [ ! -f wordfreq.wasm ] || [ wordfreq.c -nt wordfreq.wasm ]; then
    clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-all -o wordfreq.wasm.tmp.$$ wordfreq.c
    mv wordfreq.wasm.tmp.$$ wordfreq.wasm
fi
if [ ! -f wordfreq ] || [ wordfreq.c -nt wordfreq ]; then
    cc -O2 -o wordfreq.tmp.$$ wordfreq.c
    mv wordfreq.tmp.$$ wordfreq
fi
echo "built $(pwd)/wordfreq.wasm and the native $(pwd)/wordfreq"
