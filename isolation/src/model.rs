//! The data model shared with the rest of Pappus: items and sets.

use bytes::Bytes;

/// One item: a name, a key and bytes of data.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Item {
    /// The item's name (any UTF-8 string, possibly empty).
    pub name: String,
    /// The item's key, used by keyed sharding and joins.
    pub key: u64,
    /// The item's bytes.
    pub data: Bytes,
}

impl Item {
    /// Builds an item.
    ///
    /// ```
    /// let item = pappus_isolation::Item::new("greeting", 7, &b"hello"[..]);
    /// assert_eq!(item.data, "hello");
    /// ```
    pub fn new(name: impl Into<String>, key: u64, data: impl Into<Bytes>) -> Self {
        Item {
            name: name.into(),
            key,
            data: data.into(),
        }
    }
}

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
