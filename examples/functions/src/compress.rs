//! `compress (in) => (out)`: every item's data compressed with the LZ77 kernel in
//! `kernels/compress.rs` (the LZ4 block style), name and key kept. The native
//! benchmark baseline compiles the same kernel.
#![no_std]

#[path = "kernels/compress.rs"]
mod kernel;

use pappus_example_functions::input;
use pappus_guest::{alloc_zeroed, entry, Inputs, Item, Outputs, Result};

fn compress(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    let table = alloc_zeroed::<u32>(kernel::TABLE_LEN);
    for item in input(inputs, "in", 0) {
        let scratch = alloc_zeroed::<u8>(kernel::max_compressed_len(item.data.len()));
        let len = kernel::compress(item.data, table, scratch);
        // The scratch buffer lives for the whole call: report it without a copy.
        let data: &'static [u8] = &scratch[..len];
        out.push_item(
            set,
            Item {
                name: item.name,
                key: item.key,
                data,
            },
        );
    }
    Ok(())
}

entry!(compress, inputs = ["in"], outputs = ["out"]);
