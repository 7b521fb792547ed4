//! Runtime configuration: [`RingConfig`].

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::{Authority, Error, Result, S3Config};

/// Called on the I/O thread for every call refused with
/// [`Error::Forbidden`], with the authority the call ran with; see
/// [`RingConfig::on_forbidden`].
#[derive(Clone)]
pub(crate) struct ForbiddenHook(pub(crate) Arc<ForbiddenFn>);

type ForbiddenFn = dyn Fn(&Authority, &Error) + Send + Sync;

impl fmt::Debug for ForbiddenHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ForbiddenHook")
    }
}

/// Configuration of an [`IoRuntime`](crate::IoRuntime).
///
/// Setters take `&mut self` and return `&mut Self` so they chain; nothing is
/// checked until [`IoRuntime::start`](crate::IoRuntime::start), which validates
/// the whole configuration and reports an [`Error::Config`].
///
/// ```
/// use std::time::Duration;
/// let mut config = pappus_io::RingConfig::new();
/// config.io_threads(2).timeout(Duration::from_secs(5)).retries(1);
/// ```
#[derive(Clone, Debug)]
pub struct RingConfig {
    pub(crate) io_threads: usize,
    pub(crate) timeout: Duration,
    pub(crate) max_object_bytes: u64,
    pub(crate) retries: u32,
    pub(crate) ring_entries: u32,
    pub(crate) max_in_flight: usize,
    pub(crate) s3: Option<S3Config>,
    pub(crate) redis: Option<String>,
    pub(crate) authority: Arc<Authority>,
    pub(crate) max_queued_calls: usize,
    pub(crate) max_open_files: usize,
    pub(crate) max_dns_lookups: usize,
    pub(crate) on_forbidden: Option<ForbiddenHook>,
    pub(crate) fetch_memory_bytes: u64,
    pub(crate) invocation_fetch_memory_bytes: u64,
    pub(crate) spill_dir: Option<PathBuf>,
    pub(crate) spill_bytes: u64,
    pub(crate) fetch_cache: Option<PathBuf>,
    pub(crate) fetch_cache_tenant_bytes: u64,
    pub(crate) fetch_cache_node_bytes: u64,
}

/// Default of [`RingConfig::fetch_memory_bytes`]: 256 MiB.
pub const DEFAULT_FETCH_MEMORY_BYTES: u64 = 256 << 20;
/// Default of [`RingConfig::invocation_fetch_memory_bytes`]: 128 MiB.
pub const DEFAULT_INVOCATION_FETCH_MEMORY_BYTES: u64 = 128 << 20;
/// Default of [`RingConfig::spill_bytes`]: 16 GiB.
pub const DEFAULT_SPILL_BYTES: u64 = 16 << 30;
/// Default of [`RingConfig::fetch_cache_tenant_bytes`]: 1 GiB.
pub const DEFAULT_FETCH_CACHE_TENANT_BYTES: u64 = 1 << 30;
/// Default of [`RingConfig::fetch_cache_node_bytes`]: 8 GiB.
pub const DEFAULT_FETCH_CACHE_NODE_BYTES: u64 = 8 << 30;

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig {
            io_threads: 1,
            timeout: Duration::from_secs(30),
            max_object_bytes: 256 * 1024 * 1024,
            retries: 3,
            ring_entries: 256,
            max_in_flight: 64,
            s3: None,
            redis: None,
            authority: Arc::new(Authority::local()),
            max_queued_calls: 4096,
            max_open_files: 1024,
            max_dns_lookups: 16,
            on_forbidden: None,
            fetch_memory_bytes: DEFAULT_FETCH_MEMORY_BYTES,
            invocation_fetch_memory_bytes: DEFAULT_INVOCATION_FETCH_MEMORY_BYTES,
            spill_dir: None,
            spill_bytes: DEFAULT_SPILL_BYTES,
            fetch_cache: None,
            fetch_cache_tenant_bytes: DEFAULT_FETCH_CACHE_TENANT_BYTES,
            fetch_cache_node_bytes: DEFAULT_FETCH_CACHE_NODE_BYTES,
        }
    }
}

impl RingConfig {
    /// The default configuration: one I/O thread, 30 s timeout, 256 MiB objects,
    /// 3 retries, no S3 store and no Redis server.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of dedicated I/O threads, each driving its own io_uring instance.
    /// Calls are spread over them round-robin. Default 1; must be at least 1.
    pub fn io_threads(&mut self, threads: usize) -> &mut Self {
        self.io_threads = threads;
        self
    }

    /// Deadline for a whole call, retries and backoff included, counted from
    /// the moment the call starts on its I/O thread. Every socket and file
    /// operation carries a linked io_uring timeout for the time left, so a
    /// stalled peer fails the call with [`Error::Timeout`]. Default 30 s.
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// Largest object (file, HTTP body, S3 object, Redis value) a call may read,
    /// and largest object `store` may write. Larger ones fail with
    /// [`Error::TooLarge`] before their bytes are read when the size is known up
    /// front. Default 256 MiB.
    pub fn max_object_bytes(&mut self, bytes: u64) -> &mut Self {
        self.max_object_bytes = bytes;
        self
    }

    /// How many times an idempotent request (GET, HEAD, PUT of a whole object,
    /// Redis GET/SET) is retried after a connection error or a 5xx answer, with
    /// exponential backoff from 50 ms, within the call's deadline. Default 3.
    pub fn retries(&mut self, retries: u32) -> &mut Self {
        self.retries = retries;
        self
    }

    /// Submission queue size of each ring. Default 256; a power of two from 8 to 32768.
    pub fn ring_entries(&mut self, entries: u32) -> &mut Self {
        self.ring_entries = entries;
        self
    }

    /// Most items of one call processed at once on its I/O thread. Default 64;
    /// must be at least 1.
    pub fn max_in_flight(&mut self, items: usize) -> &mut Self {
        self.max_in_flight = items;
        self
    }

    /// The S3-compatible store used for `s3://` URIs. Default none: `s3://` URIs
    /// then fail with [`Error::NotConfigured`].
    pub fn s3(&mut self, s3: S3Config) -> &mut Self {
        self.s3 = Some(s3);
        self
    }

    /// The Redis server used by `kv_get` and `kv_put`, as
    /// `redis://[:password@]host:port[/db]`. Default none: the kv calls then fail
    /// with [`Error::NotConfigured`].
    pub fn redis(&mut self, url: impl Into<String>) -> &mut Self {
        self.redis = Some(url.into());
        self
    }

    /// The authority of calls made with [`IoRuntime::submit`](crate::IoRuntime::submit)
    /// and [`IoRuntime::call`](crate::IoRuntime::call) (calls made with
    /// `submit_as`/`call_as` carry their own). Default [`Authority::local`]: the
    /// local user's. A multi-tenant caller sets a policy with no authority here
    /// (`Authority::new(&IoPolicy { http: .., ..})`) and passes each tenant's.
    pub fn authority(&mut self, authority: Arc<Authority>) -> &mut Self {
        self.authority = authority;
        self
    }

    /// Most calls submitted and not yet finished, over all I/O threads; a call
    /// beyond it fails at once with [`Error::Overloaded`]. Default 4096.
    pub fn max_queued_calls(&mut self, calls: usize) -> &mut Self {
        self.max_queued_calls = calls;
        self
    }

    /// Most files and sockets open at once for transfers, over all I/O threads
    /// (idle pooled connections are bounded separately); transfers beyond it
    /// wait for a place within their deadline. Default 1024.
    pub fn max_open_files(&mut self, files: usize) -> &mut Self {
        self.max_open_files = files;
        self
    }

    /// Most host name lookups running at once (each takes a helper thread,
    /// since io_uring cannot resolve names); lookups beyond it wait. Default 16.
    pub fn max_dns_lookups(&mut self, lookups: usize) -> &mut Self {
        self.max_dns_lookups = lookups;
        self
    }

    /// Calls `hook` on the I/O thread for every call refused with
    /// [`Error::Forbidden`], with the call's authority (its
    /// [`name`](Authority::name) says whose), e.g. to count denials per tenant.
    /// It must be quick and not block. Default none (the count is in
    /// [`IoStats::forbidden`](crate::IoStats::forbidden) either way).
    pub fn on_forbidden(
        &mut self,
        hook: impl Fn(&Authority, &Error) + Send + Sync + 'static,
    ) -> &mut Self {
        self.on_forbidden = Some(ForbiddenHook(Arc::new(hook)));
        self
    }

    /// Most bytes of fetched objects held in memory at once, over every call
    /// of the runtime (the node's budget). An object that does not fit, by
    /// its declared size or as it grows, is written to a spill file in
    /// [`spill_dir`](Self::spill_dir) instead and handed on mapped from it,
    /// so the process's memory does not grow with it. A call may carry a
    /// smaller budget of its own ([`CallOptions::budget`](crate::CallOptions::budget)).
    /// Default 256 MiB ([`DEFAULT_FETCH_MEMORY_BYTES`]); 0 spills every object.
    pub fn fetch_memory_bytes(&mut self, bytes: u64) -> &mut Self {
        self.fetch_memory_bytes = bytes;
        self
    }

    /// The memory budget a caller gives each invocation's fetches
    /// ([`CallOptions::budget`](crate::CallOptions::budget)), within the
    /// node's: the runtime itself does not know invocations, this carries
    /// the operator's setting to the engine, which makes one
    /// [`MemoryBudget`](crate::MemoryBudget) of this size per invocation.
    /// Default 128 MiB ([`DEFAULT_INVOCATION_FETCH_MEMORY_BYTES`]).
    pub fn invocation_fetch_memory_bytes(&mut self, bytes: u64) -> &mut Self {
        self.invocation_fetch_memory_bytes = bytes;
        self
    }

    /// The per-invocation budget set by
    /// [`invocation_fetch_memory_bytes`](Self::invocation_fetch_memory_bytes).
    pub fn get_invocation_fetch_memory_bytes(&self) -> u64 {
        self.invocation_fetch_memory_bytes
    }

    /// Directory of spill files (created at start if missing; if it cannot
    /// be, the system's temporary directory is used and the reason logged). Spill files
    /// have no name (`O_TMPFILE`) and vanish when their object is dropped,
    /// even if the process dies. It should be on a disk, not `tmpfs` (whose
    /// pages are memory). Default: the system's temporary directory.
    pub fn spill_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.spill_dir = Some(dir.into());
        self
    }

    /// Most bytes of spill files alive at once; a fetch that would need more
    /// fails with [`Error::Overloaded`]. Default 16 GiB ([`DEFAULT_SPILL_BYTES`]).
    pub fn spill_bytes(&mut self, bytes: u64) -> &mut Self {
        self.spill_bytes = bytes;
        self
    }

    /// Keeps a fetch cache in `dir` (created at start; what an earlier process
    /// left there is removed; if it cannot be made, the runtime starts
    /// without a cache and logs why): each tenant's (each
    /// [`Authority::name`]'s) `http://` and `s3://` objects that come with a
    /// validator (`ETag` or `Last-Modified`) and without
    /// `Cache-Control: no-store`, revalidated with a conditional request on
    /// every fetch and transferred again only when changed. `file://` objects
    /// are never cached. Default: no cache.
    pub fn fetch_cache(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.fetch_cache = Some(dir.into());
        self
    }

    /// Most bytes one tenant's cached objects take; its least recently used
    /// ones are evicted past it, and a larger object is not cached. Default
    /// 1 GiB ([`DEFAULT_FETCH_CACHE_TENANT_BYTES`]).
    pub fn fetch_cache_tenant_bytes(&mut self, bytes: u64) -> &mut Self {
        self.fetch_cache_tenant_bytes = bytes;
        self
    }

    /// Most bytes the cache takes over all tenants; the least recently used
    /// objects (of any tenant) are evicted past it. Default 8 GiB
    /// ([`DEFAULT_FETCH_CACHE_NODE_BYTES`]).
    pub fn fetch_cache_node_bytes(&mut self, bytes: u64) -> &mut Self {
        self.fetch_cache_node_bytes = bytes;
        self
    }

    /// The call deadline set by [`timeout`](Self::timeout).
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// The object size limit set by [`max_object_bytes`](Self::max_object_bytes).
    pub fn get_max_object_bytes(&self) -> u64 {
        self.max_object_bytes
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::Config { reason });
        if self.io_threads == 0 {
            return bad("io_threads must be at least 1".into());
        }
        if self.timeout.is_zero() {
            return bad("timeout must be greater than zero".into());
        }
        if self.max_in_flight == 0 {
            return bad("max_in_flight must be at least 1".into());
        }
        if self.max_queued_calls == 0 || self.max_open_files == 0 || self.max_dns_lookups == 0 {
            return bad(
                "max_queued_calls, max_open_files and max_dns_lookups must be at least 1".into(),
            );
        }
        if !(8..=32768).contains(&self.ring_entries) || !self.ring_entries.is_power_of_two() {
            return bad(format!(
                "ring_entries must be a power of two from 8 to 32768, not {}",
                self.ring_entries
            ));
        }
        Ok(())
    }
}
