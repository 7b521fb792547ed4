#!/usr/bin/env bash
# Runs the Pappus benchmark suite: every baseline, the daemon under load, every
# workload and memory, and writes benches/results/<date>-<host>.md with SVG plots.
#
#   scripts/bench.sh            # the whole suite, about ten minutes on 2 cores
#   scripts/bench.sh --quick    # a short run, under a minute
#
# Extra arguments go to `pappus-bench suite` (e.g. `--name reference`).
# Installs what is missing first (./setup.sh --bench: the guest toolchain, nginx
# for render-logs, and for the baselines runc, runsc, qemu-system-x86,
# busybox-static and a kernel image, linux-image-amd64); a baseline that still
# cannot run is reported in the report rather than failing the run. The
# container baselines need root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

./setup.sh --bench
cargo build --release --quiet -p pappus-cli --bin pappus
cargo build --release --quiet -p pappus-benches --bin pappus-bench
# Cargo's target directory: CARGO_TARGET_DIR when set (relative to the root),
# else target/ here.
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
exec "$target/release/pappus-bench" suite --repo "$root" --pappus "$target/release/pappus" "$@"
