//! The on-disk compiled-code cache: reused across runtimes, corrupted files recompiled.

use std::time::Duration;

use pappus_isolation::{CacheStats, Config, Limits, Runtime};

use crate::support::{item, run1, wasm};

fn cached_runtime(dir: &std::path::Path) -> Runtime {
    Runtime::new(
        Config::new()
            .pool_size(4)
            .epoch_tick(Duration::from_millis(2))
            .cache_dir(Some(dir.to_owned())),
    )
    .expect("runtime")
}

fn works(rt: &Runtime) {
    let f = rt
        .compile("upper", &wasm("upper"), Limits::default())
        .expect("compile");
    assert_eq!(
        run1(rt, &f, "in", &[item("a", 0, b"x")])[0].items[0].data,
        "X"
    );
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

    let second = cached_runtime(dir.path());
    works(&second);
    assert_eq!(
        second.cache_stats(),
        CacheStats {
            hits: 1,
            compiled: 0,
            rejected: 0,
            writes: 0
        }
    );
}

#[test]
fn corrupted_cache_files_are_recompiled() {
    let dir = tempfile::tempdir().expect("tempdir");
    works(&cached_runtime(dir.path()));
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");

    // Flip a byte in the middle of the compiled code.
    let mut bytes = std::fs::read(&files[0]).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&files[0], &bytes).expect("write");
    let rt = cached_runtime(dir.path());
    works(&rt);
    assert_eq!(
        rt.cache_stats(),
        CacheStats {
            hits: 0,
            compiled: 1,
            rejected: 1,
            writes: 1
        }
    );

    // Truncated, then repaired again.
    std::fs::write(&files[0], b"PAPPUSC1").expect("truncate");
    let rt = cached_runtime(dir.path());
    works(&rt);
    assert_eq!(rt.cache_stats().rejected, 1);

    // And the repaired file is a hit.
    let rt = cached_runtime(dir.path());
    works(&rt);
    assert_eq!(rt.cache_stats().hits, 1);
}

#[test]
fn uncreatable_cache_dir_is_a_cache_error() {
    let file = tempfile::NamedTempFile::new().expect("tempfile");
    let err = Runtime::new(Config::new().cache_dir(Some(file.path().join("sub"))))
        .expect_err("not a dir");
    assert_eq!(err.kind(), "cache");
}
