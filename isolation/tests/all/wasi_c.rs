//! The WASI profile with C programs built by clang against wasi-libc at test
//! time (skipped, with a message, where that toolchain is missing): stdio, the
//! file and key conventions from plain C, and a word-frequency counter whose
//! output must equal its native build's byte for byte.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pappus_isolation::{CallOptions, InputSet, Item, Limits, Runtime, WasiContext, WasiSettings};
use pappus_testkit::guest::repo_root;

use crate::support::{item, runtime};

/// Where Debian's wasi-libc installs its sysroot libraries.
const WASI_LIBC: &str = "/usr/lib/wasm32-wasi/libc.a";

/// Compiles `source` for wasm32-wasi into `dir`, or `None` (with a message) when
/// clang or wasi-libc is missing.
pub(crate) fn compile_wasi(source: &Path, dir: &Path) -> Option<Vec<u8>> {
    if !Path::new(WASI_LIBC).exists() {
        eprintln!("skipping: wasi-libc is not installed ({WASI_LIBC} missing)");
        return None;
    }
    let out = dir.join("guest.wasm");
    let status = Command::new("clang")
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-o"])
        .arg(&out)
        .arg(source)
        .output();
    match status {
        Err(e) => {
            eprintln!("skipping: cannot run clang: {e}");
            None
        }
        Ok(o) if !o.status.success() => panic!(
            "clang failed on {}:\n{}",
            source.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Ok(_) => Some(std::fs::read(&out).expect("read the module")),
    }
}

fn native(source: &Path, dir: &Path) -> Option<PathBuf> {
    let out = dir.join("native");
    match Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&out)
        .arg(source)
        .output()
    {
        Ok(o) if o.status.success() => Some(out),
        Ok(o) => panic!("cc failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            eprintln!("skipping: cannot run cc: {e}");
            None
        }
    }
}

pub(crate) fn guest_source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("guests")
        .join(name)
}

/// A text of about `len` bytes with a skewed word distribution.
fn text(len: usize) -> Vec<u8> {
    let words = [
        "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "The", "DOG", "a",
        "pappus", "wasm", "sandbox", "item", "set", "key", "zebra", "Ärger", "x1",
    ];
    let mut out = Vec::with_capacity(len + 16);
    let mut state = 7u64;
    let mut column = 0;
    while out.len() < len {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (state >> 33) as usize;
        let word = words[(r % words.len()).min(r % 7)];
        out.extend_from_slice(word.as_bytes());
        column += word.len() + 1;
        if column > 70 {
            out.extend_from_slice(b".\n");
            column = 0;
        } else {
            out.push(b' ');
        }
    }
    out
}

#[test]
fn wordfreq_matches_its_native_build_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = repo_root().join("examples/wordfreq-c/wordfreq.c");
    let Some(module) = compile_wasi(&source, dir.path()) else {
        return;
    };
    let Some(native) = native(&source, dir.path()) else {
        return;
    };
    let rt = runtime();
    let f = rt
        .compile("wordfreq", &module, Limits::default())
        .expect("compiles");
    assert!(f.is_wasi());
    for len in [0, 100, 64 << 10] {
        let input = text(len);
        let mut child = Command::new(&native)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("native wordfreq");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&input)
            .expect("feed");
        let expected = child.wait_with_output().expect("native output").stdout;

        let items = [Item::new("doc.txt", 5, input)];
        let options = CallOptions {
            outputs: &["stdout"],
            shard_key: None,
            context: WasiContext::new(1, 2),
        };
        let out = rt
            .call(
                &f,
                &[InputSet {
                    name: "stdin",
                    items: &items,
                }],
                &options,
                None,
            )
            .expect("runs");
        assert_eq!(out[0].items.len(), 1);
        let got = &out[0].items[0];
        assert_eq!((got.name.as_str(), got.key), ("doc.txt", 5));
        assert_eq!(got.data, expected, "output of {len} bytes of input differs");
    }
}

#[test]
fn files_keys_errors_time_and_args_from_c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(module) = compile_wasi(&guest_source("files.c"), dir.path()) else {
        return;
    };
    let rt: Runtime = runtime();
    let settings = WasiSettings {
        args: vec!["files".into(), "first".into()],
        env: vec![("GREETING".into(), "hi".into())],
        ..WasiSettings::default()
    };
    let f = rt
        .compile_with("files", &module, Limits::default(), &settings)
        .expect("compiles");
    let docs = [
        item("a.txt", 7, b"alpha"),
        item("b.txt", 9, b"bravo!"),
        item("nested/c.txt", 11, b"charlie"),
    ];
    let options = CallOptions {
        outputs: &["Out", "stdout"],
        shard_key: None,
        context: WasiContext::new(3, 1_234_567_890),
    };
    let out = rt
        .call(
            &f,
            &[InputSet {
                name: "Docs",
                items: &docs,
            }],
            &options,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out[1].items[0].data).into_owned();
    assert_eq!(
        stdout,
        "argc=2 argv1=first greeting=hi\n\
         time=1234567890\n\
         file a.txt size=5 key=7\n\
         file b.txt size=6 key=9\n\
         dir nested\n\
         write input: ok\n\
         create in input: ok\n\
         missing: ok\n\
         under a file: ok\n"
    );
    let items: Vec<(String, u64, String)> = out[0]
        .items
        .iter()
        .map(|i| {
            (
                i.name.clone(),
                i.key,
                String::from_utf8_lossy(&i.data).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("a.txt.upper".to_owned(), 107, "ALPHA".to_owned()),
            ("b.txt.upper".to_owned(), 109, "BRAVO!".to_owned()),
            ("sub/note.txt".to_owned(), 0, "note".to_owned()),
        ]
    );
}
