//! On-disk persistence of the registry under the data directory.
//!
//! Layout (`NAME`s are validated identifiers, so they are safe file names):
//!
//! ```text
//! DATA/cache/                                  precompiled code (isolation's cache)
//! DATA/tenants/TENANT/functions/NAME.wasm      the module as registered
//! DATA/tenants/TENANT/functions/NAME.json      {"memory_bytes", "timeout_ms", "max_output_bytes", "wasi"?}
//! DATA/tenants/TENANT/compositions/NAME.json   {"seq", "source"}
//! ```
//!
//! Every file is written atomically: a temporary file in the same directory,
//! fsync, rename over the target, fsync of the directory. A function's `.json`
//! is written after its `.wasm` and removed before it, so a function is present
//! on reload exactly when its `.json` is. A composition record holds the whole
//! source text that defined it and a sequence number; records are re-checked on
//! reload in sequence order.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Error, Limits, Result, WasiSettings};

/// The data directory.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    root: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct LimitsRecord {
    memory_bytes: u64,
    timeout_ms: u64,
    max_output_bytes: u64,
    /// WASI settings, absent when they are the defaults (and in records
    /// written before they existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wasi: Option<WasiRecord>,
}

/// The persisted form of [`WasiSettings`].
#[derive(Serialize, Deserialize)]
struct WasiRecord {
    args: Vec<String>,
    env: Vec<(String, String)>,
    max_open_files: u32,
    max_output_files: u32,
}

impl WasiRecord {
    fn new(settings: &WasiSettings) -> Option<WasiRecord> {
        (*settings != WasiSettings::default()).then(|| WasiRecord {
            args: settings.args.clone(),
            env: settings.env.clone(),
            max_open_files: settings.max_open_files,
            max_output_files: settings.max_output_files,
        })
    }

    fn settings(record: Option<WasiRecord>) -> WasiSettings {
        match record {
            None => WasiSettings::default(),
            Some(r) => WasiSettings {
                args: r.args,
                env: r.env,
                max_open_files: r.max_open_files,
                max_output_files: r.max_output_files,
            },
        }
    }
}

/// A persisted composition.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct CompositionRecord {
    /// Registration order.
    pub seq: u64,
    /// The whole source text that defined it.
    pub source: String,
}

/// A persisted function.
pub(crate) struct FunctionRecord {
    pub name: String,
    pub module: Vec<u8>,
    pub limits: Limits,
    pub settings: WasiSettings,
}

/// Everything persisted for one tenant.
#[derive(Default)]
pub(crate) struct TenantRecords {
    pub functions: Vec<FunctionRecord>,
    pub compositions: Vec<(String, CompositionRecord)>,
}

impl Store {
    /// Opens (creating if needed) the data directory.
    pub(crate) fn open(root: &Path) -> Result<Store> {
        let tenants = root.join("tenants");
        fs::create_dir_all(&tenants).map_err(|e| Error::storage(&tenants, e))?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    /// Where the isolation crate caches precompiled code.
    pub(crate) fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    fn tenant_dir(&self, tenant: &str) -> PathBuf {
        self.root.join("tenants").join(tenant)
    }

    pub(crate) fn put_function(
        &self,
        tenant: &str,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: &WasiSettings,
    ) -> Result<()> {
        let dir = self.tenant_dir(tenant).join("functions");
        let record = LimitsRecord {
            memory_bytes: limits.memory_bytes,
            timeout_ms: u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
            max_output_bytes: limits.max_output_bytes,
            wasi: WasiRecord::new(settings),
        };
        let json = serde_json::to_vec_pretty(&record).map_err(|e| {
            Error::storage(
                &dir,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        // The metadata goes out of the way first, so that a crash between the
        // two writes never pairs new limits with an old module or vice versa.
        remove_file(&dir.join(format!("{name}.json")))?;
        write_atomic(&dir, &format!("{name}.wasm"), module)?;
        write_atomic(&dir, &format!("{name}.json"), &json)
    }

    pub(crate) fn delete_function(&self, tenant: &str, name: &str) -> Result<()> {
        let dir = self.tenant_dir(tenant).join("functions");
        remove_file(&dir.join(format!("{name}.json")))?;
        remove_file(&dir.join(format!("{name}.wasm")))?;
        sync_dir(&dir)
    }

    pub(crate) fn put_composition(
        &self,
        tenant: &str,
        name: &str,
        record: &CompositionRecord,
    ) -> Result<()> {
        let dir = self.tenant_dir(tenant).join("compositions");
        let json = serde_json::to_vec_pretty(record).map_err(|e| {
            Error::storage(
                &dir,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        write_atomic(&dir, &format!("{name}.json"), &json)
    }

    pub(crate) fn delete_composition(&self, tenant: &str, name: &str) -> Result<()> {
        let dir = self.tenant_dir(tenant).join("compositions");
        remove_file(&dir.join(format!("{name}.json")))?;
        sync_dir(&dir)
    }

    /// Every tenant's records. Files that cannot be parsed are skipped with a
    /// warning; I/O errors on directories fail the load.
    pub(crate) fn load(&self) -> Result<Vec<(String, TenantRecords)>> {
        let mut out = Vec::new();
        let tenants = self.root.join("tenants");
        for tenant in sorted_entries(&tenants)? {
            let Some(tenant_name) = tenant.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !tenant.is_dir() {
                continue;
            }
            let mut records = TenantRecords::default();
            let functions = tenant.join("functions");
            if functions.is_dir() {
                for path in sorted_entries(&functions)? {
                    if path.extension().and_then(|e| e.to_str()) != Some("json") {
                        continue;
                    }
                    let Some(name) = path.file_stem().and_then(|n| n.to_str()) else {
                        continue;
                    };
                    let limits: LimitsRecord = match read_json(&path) {
                        Some(l) => l,
                        None => continue,
                    };
                    let wasm = functions.join(format!("{name}.wasm"));
                    let module = fs::read(&wasm).map_err(|e| Error::storage(&wasm, e))?;
                    records.functions.push(FunctionRecord {
                        name: name.to_string(),
                        module,
                        limits: Limits {
                            memory_bytes: limits.memory_bytes,
                            timeout: Duration::from_millis(limits.timeout_ms),
                            max_output_bytes: limits.max_output_bytes,
                        },
                        settings: WasiRecord::settings(limits.wasi),
                    });
                }
            }
            let compositions = tenant.join("compositions");
            if compositions.is_dir() {
                for path in sorted_entries(&compositions)? {
                    if path.extension().and_then(|e| e.to_str()) != Some("json") {
                        continue;
                    }
                    let Some(name) = path.file_stem().and_then(|n| n.to_str()) else {
                        continue;
                    };
                    if let Some(record) = read_json::<CompositionRecord>(&path) {
                        records.compositions.push((name.to_string(), record));
                    }
                }
            }
            out.push((tenant_name.to_string(), records));
        }
        Ok(out)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let parsed = fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()));
    match parsed {
        Ok(value) => Some(value),
        Err(reason) => {
            tracing::warn!(path = %path.display(), %reason, "skipping unreadable registry record");
            None
        }
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::storage(dir, e))? {
        let entry = entry.map_err(|e| Error::storage(dir, e))?;
        entries.push(entry.path());
    }
    entries.sort();
    Ok(entries)
}

fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::storage(path, e)),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    match fs::File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::storage(dir, e)),
    }
}

/// Writes `bytes` to `dir/name` atomically: temp file, fsync, rename, fsync dir.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::storage(dir, e))?;
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(|e| Error::storage(&temp, e))?;
    fs::rename(&temp, &target).map_err(|e| Error::storage(&target, e))?;
    sync_dir(dir)
}
