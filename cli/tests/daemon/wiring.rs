//! Wiring through the API: a declaration that differs from its module's set
//! names is a `400 signature_mismatch` naming both lists; a module without them
//! registers with a warning in the answer; a memory limit above the ceiling is
//! `400 invalid_limits`.

use crate::support::{register, wasm, Daemon};

#[test]
fn mismatched_declarations_are_refused_and_unchecked_ones_warn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "upper", "");
    register(&daemon, "identity", "");

    let wrong = "function upper (text) => (loud);
        composition Shout (Text) => (Loud) { upper (text = each Text) => (Loud = loud); }";
    let put = daemon.put("/v1/compositions", wrong.as_bytes());
    put.expect(400);
    let error = &put.json()["error"];
    assert_eq!(error["kind"], "signature_mismatch");
    assert_eq!(error["detail"]["function"], "upper");
    assert_eq!(error["detail"]["declared"], "(text) => (loud)");
    assert_eq!(error["detail"]["module"], "(in) => (out)");
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("(text) => (loud)") && message.contains("(in) => (out)"));

    let unchecked = "function identity (in) => (out);
        composition Same (A) => (B) { identity (in = each A) => (B = out); }";
    let put = daemon.put("/v1/compositions", unchecked.as_bytes());
    put.expect(201);
    let answer = put.json();
    assert_eq!(answer["compositions"], serde_json::json!(["Same"]));
    let warnings = answer["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{answer}");
    assert!(
        warnings[0]
            .as_str()
            .is_some_and(|w| w.contains("`identity`")),
        "{answer}"
    );
}

#[test]
fn a_memory_limit_above_the_ceiling_is_invalid_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No --max-memory-mib: the engine's ceiling (256 MiB) applies.
    let daemon = Daemon::start(dir.path(), &[]);
    let put = daemon.put("/v1/functions/upper?memory_mib=512", &wasm("upper"));
    put.expect(400);
    let error = &put.json()["error"];
    assert_eq!(error["kind"], "invalid_limits", "{}", put.text());
    let message = error["message"].as_str().expect("message");
    assert!(!message.contains("invalid module"), "{message}");
    assert!(message.contains("268435456"), "{message}");
}
