//! Static sets: read-only data registered with a function and seen by every
//! call of it, stored once per tenant by content, never across tenants.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use pappus_engine::{Engine, Error, Item, Limits, StaticSet, Tenant, WasiSettings};

use crate::support::*;

/// The WASI `peek` program of `examples/static-sets` (built on demand).
fn peek_wasi() -> Vec<u8> {
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one = BUILDING.lock().unwrap_or_else(|p| p.into_inner());
    let dir = repo_root().join("examples/static-sets");
    let out = Command::new("bash")
        .arg(dir.join("build.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join("peek.wasm")).unwrap()
}

const WASI_PEEK: &str = "function peek (stdin) => (stdout);
composition Peek (Requests) => (Answers) { peek (stdin = all Requests) => (Answers = stdout); }";

const ABI_PEEK: &str = "function peek (in) => (out);
composition Peek (Requests) => (Answers) { peek (in = each Requests) => (Answers = out); }";

fn set(name: &str, items: Vec<Item>) -> StaticSet {
    StaticSet {
        name: name.into(),
        items,
    }
}

/// The sets of `examples/static-sets/data`, as `pappus.toml` reads them.
fn example_sets() -> Vec<StaticSet> {
    vec![
        set(
            "lib",
            vec![
                Item::new("main.py", 0, "print(\"hello\")\n"),
                Item::new("sub/util.py", 0, "x = 1\n"),
            ],
        ),
        set(
            "table",
            vec![Item::new("table.txt", 0, "alpha beta gamma\n")],
        ),
    ]
}

fn register_wasi(tenant: &Tenant, statics: Vec<StaticSet>) {
    tenant
        .register_function_static(
            "peek",
            &peek_wasi(),
            Limits::default(),
            WasiSettings::default(),
            statics,
        )
        .unwrap();
    tenant.register_compositions(WASI_PEEK).unwrap();
}

/// Runs the WASI `peek` over `requests` (one command a line).
fn ask(tenant: &Tenant, requests: &str) -> String {
    let answer = tenant
        .invoke("Peek", sets(&[("Requests", vec![item("r", 0, requests)])]))
        .unwrap();
    String::from_utf8_lossy(&answer.outputs["Answers"][0].data).into_owned()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn wasi_functions_list_stat_seek_and_read_static_folders_and_cannot_write_them() {
    let engine = Engine::builder().compute_threads(1).build().unwrap();
    let t = engine.tenant("acme");
    register_wasi(&t, example_sets());
    let answer = ask(
        &t,
        "ls /\nls /lib\nls /lib/sub\nstat /lib/sub\nstat /table/table.txt\n\
         read /table/table.txt 6 4\nread /lib/sub/util.py 0 100\n\
         write /lib/new.py\nwrite /table/table.txt\n",
    );
    let erofs = 69; // wasi-libc's EROFS
    let eacces = 2; // wasi-libc's EACCES
    let lines: Vec<&str> = answer.lines().collect();
    assert!(
        lines.contains(&"lib/") && lines.contains(&"table/"),
        "{answer}"
    );
    let rest: Vec<&str> = lines
        .iter()
        .skip_while(|l| l.ends_with('/') || l.starts_with('.'))
        .copied()
        .collect();
    assert_eq!(
        rest[..8],
        [
            "main.py 15",
            "sub/",
            "util.py 6",
            "dir",
            "file 17",
            "beta",
            "x = 1",
            "",
        ],
        "{answer}"
    );
    for refused in &rest[8..] {
        let code: i32 = refused
            .strip_prefix("refused ")
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("{answer}"));
        assert!(code == erofs || code == eacces, "{answer}");
    }
    assert_eq!(rest.len(), 10, "{answer}");
}

#[test]
fn abi_v1_functions_receive_static_sets_after_their_inputs() {
    let engine = Engine::builder().compute_threads(1).build().unwrap();
    let t = engine.tenant("acme");
    let big = pattern(300_000, 7);
    t.register_function_static(
        "peek",
        &wasm("peek"),
        Limits::default(),
        WasiSettings::default(),
        vec![
            set(
                "table",
                vec![
                    Item::new("big", 0, big.clone()),
                    Item::new("small", 9, "hello static"),
                ],
            ),
            set("empty", vec![]),
        ],
    )
    .unwrap();
    t.register_compositions(ABI_PEEK).unwrap();
    let requests = vec![
        item("list", 1, "?"),
        item("head", 2, "table/small:0:5"),
        item("middle", 3, "table/big:123457:4096"),
        item("tail", 4, "table/big:299990:100"),
        item("none", 5, "table/absent:0:1"),
    ];
    let answer = t.invoke("Peek", sets(&[("Requests", requests)])).unwrap();
    let mut out = answer.outputs["Answers"].clone();
    out.sort_by_key(|i| i.key);
    // `each` gives one shard per request: one input item, then the statics.
    assert_eq!(&out[0].data[..], b"in:1,table:2,empty:0");
    assert_eq!(&out[1].data[..], b"hello");
    assert_eq!(&out[2].data[..], &big[123_457..123_457 + 4096]);
    assert_eq!(&out[3].data[..], &big[299_990..]);
    assert_eq!(&out[4].data[..], b"missing");
    // The composition never names the static set; the function's info does.
    let info = t.get_function("peek").unwrap();
    assert_eq!(info.static_sets.len(), 2);
    assert_eq!(info.static_sets[0].bytes, 300_000 + 12);
}

#[test]
fn abi_v1_static_sets_must_fit_the_memory_limit() {
    let engine = Engine::builder().compute_threads(1).build().unwrap();
    let limits = Limits {
        memory_bytes: 4 << 20,
        ..Limits::default()
    };
    let err = engine
        .register_function_static(
            "peek",
            &wasm("peek"),
            limits,
            WasiSettings::default(),
            vec![set("table", vec![Item::new("big", 0, vec![1u8; 8 << 20])])],
        )
        .unwrap_err();
    match err {
        Error::InvalidModule { function, reason } => {
            assert_eq!(function, "peek");
            assert!(reason.contains("memory limit"), "{reason}");
        }
        other => panic!("expected invalid_module, got {other:?}"),
    }
}

#[test]
fn static_set_names_are_checked_and_may_not_clash_with_declared_sets() {
    let engine = Engine::builder().compute_threads(1).build().unwrap();
    for bad in ["stdout", "9lives", "a/b", ""] {
        let err = engine
            .register_function_static(
                "peek",
                &wasm("peek"),
                Limits::default(),
                WasiSettings::default(),
                vec![set(bad, vec![])],
            )
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err}");
    }
    engine
        .register_function_static(
            "peek",
            &wasm("peek"),
            Limits::default(),
            WasiSettings::default(),
            vec![set("in", vec![])],
        )
        .unwrap();
    let err = engine.register_compositions(ABI_PEEK).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
}

fn blobs(dir: &Path, tenant: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir.join("tenants").join(tenant).join("static"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
    files.sort();
    files
}

fn persistent(dir: &Path) -> Engine {
    Engine::builder()
        .compute_threads(1)
        .data_dir(dir)
        .build()
        .unwrap()
}

#[test]
fn the_same_content_is_stored_once_per_tenant_and_never_shared_across_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::builder()
        .compute_threads(1)
        .data_dir(dir.path())
        // Ten functions with the same 1 MiB set fit a 1.5 MiB quota: the
        // content is counted (and kept) once.
        .max_static_bytes_per_tenant(3 << 19)
        .build()
        .unwrap();
    let model = pattern(1 << 20, 3);
    let a = engine.tenant("a");
    for i in 0..10 {
        a.register_function_static(
            &format!("f{i}"),
            &wasm("peek"),
            Limits::default(),
            WasiSettings::default(),
            vec![set("model", vec![Item::new("m.bin", 0, model.clone())])],
        )
        .unwrap();
    }
    assert_eq!(blobs(dir.path(), "a").len(), 1);
    // Tenant b holds the identical content in its own store.
    let b = engine.tenant("b");
    register_wasi(
        &b,
        vec![set("model", vec![Item::new("m.bin", 0, model.clone())])],
    );
    assert_eq!(blobs(dir.path(), "b").len(), 1);
    // A function of b without static sets sees none of anyone's.
    let c = engine.tenant("c");
    register_wasi(&c, Vec::new());
    let listing = ask(&c, "ls /\nstat /model\n");
    assert!(!listing.contains("model"), "{listing}");
    assert!(
        listing.ends_with("error 44\n"),
        "ENOENT expected: {listing}"
    );
    // Deleting every function of a removes a's copy, not b's.
    for i in 0..10 {
        a.delete_function(&format!("f{i}")).unwrap();
    }
    assert!(blobs(dir.path(), "a").is_empty());
    assert_eq!(blobs(dir.path(), "b").len(), 1);
    drop(engine);
    let engine = persistent(dir.path());
    // The bytes are not text: read them raw.
    let answer = engine
        .tenant("b")
        .invoke(
            "Peek",
            sets(&[("Requests", vec![item("r", 0, "read /model/m.bin 1000 8\n")])]),
        )
        .unwrap();
    let data = &answer.outputs["Answers"][0].data;
    assert_eq!(&data[..], &[&model[1000..1008], b"\n"].concat()[..]);
}

#[test]
fn a_static_set_over_the_quota_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::builder()
        .compute_threads(1)
        .data_dir(dir.path())
        .max_static_bytes_per_tenant(1 << 20)
        .build()
        .unwrap();
    let t = engine.tenant("acme");
    t.register_function_static(
        "small",
        &wasm("peek"),
        Limits::default(),
        WasiSettings::default(),
        vec![set("s", vec![Item::new("a", 0, pattern(600_000, 1))])],
    )
    .unwrap();
    let err = t
        .register_function_static(
            "big",
            &wasm("peek"),
            Limits::default(),
            WasiSettings::default(),
            vec![set("s", vec![Item::new("b", 0, pattern(600_000, 2))])],
        )
        .unwrap_err();
    match err {
        Error::QuotaExceeded { what, limit, .. } => {
            assert_eq!((what, limit), ("static_bytes", 1 << 20));
        }
        other => panic!("expected quota_exceeded, got {other:?}"),
    }
    assert!(t.get_function("big").is_none());
    assert_eq!(blobs(dir.path(), "acme").len(), 1);
    assert!(!dir.path().join("tenants/acme/functions/big.json").exists());
}

#[test]
fn static_sets_survive_a_restart_and_go_when_the_last_function_using_them_does() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = persistent(dir.path());
        let t = engine.tenant("acme");
        register_wasi(&t, example_sets());
        // A second function with the same table: one copy.
        t.register_function_static(
            "other",
            &wasm("peek"),
            Limits::default(),
            WasiSettings::default(),
            vec![set("table", vec![Item::new("t", 0, "alpha beta gamma\n")])],
        )
        .unwrap();
        assert_eq!(blobs(dir.path(), "acme").len(), 3);
    }
    let engine = persistent(dir.path());
    let t = engine.tenant("acme");
    assert_eq!(engine.metrics().registry_records_skipped, 0);
    assert_eq!(ask(&t, "read /lib/main.py 0 99\n"), "print(\"hello\")\n\n");
    t.delete_composition("Peek").unwrap();
    t.delete_function("peek").unwrap();
    // The table is still used by `other`.
    assert_eq!(blobs(dir.path(), "acme").len(), 1);
    // Replacing `other` with other content removes the old content.
    t.register_function_static(
        "other",
        &wasm("peek"),
        Limits::default(),
        WasiSettings::default(),
        vec![set("table", vec![Item::new("t", 0, "new")])],
    )
    .unwrap();
    let left = blobs(dir.path(), "acme");
    assert_eq!(left.len(), 1);
    assert_eq!(std::fs::read(&left[0]).unwrap(), b"new");
    t.delete_function("other").unwrap();
    assert!(blobs(dir.path(), "acme").is_empty());
}

#[test]
fn a_corrupt_stored_blob_is_refused_at_load_and_never_served() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = persistent(dir.path());
        register_wasi(&engine.tenant("acme"), example_sets());
    }
    // Flip one byte of the table's stored copy.
    let table = blobs(dir.path(), "acme")
        .into_iter()
        .find(|p| std::fs::read(p).unwrap() == b"alpha beta gamma\n")
        .unwrap();
    std::fs::write(&table, b"alpha beta gammA\n").unwrap();
    let engine = persistent(dir.path());
    let t = engine.tenant("acme");
    assert!(t.get_function("peek").is_none());
    assert!(engine.metrics().registry_records_skipped >= 1);
    // The composition using it could not be restored either.
    assert!(matches!(
        t.invoke("Peek", sets(&[])),
        Err(Error::UnknownComposition { .. })
    ));
    // The corrupt copy is kept for the operator, not removed or served.
    assert!(table.exists());
}
