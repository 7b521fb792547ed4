//! The pure kernels of `matmul` (`A·A`) and `matmul_aat` (`A·Aᵀ`, Dandelion's
//! workload) over an n x n matrix of 64-bit integers with wrapping arithmetic (the
//! bits are the same whether the words are read as `u64` or as two's complement
//! `i64`). The guests (`../matmul.rs`, `../matmul_aat.rs`) and the native build used by the
//! benchmark baselines (`benches/baselines/native.rs`) both include this file, so
//! every execution mode runs the same logic. `no_std`, no allocation (callers pass
//! the buffers).
//!
//! Encoding: little-endian `u64` words: `n`, then the `n * n` entries row-major.

/// The `index`-th little-endian `u64` word of `bytes` (`bytes` must hold it).
pub fn word(bytes: &[u8], index: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[index * 8..index * 8 + 8]);
    u64::from_le_bytes(b)
}

/// The dimension `n` of an encoded matrix, or `None` when `bytes` is not exactly
/// `n` followed by `n * n` words (including when those sizes overflow).
pub fn dimension(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 8 {
        return None;
    }
    let n = word(bytes, 0);
    let cells = n.checked_mul(n)?;
    let expected = cells.checked_add(1).and_then(|w| w.checked_mul(8))?;
    if expected != bytes.len() as u64 {
        return None;
    }
    Some(n as usize)
}

/// Decodes the `n * n` entries of an encoded matrix into `a` (aligned, so the
/// inner loop does not read unaligned words).
pub fn decode(bytes: &[u8], a: &mut [u64]) {
    for (i, cell) in a.iter_mut().enumerate() {
        *cell = word(bytes, i + 1);
    }
}

/// `c = a · a` for `n x n` row-major matrices, wrapping on overflow. `c` must be
/// zeroed by the caller.
///
/// 128-bit SIMD in the wasm32 build, as in [`times_transpose`].
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub fn square(n: usize, a: &[u64], c: &mut [u64]) {
    for i in 0..n {
        let row = &mut c[i * n..i * n + n];
        for k in 0..n {
            let aik = a[i * n + k];
            for (cij, akj) in row.iter_mut().zip(&a[k * n..k * n + n]) {
                *cij = cij.wrapping_add(aik.wrapping_mul(*akj));
            }
        }
    }
}

/// `c = a · aᵀ` for `n x n` row-major matrices, wrapping on overflow: every entry
/// is the dot product of two rows, so both operands stream through memory in order.
///
/// Entries are computed in 2x2 blocks (rows `i, i + 1` against rows `j, j + 1`),
/// so each word loaded serves two products instead of one. With an odd `n` the
/// last block row or column pairs a row with itself and writes its entries twice.
pub fn times_transpose(n: usize, a: &[u64], c: &mut [u64]) {
    let row = |r: usize| &a[r * n..r * n + n];
    for i in (0..n).step_by(2) {
        let i1 = (i + 1).min(n - 1);
        for j in (0..n).step_by(2) {
            let j1 = (j + 1).min(n - 1);
            let [s00, s01, s10, s11] = block_dots(row(i), row(i1), row(j), row(j1));
            c[i * n + j] = s00;
            c[i * n + j1] = s01;
            c[i1 * n + j] = s10;
            c[i1 * n + j1] = s11;
        }
    }
}

/// The four dot products `x0·y0`, `x0·y1`, `x1·y0`, `x1·y1`, wrapping on overflow.
///
/// The wasm32 build turns on 128-bit SIMD here, which x86-64 code always has
/// (SSE2), so that both builds can vectorise the loop (docs/performance.md,
/// "Levers"). Rust allows calling such a function from safe code on wasm32:
/// a host without SIMD rejects the module when it loads, never mid-call.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn block_dots(x0: &[u64], x1: &[u64], y0: &[u64], y1: &[u64]) -> [u64; 4] {
    let mut sums = [0u64; 4];
    for (((x0, x1), y0), y1) in x0.iter().zip(x1).zip(y0).zip(y1) {
        sums[0] = sums[0].wrapping_add(x0.wrapping_mul(*y0));
        sums[1] = sums[1].wrapping_add(x0.wrapping_mul(*y1));
        sums[2] = sums[2].wrapping_add(x1.wrapping_mul(*y0));
        sums[3] = sums[3].wrapping_add(x1.wrapping_mul(*y1));
    }
    sums
}

/// Encodes `n` and the entries of `c` into `out`, which holds `(n * n + 1) * 8`
/// bytes.
pub fn encode(n: usize, c: &[u64], out: &mut [u8]) {
    out[..8].copy_from_slice(&(n as u64).to_le_bytes());
    for (chunk, v) in out[8..].chunks_exact_mut(8).zip(c.iter()) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
}
