#!/usr/bin/env bash
# Builds wordfreq.wasm (the WASI function) from wordfreq.cpp with clang++ and
# Debian's libc++ for wasm32 (libc++-dev-wasm32, libc++abi-dev-wasm32, installed
# by the repository's setup script). C++ exceptions are not supported on this
# target: code that throws does not link, so the program is built with
# -fno-exceptions. Idempotent: nothing happens when the module is up to date.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f wordfreq.wasm ] || [ wordfreq.cpp -nt wordfreq.wasm ]; then
    clang++ --target=wasm32-wasi --sysroot=/usr -std=c++17 -O2 -fno-exceptions \
        -Wl,--strip-all -o wordfreq.wasm.tmp.$$ wordfreq.cpp
    mv wordfreq.wasm.tmp.$$ wordfreq.wasm
fi
