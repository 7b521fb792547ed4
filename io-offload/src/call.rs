//! The calls the runtime accepts, one per built-in communication function.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::{Item, MemoryBudget};

/// One invocation of a built-in communication function with its input sets.
///
/// Every call answers exactly one output set (the `Vec<Item>` handed to the
/// completion), whose items keep the name and key of the input item they answer.
/// The item formats are described in `docs/io.md`.
#[derive(Clone, Debug)]
pub enum Call {
    /// `http (request) => (response)`: one HTTP request per item (JSON request
    /// format); one response item per request. A non-2xx status is data.
    Http {
        /// The `request` set.
        requests: Vec<Item>,
    },
    /// `fetch (uris) => (objects)`: each item's data is a URI (`file://`,
    /// `http://`, `s3://bucket/key`); each output item holds the object's bytes.
    Fetch {
        /// The `uris` set.
        uris: Vec<Item>,
    },
    /// `store (objects, uris) => (receipts)`: writes each object to the URI of the
    /// item with the same key; one JSON receipt per object.
    Store {
        /// The `objects` set.
        objects: Vec<Item>,
        /// The `uris` set, paired with `objects` by key.
        uris: Vec<Item>,
    },
    /// `kv_get (keys) => (values)`: each item's data is a Redis key; each present
    /// key answers an item with its value, a missing key answers no item.
    KvGet {
        /// The `keys` set.
        keys: Vec<Item>,
    },
    /// `kv_put (pairs) => (receipts)`: each item's name is a Redis key and its data
    /// the value to set; one JSON receipt per pair.
    KvPut {
        /// The `pairs` set.
        pairs: Vec<Item>,
    },
}

impl Call {
    /// The built-in's name as written in compositions (`"http"`, `"fetch"`, ...).
    pub fn builtin_name(&self) -> &'static str {
        match self {
            Call::Http { .. } => "http",
            Call::Fetch { .. } => "fetch",
            Call::Store { .. } => "store",
            Call::KvGet { .. } => "kv_get",
            Call::KvPut { .. } => "kv_put",
        }
    }

    /// Number of input items across the call's sets.
    pub fn len(&self) -> usize {
        match self {
            Call::Http { requests } => requests.len(),
            Call::Fetch { uris } => uris.len(),
            Call::Store { objects, uris } => objects.len() + uris.len(),
            Call::KvGet { keys } => keys.len(),
            Call::KvPut { pairs } => pairs.len(),
        }
    }

    /// True when the call has no input items (it then answers an empty set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What one call may use beyond the runtime's configuration: given with
/// [`IoRuntime::submit_with`](crate::IoRuntime::submit_with). The default
/// adds nothing.
///
/// ```
/// use pappus_io::{CallOptions, MemoryBudget};
/// let mut options = CallOptions::new();
/// options
///     .max_object_bytes(64 << 20, "the memory limit of function `resize`")
///     .budget(MemoryBudget::new(128 << 20));
/// ```
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    pub(crate) max_object: Option<(u64, String)>,
    pub(crate) budget: Option<Arc<MemoryBudget>>,
    pub(crate) cache_hits: Option<Arc<AtomicU64>>,
}

impl CallOptions {
    /// Options that add nothing.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// A `fetch` object larger than `bytes` fails with
    /// [`Error::TooLarge`](crate::Error::TooLarge) naming `limit_name`
    /// (what the limit is, e.g. what the object's consumer can take), before
    /// its body is read when its size is known up front. Only a limit below
    /// [`RingConfig::max_object_bytes`](crate::RingConfig::max_object_bytes)
    /// changes anything. Default: none.
    pub fn max_object_bytes(&mut self, bytes: u64, limit_name: impl Into<String>) -> &mut Self {
        self.max_object = Some((bytes, limit_name.into()));
        self
    }

    /// A budget of fetched bytes held in memory that this call shares with
    /// others (typically every call of one invocation), on top of the
    /// node's ([`RingConfig::fetch_memory_bytes`](crate::RingConfig::fetch_memory_bytes)):
    /// `fetch` keeps an object in memory only while both cover it, and
    /// spills it to disk otherwise. Default: none (the node's only).
    pub fn budget(&mut self, budget: Arc<MemoryBudget>) -> &mut Self {
        self.budget = Some(budget);
        self
    }

    /// Adds one to `counter` for every object this call's `fetch` answers
    /// from the fetch cache (e.g. one counter per invocation, for its log).
    /// Default: none (the runtime's [`IoStats`](crate::IoStats) count all).
    pub fn count_cache_hits(&mut self, counter: Arc<AtomicU64>) -> &mut Self {
        self.cache_hits = Some(counter);
        self
    }
}
