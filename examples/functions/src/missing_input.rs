//! `missing_input (in) => (out)` that reads a set called `text`: with the SDK's
//! checked lookup the call fails naming the sets the host passed
//! (`no input set `text`; the inputs are: in`).
#![no_std]

use pappus_guest::{entry, Inputs, Outputs, Result};

fn missing_input(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    for item in inputs.try_items("text")? {
        out.push_item(set, item);
    }
    Ok(())
}

entry!(missing_input, inputs = ["in"], outputs = ["out"]);
