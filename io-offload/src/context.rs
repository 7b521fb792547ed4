//! State shared by all I/O threads ([`Shared`]) and kept per thread ([`Ctx`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::redis::RedisTarget;
use crate::ring::Driver;
use crate::s3::S3Target;
use crate::stats::Counters;
use crate::{Error, Result, RingConfig};

/// Configuration and counters, shared by every I/O thread.
pub(crate) struct Shared {
    pub(crate) config: RingConfig,
    pub(crate) counters: Counters,
    pub(crate) s3: Option<S3Target>,
    pub(crate) redis: Option<RedisTarget>,
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
        })
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
    pub(crate) shared: std::sync::Arc<Shared>,
    /// Idle HTTP connections by `host:port`.
    pub(crate) http_pool: RefCell<HashMap<String, Vec<Idle>>>,
    /// Idle Redis connections (to the one configured server).
    pub(crate) redis_pool: RefCell<Vec<Idle>>,
}

impl Ctx {
    pub(crate) fn new(driver: Rc<Driver>, shared: std::sync::Arc<Shared>) -> Ctx {
        Ctx {
            driver,
            shared,
            http_pool: RefCell::new(HashMap::new()),
            redis_pool: RefCell::new(Vec::new()),
        }
    }

    /// The S3 store, or `not_configured` naming `uri`.
    pub(crate) fn s3(&self, uri: &str) -> Result<&S3Target> {
        self.shared.s3.as_ref().ok_or(Error::NotConfigured {
            uri: uri.to_owned(),
            what: "s3 (RingConfig::s3)",
        })
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
