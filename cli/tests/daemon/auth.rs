//! Tenants behind bearer tokens: 401 without credentials, 403 with bad ones, and
//! two tenants that cannot see each other.

use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::{wasm, Daemon};

const TOKENS: &str = "[tokens]\n\"alpha-secret\" = \"alpha\"\n\"beta-secret\" = \"beta\"\n";

#[test]
fn tokens_select_tenants_that_cannot_see_each_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, TOKENS).expect("write tokens");
    let daemon = Daemon::start(
        dir.path(),
        &["--tokens", tokens.to_str().expect("utf-8 path")],
    );

    let call = |token: &str, method: &str, path: &str, body: &[u8]| {
        let bearer = format!("Bearer {token}");
        daemon.request(method, path, &[("authorization", bearer.as_str())], body)
    };

    // Missing or malformed credentials: 401 with a challenge; unknown token: 403.
    let missing = daemon.get("/v1/functions");
    missing.expect(401);
    assert_eq!(missing.error_kind(), "unauthorized");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    daemon
        .request(
            "GET",
            "/v1/functions",
            &[("authorization", "Basic YTpi")],
            b"",
        )
        .expect(401);
    let wrong = call("gamma-secret", "GET", "/v1/functions", b"");
    wrong.expect(403);
    assert_eq!(wrong.error_kind(), "forbidden");
    // Probes need no token.
    daemon.get("/healthz").expect(200);

    // alpha's `f` uppercases, beta's `f` is the identity: same names, own namespaces.
    let composition = b"function f (in) => (out);
composition C (In) => (Out) {
    f (in = each In) => (Out = out);
}
";
    call("alpha-secret", "PUT", "/v1/functions/f", &wasm("upper")).expect(201);
    assert_eq!(
        call("beta-secret", "GET", "/v1/functions", b"").json(),
        json!({ "functions": [] })
    );
    call("beta-secret", "GET", "/v1/functions/f", b"").expect(404);
    call("alpha-secret", "PUT", "/v1/compositions", composition).expect(201);
    call("beta-secret", "POST", "/v1/compositions/C/invoke", b"{}").expect(404);
    call("beta-secret", "GET", "/v1/compositions/C", b"").expect(404);
    call("beta-secret", "DELETE", "/v1/compositions/C", b"").expect(404);
    // beta's composition cannot use alpha's function either.
    let borrowed = call("beta-secret", "PUT", "/v1/compositions", composition);
    assert!(
        borrowed.status == 404 || borrowed.status == 400,
        "{}",
        borrowed.text()
    );

    call("beta-secret", "PUT", "/v1/functions/f", &wasm("identity")).expect(201);
    call("beta-secret", "PUT", "/v1/compositions", composition).expect(201);
    let input = br#"{"In": [{"data": "quiet"}]}"#;
    let alpha = call("alpha-secret", "POST", "/v1/compositions/C/invoke", input);
    let beta = call("beta-secret", "POST", "/v1/compositions/C/invoke", input);
    assert_eq!(
        alpha.expect(200).json(),
        json!({ "Out": [{ "name": "", "key": 0, "data": "QUIET" }] })
    );
    assert_eq!(
        beta.expect(200).json(),
        json!({ "Out": [{ "name": "", "key": 0, "data": "quiet" }] })
    );

    // Deleting in one tenant leaves the other alone.
    call("beta-secret", "DELETE", "/v1/compositions/C", b"").expect(204);
    call("alpha-secret", "GET", "/v1/compositions/C", b"").expect(200);
}

#[test]
fn refuses_non_loopback_without_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Refused before binding anything.
    let out = Command::new(crate::pappus_binary())
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run pappus serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--insecure-no-auth"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}

#[test]
fn bad_tokens_file_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, "[tokens]\n\"t\" = \"../escape\"\n").expect("write tokens");
    let out = Command::new(crate::pappus_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--tokens"])
        .arg(&tokens)
        .stdin(Stdio::null())
        .output()
        .expect("run pappus serve");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tokens.toml"));
}
