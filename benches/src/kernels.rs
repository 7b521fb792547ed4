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
