//! `stray_output (in) => (out)`, but it also writes a set `extra` that its
//! declaration does not have: the host fails the shard naming `extra` and the
//! declared outputs. No signature is embedded, so registration only warns.
#![no_std]

use pappus_example_functions::input;
use pappus_guest::{entry, Inputs, Outputs, Result};

fn stray_output(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    let extra = out.set("extra");
    for item in input(inputs, "in", 0) {
        out.push_item(set, item);
        out.push_item(extra, item);
    }
    Ok(())
}

entry!(stray_output);
