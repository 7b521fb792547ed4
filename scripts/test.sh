#!/usr/bin/env bash
# The project's test command: installs what is missing, test servers included
# (./setup.sh --test), then runs formatting, lints, every crate's tests and the
# docs build.
set -euo pipefail
cd "$(dirname "$0")/.."

./setup.sh --test

cargo fmt --all -- --check
# The guest crates live outside the workspace (they build for wasm32).
for guest in sdk examples/functions examples/wordlen-rust; do
    cargo fmt --manifest-path "$guest/Cargo.toml" -- --check
done
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
