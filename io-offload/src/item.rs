//! The item model shared by every communication function.

use bytes::Bytes;

/// One element of a set: a name, a key and opaque bytes.
///
/// This is the crate's own copy of the workspace data model (`pappus-io` depends
/// on no other Pappus crate); the engine converts at the boundary, which costs no
/// copy of the data because [`Bytes`] is reference counted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Item {
    /// Item name, chosen by whoever produced the item.
    pub name: String,
    /// Item key, used by keyed sharding and joins.
    pub key: u64,
    /// The payload.
    pub data: Bytes,
}

impl Item {
    /// Builds an item; `data` may be anything convertible into [`Bytes`]
    /// (`Vec<u8>`, `&'static str`, `String`, ...).
    pub fn new(name: impl Into<String>, key: u64, data: impl Into<Bytes>) -> Self {
        Item {
            name: name.into(),
            key,
            data: data.into(),
        }
    }
}
