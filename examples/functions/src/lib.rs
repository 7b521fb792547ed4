//! Helpers shared by the example guest functions (each function is one file in
//! this folder, built as its own cdylib by `build.sh`).
#![no_std]

use pappus_guest::{alloc_slice, Inputs, Item, ItemIter};

/// The items of input set `name`; if the host passed no set by that name, the set
/// at position `index` (so a caller may bind sets by position too).
pub fn input(inputs: &Inputs, name: &str, index: usize) -> ItemIter {
    match inputs.set(name).or_else(|| inputs.get(index)) {
        Some(set) => set.items(),
        None => inputs.items(name),
    }
}

/// The items of `items` in ascending (key, name, data) order.
pub fn sorted(items: ItemIter) -> &'static mut [Item] {
    let all = alloc_slice(
        items.len(),
        Item {
            name: "",
            key: 0,
            data: &[],
        },
    );
    for (slot, item) in all.iter_mut().zip(items) {
        *slot = item;
    }
    all.sort_unstable_by(|a, b| (a.key, a.name, a.data).cmp(&(b.key, b.name, b.data)));
    all
}

/// Copies every item's data, in order, into `out` starting at `at`; returns the
/// position after the last byte.
pub fn concat_into(items: &[Item], out: &mut [u8], mut at: usize) -> usize {
    for item in items {
        out[at..at + item.data.len()].copy_from_slice(item.data);
        at += item.data.len();
    }
    at
}

/// Total data length of `items`.
pub fn data_len(items: &[Item]) -> usize {
    items.iter().map(|i| i.data.len()).sum()
}

pub mod text;
