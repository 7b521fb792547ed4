//! `identity (in) => (out)`: every input item copied to `out` unchanged.
#![no_std]

use pappus_example_functions::input;
use pappus_guest::{entry, Inputs, Outputs, Result};

fn identity(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    for item in input(inputs, "in", 0) {
        // The input region lives for the whole call, so refer to it; the host copies.
        out.push_item(set, item);
    }
    Ok(())
}

entry!(identity);
