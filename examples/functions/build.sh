#!/usr/bin/env bash
# Builds the example guest functions into examples/functions/wasm/<name>.wasm with
# the guest toolchain (Debian's rustc/cargo 1.96 building std from source for
# wasm32, see docs/toolchain.md, and clang/lld for the C one). Idempotent: cargo
# and the timestamp checks below make a run with nothing to do take about a second.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
out="$here/wasm"
functions=(identity upper split_words count concat merge matmul matmul_aat noop trap spin grow liar compress access fan_out render stray_output missing_input panics peek)

missing=()
case "$(/usr/bin/rustc --version 2>/dev/null)" in
    "rustc 1."9[6-9]*|"rustc 1."[1-9][0-9][0-9]*) ;;
    *) missing+=("/usr/bin/rustc 1.96 or newer (rustc-web)") ;;
esac
[ -x /usr/bin/cargo ] || missing+=("/usr/bin/cargo (cargo-web)")
[ -f /usr/lib/rustlib/src/rust/library/std/Cargo.toml ] || missing+=("the standard library's source (rust-web-src)")
command -v clang >/dev/null 2>&1 || missing+=("clang")
command -v wasm-ld >/dev/null 2>&1 || missing+=("wasm-ld (lld)")
if [ ${#missing[@]} -ne 0 ]; then
    echo "error: the guest toolchain is missing: ${missing[*]}" >&2
    echo "       run ./setup.sh at the repository root to install it." >&2
    exit 1
fi

mkdir -p "$out"

# Rust functions: one package, one cdylib example target per function.
# scripts/guest-env.sh sets up Debian's cargo and rustc for the target (rustup's
# come first on PATH). The host build's CARGO_TARGET_DIR (if any) is not meant for
# guests: keep their artifacts beside them, where the copy below looks.
(
    cd "$here"
    CARGO_TARGET_DIR="$here/target" "$root/scripts/guest-env.sh" wasm32-unknown-unknown \
        /usr/bin/cargo build --quiet --release --examples
)
built="$here/target/wasm32-unknown-unknown/release/examples"
for f in "${functions[@]}"; do
    if ! cmp -s "$built/$f.wasm" "$out/$f.wasm"; then
        cp "$built/$f.wasm" "$out/$f.wasm.tmp.$$"
        mv "$out/$f.wasm.tmp.$$" "$out/$f.wasm"
    fi
done

# C function: --allow-undefined turns the undefined host function into an import.
c_src="$here/imports_something.c"
c_out="$out/imports_something.wasm"
header="$root/sdk/include/pappus.h"
if [ ! -f "$c_out" ] || [ "$c_src" -nt "$c_out" ] || [ "$header" -nt "$c_out" ]; then
    clang --target=wasm32 -O2 -nostdlib -ffreestanding -I "$root/sdk/include" \
        -Wl,--no-entry -Wl,--strip-all -Wl,--allow-undefined \
        -o "$c_out.tmp.$$" "$c_src"
    mv "$c_out.tmp.$$" "$c_out"
fi
