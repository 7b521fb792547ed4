//! State shared by all I/O threads ([`Shared`]) and kept per thread ([`Ctx`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::body::SpillDir;
use crate::budget::MemoryBudget;
use crate::cache::FetchCache;
use crate::gate::Gate;
use crate::redis_target::RedisTarget;
use crate::ring::Driver;
use crate::s3::S3Target;
use crate::stats::Counters;
use crate::{IoStats, Result, RingConfig};

/// Configuration, counters and bounds, shared by every I/O thread.
pub(crate) struct Shared {
    pub(crate) config: RingConfig,
    pub(crate) counters: Counters,
    /// The node's S3 store, for authorities that may use it.
    pub(crate) s3: Option<S3Target>,
    pub(crate) redis: Option<RedisTarget>,
    /// Calls submitted and not finished ([`RingConfig::max_queued_calls`]).
    pub(crate) queued: AtomicUsize,
    /// Files and sockets in use by transfers ([`RingConfig::max_open_files`]).
    pub(crate) open_files: Arc<Gate>,
    /// Name lookups running ([`RingConfig::max_dns_lookups`]).
    pub(crate) dns_lookups: Arc<Gate>,
    /// Fetched bytes held in memory ([`RingConfig::fetch_memory_bytes`]).
    pub(crate) fetch_memory: Arc<MemoryBudget>,
    /// Where objects go that the budgets do not cover.
    pub(crate) spill: Arc<SpillDir>,
    /// The tenants' fetch cache ([`RingConfig::fetch_cache`]).
    pub(crate) cache: Option<FetchCache>,
}

impl Shared {
    pub(crate) fn new(config: &RingConfig) -> Result<Shared> {
        Ok(Shared {
            config: config.clone(),
            counters: Counters::default(),
            s3: config.s3.as_ref().map(S3Target::new).transpose()?,
            redis: config
                .redis
                .as_deref()
                .map(RedisTarget::parse)
                .transpose()?,
            queued: AtomicUsize::new(0),
            open_files: Gate::new(config.max_open_files),
            dns_lookups: Gate::new(config.max_dns_lookups),
            fetch_memory: MemoryBudget::new(config.fetch_memory_bytes),
            spill: Arc::new(SpillDir::open(config)),
            cache: config.fetch_cache.as_deref().and_then(|dir| {
                // A cache is an optimisation: the runtime serves without one.
                FetchCache::open(
                    dir,
                    config.fetch_cache_tenant_bytes,
                    config.fetch_cache_node_bytes,
                )
                .map_err(|e| tracing::error!(error = %e, "the fetch cache is off"))
                .ok()
            }),
        })
    }

    /// The counters, with the cache's and the budgets' state.
    pub(crate) fn stats(&self) -> IoStats {
        let mut stats = self.counters.snapshot();
        stats.fetch_memory_bytes = self.fetch_memory.used();
        stats.spill_bytes = self.spill.budget.used();
        if let Some(cache) = &self.cache {
            cache.add_stats(&mut stats);
        }
        stats
    }
}

impl SpillDir {
    fn open(config: &RingConfig) -> SpillDir {
        let mut dir = config.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            let temp = std::env::temp_dir();
            tracing::error!(dir = %dir.display(), error = %e, fallback = %temp.display(), "cannot create the spill directory");
            dir = temp;
        }
        SpillDir {
            dir,
            budget: MemoryBudget::new(config.spill_bytes),
        }
    }
}

/// An idle keep-alive connection.
pub(crate) struct Idle {
    pub(crate) fd: OwnedFd,
    pub(crate) since: Instant,
}

/// Per-thread state: the ring and the connection pools.
pub(crate) struct Ctx {
    pub(crate) driver: Rc<Driver>,
    pub(crate) shared: Arc<Shared>,
    /// Idle HTTP connections by authority id and `host:port`.
    pub(crate) http_pool: RefCell<HashMap<String, Vec<Idle>>>,
    /// Idle Redis connections (to the one configured server).
    pub(crate) redis_pool: RefCell<Vec<Idle>>,
}

impl Ctx {
    pub(crate) fn new(driver: Rc<Driver>, shared: Arc<Shared>) -> Ctx {
        Ctx {
            driver,
            shared,
            http_pool: RefCell::new(HashMap::new()),
            redis_pool: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn config(&self) -> &RingConfig {
        &self.shared.config
    }

    /// The deadline of a call starting now.
    pub(crate) fn deadline(&self) -> Deadline {
        Deadline {
            at: Instant::now() + self.shared.config.timeout,
            limit: self.shared.config.timeout,
        }
    }
}

/// When a call must be finished, and the limit it came from (for messages).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) limit: Duration,
}
