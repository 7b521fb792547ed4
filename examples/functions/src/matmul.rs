//! `matmul (in) => (out)`: each item is a square matrix of little-endian u64: n,
//! then n*n entries row-major. Outputs n and A·A (wrapping arithmetic), with the
//! item's name and key. A malformed item fails the call with status 2 (bad input).
#![no_std]

use pappus_example_functions::input;
use pappus_guest::{alloc_slice, entry, Error, Inputs, Outputs, Result};

fn word(bytes: &[u8], index: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[index * 8..index * 8 + 8]);
    u64::from_le_bytes(b)
}

fn matmul(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    for item in input(inputs, "in", 0) {
        let bad = Error::bad_input("matmul: an item is not n followed by n*n u64 entries");
        if item.data.len() < 8 {
            return Err(bad);
        }
        let n = word(item.data, 0);
        let cells = n.checked_mul(n).ok_or(bad)?;
        let expected = cells.checked_add(1).and_then(|w| w.checked_mul(8)).ok_or(bad)?;
        if expected != item.data.len() as u64 {
            return Err(bad);
        }
        let n = n as usize;
        // Decode once into an aligned buffer (input bytes may be unaligned for u64).
        let a = alloc_slice(n * n, 0u64);
        for (i, cell) in a.iter_mut().enumerate() {
            *cell = word(item.data, i + 1);
        }
        let c = alloc_slice(n * n, 0u64);
        for i in 0..n {
            let row = &mut c[i * n..i * n + n];
            for k in 0..n {
                let aik = a[i * n + k];
                for (cij, akj) in row.iter_mut().zip(&a[k * n..k * n + n]) {
                    *cij = cij.wrapping_add(aik.wrapping_mul(*akj));
                }
            }
        }
        let data = out.push_with(set, item.name, item.key, (n * n + 1) * 8);
        data[..8].copy_from_slice(&(n as u64).to_le_bytes());
        for (chunk, v) in data[8..].chunks_exact_mut(8).zip(c.iter()) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
    }
    Ok(())
}

entry!(matmul);
