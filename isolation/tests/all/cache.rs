//! The on-disk compiled-code cache: reused across runtimes; a file that is not
//! authenticated (tampered, truncated, swapped, unreadable, written with another
//! key) is recompiled, never run.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pappus_isolation::{CacheKey, CacheStats, Config, Limits, Runtime};

use crate::support::{item, run1, wasm};

const KEY: [u8; 32] = [7; 32];

fn runtime_with_key(dir: &Path, key: CacheKey) -> Runtime {
    Runtime::new(
        Config::new()
            .pool_size(4)
            .watch_tick(Duration::from_millis(2))
            .cache_dir(Some(dir.to_owned()))
            .cache_key(Some(key)),
    )
    .expect("runtime")
}

fn cached_runtime(dir: &Path) -> Runtime {
    runtime_with_key(dir, CacheKey::from_bytes(KEY))
}

/// Compiles `upper` and checks that it still upper-cases.
fn works(rt: &Runtime) {
    let f = rt
        .compile("upper", &wasm("upper"), Limits::default())
        .expect("compile");
    assert_eq!(
        run1(rt, &f, "in", &[item("a", 0, b"x")])[0].items[0].data,
        "X"
    );
}

fn cache_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// The single cache file of `upper`, written by a first runtime.
fn upper_cache_file(dir: &Path) -> PathBuf {
    works(&cached_runtime(dir));
    let files = cache_files(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

const RECOMPILED: CacheStats = CacheStats {
    hits: 0,
    compiled: 1,
    rejected: 1,
    writes: 1,
};

const REUSED: CacheStats = CacheStats {
    hits: 1,
    compiled: 0,
    rejected: 0,
    writes: 0,
};

/// A fresh runtime runs `upper` correctly with `stats`.
fn check_stats(dir: &Path, stats: CacheStats) {
    let rt = cached_runtime(dir);
    works(&rt);
    assert_eq!(rt.cache_stats(), stats);
}

#[test]
fn second_runtime_loads_instead_of_compiling() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = cached_runtime(dir.path());
    works(&first);
    assert_eq!(
        first.cache_stats(),
        CacheStats {
            hits: 0,
            compiled: 1,
            rejected: 0,
            writes: 1
        }
    );
    check_stats(dir.path(), REUSED);
}

#[test]
fn flipped_byte_is_recompiled_then_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = upper_cache_file(dir.path());
    // One flipped byte anywhere: header, MAC or code.
    let clean = std::fs::read(&file).expect("read");
    for at in [3, 12, clean.len() / 2, clean.len() - 1] {
        let mut bytes = clean.clone();
        bytes[at] ^= 0x55;
        std::fs::write(&file, &bytes).expect("write");
        check_stats(dir.path(), RECOMPILED);
        // The rewritten file is authentic again.
        check_stats(dir.path(), REUSED);
    }
}

#[test]
fn truncated_files_are_recompiled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = upper_cache_file(dir.path());
    let clean = std::fs::read(&file).expect("read");
    for len in [0, 8, 40, clean.len() - 1] {
        std::fs::write(&file, &clean[..len]).expect("truncate");
        check_stats(dir.path(), RECOMPILED);
    }
    check_stats(dir.path(), REUSED);
}

#[test]
fn another_functions_artifact_is_not_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let upper = upper_cache_file(dir.path());
    // Compile `identity` into the same cache: an authentic file, for another module.
    let rt = cached_runtime(dir.path());
    rt.compile("identity", &wasm("identity"), Limits::default())
        .expect("compile identity");
    let identity = cache_files(dir.path())
        .into_iter()
        .find(|f| *f != upper)
        .expect("identity's file");
    std::fs::copy(&identity, &upper).expect("swap");
    // `upper` still upper-cases: identity's code was refused.
    check_stats(dir.path(), RECOMPILED);
}

#[test]
fn files_written_with_another_key_are_not_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    works(&runtime_with_key(dir.path(), CacheKey::from_bytes([9; 32])));
    check_stats(dir.path(), RECOMPILED);
}

#[test]
fn unreadable_file_is_recompiled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = upper_cache_file(dir.path());
    // A directory where the file should be: reading it fails with an error
    // other than "not found" (works as root too, unlike permission bits).
    std::fs::remove_file(&file).expect("remove");
    std::fs::create_dir(&file).expect("mkdir");
    let rt = cached_runtime(dir.path());
    let err = rt
        .compile("upper", &wasm("upper"), Limits::default())
        .expect_err("cannot replace a directory");
    assert_eq!(err.kind(), "cache");
    assert_eq!(rt.cache_stats().rejected, 1);
    assert_eq!(rt.cache_stats().hits, 0);
}

#[test]
fn cache_dir_without_key_is_a_config_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err =
        Runtime::new(Config::new().cache_dir(Some(dir.path().to_owned()))).expect_err("no key");
    assert_eq!(err.kind(), "config");
}

#[test]
fn key_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cache.key");
    let key = CacheKey::load_or_create(&path).expect("create");
    let meta = std::fs::metadata(&path).expect("stat");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 32);
    assert_eq!(CacheKey::load_or_create(&path).expect("load"), key);
    assert_ne!(
        CacheKey::load_or_create(&dir.path().join("other.key")).expect("create"),
        key
    );
    // Only the key file is left behind, no temporary.
    assert_eq!(cache_files(dir.path()).len(), 2);
}

#[test]
fn bad_key_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let short = dir.path().join("short.key");
    std::fs::write(&short, [1; 16]).expect("write");
    std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let err = CacheKey::load_or_create(&short).expect_err("short");
    assert_eq!(err.kind(), "config");
    assert!(err.to_string().contains("16 bytes"), "{err}");

    let open = dir.path().join("open.key");
    std::fs::write(&open, KEY).expect("write");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = CacheKey::load_or_create(&open).expect_err("world-readable");
    assert!(err.to_string().contains("0600"), "{err}");
}

#[test]
fn uncreatable_cache_dir_is_a_cache_error() {
    let file = tempfile::NamedTempFile::new().expect("tempfile");
    let err = Runtime::new(
        Config::new()
            .cache_dir(Some(file.path().join("sub")))
            .cache_key(Some(CacheKey::from_bytes(KEY))),
    )
    .expect_err("not a dir");
    assert_eq!(err.kind(), "cache");
}
