//! Counters kept by the runtime.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the runtime's counters, from [`IoRuntime::stats`](crate::IoRuntime::stats).
///
/// All counters start at zero when the runtime starts and only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IoStats {
    /// Object and response body bytes read (`fetch`, `http` responses, `kv_get`).
    pub bytes_fetched: u64,
    /// Object and request body bytes written (`store`, `http` requests, `kv_put`).
    pub bytes_stored: u64,
    /// Calls completed, successfully or not.
    pub calls: u64,
    /// Calls that completed with an error.
    pub failed_calls: u64,
    /// Attempts repeated after a connection error, a timeout-free 5xx, or a stale
    /// keep-alive connection.
    pub retries: u64,
    /// Calls refused by their authority ([`Error::Forbidden`](crate::Error::Forbidden)).
    pub forbidden: u64,
    /// I/O tasks that panicked (each failed its call with
    /// [`Error::Internal`](crate::Error::Internal)).
    pub panics: u64,
    /// Fetched objects written to a spill file because the memory budgets
    /// did not cover them.
    pub spills: u64,
    /// Bytes of fetched objects held in memory now (gauge).
    pub fetch_memory_bytes: u64,
    /// Bytes of spill files alive now (gauge).
    pub spill_bytes: u64,
    /// Fetches answered from the fetch cache after a `304 Not Modified`.
    pub cache_hits: u64,
    /// Fetches through the cache that transferred the object (no entry, or
    /// the object changed).
    pub cache_misses: u64,
    /// Objects written into the cache.
    pub cache_stores: u64,
    /// Cached objects evicted to stay within the bounds.
    pub cache_evictions: u64,
    /// Body bytes cache hits did not transfer.
    pub cache_bytes_saved: u64,
    /// Bytes the cache holds now, over all tenants (gauge).
    pub cache_bytes: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) bytes_fetched: AtomicU64,
    pub(crate) bytes_stored: AtomicU64,
    pub(crate) calls: AtomicU64,
    pub(crate) failed_calls: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) forbidden: AtomicU64,
    pub(crate) panics: AtomicU64,
    pub(crate) spills: AtomicU64,
}

impl Counters {
    pub(crate) fn add_fetched(&self, n: usize) {
        self.bytes_fetched.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn add_stored(&self, n: usize) {
        self.bytes_stored.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn add_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_forbidden(&self) {
        self.forbidden.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_spill(&self) {
        self.spills.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_panic(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn finish_call(&self, ok: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failed_calls.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> IoStats {
        IoStats {
            bytes_fetched: self.bytes_fetched.load(Ordering::Relaxed),
            bytes_stored: self.bytes_stored.load(Ordering::Relaxed),
            calls: self.calls.load(Ordering::Relaxed),
            failed_calls: self.failed_calls.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            forbidden: self.forbidden.load(Ordering::Relaxed),
            panics: self.panics.load(Ordering::Relaxed),
            spills: self.spills.load(Ordering::Relaxed),
            ..IoStats::default()
        }
    }
}
