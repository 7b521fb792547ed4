//! The guests built from `examples/functions/src/kernels/` compute, in the sandbox,
//! exactly what the same kernels compiled natively compute. The wasm32 build
//! vectorises and inlines differently (SIMD in the matmuls, hints in `compress`),
//! so sizes that leave a remainder after a block or a word are covered here.

use pappus_benches::compute::Sandboxed;
use pappus_benches::{kernels, workloads};
use pappus_isolation::{Config, Runtime};
use pappus_testkit::wasm;

/// The guest `function`'s one output for `input`, run in a fresh sandbox.
fn run_guest(rt: &Runtime, function: &str, input: &[u8]) -> Vec<u8> {
    Sandboxed::new(rt, function, &wasm(function), input.to_vec())
        .and_then(|guest| guest.call())
        .expect("the guest runs")
}

/// An encoded `n x n` matrix whose products wrap around.
fn wrapping_matrix(n: u64) -> Vec<u8> {
    std::iter::once(n)
        .chain((0..n * n).map(|i| (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        .flat_map(u64::to_le_bytes)
        .collect()
}

/// Also covers the guests' zeroed buffers (`alloc_zeroed`, not written by the
/// guest): `A·A` accumulates into its output matrix, which must start as zeroes.
/// From 65 up it lies in pages the guest grew, and the pool recycles memories
/// between the calls.
#[test]
fn matmul_guests_match_the_native_kernels_at_odd_and_even_sizes() {
    let rt = Runtime::new(Config::new().pool_size(2)).expect("runtime");
    for n in [1, 2, 3, 4, 5, 8, 17, 33, 65, 128, 65] {
        let input = wrapping_matrix(n);
        let expected = kernels::matmul_aat(&input).expect("well formed");
        assert_eq!(
            run_guest(&rt, "matmul_aat", &input),
            expected,
            "A·Aᵀ, n = {n}"
        );
        let expected = kernels::matmul(&input).expect("well formed");
        assert_eq!(run_guest(&rt, "matmul", &input), expected, "A·A, n = {n}");
    }
}

#[test]
fn the_compress_guest_matches_the_native_kernel() {
    let rt = Runtime::new(Config::new().pool_size(2)).expect("runtime");
    let mut inputs = vec![
        Vec::new(),
        b"abcd".to_vec(),
        vec![b'x'; 10_001],
        workloads::log_text(64 * 1024),
    ];
    // Matches ending at every offset within a word, and at the end of the data.
    for len in 4..24 {
        let run: Vec<u8> = (0..len).map(|i| b"abc"[i % 3]).collect();
        inputs.push([&run[..], b"#", &run[..]].concat());
    }
    for input in inputs {
        assert_eq!(
            run_guest(&rt, "compress", &input),
            kernels::compress(&input),
            "{} bytes",
            input.len()
        );
    }
}
