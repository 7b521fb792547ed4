#!/usr/bin/env bash
# Runs the FetchCount composition over the documents of ../wordcount/docs (or the
# files given as arguments): writes one file:// URI item per document, named
# after it, and prints the outputs of `pappus run` as JSON. Extra `pappus run`
# flags go in PAPPUS_RUN_FLAGS (e.g. "--timings").
#   usage: examples/wasi-mix/run.sh [FILE...]
# Needs ./setup.sh to have run once (the guest toolchain and the example guests).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ $# -eq 0 ]; then set -- "$root"/examples/wordcount/docs/*; fi

bash "$root/examples/functions/build.sh"
bash "$root/examples/wordfreq-c/build.sh" >/dev/null

inputs="$(mktemp)"
trap 'rm -f "$inputs"' EXIT
{
    printf '{"Uris": ['
    sep=""
    for file in "$@"; do
        path="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
        # JSON strings: the paths of this example have no quotes or backslashes.
        case "$path" in *'"'*|*'\'*) echo "unsupported path: $path" >&2; exit 1 ;; esac
        printf '%s{"name": "%s", "data": "file://%s"}' "$sep" "$(basename "$path")" "$path"
        sep=", "
    done
    printf ']}\n'
} >"$inputs"

cd "$root"
# shellcheck disable=SC2086 # PAPPUS_RUN_FLAGS is a list of flags
cargo run -q --bin pappus -- run examples/wasi-mix/wasi-mix.pap --inputs "$inputs" ${PAPPUS_RUN_FLAGS:-}
