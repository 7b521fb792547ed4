//! `pappus check` with a `pappus.toml`: declarations checked against the set
//! names the modules embed.

use std::process::Command;

use pappus_testkit::wasm_path;

#[test]
fn check_compares_declarations_with_module_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[functions]\nupper = {:?}\nidentity = {{ wasm = {:?}, memory_mib = 16 }}\n",
        wasm_path("upper").display().to_string(),
        wasm_path("identity").display().to_string(),
    );
    std::fs::write(dir.path().join("pappus.toml"), toml).unwrap();
    std::fs::write(
        dir.path().join("wrong.pap"),
        "function upper (text) => (out);\ncomposition W (A) => (B) {\n  upper (text = each A) => (B = out);\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("right.pap"),
        "function upper (in) => (out);\nfunction identity (in) => (out);\ncomposition R (A) => (B) {\n  identity (in = each A) => (S = out);\n  upper (in = each S) => (B = out);\n}\n",
    )
    .unwrap();
    let run = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_pappus"))
            .args(["check", file])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };

    let out = run("wrong.pap");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("(text) => (out)") && stderr.contains("(in) => (out)"),
        "{stderr}"
    );

    let out = run("right.pap");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("`identity`"),
        "{stderr}"
    );
    assert!(!stderr.contains("`upper`"), "{stderr}");
}
