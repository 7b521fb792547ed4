//! `count (in) => (counts)`: one output item per distinct input item name, in
//! ascending name order; data = how many input items have that name (decimal
//! ASCII), key = the smallest key among them.
#![no_std]

use pappus_example_functions::{input, sorted};
use pappus_guest::{entry, Inputs, Outputs, Result};

fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

fn count(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("counts");
    // Grouped by name (`sorted` copies the items out of the input region).
    let all = sorted(input(inputs, "in", 0));
    all.sort_unstable_by(|a, b| a.name.cmp(b.name));
    let mut rest = &all[..];
    while let Some(first) = rest.first() {
        let same = rest.iter().take_while(|i| i.name == first.name).count();
        let min_key = rest[..same].iter().map(|i| i.key).min().unwrap_or(0);
        let mut buf = [0u8; 20];
        out.push(set, first.name, min_key, decimal(same as u64, &mut buf));
        rest = &rest[same..];
    }
    Ok(())
}

entry!(count, inputs = ["in"], outputs = ["counts"]);
