#!/usr/bin/env bash
# The project's test command: installs what is missing (./setup.sh), then runs
# formatting, lints, every crate's tests and the docs build.
set -euo pipefail
cd "$(dirname "$0")/.."

./setup.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
