//! Runtime-wide configuration and per-function limits.

use std::path::PathBuf;
use std::time::Duration;

use crate::CacheKey;

/// The default of [`Config::max_memory_bytes`]: 256 MiB, the largest memory
/// limit a function may be given unless the runtime is configured otherwise.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 256 << 20;

/// Per-function limits, fixed when the function is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum linear memory, in bytes, including the region where the host places
    /// the inputs and the input area a fresh instance has for it (up to 256 KiB,
    /// `docs/abi.md`). Default 64 MiB. Must not exceed [`Config::max_memory_bytes`].
    pub memory_bytes: u64,
    /// Wall-clock deadline of one call, from instantiation to the entry's return.
    /// Default 5 s. Enforced with a granularity of [`Config::watch_tick`].
    pub timeout: Duration,
    /// Maximum host memory for one call's outputs: the names and data of every
    /// output set and item, plus what the host holds per set (80 bytes on
    /// 64-bit hosts) and per item (64 bytes). Checked while the output
    /// descriptors are read, before anything is allocated, so a guest that
    /// lies in them cannot make the host allocate more. Default 16 MiB.
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            timeout: Duration::from_secs(5),
            max_output_bytes: 16 << 20,
        }
    }
}

/// Configuration of a [`Runtime`](crate::Runtime).
///
/// ```
/// let mut config = pappus_isolation::Config::new();
/// config.pool_size(16).max_memory_bytes(128 << 20);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) pool_size: u32,
    pub(crate) max_memory_bytes: u64,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) cache_key: Option<CacheKey>,
    pub(crate) watch_tick: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// The default configuration (see each setter for its default).
    pub fn new() -> Self {
        Config {
            pool_size: 128,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            cache_dir: None,
            cache_key: None,
            watch_tick: Duration::from_millis(5),
        }
    }

    /// How many sandboxes may exist at once (the pooling allocator's slot count).
    /// A call beyond it fails with [`Error::Resources`](crate::Error::Resources).
    /// Default 128. Each slot reserves (but does not commit) address space.
    pub fn pool_size(&mut self, slots: u32) -> &mut Self {
        self.pool_size = slots;
        self
    }

    /// The largest linear memory any function may be given, in bytes: the upper
    /// bound for [`Limits::memory_bytes`], checked by
    /// [`Runtime::compile`](crate::Runtime::compile) ([`Error::Config`](crate::Error::Config)).
    /// Default [`DEFAULT_MAX_MEMORY_BYTES`] (256 MiB); at most 4 GiB. Each pool slot
    /// reserves this much address space (not memory).
    pub fn max_memory_bytes(&mut self, bytes: u64) -> &mut Self {
        self.max_memory_bytes = bytes;
        self
    }

    /// Directory of the compiled-code cache, created if missing. `None` (the
    /// default) compiles every module in memory and keeps nothing on disk.
    /// A cache directory needs a [`cache_key`](Self::cache_key).
    pub fn cache_dir(&mut self, dir: Option<PathBuf>) -> &mut Self {
        self.cache_dir = dir;
        self
    }

    /// The secret that authenticates cache files: a file is loaded as code only
    /// if its MAC under this key matches. Keep it where only this process can
    /// read it (see [`CacheKey::load_or_create`]). Default: none.
    pub fn cache_key(&mut self, key: Option<CacheKey>) -> &mut Self {
        self.cache_key = key;
        self
    }

    /// How often the watchdog looks at the running calls to stop the overdue
    /// and cancelled ones: a call stops at most about one tick after its
    /// deadline or its cancellation. Default 5 ms.
    pub fn watch_tick(&mut self, tick: Duration) -> &mut Self {
        self.watch_tick = tick;
        self
    }
}
