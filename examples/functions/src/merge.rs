//! `merge (a, b) => (out)`: one item named `merge`; key = the smallest key among
//! all input items (0 if none); data = the `a` items' data in ascending (key, name)
//! order, then `|`, then the `b` items' data likewise. Runs with empty inputs too.
#![no_std]

use pappus_example_functions::{concat_into, data_len, input, sorted};
use pappus_guest::{entry, Inputs, Outputs, Result};

fn merge(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let a = sorted(input(inputs, "a", 0));
    let b = sorted(input(inputs, "b", 1));
    let key = a.iter().chain(b.iter()).map(|i| i.key).min().unwrap_or(0);
    let set = out.set("out");
    let data = out.push_with(set, "merge", key, data_len(a) + 1 + data_len(b));
    let at = concat_into(a, data, 0);
    data[at] = b'|';
    concat_into(b, data, at + 1);
    Ok(())
}

entry!(merge);
