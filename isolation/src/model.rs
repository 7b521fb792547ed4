//! The sets a function call reads and writes. The item itself is
//! [`pappus_model::Item`], shared with the rest of Pappus.

use pappus_model::Item;

/// A named input set borrowed for one call.
#[derive(Clone, Copy, Debug)]
pub struct InputSet<'a> {
    /// The set's name, as in the function's signature.
    pub name: &'a str,
    /// The set's items, in the order the guest will see them.
    pub items: &'a [Item],
}

/// A named output set read back from a guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputSet {
    /// The set's name, as the guest reported it.
    pub name: String,
    /// The set's items, in the order the guest reported them.
    pub items: Vec<Item>,
}
