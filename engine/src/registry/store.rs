//! On-disk persistence of the registry under the data directory.
//!
//! Layout (`NAME`s are validated identifiers, so they are safe file names):
//!
//! ```text
//! DATA/cache.key                               the compiled-code cache's MAC key (0600)
//! DATA/cache/                                  precompiled code (isolation's cache)
//! DATA/tenants/TENANT/functions/NAME.json      {"memory_bytes", "timeout_ms", "max_output_bytes", "module_sha256", "wasi"?}
//! DATA/tenants/TENANT/functions/NAME.HASH.wasm the module as registered (HASH = module_sha256)
//! DATA/tenants/TENANT/compositions/NAME.json   {"seq", "source"}
//! DATA/tenants/TENANT/static/HASH              one static item's bytes (HASH = its SHA-256)
//! ```
//!
//! A function's record lists its static sets, each item by name, key, size
//! and content hash. Blobs are written before the record that names them and
//! removed only once no record of the tenant names them (after the record
//! switch, and at load for blobs a crash left behind). At load every blob is
//! checked against its hash: a function with a missing or corrupt blob is
//! refused ([`Error::CorruptStatic`] naming it, its set and item, logged and
//! counted), never served.
//!
//! Every file is written atomically and nothing is deleted before its
//! replacement is durable: a temporary file in the same directory, fsync,
//! rename over the target, fsync of the directory. A function's record is its
//! `.json`; it names its module by content hash, so a new module is written
//! beside the old one, the `.json` is switched over in one rename, and only
//! then is the old module removed. A crash at any point leaves the old record
//! or the new one. A composition record holds the whole source text that
//! defined it and a sequence number; records are re-checked on reload in
//! sequence order.
//!
//! Loading skips (with a warning, and counts) every record that cannot be
//! used: unreadable, not JSON, a module missing or not matching its hash.
//! Temporary files left by a crash and modules no record names are removed.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::statics::Hash;
use crate::{Bytes, Error, Item, Limits, Result, StaticSet, WasiSettings};

/// The folder of a tenant's static blobs.
const STATIC_DIR: &str = "static";

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
    /// SHA-256 of the module, naming its file. Records written before
    /// content-named modules have none and use `NAME.wasm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    module_sha256: Option<String>,
    /// WASI settings, absent when they are the defaults (and in records
    /// written before they existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wasi: Option<WasiRecord>,
    /// Static sets, absent when there are none.
    #[serde(default, rename = "static", skip_serializing_if = "Vec::is_empty")]
    static_sets: Vec<StaticSetRecord>,
}

/// A persisted static set: its items by content hash.
#[derive(Serialize, Deserialize, Clone)]
struct StaticSetRecord {
    name: String,
    items: Vec<StaticItemRecord>,
}

#[derive(Serialize, Deserialize, Clone)]
struct StaticItemRecord {
    name: String,
    key: u64,
    bytes: u64,
    sha256: String,
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
    /// Static sets, their blobs loaded and checked.
    pub statics: Vec<StaticSet>,
    pub static_hashes: Vec<Vec<Hash>>,
}

/// Everything persisted for one tenant.
#[derive(Default)]
pub(crate) struct TenantRecords {
    pub functions: Vec<FunctionRecord>,
    pub compositions: Vec<(String, CompositionRecord)>,
}

/// What [`Store::load`] found.
#[derive(Default)]
pub(crate) struct Loaded {
    pub tenants: Vec<(String, TenantRecords)>,
    /// Records (or whole tenant directories) skipped as unusable; each was
    /// logged.
    pub skipped: u64,
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

    /// The key authenticating the compiled-code cache.
    pub(crate) fn cache_key_path(&self) -> PathBuf {
        self.root.join("cache.key")
    }

    /// Where the isolation crate caches precompiled code.
    pub(crate) fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    fn tenant_dir(&self, tenant: &str) -> PathBuf {
        self.root.join("tenants").join(tenant)
    }

    /// Persists function `name`: first the static blobs of `new_blobs` (the
    /// contents the tenant did not hold yet), then its module, then its record.
    #[allow(
        clippy::too_many_arguments,
        reason = "one function's whole record, passed once"
    )]
    pub(crate) fn put_function(
        &self,
        tenant: &str,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: &WasiSettings,
        statics: &[StaticSet],
        hashes: &[Vec<Hash>],
        new_blobs: &[(Hash, Bytes)],
    ) -> Result<()> {
        let static_dir = self.tenant_dir(tenant).join(STATIC_DIR);
        for (i, (hash, bytes)) in new_blobs.iter().enumerate() {
            if let Err(e) = write_atomic(&static_dir, &hex::encode(hash), bytes) {
                // Nothing names the blobs written so far: none is left behind.
                for (written, _) in &new_blobs[..i] {
                    let _ = fs::remove_file(static_dir.join(hex::encode(written)));
                }
                return Err(e);
            }
        }
        let static_sets = statics
            .iter()
            .zip(hashes)
            .map(|(set, hashes)| StaticSetRecord {
                name: set.name.clone(),
                items: set
                    .items
                    .iter()
                    .zip(hashes)
                    .map(|(item, hash)| StaticItemRecord {
                        name: item.name.clone(),
                        key: item.key,
                        bytes: item.data.len() as u64,
                        sha256: hex::encode(hash),
                    })
                    .collect(),
            })
            .collect();
        let dir = self.tenant_dir(tenant).join("functions");
        let hash = hex::encode(Sha256::digest(module));
        let module_file = module_file_name(name, &hash);
        let record = LimitsRecord {
            memory_bytes: limits.memory_bytes,
            timeout_ms: u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
            max_output_bytes: limits.max_output_bytes,
            module_sha256: Some(hash),
            wasi: WasiRecord::new(settings),
            static_sets,
        };
        let json = serde_json::to_vec_pretty(&record).map_err(|e| {
            Error::storage(
                &dir,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        // The new module goes beside the old one, the record switches over in
        // one rename, and only then is the old module (if another) removed.
        write_atomic(&dir, &module_file, module)?;
        write_atomic(&dir, &format!("{name}.json"), &json)?;
        remove_modules(&dir, name, Some(&module_file));
        Ok(())
    }

    /// Removes every static blob of `tenant` whose hash is not in `keep`
    /// (best effort: a blob left behind is removed at the next start).
    pub(crate) fn remove_unreferenced_blobs(
        &self,
        tenant: &str,
        keep: &std::collections::HashSet<Hash>,
    ) {
        let dir = self.tenant_dir(tenant).join(STATIC_DIR);
        let keep: std::collections::HashSet<String> = keep.iter().map(hex::encode).collect();
        remove_blobs_except(&dir, &keep);
    }

    pub(crate) fn delete_function(&self, tenant: &str, name: &str) -> Result<()> {
        let dir = self.tenant_dir(tenant).join("functions");
        remove_file(&dir.join(format!("{name}.json")))?;
        sync_dir(&dir)?;
        remove_modules(&dir, name, None);
        Ok(())
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

    /// Every tenant's records. Unusable records and tenant directories are
    /// skipped, logged and counted; only an unreadable `tenants` directory
    /// fails the load.
    pub(crate) fn load(&self) -> Result<Loaded> {
        let mut loaded = Loaded::default();
        let tenants = self.root.join("tenants");
        for tenant in sorted_entries(&tenants)? {
            if !tenant.is_dir() {
                continue;
            }
            let Some(tenant_name) = tenant.file_name().and_then(|n| n.to_str()) else {
                skip(
                    &mut loaded.skipped,
                    &tenant,
                    "tenant directory name is not UTF-8",
                );
                continue;
            };
            let mut records = TenantRecords::default();
            let functions = tenant.join("functions");
            let mut blobs = Blobs {
                dir: tenant.join(STATIC_DIR),
                loaded: HashMap::new(),
                named: HashSet::new(),
                complete: true,
            };
            if functions.is_dir() {
                load_functions(&functions, &mut records, &mut loaded.skipped, &mut blobs);
            }
            if blobs.complete && blobs.dir.is_dir() {
                // Blobs no record names: left by a crash or an interrupted
                // replacement.
                remove_blobs_except(&blobs.dir, &blobs.named);
            }
            let compositions = tenant.join("compositions");
            if compositions.is_dir() {
                load_compositions(&compositions, &mut records, &mut loaded.skipped);
            }
            loaded.tenants.push((tenant_name.to_string(), records));
        }
        Ok(loaded)
    }
}

/// Logs and counts a skipped record.
fn skip(skipped: &mut u64, path: &Path, reason: &str) {
    *skipped += 1;
    tracing::warn!(path = %path.display(), reason, "skipping unusable registry record");
}

/// The `(stem, path)` of every entry of `dir` that is a record (`*.json`),
/// after removing temporary files a crash left behind. An unreadable
/// directory is skipped as a whole.
fn records_in(dir: &Path, skipped: &mut u64) -> Vec<(String, PathBuf)> {
    let entries = match sorted_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            skip(skipped, dir, &e.to_string());
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for path in entries {
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if is_temp(file) {
            // An interrupted write: the record it was to replace is intact.
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove a stale temporary file");
            }
            continue;
        }
        if let Some(stem) = file.strip_suffix(".json") {
            out.push((stem.to_string(), path));
        }
    }
    out
}

/// The static blobs of one tenant while its records load: each read and
/// checked once, then shared by every function naming it.
struct Blobs {
    dir: PathBuf,
    loaded: HashMap<String, std::result::Result<Bytes, String>>,
    /// Every hash a readable record names.
    named: HashSet<String>,
    /// No record was unreadable (else unreferenced blobs are kept).
    complete: bool,
}

impl Blobs {
    fn get(&mut self, hash: &str) -> std::result::Result<Bytes, String> {
        if let Some(found) = self.loaded.get(hash) {
            return found.clone();
        }
        let read = if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            match fs::read(self.dir.join(hash)) {
                Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == hash => Ok(Bytes::from(bytes)),
                Ok(_) => Err(format!(
                    "its stored bytes do not match their SHA-256 {hash}"
                )),
                Err(e) => Err(format!("its stored bytes cannot be read: {e}")),
            }
        } else {
            Err(format!("the record names it by `{hash}`, not a SHA-256"))
        };
        self.loaded.insert(hash.to_string(), read.clone());
        read
    }

    /// The static sets of record `function`, their blobs checked.
    fn sets(
        &mut self,
        function: &str,
        records: Vec<StaticSetRecord>,
    ) -> Result<(Vec<StaticSet>, Vec<Vec<Hash>>)> {
        let mut sets = Vec::with_capacity(records.len());
        let mut hashes = Vec::with_capacity(records.len());
        for set in records {
            let mut items = Vec::with_capacity(set.items.len());
            let mut set_hashes = Vec::with_capacity(set.items.len());
            for item in set.items {
                let corrupt = |reason: String| Error::CorruptStatic {
                    function: function.to_string(),
                    set: set.name.clone(),
                    item: item.name.clone(),
                    reason,
                };
                let data = self
                    .get(&item.sha256.to_ascii_lowercase())
                    .map_err(corrupt)?;
                let mut hash = [0u8; 32];
                hex::decode_to_slice(&item.sha256, &mut hash)
                    .map_err(|e| corrupt(e.to_string()))?;
                set_hashes.push(hash);
                items.push(Item::new(item.name, item.key, data));
            }
            sets.push(StaticSet {
                name: set.name,
                items,
            });
            hashes.push(set_hashes);
        }
        Ok((sets, hashes))
    }
}

fn load_functions(dir: &Path, records: &mut TenantRecords, skipped: &mut u64, blobs: &mut Blobs) {
    // Module files to keep: those named by a record, and every module of a
    // function whose record is unreadable (left for the operator to repair).
    let mut kept = Vec::new();
    let mut unreadable = Vec::new();
    for (name, path) in records_in(dir, skipped) {
        let limits: LimitsRecord = match read_json(&path) {
            Ok(l) => l,
            Err(reason) => {
                skip(skipped, &path, &reason);
                unreadable.push(format!("{name}."));
                blobs.complete = false;
                continue;
            }
        };
        for set in &limits.static_sets {
            blobs
                .named
                .extend(set.items.iter().map(|i| i.sha256.to_ascii_lowercase()));
        }
        let module_file = match &limits.module_sha256 {
            Some(hash) => module_file_name(&name, hash),
            None => format!("{name}.wasm"),
        };
        let wasm = dir.join(&module_file);
        kept.push(module_file.clone());
        let module = match fs::read(&wasm) {
            Ok(module) => module,
            Err(e) => {
                skip(skipped, &wasm, &format!("module of `{name}`: {e}"));
                continue;
            }
        };
        if let Some(hash) = &limits.module_sha256 {
            if hex::encode(Sha256::digest(&module)) != *hash {
                skip(skipped, &wasm, "module does not match its recorded SHA-256");
                continue;
            }
        }
        let (statics, static_hashes) = match blobs.sets(&name, limits.static_sets) {
            Ok(sets) => sets,
            Err(e) => {
                skip(skipped, &path, &e.to_string());
                continue;
            }
        };
        records.functions.push(FunctionRecord {
            name,
            module,
            statics,
            static_hashes,
            limits: Limits {
                memory_bytes: limits.memory_bytes,
                timeout: Duration::from_millis(limits.timeout_ms),
                max_output_bytes: limits.max_output_bytes,
            },
            settings: WasiRecord::settings(limits.wasi),
        });
    }
    remove_orphan_modules(dir, &kept, &unreadable);
}

fn load_compositions(dir: &Path, records: &mut TenantRecords, skipped: &mut u64) {
    for (name, path) in records_in(dir, skipped) {
        match read_json::<CompositionRecord>(&path) {
            Ok(record) => records.compositions.push((name, record)),
            Err(reason) => skip(skipped, &path, &reason),
        }
    }
}

/// Removes modules that no record names (left by a crash between writing a
/// module and switching or removing its record), except those whose name
/// starts with one of `spared` (`NAME.`). Only content-named modules are
/// candidates: a `NAME.wasm` may belong to an old-style record.
fn remove_orphan_modules(dir: &Path, kept: &[String], spared: &[String]) {
    let Ok(entries) = sorted_entries(dir) else {
        return;
    };
    for path in entries {
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let content_named = file
            .strip_suffix(".wasm")
            .and_then(|stem| stem.rsplit_once('.'))
            .is_some_and(|(_, hash)| hash.len() == 64);
        let keep = kept.iter().any(|k| k == file) || spared.iter().any(|p| file.starts_with(p));
        if content_named && !keep {
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove an orphaned module");
            }
        }
    }
}

/// `NAME.HASH.wasm`.
fn module_file_name(name: &str, hash: &str) -> String {
    format!("{name}.{hash}.wasm")
}

/// Removes the modules of function `name` other than `keep` (every one
/// without `keep`). Best effort: the record no longer names them, so one left
/// behind is only litter, removed at the next start.
fn remove_modules(dir: &Path, name: &str, keep: Option<&str>) {
    let prefix = format!("{name}.");
    let Ok(entries) = sorted_entries(dir) else {
        return;
    };
    for path in entries {
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(rest) = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".wasm"))
        else {
            continue;
        };
        // `rest` is the hash, or empty for an old-style `NAME.wasm`
        // (`NAME..wasm` never exists); a longer name sharing the prefix has a
        // `.` or non-hex character in it.
        let ours =
            rest.is_empty() || (rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()));
        if ours && Some(file) != keep {
            if let Err(e) = remove_file(&path) {
                tracing::warn!(error = %e, "cannot remove a replaced module");
            }
        }
    }
    if let Err(e) = sync_dir(dir) {
        tracing::warn!(error = %e, "cannot sync after removing replaced modules");
    }
}

/// Removes every blob of `dir` whose name is not in `keep`, and temporary
/// files an interrupted write left.
fn remove_blobs_except(dir: &Path, keep: &HashSet<String>) {
    let Ok(entries) = sorted_entries(dir) else {
        return;
    };
    for path in entries {
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !keep.contains(file) {
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove an unreferenced static blob");
            }
        }
    }
    if let Err(e) = sync_dir(dir) {
        tracing::warn!(error = %e, "cannot sync after removing static blobs");
    }
}

fn is_temp(file: &str) -> bool {
    file.starts_with('.') && file.ends_with(".tmp")
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> std::result::Result<T, String> {
    fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
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
    if let Err(e) = write().and_then(|()| fs::rename(&temp, &target)) {
        let _ = fs::remove_file(&temp);
        return Err(Error::storage(&target, e));
    }
    sync_dir(dir)
}
