//! `upper (in) => (out)`: every item's data ASCII-uppercased, name and key kept.
#![no_std]

use pappus_example_functions::input;
use pappus_guest::{entry, Inputs, Outputs, Result};

fn upper(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    for item in input(inputs, "in", 0) {
        let data = out.push_with(set, item.name, item.key, item.data.len());
        data.copy_from_slice(item.data);
        data.make_ascii_uppercase();
    }
    Ok(())
}

// The set names are embedded in the module (the `pappus.signature` section), so
// a composition declaring other names is refused at registration.
entry!(upper, inputs = ["in"], outputs = ["out"]);
