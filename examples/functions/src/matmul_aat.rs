//! `matmul_aat (in) => (out)`: each item is a square matrix of little-endian 64-bit
//! integers: n, then n*n entries row-major. Outputs n and A·Aᵀ (wrapping
//! arithmetic; Dandelion's `matmul` workload), with the item's name and key. A malformed item fails the call with status 2 (bad input).
//!
//! The arithmetic lives in `kernels/matmul.rs`, which the native benchmark
//! baseline compiles too.
#![no_std]

// Each guest uses one of the file's two products.
#[allow(dead_code)]
#[path = "kernels/matmul.rs"]
mod kernel;

use pappus_example_functions::input;
use pappus_guest::{alloc_zeroed, entry, Error, Inputs, Outputs, Result};

fn matmul_aat(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    for item in input(inputs, "in", 0) {
        let n = kernel::dimension(item.data).ok_or(Error::bad_input(
            "matmul_aat: an item is not n followed by n*n u64 entries",
        ))?;
        // Decode once into an aligned buffer (input bytes may be unaligned for u64).
        let a = alloc_zeroed::<u64>(n * n);
        kernel::decode(item.data, a);
        let c = alloc_zeroed::<u64>(n * n);
        kernel::times_transpose(n, a, c);
        let data = out.push_with(set, item.name, item.key, (n * n + 1) * 8);
        kernel::encode(n, c, data);
    }
    Ok(())
}

entry!(matmul_aat, inputs = ["in"], outputs = ["out"]);
