//! The fetch cache: each tenant's copies of `http://` and `s3://` objects on
//! disk, revalidated on every use.
//!
//! An entry is a file under `ROOT/t-<tenant>/` plus, in memory, its URI, size
//! and validators (`ETag`, `Last-Modified`). A fetch of a URI the tenant has
//! an entry for sends a conditional request (`If-None-Match`,
//! `If-Modified-Since`); a `304 Not Modified` answers the object from the
//! file (mapped, no copy), anything else replaces or drops the entry. The
//! cache never answers without asking the origin, so it cannot serve a stale
//! object, and the tenant's authority is checked before it is looked at.
//!
//! Bounds: bytes per tenant and per node; the least recently used entries go
//! first (a tenant over its share loses its own entries, the node over its
//! total loses the oldest of any tenant). Entries are keyed by tenant name
//! and never shared. The index is in memory: the cache starts empty, and
//! files an earlier process left are removed at start. See `docs/dataplane.md`.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{Error, Result};

/// The validators of a cached object, sent back to revalidate it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Validators {
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
}

impl Validators {
    /// The conditional request headers that ask "changed since?".
    pub(crate) fn headers(&self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if let Some(etag) = &self.etag {
            headers.push(("If-None-Match".to_owned(), etag.clone()));
        }
        if let Some(date) = &self.last_modified {
            headers.push(("If-Modified-Since".to_owned(), date.clone()));
        }
        headers
    }

    /// True if there is something to revalidate by.
    pub(crate) fn any(&self) -> bool {
        self.etag.is_some() || self.last_modified.is_some()
    }
}

/// What a lookup finds: where the object lies and how to revalidate it.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) validators: Validators,
}

struct Entry {
    found: Found,
    /// Its place in the recency order.
    tick: u64,
}

type Key = (Arc<str>, String);

#[derive(Default)]
struct Index {
    entries: HashMap<Key, Entry>,
    /// Recency: oldest first.
    order: BTreeMap<u64, Key>,
    /// Bytes per tenant.
    tenants: HashMap<Arc<str>, u64>,
    total: u64,
    tick: u64,
}

impl Index {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Removes `key`'s entry; answers its file, to unlink.
    fn remove(&mut self, key: &Key) -> Option<PathBuf> {
        let entry = self.entries.remove(key)?;
        self.order.remove(&entry.tick);
        self.total = self.total.saturating_sub(entry.found.size);
        if let Some(bytes) = self.tenants.get_mut(&key.0) {
            *bytes = bytes.saturating_sub(entry.found.size);
            if *bytes == 0 {
                self.tenants.remove(&key.0);
            }
        }
        Some(entry.found.path)
    }
}

/// Counters of the cache, summed into [`IoStats`](crate::IoStats).
#[derive(Debug, Default)]
pub(crate) struct CacheCounters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) stored: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) bytes_saved: AtomicU64,
}

/// The node's fetch cache: every tenant's entries, under one bound.
pub(crate) struct FetchCache {
    root: PathBuf,
    per_tenant: u64,
    per_node: u64,
    index: Mutex<Index>,
    pub(crate) counters: CacheCounters,
}

impl std::fmt::Debug for FetchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchCache")
            .field("root", &self.root)
            .field("per_tenant", &self.per_tenant)
            .field("per_node", &self.per_node)
            .finish_non_exhaustive()
    }
}

/// The directory name of `tenant`'s entries: readable where the name allows,
/// with a hash so that names differing only in replaced characters differ.
fn tenant_dir_name(tenant: &str) -> String {
    let clean: String = tenant
        .chars()
        .take(48)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    tenant.hash(&mut hasher);
    format!("t-{clean}-{:016x}", hasher.finish())
}

impl FetchCache {
    /// Opens the cache at `root`: creates it, and removes the tenant
    /// directories an earlier process left (their index is gone with it).
    pub(crate) fn open(root: &Path, per_tenant: u64, per_node: u64) -> Result<FetchCache> {
        let bad = |what: &str, e: std::io::Error| Error::Config {
            reason: format!("fetch cache directory {}: {what}: {e}", root.display()),
        };
        std::fs::create_dir_all(root).map_err(|e| bad("cannot create it", e))?;
        let listing = std::fs::read_dir(root).map_err(|e| bad("cannot list it", e))?;
        for entry in listing.flatten() {
            let name = entry.file_name();
            // Only what this cache makes: nothing else in the directory is touched.
            if name.to_string_lossy().starts_with("t-") {
                if let Err(e) = std::fs::remove_dir_all(entry.path()) {
                    tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove an old fetch cache directory");
                }
            }
        }
        Ok(FetchCache {
            root: root.to_path_buf(),
            per_tenant,
            per_node,
            index: Mutex::new(Index::default()),
            counters: CacheCounters::default(),
        })
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        // Nothing panics while holding the lock; recover the guard anyway.
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The largest object a tenant's cache may keep.
    pub(crate) fn max_object(&self) -> u64 {
        self.per_tenant.min(self.per_node)
    }

    /// `tenant`'s directory, created if missing.
    pub(crate) fn tenant_dir(&self, tenant: &str) -> std::io::Result<PathBuf> {
        let dir = self.root.join(tenant_dir_name(tenant));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// The entry `tenant` has for `uri`, if any (marks it recently used).
    pub(crate) fn lookup(&self, tenant: &Arc<str>, uri: &str) -> Option<Found> {
        let mut index = self.index();
        let key = (Arc::clone(tenant), uri.to_owned());
        let tick = index.next_tick();
        let entry = index.entries.get_mut(&key)?;
        let old = std::mem::replace(&mut entry.tick, tick);
        let found = entry.found.clone();
        index.order.remove(&old);
        index.order.insert(tick, key);
        Some(found)
    }

    /// Drops `tenant`'s entry for `uri` (the object changed or cannot be
    /// cached any more, or its file is damaged).
    pub(crate) fn invalidate(&self, tenant: &Arc<str>, uri: &str) {
        let path = self.index().remove(&(Arc::clone(tenant), uri.to_owned()));
        if let Some(path) = path {
            remove_file(&path);
        }
    }

    /// Keeps the file `part` (just written, `size` bytes) as `tenant`'s entry
    /// for `uri`, replacing any older one, then evicts down to the bounds.
    /// An object over the tenant's share is not kept (the file is removed).
    pub(crate) fn insert(
        &self,
        tenant: &Arc<str>,
        uri: &str,
        part: (PathBuf, OwnedFd),
        size: u64,
        validators: Validators,
    ) {
        let (part_path, fd) = part;
        drop(fd);
        if size > self.max_object() || !validators.any() {
            remove_file(&part_path);
            self.invalidate(tenant, uri);
            return;
        }
        let key = (Arc::clone(tenant), uri.to_owned());
        let mut evicted = Vec::new();
        {
            let mut index = self.index();
            evicted.extend(index.remove(&key));
            let tick = index.next_tick();
            index.entries.insert(
                key.clone(),
                Entry {
                    found: Found {
                        path: part_path,
                        size,
                        validators,
                    },
                    tick,
                },
            );
            index.order.insert(tick, key);
            index.total = index.total.saturating_add(size);
            *index.tenants.entry(Arc::clone(tenant)).or_insert(0) += size;
            // The tenant's own oldest entries first, then the node's.
            while index.tenants.get(tenant).copied().unwrap_or(0) > self.per_tenant {
                let Some(oldest) = index.order.values().find(|(t, _)| t == tenant).cloned() else {
                    break;
                };
                evicted.extend(index.remove(&oldest));
                self.counters.evictions.fetch_add(1, Ordering::Relaxed);
            }
            while index.total > self.per_node {
                let Some(oldest) = index.order.values().next().cloned() else {
                    break;
                };
                evicted.extend(index.remove(&oldest));
                self.counters.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.counters.stored.fetch_add(1, Ordering::Relaxed);
        for path in evicted {
            remove_file(&path);
        }
    }

    /// Bytes the cache holds now, over all tenants.
    pub(crate) fn bytes(&self) -> u64 {
        self.index().total
    }

    /// Adds the cache's counters and size to `stats`.
    pub(crate) fn add_stats(&self, stats: &mut crate::IoStats) {
        let c = &self.counters;
        stats.cache_hits = c.hits.load(Ordering::Relaxed);
        stats.cache_misses = c.misses.load(Ordering::Relaxed);
        stats.cache_stores = c.stored.load(Ordering::Relaxed);
        stats.cache_evictions = c.evictions.load(Ordering::Relaxed);
        stats.cache_bytes_saved = c.bytes_saved.load(Ordering::Relaxed);
        stats.cache_bytes = self.bytes();
    }
}

/// Removes a cache file; a mapping of it stays valid until dropped.
fn remove_file(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a fetch cache file");
        }
    }
}
