//! `pappus run` caches compiled code in the user's cache directory: the
//! second run of the same modules loads them instead of compiling, and a
//! tampered cache file is refused (never run) and recompiled. Each test has
//! its own `XDG_CACHE_HOME`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pappus_testkit::{repo_root, wasm_path};

/// `pappus run` of the wordcount example (three functions) with `--timings`,
/// caching under `cache_home`.
fn run(cache_home: &Path, extra: &[&str]) -> Output {
    for f in ["split_words", "count", "concat"] {
        wasm_path(f);
    }
    Command::new(env!("CARGO_BIN_EXE_pappus"))
        .args([
            "run",
            "examples/wordcount/wordcount.pap",
            "--input",
            "Docs=@examples/wordcount/docs",
            "--timings",
        ])
        .args(extra)
        .env("XDG_CACHE_HOME", cache_home)
        .current_dir(repo_root())
        .output()
        .expect("cannot run pappus")
}

/// The `code cache: ...` line of a run, after checking it succeeded.
#[track_caller]
fn cache_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
        .lines()
        .find(|l| l.starts_with("code cache: "))
        .unwrap_or_else(|| panic!("no code cache line in {stderr}"))
        .to_owned()
}

fn cache_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_second_run_loads_compiled_code_from_the_cache() {
    let home = tempfile::tempdir().unwrap();
    let first = run(home.path(), &[]);
    let line = cache_line(&first);
    assert!(
        line.starts_with("code cache: 0 module(s) loaded, 3 compiled, 0 refused"),
        "{line}"
    );
    let dir = home.path().join("pappus").join("code");
    assert!(line.contains(&dir.display().to_string()), "{line}");
    assert_eq!(cache_files(&dir).len(), 3);
    // The key is the owner's alone; so is the folder.
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("cache.key")), 0o600);
    assert_eq!(mode(&dir), 0o700);

    let second = run(home.path(), &[]);
    let line = cache_line(&second);
    assert!(
        line.starts_with("code cache: 3 module(s) loaded, 0 compiled, 0 refused"),
        "{line}"
    );
    assert_eq!(first.stdout, second.stdout);

    // Opting out compiles and leaves the cache alone.
    let off = run(home.path(), &["--no-code-cache"]);
    let line = cache_line(&off);
    assert_eq!(
        line,
        "code cache: 0 module(s) loaded, 3 compiled, 0 refused (off)"
    );
    assert_eq!(first.stdout, off.stdout);
}

#[test]
fn a_tampered_cache_file_is_refused_and_recompiled() {
    let home = tempfile::tempdir().unwrap();
    let first = run(home.path(), &[]);
    cache_line(&first);
    let dir = home.path().join("pappus").join("code");
    let files = cache_files(&dir);
    assert_eq!(files.len(), 3);
    // Flip one byte of the payload (native code) of one file: its MAC no
    // longer verifies.
    let victim = &files[0];
    let mut bytes = std::fs::read(victim).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(victim, &bytes).unwrap();

    let second = run(home.path(), &[]);
    let line = cache_line(&second);
    assert!(
        line.starts_with("code cache: 2 module(s) loaded, 1 compiled, 1 refused"),
        "{line}"
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("warning: 1 compiled-code cache file(s) refused"),
        "{stderr}"
    );
    assert_eq!(first.stdout, second.stdout);
    // Rewritten: the next run loads all three again.
    assert_ne!(std::fs::read(victim).unwrap(), bytes);
    let third = run(home.path(), &[]);
    assert!(cache_line(&third).starts_with("code cache: 3 module(s) loaded, 0 compiled, 0 refused"));
}

#[test]
fn a_cache_key_others_can_read_is_not_used() {
    let home = tempfile::tempdir().unwrap();
    cache_line(&run(home.path(), &[]));
    let key = home.path().join("pappus/code/cache.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    // Not trusted, not replaced: the run compiles without the cache and says why.
    let out = run(home.path(), &[]);
    let line = cache_line(&out);
    assert!(
        line.starts_with("code cache: 0 module(s) loaded, 3 compiled, 0 refused (off)"),
        "{line}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: not caching compiled code") && stderr.contains("0600"),
        "{stderr}"
    );
}
