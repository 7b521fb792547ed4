//! The persisted registry survives damage: unusable records are skipped and
//! counted while the rest loads, and an interrupted replacement leaves the old
//! record in place.

use std::path::{Path, PathBuf};

use pappus_engine::{Engine, Limits};
use sha2::{Digest, Sha256};

use crate::support::*;

fn build(dir: &Path) -> Engine {
    Engine::builder()
        .compute_threads(1)
        .data_dir(dir)
        .build()
        .unwrap()
}

const SHOUT: &str = "function upper (in) => (out);
    composition Shout (A) => (B) { upper (in = each A) => (B = out); }";
const JOIN: &str = "function concat (in) => (out);
    composition Join (A) => (B) { concat (in = all A) => (B = out); }";
const ECHO: &str = "function identity (in) => (out);
    composition Echo (A) => (B) { identity (in = each A) => (B = out); }";

fn functions_dir(dir: &Path, tenant: &str) -> PathBuf {
    dir.join("tenants").join(tenant).join("functions")
}

fn compositions_dir(dir: &Path, tenant: &str) -> PathBuf {
    dir.join("tenants").join(tenant).join("compositions")
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Registers upper, concat and identity with Shout, Join and Echo on `acme`,
/// and upper with Shout on `other`.
fn populate(dir: &Path) {
    let engine = build(dir);
    let acme = engine.tenant("acme");
    for f in ["upper", "concat", "identity"] {
        acme.register_function(f, &wasm(f), Limits::default())
            .unwrap();
    }
    for text in [SHOUT, JOIN, ECHO] {
        acme.register_compositions(text).unwrap();
    }
    let other = engine.tenant("other");
    other
        .register_function("upper", &wasm("upper"), Limits::default())
        .unwrap();
    other.register_compositions(SHOUT).unwrap();
}

fn shout(engine: &Engine, tenant: &str) -> Vec<String> {
    let answer = engine
        .tenant(tenant)
        .invoke("Shout", sets(&[("A", vec![item("x", 1, "hi")])]))
        .unwrap();
    show_set(&answer.outputs, "B")
}

#[test]
fn corrupted_records_are_skipped_and_counted_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let acme_functions = functions_dir(dir.path(), "acme");
    let acme_compositions = compositions_dir(dir.path(), "acme");
    // concat's record truncated: concat is skipped, and so is Join, which
    // calls it (a composition that no longer checks).
    let concat = acme_functions.join("concat.json");
    let text = std::fs::read(&concat).unwrap();
    std::fs::write(&concat, &text[..text.len() / 2]).unwrap();
    // Echo's record is not JSON.
    std::fs::write(acme_compositions.join("Echo.json"), b"{\"seq\": 3, \"sou").unwrap();
    // identity's module swapped for one that fails validation (it imports),
    // with a record that matches it: it passes the store, not the sandbox.
    let bad = wasm("imports_something");
    let hash = hex::encode(Sha256::digest(&bad));
    for name in files(&acme_functions) {
        if name.starts_with("identity.") {
            std::fs::remove_file(acme_functions.join(name)).unwrap();
        }
    }
    std::fs::write(acme_functions.join(format!("identity.{hash}.wasm")), &bad).unwrap();
    std::fs::write(
        acme_functions.join("identity.json"),
        format!(
            "{{\"memory_bytes\": 67108864, \"timeout_ms\": 5000, \"max_output_bytes\": 16777216, \"module_sha256\": \"{hash}\"}}"
        ),
    )
    .unwrap();
    // other's upper module damaged in place: it no longer matches its hash.
    let other_functions = functions_dir(dir.path(), "other");
    let module = files(&other_functions)
        .into_iter()
        .find(|n| n.ends_with(".wasm"))
        .unwrap();
    let mut bytes = std::fs::read(other_functions.join(&module)).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(other_functions.join(&module), &bytes).unwrap();

    let engine = build(dir.path());
    // Skipped: concat, Join, Echo, identity; other's upper and its Shout.
    assert_eq!(engine.metrics().registry_records_skipped, 6);
    let acme = engine.tenant("acme");
    let functions: Vec<String> = acme.list_functions().into_iter().map(|f| f.name).collect();
    assert_eq!(functions, ["upper"]);
    let compositions: Vec<String> = acme
        .list_compositions()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(compositions, ["Shout"]);
    assert_eq!(shout(&engine, "acme"), ["x@1=HI"]);
    assert!(engine.tenant("other").list_functions().is_empty());
    // The tenant can register again over what was skipped.
    let other = engine.tenant("other");
    other
        .register_function("upper", &wasm("upper"), Limits::default())
        .unwrap();
    other.register_compositions(SHOUT).unwrap();
    assert_eq!(shout(&engine, "other"), ["x@1=HI"]);
}

#[test]
fn unreadable_tenant_directory_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    // `functions` is a file, not a directory: nothing of it can be listed.
    let acme_functions = functions_dir(dir.path(), "acme");
    std::fs::remove_dir_all(&acme_functions).unwrap();
    std::fs::write(&acme_functions, b"junk").unwrap();
    let engine = build(dir.path());
    // acme's three compositions no longer check without their functions.
    assert_eq!(engine.metrics().registry_records_skipped, 3);
    assert_eq!(shout(&engine, "other"), ["x@1=HI"]);
}

#[test]
fn interrupted_replacement_keeps_the_old_record_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let functions = functions_dir(dir.path(), "acme");
    let compositions = compositions_dir(dir.path(), "acme");
    let before_functions = files(&functions);
    let before_compositions = files(&compositions);
    // A crash while replacing `upper` with identity's module: the new module
    // and the new record's temporary file are written, the rename never
    // happened.
    let new = wasm("identity");
    let hash = hex::encode(Sha256::digest(&new));
    std::fs::write(functions.join(format!("upper.{hash}.wasm")), &new).unwrap();
    std::fs::write(
        functions.join(".upper.json.tmp"),
        format!("{{\"memory_bytes\": 67108864, \"timeout_ms\": 5000, \"max_output_bytes\": 16777216, \"module_sha256\": \"{hash}\"}}"),
    )
    .unwrap();
    // And while replacing Shout: half of the new record.
    std::fs::write(
        compositions.join(".Shout.json.tmp"),
        b"{\"seq\": 99, \"source\": \"fun",
    )
    .unwrap();

    let engine = build(dir.path());
    assert_eq!(engine.metrics().registry_records_skipped, 0);
    // The old upper (upper-casing) and the old Shout answer.
    assert_eq!(shout(&engine, "acme"), ["x@1=HI"]);
    assert_eq!(
        engine.tenant("acme").function_module("upper").unwrap(),
        wasm("upper")
    );
    // The temporary files and the orphaned module are gone.
    assert_eq!(files(&functions), before_functions);
    assert_eq!(files(&compositions), before_compositions);
}

#[test]
fn replacing_a_function_switches_records_and_keeps_one_module() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    let functions = functions_dir(dir.path(), "acme");
    {
        let engine = build(dir.path());
        let acme = engine.tenant("acme");
        let limits = Limits {
            timeout: std::time::Duration::from_millis(1234),
            ..Limits::default()
        };
        acme.register_function("upper", &wasm("identity"), limits)
            .unwrap();
        let modules: Vec<String> = files(&functions)
            .into_iter()
            .filter(|n| n.starts_with("upper.") && n.ends_with(".wasm"))
            .collect();
        assert_eq!(modules.len(), 1, "{modules:?}");
        assert!(!files(&functions).iter().any(|n| n.ends_with(".tmp")));
    }
    let engine = build(dir.path());
    assert_eq!(engine.metrics().registry_records_skipped, 0);
    let acme = engine.tenant("acme");
    assert_eq!(acme.function_module("upper").unwrap(), wasm("identity"));
    assert_eq!(
        acme.get_function("upper").unwrap().limits.timeout,
        std::time::Duration::from_millis(1234)
    );
    assert_eq!(shout(&engine, "acme"), ["x@1=hi"]);
}
