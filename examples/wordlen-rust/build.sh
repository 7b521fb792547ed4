#!/usr/bin/env bash
# Builds wordlen.wasm beside this file from src/main.rs: Rust std for
# wasm32-wasip1 with the guest toolchain (Debian's Rust 1.96 building std from
# source, see docs/toolchain.md; the first build takes about a minute, later ones
# about a second). Fetches the `unicode-segmentation` crate from crates.io once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
# A host build's CARGO_TARGET_DIR is not meant for guests: keep the artifacts here.
(
    cd "$here"
    CARGO_TARGET_DIR="$here/target" "$root/scripts/guest-env.sh" wasm32-wasip1 \
        /usr/bin/cargo build --quiet --release
)
built="$here/target/wasm32-wasip1/release/wordlen.wasm"
if ! cmp -s "$built" "$here/wordlen.wasm"; then
    cp "$built" "$here/wordlen.wasm.tmp.$$"
    mv "$here/wordlen.wasm.tmp.$$" "$here/wordlen.wasm"
fi
