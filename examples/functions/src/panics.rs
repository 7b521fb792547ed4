//! `panics (in) => (out)`: panics with a formatted message naming the first
//! item, or returns a formatted error when there is none. The SDK's panic
//! handler hands the message to the host, which reports it with the trap.
#![no_std]

use pappus_guest::{entry, fail, Inputs, Outputs, Result};

fn panics(inputs: &Inputs, _out: &mut Outputs) -> Result<()> {
    match inputs.try_items("in")?.next() {
        Some(item) => panic!(
            "cannot handle item `{}` ({} bytes)",
            item.name,
            item.data.len()
        ),
        None => Err(fail!("no items among {} input set(s)", inputs.len())),
    }
}

entry!(panics, inputs = ["in"], outputs = ["out"]);
