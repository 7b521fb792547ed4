//! The on-disk compiled-code cache.
//!
//! One file per module, named by the SHA-256 of the engine fingerprint (this
//! crate's version, wasmtime's major version and its compatibility hash of the
//! compiler configuration) and the module's bytes. A file is
//! `MAGIC | mac | payload`, where the payload is wasmtime's serialized module
//! and `mac` is HMAC-SHA256, under the runtime's [`CacheKey`], of the
//! fingerprint, the SHA-256 of the source module and the payload.
//!
//! The payload is native code: whoever can write the cache directory could
//! otherwise run code in this process. Loading therefore authenticates the
//! whole file before handing the payload to wasmtime's (unsafe) deserializer;
//! a file that is unreadable, truncated, corrupted, made for another module or
//! engine configuration, or written without the key is counted as rejected,
//! logged, and the module is recompiled (and the file rewritten). Files are
//! written to a temporary name and renamed into place, so readers never see a
//! partial file.

mod key;

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use crate::{Error, Result};
pub use key::{CacheKey, CACHE_KEY_LEN};

/// Version 2 of the file format: authenticated with a MAC (version 1 carried
/// a plain hash, which anyone can recompute).
const FILE_MAGIC: &[u8; 8] = b"PAPPUSC2";
const HASH_LEN: usize = 32;
/// Separates the MAC's inputs from any other use of the key.
const MAC_CONTEXT: &[u8] = b"pappus-isolation cache artifact v2\0";
/// The wasmtime release line this crate is built against (part of the cache key).
const WASMTIME_LINE: &str = "wasmtime-48";

/// Counters of the compiled-code cache of one [`Runtime`](crate::Runtime).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Modules loaded from the cache instead of being compiled.
    pub hits: u64,
    /// Modules compiled (cache miss, or no cache configured).
    pub compiled: u64,
    /// Cache files found but refused (unreadable, truncated, corrupted, not
    /// authenticated by the cache key, or made for another module or engine)
    /// and replaced by a fresh compilation. Never executed.
    pub rejected: u64,
    /// Cache files written.
    pub writes: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    compiled: AtomicU64,
    rejected: AtomicU64,
    writes: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            compiled: self.compiled.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn compiled(&self) {
        self.compiled.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) struct DiskCache {
    dir: PathBuf,
    fingerprint: [u8; HASH_LEN],
    key: CacheKey,
}

/// Where a module's compiled code lives in the cache, and what its file must
/// be bound to.
pub(crate) struct Slot {
    path: PathBuf,
    module_hash: [u8; HASH_LEN],
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl DiskCache {
    pub(crate) fn open(dir: &Path, key: CacheKey, engine: &Engine) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Cache {
            path: dir.to_owned(),
            source,
        })?;
        let mut compat = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut compat);
        let mut h = Sha256::new();
        h.update(b"pappus-isolation compiled-code cache\0");
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(b"\0");
        h.update(WASMTIME_LINE.as_bytes());
        h.update(compat.finish().to_le_bytes());
        Ok(DiskCache {
            dir: dir.to_owned(),
            fingerprint: h.finalize().into(),
            key,
        })
    }

    pub(crate) fn slot_for(&self, module: &[u8]) -> Slot {
        let module_hash: [u8; HASH_LEN] = Sha256::digest(module).into();
        let mut h = Sha256::new();
        h.update(self.fingerprint);
        h.update(module_hash);
        Slot {
            path: self
                .dir
                .join(format!("{}.cwasm", hex::encode(h.finalize()))),
            module_hash,
        }
    }

    /// The MAC state over everything a file is bound to but its payload.
    /// `None` only if HMAC refused the key, which it never does (it takes keys
    /// of any length); callers treat it as a failed authentication.
    fn mac(&self, slot: &Slot) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.bytes()).ok()?;
        mac.update(MAC_CONTEXT);
        mac.update(&self.fingerprint);
        mac.update(&slot.module_hash);
        Some(mac)
    }

    /// The cached module for `slot`, if there is an authentic one. A missing
    /// file is a plain miss; any other failure is counted as a rejection.
    pub(crate) fn load(&self, slot: &Slot, engine: &Engine, counters: &Counters) -> Option<Module> {
        let bytes = match std::fs::read(&slot.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => return self.reject(slot, counters, &format!("unreadable: {e}")),
        };
        let Some(payload) = self.authenticate(slot, &bytes) else {
            return self.reject(slot, counters, "not authenticated by the cache key");
        };
        // SAFETY: wasmtime requires the bytes to come from `Module::serialize` of a
        // compatible engine. The payload carries a MAC, made with a key only this
        // process holds, over this engine's compatibility fingerprint, the source
        // module's hash and the payload itself; only `store` below makes such MACs,
        // over what `serialize` produced. wasmtime additionally checks its own
        // version/config header.
        match unsafe { Module::deserialize(engine, payload) } {
            Ok(module) => {
                counters.hits.fetch_add(1, Ordering::Relaxed);
                Some(module)
            }
            Err(e) => self.reject(slot, counters, &format!("refused by wasmtime: {e:#}")),
        }
    }

    fn reject(&self, slot: &Slot, counters: &Counters, reason: &str) -> Option<Module> {
        counters.rejected.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path = %slot.path.display(), reason, "discarding compiled-code cache file; recompiling");
        None
    }

    /// The payload of `bytes` if its MAC is valid for `slot` (checked in
    /// constant time).
    fn authenticate<'a>(&self, slot: &Slot, bytes: &'a [u8]) -> Option<&'a [u8]> {
        let rest = bytes.strip_prefix(FILE_MAGIC)?;
        if rest.len() < HASH_LEN {
            return None;
        }
        let (tag, payload) = rest.split_at(HASH_LEN);
        let mut mac = self.mac(slot)?;
        mac.update(payload);
        mac.verify_slice(tag).ok().map(|()| payload)
    }

    /// Writes `module` to `path` atomically.
    pub(crate) fn store(&self, slot: &Slot, module: &Module, counters: &Counters) -> Result<()> {
        let path = &slot.path;
        let cache_err = |source| Error::Cache {
            path: path.to_owned(),
            source,
        };
        let payload = module
            .serialize()
            .map_err(|e| cache_err(std::io::Error::other(format!("{e:#}"))))?;
        let mut file = Vec::with_capacity(FILE_MAGIC.len() + HASH_LEN + payload.len());
        file.extend_from_slice(FILE_MAGIC);
        let mut mac = self
            .mac(slot)
            .ok_or_else(|| cache_err(std::io::Error::other("HMAC refused the cache key")))?;
        mac.update(&payload);
        file.extend_from_slice(&mac.finalize().into_bytes());
        file.extend_from_slice(&payload);
        let temp = self.dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = std::fs::write(&temp, &file).and_then(|()| std::fs::rename(&temp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(cache_err(e));
        }
        counters.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
