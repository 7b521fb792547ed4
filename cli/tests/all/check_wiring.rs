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

#[test]
fn check_says_nothing_of_a_wasi_module_without_a_signature() {
    // A WASI program has no `entry!`, so no signature: no warning either.
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests/probe.c");
    let out = Command::new("clang")
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-o"])
        .arg(dir.path().join("probe.wasm"))
        .arg(&source)
        .output()
        .expect("cannot run clang (run ./setup.sh)");
    assert!(
        out.status.success(),
        "clang: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        dir.path().join("pappus.toml"),
        "[functions]\nprobe = \"probe.wasm\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app.pap"),
        "function probe (stdin) => (stdout);\ncomposition P (stdin) => (Out) {\n  probe (stdin = each stdin) => (Out = stdout);\n}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pappus"))
        .args(["check", "app.pap"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr, "", "a WASI module got a warning");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 warning(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn check_before_the_first_build_says_to_build() {
    let parent = tempfile::tempdir().unwrap();
    let new = Command::new(env!("CARGO_BIN_EXE_pappus"))
        .args(["new", "fresh", "--lang", "c"])
        .current_dir(parent.path())
        .output()
        .unwrap();
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_pappus"))
        .args(["check", "app.pap"])
        .current_dir(parent.path().join("fresh"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("run `pappus build`"), "{stderr}");
}
