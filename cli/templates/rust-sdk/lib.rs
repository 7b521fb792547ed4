//! `{{function}} (in) => (out)`: for every item of `in`, an item of `out` with
//! the same name and key holding "Hello, <data>!".
//!
//! An ABI v1 function (docs/abi.md): it imports nothing; the host places the
//! input sets in its memory, calls the entry `entry!` exports, and reads back
//! the output sets. Each call runs in a fresh sandbox, so nothing is kept
//! between calls.
#![no_std]

use pappus_guest::{entry, Inputs, Outputs, Result};

const PREFIX: &[u8] = b"Hello, ";
const SUFFIX: &[u8] = b"!";

fn {{function}}(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    for item in inputs.items("in") {
        let len = PREFIX.len() + item.data.len() + SUFFIX.len();
        let data = out.push_with(set, item.name, item.key, len);
        let (prefix, rest) = data.split_at_mut(PREFIX.len());
        let (middle, suffix) = rest.split_at_mut(item.data.len());
        prefix.copy_from_slice(PREFIX);
        middle.copy_from_slice(item.data);
        suffix.copy_from_slice(SUFFIX);
    }
    Ok(())
}

entry!({{function}});
