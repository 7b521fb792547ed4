//! The Pappus data model: items and sets.
//!
//! An [`Item`] is `{ name, key, data }`; a set is a named, unordered collection
//! of items, and [`Sets`] holds several by name (the inputs and outputs of an
//! invocation). The type lives in its own crate so that the sandboxes
//! (`pappus-isolation`), the communication functions (`pappus-io`) and the
//! engine (`pappus-engine`) pass the same value along the data path without
//! converting it. Each of them re-exports these types, so their users never
//! need to name this crate.
//!
//! ```
//! use pappus_model::{Item, Sets};
//!
//! let mut sets = Sets::new();
//! sets.insert("Text".into(), vec![Item::new("greeting", 7, "hello")]);
//! assert_eq!(sets["Text"][0].data, "hello");
//! ```
#![deny(missing_docs)]
#![warn(unreachable_pub)]

use std::collections::BTreeMap;

pub use bytes::Bytes;

/// One item: a name, a key and bytes of data.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Item {
    /// The item's name (any UTF-8 string, possibly empty), chosen by whoever
    /// produced the item.
    pub name: String,
    /// The item's key, used by keyed sharding and joins.
    pub key: u64,
    /// The item's bytes; reference counted, so cloning an item copies no data.
    pub data: Bytes,
}

impl Item {
    /// Builds an item; `data` may be anything convertible into [`Bytes`]
    /// (`Vec<u8>`, `&'static str`, `String`, ...).
    ///
    /// ```
    /// let item = pappus_model::Item::new("greeting", 7, &b"hello"[..]);
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

/// Sets by name: the inputs and outputs of an invocation.
pub type Sets = BTreeMap<String, Vec<Item>>;
