//! `concat (in) => (out)`: one item named `concat`, key 0, data = all input items'
//! data concatenated in ascending (key, name) order (ties broken by data).
#![no_std]

use pappus_example_functions::{concat_into, data_len, input, sorted};
use pappus_guest::{entry, Inputs, Outputs, Result};

fn concat(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let items = sorted(input(inputs, "in", 0));
    let set = out.set("out");
    let data = out.push_with(set, "concat", 0, data_len(items));
    concat_into(items, data, 0);
    Ok(())
}

entry!(concat, inputs = ["in"], outputs = ["out"]);
