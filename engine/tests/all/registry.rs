//! Registration rules, errors and tenant isolation.

use pappus_engine::{Engine, Error, Limits};

use crate::support::*;

#[test]
fn registration_errors() {
    let engine = Engine::builder().compute_threads(1).build().unwrap();
    // An invalid module names the reason.
    let err = engine
        .register_function("bad", b"not wasm", Limits::default())
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_module", "{err}");
    let err = engine
        .register_function("imports", &wasm("imports_something"), Limits::default())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidModule { .. }), "{err}");
    // A bad function name.
    let err = engine
        .register_function("no/slash", &wasm("identity"), Limits::default())
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_input", "{err}");
    // Diagnostics with line and column.
    let err = engine
        .register_compositions(
            "composition X (A) => (B) {\n  nothere (in = all A) => (B = out);\n}",
        )
        .unwrap_err();
    let Error::Diagnostics {
        rendered,
        diagnostics,
    } = &err
    else {
        panic!("{err}");
    };
    assert!(rendered.contains("nothere"), "{rendered}");
    assert_eq!(diagnostics[0].line, 2);
    assert_eq!(diagnostics[0].severity, "error");
    // A declared function that is not registered.
    let err = engine
        .register_compositions(
            "function upper (in) => (out);
             composition Y (A) => (B) { upper (in = all A) => (B = out); }",
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownFunction { name } if name == "upper"),
        "{err}"
    );
    // Unknown composition at invoke.
    let err = engine.invoke("Nope", Default::default()).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownComposition { name } if name == "Nope"),
        "{err}"
    );
}

#[test]
fn delete_rules() {
    let engine = engine();
    engine
        .register_compositions(&format!(
            "{DECLS}\ncomposition Up (A) => (B) {{ upper (in = all A) => (B = out); }}"
        ))
        .unwrap();
    let err = engine.delete_function("upper").unwrap_err();
    assert_eq!(err.kind(), "conflict", "{err}");
    assert!(err.to_string().contains("Up"), "{err}");
    engine.delete_composition("Up").unwrap();
    engine.delete_function("upper").unwrap();
    assert_eq!(
        engine.delete_function("upper").unwrap_err().kind(),
        "unknown_function"
    );
    assert_eq!(
        engine.delete_composition("Up").unwrap_err().kind(),
        "unknown_composition"
    );
}

#[test]
fn tenants_are_isolated() {
    let engine = Engine::builder().compute_threads(1).build().unwrap();
    let a = engine.tenant("a");
    let b = engine.tenant("b");
    a.register_function("upper", &wasm("upper"), Limits::default())
        .unwrap();
    b.register_function("identity", &wasm("identity"), Limits::default())
        .unwrap();
    a.register_compositions(
        "function upper (in) => (out);
         composition Same (A) => (B) { upper (in = all A) => (B = out); }",
    )
    .unwrap();
    // b cannot use a's function nor see a's composition.
    let err = b
        .register_compositions(
            "function upper (in) => (out);
             composition Other (A) => (B) { upper (in = all A) => (B = out); }",
        )
        .unwrap_err();
    assert_eq!(err.kind(), "unknown_function");
    assert_eq!(
        b.invoke("Same", Default::default()).unwrap_err().kind(),
        "unknown_composition"
    );
    // The same name in two tenants means two things.
    b.register_compositions(
        "function identity (in) => (out);
         composition Same (A) => (B) { identity (in = all A) => (B = out); }",
    )
    .unwrap();
    let input = || sets(&[("A", vec![item("", 0, "q")])]);
    assert_eq!(
        show_set(&a.invoke("Same", input()).unwrap().outputs, "B"),
        ["@0=Q"]
    );
    assert_eq!(
        show_set(&b.invoke("Same", input()).unwrap().outputs, "B"),
        ["@0=q"]
    );
    assert_eq!(a.list_functions().len(), 1);
    assert_eq!(b.list_functions()[0].name, "identity");
    assert!(engine.tenant("c").list_compositions().is_empty());
    assert_eq!(
        engine
            .tenant("../x")
            .register_function("f", &wasm("identity"), Limits::default())
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
}
