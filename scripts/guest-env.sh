#!/usr/bin/env bash
# The guest build environment, in one place: the variables that make Debian's
# cargo (/usr/bin/cargo, Rust 1.96 from `cargo-web`) build a guest crate, standard
# library included (`-Zbuild-std` from `rust-web-src`), for one wasm target and link
# it with Debian's wasm-ld. docs/toolchain.md lists the same values.
#
#   scripts/guest-env.sh TARGET             # prints them as shell `export` lines
#   eval "$(scripts/guest-env.sh TARGET)"   # sets them in this shell
#   scripts/guest-env.sh TARGET CMD ARG...  # runs CMD with them set
#
# TARGET: wasm32-unknown-unknown (ABI v1 guests: no imports) or wasm32-wasip1
# (WASI programs, linked against Debian's wasi-libc). With the variables set,
# `/usr/bin/cargo build --release` builds for TARGET; call cargo by full path,
# since rustup's comes first on PATH and has no std source for these targets.
#
# `pappus build` runs this very file, embedded in the `pappus` binary (cli/build.rs)
# and run as `bash -c`: keep it self-contained (no other file sourced, no use of
# its own path beyond `usage`).
set -euo pipefail

usage() { sed -n '7,9p' "$0" | sed 's/^# *//' >&2; }

if [ $# -lt 1 ]; then usage; exit 2; fi
target="$1"
shift

# The Debian rustc (rustup's proxy comes first on PATH); RUSTC_BOOTSTRAP lets this
# stable toolchain take -Zbuild-std, which cargo also reads as CARGO_UNSTABLE_BUILD_STD.
vars=(
  "RUSTC=/usr/bin/rustc"
  "RUSTC_BOOTSTRAP=1"
  "CARGO_BUILD_TARGET=$target"
  "CARGO_UNSTABLE_BUILD_STD=std,panic_abort"
)
wasi_sysroot=/usr/lib/wasm32-wasi
case "$target" in
  wasm32-unknown-unknown)
    # rust-lld is not shipped with Debian's rustc: link with lld's wasm-ld.
    vars+=("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld")
    ;;
  wasm32-wasip1)
    # Link against Debian's wasi-libc rather than a self-contained copy rustc does
    # not ship; crt1-command.o provides `_start`.
    vars+=(
      "CARGO_TARGET_WASM32_WASIP1_LINKER=wasm-ld"
      "CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS=-C link-self-contained=no -L $wasi_sysroot -C link-arg=$wasi_sysroot/crt1-command.o"
    )
    ;;
  -h|--help) usage; exit 0 ;;
  *) echo "guest-env.sh: unknown target $target (wasm32-unknown-unknown or wasm32-wasip1)" >&2; exit 2 ;;
esac

# A host build's RUSTFLAGS would replace the target's flags above (and the guest
# crate's own .cargo/config.toml ones): guests never take them.
if [ $# -eq 0 ]; then
  echo "unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS"
  for v in "${vars[@]}"; do
    printf 'export %s=%q\n' "${v%%=*}" "${v#*=}"
  done
else
  unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
  exec env "${vars[@]}" "$@"
fi
