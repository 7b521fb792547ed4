//! `noop (in) => (out)`: the smallest useful function, for measuring cold starts.
//! It reports the first item of its first input set in `out`, unchanged and
//! uncopied (the output descriptor points into the input region), and nothing
//! else; with no input items it reports no output sets.
#![no_std]

use pappus_guest::{entry, Inputs, Outputs, Result};

fn noop(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    if let Some(item) = inputs.get(0).and_then(|set| set.get(0)) {
        let set = out.set("out");
        out.push_item(set, item);
    }
    Ok(())
}

entry!(noop);
