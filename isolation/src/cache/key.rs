//! The secret that authenticates compiled-code cache files.
//!
//! Cache files are deserialized as native code, so a file is only trusted if
//! it carries a MAC made with a key that only the process owning the cache
//! holds. The key is 32 random bytes from the operating system's RNG, kept in
//! a file readable by its owner only.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use crate::{Error, Result};

/// Length of a cache key in bytes.
pub const CACHE_KEY_LEN: usize = 32;

/// A secret key for authenticating compiled-code cache files (see
/// [`Config::cache_key`](crate::Config::cache_key)).
///
/// Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey([u8; CACHE_KEY_LEN]);

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

impl CacheKey {
    /// A key from bytes the caller keeps secret.
    pub fn from_bytes(bytes: [u8; CACHE_KEY_LEN]) -> CacheKey {
        CacheKey(bytes)
    }

    /// A fresh key from the operating system's RNG.
    ///
    /// # Errors
    /// [`Error::Config`] if the RNG is unavailable.
    pub fn generate() -> Result<CacheKey> {
        let mut bytes = [0; CACHE_KEY_LEN];
        getrandom::fill(&mut bytes).map_err(|e| Error::Config {
            reason: format!("cannot draw a cache key from the OS RNG: {e}"),
        })?;
        Ok(CacheKey(bytes))
    }

    /// The key stored at `path` (exactly [`CACHE_KEY_LEN`] raw bytes), or a
    /// new one generated and stored there with mode 0600 if there is no file.
    ///
    /// An operator may place their own key there before the first start.
    /// A file of another size, or one that its group or others may read or
    /// write, is refused rather than trusted or replaced.
    ///
    /// # Errors
    /// [`Error::Cache`] if the file cannot be read or written,
    /// [`Error::Config`] if it has the wrong size or permissions, or the RNG
    /// is unavailable.
    pub fn load_or_create(path: &Path) -> Result<CacheKey> {
        let io_err = |source| Error::Cache {
            path: path.to_owned(),
            source,
        };
        match fs::read(path) {
            Ok(bytes) => return Self::check_file(path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(e)),
        }
        let key = Self::generate()?;
        // Written under a temporary name and linked into place only once
        // complete, so a crash never leaves a short key file behind, and two
        // processes racing here agree on the one that won.
        let dir = path.parent().unwrap_or(Path::new("."));
        let temp = dir.join(format!(".cache-key-{}.tmp", std::process::id()));
        let written = (|| -> std::io::Result<()> {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(&key.0)?;
            file.sync_all()?;
            fs::hard_link(&temp, path)
        })();
        let _ = fs::remove_file(&temp);
        match written {
            Ok(()) => {
                fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io_err)?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let bytes = fs::read(path).map_err(io_err)?;
                Self::check_file(path, &bytes)
            }
            Err(e) => Err(io_err(e)),
        }
    }

    fn check_file(path: &Path, bytes: &[u8]) -> Result<CacheKey> {
        let mode = fs::metadata(path)
            .map_err(|source| Error::Cache {
                path: path.to_owned(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::Config {
                reason: format!(
                    "cache key file {} has mode {:o}: it must be accessible by its owner only (0600)",
                    path.display(),
                    mode & 0o777
                ),
            });
        }
        let bytes: [u8; CACHE_KEY_LEN] = bytes.try_into().map_err(|_| Error::Config {
            reason: format!(
                "cache key file {} holds {} bytes, not {CACHE_KEY_LEN}",
                path.display(),
                bytes.len()
            ),
        })?;
        Ok(CacheKey(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; CACHE_KEY_LEN] {
        &self.0
    }
}
