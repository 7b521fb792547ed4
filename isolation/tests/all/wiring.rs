//! What a module says about itself and what reaches the host when it fails:
//! the embedded signature, the SDK's checked input lookup, panic messages and the
//! memory ceiling.

use pappus_isolation::{Error, InputSet, Limits, Signature};

use crate::support::{function, item, runtime, wasm};

#[test]
fn sdk_modules_carry_their_signature() {
    let rt = runtime();
    let upper = function(&rt, "upper");
    let want = Signature {
        inputs: vec!["in".into()],
        outputs: vec!["out".into()],
    };
    assert_eq!(upper.signature(), Some(&want));
    assert_eq!(want.to_string(), "(in) => (out)");
    // A module built without names has none, and still compiles.
    assert_eq!(function(&rt, "identity").signature(), None);
}

#[test]
fn a_malformed_signature_section_refuses_the_module() {
    let rt = runtime();
    // A module without one, plus a signature section claiming far more names
    // than it holds (custom sections may come last).
    let mut module = wasm("identity");
    module.extend(custom_section(
        "pappus.signature",
        &[1, 0xff, 0xff, 0xff, 0xff],
    ));
    let err = rt
        .compile("liar_sig", &module, Limits::default())
        .expect_err("malformed section");
    assert_eq!(err.kind(), "invalid_module", "{err}");
    assert!(err.to_string().contains("pappus.signature"), "{err}");
}

#[test]
fn a_missing_input_set_names_the_sets_that_exist() {
    let rt = runtime();
    let f = function(&rt, "missing_input");
    let items = [item("a", 1, b"x")];
    let err = rt
        .run(
            &f,
            &[InputSet {
                name: "in",
                items: &items,
            }],
            None,
        )
        .expect_err("reads a set that is not there");
    match &err {
        Error::GuestError { message, .. } => {
            assert_eq!(message, "no input set `text`; the inputs are: in")
        }
        other => panic!("unexpected error: {other}"),
    }
}

#[test]
fn a_panic_message_reaches_the_error() {
    let rt = runtime();
    let f = function(&rt, "panics");
    let items = [item("report.csv", 1, b"12345")];
    let err = rt
        .run(
            &f,
            &[InputSet {
                name: "in",
                items: &items,
            }],
            None,
        )
        .expect_err("panics");
    assert_eq!(err.kind(), "panic", "{err}");
    let text = err.to_string();
    assert!(
        text.contains("cannot handle item `report.csv` (5 bytes)"),
        "{text}"
    );
    assert!(text.contains("panicked at"), "{text}");
    assert_eq!(err.function(), Some("panics"));
    // A trap without a message stays a plain trap.
    let trap = function(&rt, "trap");
    let err = rt.run(&trap, &[], None).expect_err("traps");
    assert_eq!(err.kind(), "trap", "{err}");
}

#[test]
fn a_formatted_error_message_reaches_the_error() {
    let rt = runtime();
    let f = function(&rt, "panics");
    let err = rt
        .run(
            &f,
            &[InputSet {
                name: "in",
                items: &[],
            }],
            None,
        )
        .expect_err("fails");
    match &err {
        Error::GuestError {
            message, status, ..
        } => {
            assert_eq!(*status, 1);
            assert_eq!(message, "no items among 1 input set(s)");
        }
        other => panic!("unexpected error: {other}"),
    }
}

#[test]
fn a_memory_limit_above_the_ceiling_is_a_configuration_error() {
    let rt = runtime(); // ceiling 64 MiB
    let limits = Limits {
        memory_bytes: 128 << 20,
        ..Limits::default()
    };
    let err = rt
        .compile("upper", &wasm("upper"), limits)
        .expect_err("above the ceiling");
    assert_eq!(err.kind(), "config", "{err}");
    let text = err.to_string();
    assert!(!text.contains("invalid module"), "{text}");
    assert!(text.contains("max_memory_bytes"), "{text}");
}

/// A custom section: id 0, size, name length, name, payload (sizes < 128).
fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let body = 1 + name.len() + payload.len();
    assert!(body < 128 && name.len() < 128);
    let mut out = vec![0, body as u8, name.len() as u8];
    out.extend(name.as_bytes());
    out.extend(payload);
    out
}

#[test]
fn wasi_programs_are_told_apart_without_compiling() {
    let wasi = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "_start")))"#,
    )
    .expect("valid wat");
    assert!(pappus_isolation::imports_wasi(&wasi));
    // ABI v1 modules import nothing; one importing another module is not WASI.
    assert!(!pappus_isolation::imports_wasi(&wasm("upper")));
    let other = wat::parse_str(r#"(module (import "env" "f" (func)))"#).expect("valid wat");
    assert!(!pappus_isolation::imports_wasi(&other));
    // Text and garbage are not WASI modules either (compiling says why).
    assert!(!pappus_isolation::imports_wasi(b"(module)"));
    assert!(!pappus_isolation::imports_wasi(b"\0asm\x01\0\0\0\x02\xff"));
}
