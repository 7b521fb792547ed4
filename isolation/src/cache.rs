//! The on-disk compiled-code cache.
//!
//! One file per module, named by the SHA-256 of the engine fingerprint (this
//! crate's version, wasmtime's major version and its compatibility hash of the
//! compiler configuration) and the module's bytes. A file is
//! `MAGIC | sha256(payload) | payload`, where the payload is wasmtime's serialized
//! module. Loading checks the magic and the hash before handing the payload to
//! wasmtime's (unsafe) deserializer, so a truncated or corrupted file is recompiled
//! rather than trusted. Files are written to a temporary name and renamed into
//! place, so readers never see a partial file.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use crate::{Error, Result};

const FILE_MAGIC: &[u8; 8] = b"PAPPUSC1";
const HASH_LEN: usize = 32;
/// The wasmtime release line this crate is built against (part of the cache key).
const WASMTIME_LINE: &str = "wasmtime-48";

/// Counters of the compiled-code cache of one [`Runtime`](crate::Runtime).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Modules loaded from the cache instead of being compiled.
    pub hits: u64,
    /// Modules compiled (cache miss, or no cache configured).
    pub compiled: u64,
    /// Cache files found but refused (corrupted, truncated, or incompatible) and
    /// replaced by a fresh compilation.
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
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl DiskCache {
    pub(crate) fn open(dir: &Path, engine: &Engine) -> Result<Self> {
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
        })
    }

    pub(crate) fn path_for(&self, module: &[u8]) -> PathBuf {
        let mut h = Sha256::new();
        h.update(self.fingerprint);
        h.update(module);
        self.dir
            .join(format!("{}.cwasm", hex::encode(h.finalize())))
    }

    /// The cached module at `path`, if there is a sound one.
    pub(crate) fn load(&self, path: &Path, engine: &Engine, counters: &Counters) -> Option<Module> {
        let bytes = std::fs::read(path).ok()?;
        let module = Self::check(&bytes).and_then(|payload| {
            // SAFETY: wasmtime requires the bytes to come from `Module::serialize` of a
            // compatible engine. The file's name is derived from this engine's
            // compatibility fingerprint, it is only ever written by `store` below
            // (atomically, via rename) and its payload's SHA-256 matched the hash
            // recorded when it was written, so it is what `serialize` produced.
            // wasmtime additionally checks its own version/config header.
            unsafe { Module::deserialize(engine, payload) }.ok()
        });
        match module {
            Some(m) => {
                counters.hits.fetch_add(1, Ordering::Relaxed);
                Some(m)
            }
            None => {
                counters.rejected.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn check(bytes: &[u8]) -> Option<&[u8]> {
        let rest = bytes.strip_prefix(FILE_MAGIC)?;
        if rest.len() < HASH_LEN {
            return None;
        }
        let (hash, payload) = rest.split_at(HASH_LEN);
        (Sha256::digest(payload).as_slice() == hash).then_some(payload)
    }

    /// Writes `module` to `path` atomically.
    pub(crate) fn store(&self, path: &Path, module: &Module, counters: &Counters) -> Result<()> {
        let cache_err = |source| Error::Cache {
            path: path.to_owned(),
            source,
        };
        let payload = module
            .serialize()
            .map_err(|e| cache_err(std::io::Error::other(format!("{e:#}"))))?;
        let mut file = Vec::with_capacity(FILE_MAGIC.len() + HASH_LEN + payload.len());
        file.extend_from_slice(FILE_MAGIC);
        file.extend_from_slice(&Sha256::digest(&payload));
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
