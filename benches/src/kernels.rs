//! The guest functions' pure kernels, included from `examples/functions/src/kernels/`
//! (the same files the guests and the native baseline compile), used here to
//! compute the expected output of every request.

#[path = "../../examples/functions/src/kernels/matmul.rs"]
mod matmul_kernel;

#[path = "../../examples/functions/src/kernels/compress.rs"]
mod compress_kernel;

/// `matmul` of one encoded matrix, or `None` if it is malformed.
pub fn matmul(input: &[u8]) -> Option<Vec<u8>> {
    let n = matmul_kernel::dimension(input)?;
    let mut a = vec![0u64; n * n];
    matmul_kernel::decode(input, &mut a);
    let mut c = vec![0u64; n * n];
    matmul_kernel::square(n, &a, &mut c);
    let mut out = vec![0u8; (n * n + 1) * 8];
    matmul_kernel::encode(n, &c, &mut out);
    Some(out)
}

/// `matmul_aat` (`A·Aᵀ`) of one encoded matrix, or `None` if it is malformed.
pub fn matmul_aat(input: &[u8]) -> Option<Vec<u8>> {
    let n = matmul_kernel::dimension(input)?;
    let mut a = vec![0u64; n * n];
    matmul_kernel::decode(input, &mut a);
    let mut c = vec![0u64; n * n];
    matmul_kernel::times_transpose(n, &a, &mut c);
    let mut out = vec![0u8; (n * n + 1) * 8];
    matmul_kernel::encode(n, &c, &mut out);
    Some(out)
}

/// `compress` of one item's data.
pub fn compress(input: &[u8]) -> Vec<u8> {
    let mut table = vec![0u32; compress_kernel::TABLE_LEN];
    let mut out = vec![0u8; compress_kernel::max_compressed_len(input.len())];
    let len = compress_kernel::compress(input, &mut table, &mut out);
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inverse of the compress kernel's format, to check that it is lossless.
    fn decompress(mut input: &[u8]) -> Vec<u8> {
        fn len(input: &mut &[u8], base: usize) -> usize {
            let mut total = base;
            if base == 15 {
                loop {
                    let b = input[0];
                    *input = &input[1..];
                    total += b as usize;
                    if b != 255 {
                        break;
                    }
                }
            }
            total
        }
        let mut out = Vec::new();
        while !input.is_empty() {
            let token = input[0];
            input = &input[1..];
            let lit = len(&mut input, (token >> 4) as usize);
            out.extend_from_slice(&input[..lit]);
            input = &input[lit..];
            if input.is_empty() {
                break;
            }
            let offset = u16::from_le_bytes([input[0], input[1]]) as usize;
            input = &input[2..];
            let m = len(&mut input, (token & 15) as usize) + 4;
            let from = out.len() - offset;
            for i in 0..m {
                let b = out[from + i];
                out.push(b);
            }
        }
        out
    }

    #[test]
    fn compress_round_trips_and_shrinks_logs() {
        for data in [
            Vec::new(),
            b"abc".to_vec(),
            vec![7u8; 100_000],
            crate::workloads::log_text(256 * 1024),
            (0..70_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ] {
            let c = compress(&data);
            assert!(c.len() <= data.len() + data.len() / 255 + 16);
            assert_eq!(decompress(&c), data);
        }
        let logs = crate::workloads::log_text(64 * 1024);
        assert!(compress(&logs).len() < logs.len() / 2);
    }

    /// Inputs whose matches end at every offset within an eight-byte word and at
    /// the very end of the data: the match length is found a word at a time, then
    /// byte by byte.
    fn matches_of_every_length() -> Vec<Vec<u8>> {
        let mut inputs = Vec::new();
        for period in 1..=9usize {
            for len in 0..48usize {
                let pattern = |i: usize| b"abcdefghi"[i % period];
                let mut data: Vec<u8> = (0..len).map(pattern).collect();
                inputs.push(data.clone());
                // The same run, broken by a byte that matches nothing before it.
                data.push(b'#');
                data.extend((0..len).map(pattern));
                inputs.push(data);
            }
        }
        inputs
    }

    #[test]
    fn compress_finds_matches_of_every_length() {
        for data in matches_of_every_length() {
            let c = compress(&data);
            assert_eq!(decompress(&c), data, "{:?}", String::from_utf8_lossy(&data));
        }
        // A long run is one literal and one match, not a chain of short ones.
        assert!(compress(&[b'x'; 10_000]).len() < 60);
    }

    /// A square matrix of `n` with entries large enough for products to wrap.
    fn wrapping_matrix(n: usize) -> Vec<u64> {
        (0..n * n)
            .map(|i| (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect()
    }

    fn encode(n: usize, m: &[u64]) -> Vec<u8> {
        std::iter::once(n as u64)
            .chain(m.iter().copied())
            .flat_map(u64::to_le_bytes)
            .collect()
    }

    #[test]
    fn matmul_kernels_agree_with_the_definition_at_every_small_size() {
        for n in 0..=9 {
            let a = wrapping_matrix(n);
            let entry = |i: usize, j: usize, transpose: bool| {
                (0..n).fold(0u64, |sum, k| {
                    let b = if transpose {
                        a[j * n + k]
                    } else {
                        a[k * n + j]
                    };
                    sum.wrapping_add(a[i * n + k].wrapping_mul(b))
                })
            };
            let product = |transpose| -> Vec<u64> {
                (0..n * n)
                    .map(|ij| entry(ij / n, ij % n, transpose))
                    .collect()
            };
            let input = encode(n, &a);
            assert_eq!(
                matmul(&input),
                Some(encode(n, &product(false))),
                "A·A, n = {n}"
            );
            assert_eq!(
                matmul_aat(&input),
                Some(encode(n, &product(true))),
                "A·Aᵀ, n = {n}"
            );
        }
    }

    #[test]
    fn matmul_of_identity_is_identity() {
        let n = 3u64;
        let m: Vec<u8> = [n, 1, 0, 0, 0, 1, 0, 0, 0, 1]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        assert_eq!(matmul(&m).as_deref(), Some(&m[..]));
        assert_eq!(matmul(&m[..20]), None);
        assert_eq!(matmul_aat(&m).as_deref(), Some(&m[..]));
        assert_eq!(matmul_aat(&m[..20]), None);
    }
}
