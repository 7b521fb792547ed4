//! Wiring is checked, not discovered empty: declarations against the set names
//! a module embeds, outputs against the declaration at run time, the `named`
//! mode, and the memory ceiling.

use pappus_engine::{Error, Limits};

use crate::support::*;

#[test]
fn a_declaration_naming_other_sets_than_the_module_is_refused() {
    let engine = engine();
    let text = "function upper (text) => (loud);
        composition Shout (Text) => (Loud) {
            upper (text = each Text) => (Loud = loud);
        }";
    let err = engine.register_compositions(text).unwrap_err();
    let Error::SignatureMismatch {
        function,
        declared,
        module,
    } = &err
    else {
        panic!("not a signature mismatch: {err}");
    };
    assert_eq!(function, "upper");
    assert_eq!(declared, "(text) => (loud)");
    assert_eq!(module, "(in) => (out)");
    assert_eq!(err.kind(), "signature_mismatch");
    let message = err.to_string();
    assert!(message.contains("(text) => (loud)") && message.contains("(in) => (out)"));
    // Nothing was registered.
    assert!(engine.get_composition("Shout").is_none());
}

#[test]
fn a_matching_declaration_registers_and_modules_without_a_signature_warn() {
    let engine = engine();
    let text = "function upper (in) => (out);
        function identity (in) => (out);
        composition Shout (Text) => (Loud) {
            identity (in = each Text) => (Same = out);
            upper (in = each Same) => (Loud = out);
        }";
    let registration = engine.register_compositions_with_warnings(text).unwrap();
    assert_eq!(registration.compositions, ["Shout"]);
    // `upper` embeds its names (checked, silent); `identity` does not.
    assert_eq!(
        registration.warnings.len(),
        1,
        "{:?}",
        registration.warnings
    );
    assert!(
        registration.warnings[0].contains("`identity`")
            && registration.warnings[0].contains("no signature"),
        "{:?}",
        registration.warnings
    );
    let out = engine
        .invoke("Shout", sets(&[("Text", vec![item("a", 1, "hi")])]))
        .unwrap();
    assert_eq!(show_set(&out.outputs, "Loud"), ["a@1=HI"]);
}

#[test]
fn writing_an_undeclared_output_fails_the_shard() {
    let engine = engine();
    engine
        .register_function("stray_output", &wasm("stray_output"), Limits::default())
        .unwrap();
    engine
        .register_compositions(
            "function stray_output (in) => (out);
             composition Stray (A) => (B) {
                 stray_output (in = each A) => (B = out);
             }",
        )
        .unwrap();
    let err = engine
        .invoke("Stray", sets(&[("A", vec![item("a", 1, "x")])]))
        .unwrap_err();
    let Error::Failure { cause, kind, .. } = &err else {
        panic!("not a failure: {err}");
    };
    assert_eq!(*kind, "undeclared_output");
    assert!(
        cause.contains("`extra`") && cause.contains("declared outputs: out"),
        "{cause}"
    );
}

#[test]
fn named_runs_once_per_distinct_item_name() {
    let engine = engine();
    let out = run(
        &engine,
        "composition ByName (Words) => (Joined) {
            concat (in = named Words) => (Joined = out);
        }",
        "ByName",
        sets(&[(
            "Words",
            vec![
                item("x", 1, "a"),
                item("y", 1, "b"),
                item("x", 2, "c"),
                item("z", 9, "d"),
            ],
        )]),
    );
    // One shard per name, whatever the keys: x gets two items, y and z one.
    let mut joined: Vec<String> = out["Joined"]
        .iter()
        .map(|i| String::from_utf8_lossy(&i.data).into_owned())
        .collect();
    joined.sort();
    assert_eq!(joined, ["ac", "b", "d"]);
}

#[test]
fn a_memory_limit_above_the_ceiling_is_an_invalid_limit() {
    let engine = engine_with(|b| b.max_memory_bytes(64 << 20));
    let limits = Limits {
        memory_bytes: 128 << 20,
        ..Limits::default()
    };
    let err = engine
        .register_function("big", &wasm("upper"), limits)
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_limits", "{err}");
    let message = err.to_string();
    assert!(!message.contains("invalid module"), "{message}");
    assert!(
        message.contains("67108864") && message.contains("max_memory_bytes"),
        "{message}"
    );
}

#[test]
fn a_wasi_module_registers_without_a_signature_warning() {
    // A WASI program has no `entry!` to embed set names: warning about it
    // would only drown the warnings that matter.
    let engine = engine();
    let wasi = r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
        (memory (export "memory") 1)
        (func (export "_start")))"#;
    engine
        .register_function("quiet", wasi.as_bytes(), Limits::default())
        .unwrap();
    let registration = engine
        .register_compositions_with_warnings(
            "function quiet (stdin) => (stdout);
             composition Q (stdin) => (Out) { quiet (stdin = each stdin) => (Out = stdout); }",
        )
        .unwrap();
    assert_eq!(registration.compositions, ["Q"]);
    assert!(
        registration.warnings.is_empty(),
        "{:?}",
        registration.warnings
    );
}
