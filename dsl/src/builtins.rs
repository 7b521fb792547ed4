//! The built-in communication functions: the one table of their signatures.
//!
//! They are known to the checker without a `function` declaration and are
//! executed by the I/O offload runtime rather than in a sandbox.
//!
//! | builtin  | inputs            | outputs      |
//! |----------|-------------------|--------------|
//! | `http`   | `request`         | `response`   |
//! | `fetch`  | `uris`            | `objects`    |
//! | `store`  | `objects`, `uris` | `receipts`   |
//! | `kv_get` | `keys`            | `values`     |
//! | `kv_put` | `pairs`           | `receipts`   |

use crate::Signature;

/// A built-in communication function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// `http (request) => (response)`: one HTTP request per item.
    Http,
    /// `fetch (uris) => (objects)`: reads the object named by each URI.
    Fetch,
    /// `store (objects, uris) => (receipts)`: writes objects to URIs.
    Store,
    /// `kv_get (keys) => (values)`: key-value store reads.
    KvGet,
    /// `kv_put (pairs) => (receipts)`: key-value store writes.
    KvPut,
}

/// (builtin, name, inputs, outputs): the single source of truth.
const TABLE: &[(Builtin, &str, &[&str], &[&str])] = &[
    (Builtin::Http, "http", &["request"], &["response"]),
    (Builtin::Fetch, "fetch", &["uris"], &["objects"]),
    (Builtin::Store, "store", &["objects", "uris"], &["receipts"]),
    (Builtin::KvGet, "kv_get", &["keys"], &["values"]),
    (Builtin::KvPut, "kv_put", &["pairs"], &["receipts"]),
];

impl Builtin {
    /// Every builtin, in table order.
    pub const ALL: [Builtin; 5] = [
        Builtin::Http,
        Builtin::Fetch,
        Builtin::Store,
        Builtin::KvGet,
        Builtin::KvPut,
    ];

    /// The builtin called `name` in the language, if any.
    pub fn from_name(name: &str) -> Option<Builtin> {
        TABLE.iter().find(|e| e.1 == name).map(|e| e.0)
    }

    fn entry(
        self,
    ) -> &'static (
        Builtin,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    ) {
        // The table has one row per variant, in variant order.
        &TABLE[self as usize]
    }

    /// The name used in the language (`http`, `fetch`, `store`, `kv_get`, `kv_put`).
    pub fn name(self) -> &'static str {
        self.entry().1
    }

    /// The builtin's parameter and output names.
    pub fn signature(self) -> Signature {
        let e = self.entry();
        Signature {
            inputs: e.2.iter().map(|s| s.to_string()).collect(),
            outputs: e.3.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl std::fmt::Display for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
