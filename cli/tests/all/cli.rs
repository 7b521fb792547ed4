//! The `pappus` binary, run for real.

use std::path::Path;
use std::process::{Command, Output};

use pappus_testkit::{repo_root, wasm_path};

fn pappus(args: &[&str], dir: &Path) -> Output {
    // Make sure the modules the examples point at exist.
    for f in [
        "split_words",
        "count",
        "concat",
        "matmul",
        "upper",
        "access",
        "fan_out",
        "render",
    ] {
        wasm_path(f);
    }
    Command::new(env!("CARGO_BIN_EXE_pappus"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cannot run pappus")
}

/// Asserts `out` is a failure whose stderr contains `needle`.
fn fails_naming(out: &Output, needle: &str) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "succeeded: {stderr}");
    assert!(stderr.contains(needle), "{stderr}");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts `out` succeeded and said nothing on stderr: a README example's
/// first run is clean (its functions embed their signatures), so that a real
/// warning stands out.
#[track_caller]
fn clean_success(out: &Output) {
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "a README example printed on stderr");
}

#[test]
fn check_reports_errors_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.pap"),
        "function f (in) => (out, extra);\ncomposition G (A) => (B) {\n  f (in = all A) => (B = out, X = extra);\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.pap"),
        "composition Bad (A) => (B) {\n  g (in = all A) => (B = out);\n}\n",
    )
    .unwrap();
    let out = pappus(&["check", "good.pap"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("good.pap: ok"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );

    let out = pappus(&["check", "good.pap", "bad.pap"], dir.path());
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.pap:2:3"), "{stderr}");
    assert!(stderr.contains("error"), "{stderr}");
}

#[test]
fn run_wordcount_example() {
    let root = repo_root();
    let out = pappus(
        &[
            "run",
            "examples/wordcount/wordcount.pap",
            "--input",
            "Docs=@examples/wordcount/docs",
        ],
        &root,
    );
    clean_success(&out);
    let stdout = text(&out.stdout);
    let sets = pappus_engine::json::parse_sets(stdout.as_bytes()).unwrap();
    assert_eq!(sets.keys().collect::<Vec<_>>(), ["Counts", "Report"]);
    let the = sets["Counts"].iter().find(|i| i.name == "the").unwrap();
    assert_eq!((&the.data[..], the.key), (&b"2"[..], 3));
    // Rendering is deterministic: the output is exactly what render_sets makes.
    assert_eq!(stdout, pappus_engine::json::render_sets(&sets));
}

#[test]
fn run_matmul_example_with_inputs_json() {
    let root = repo_root();
    let out = pappus(
        &[
            "run",
            "examples/matmul/matmul.pap",
            "--inputs",
            "examples/matmul/inputs.json",
        ],
        &root,
    );
    clean_success(&out);
    let sets = pappus_engine::json::parse_sets(&out.stdout).unwrap();
    let fib = sets["Result"].iter().find(|i| i.name == "fib").unwrap();
    let words: Vec<u64> = fib
        .data
        .chunks(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    // [[1,1],[1,0]]^4 = [[5,3],[3,2]]
    assert_eq!(words, [2, 5, 3, 3, 2]);
}

#[test]
fn run_render_logs_example_against_nginx() {
    // What examples/render-logs/run.sh does, with nginx from the testkit.
    let root = repo_root();
    let nginx = pappus_testkit::nginx_serving(&root.join("examples/render-logs/www"));
    let request = format!("Request=server: {}\ntoken: alice-7f3a\n", nginx.url());
    let out = pappus(
        &[
            "run",
            "examples/render-logs/render-logs.pap",
            "--input",
            &request,
        ],
        &root,
    );
    clean_success(&out);
    let sets = pappus_engine::json::parse_sets(&out.stdout).unwrap();
    let page = text(&sets["Page"][0].data);
    assert!(page.contains("<h1>Logs for alice</h1>"), "{page}");
}

#[test]
fn run_with_flags_text_inputs_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.pap"),
        "function upper (in) => (out);
         composition One (A) => (B, Empty) {
             upper (in = each A) => (B = out);
             upper (in = each Nothing) => (Empty = out);
         }
         composition Two (Nothing) => (X) { upper (in = all Nothing) => (X = out); }",
    )
    .unwrap();
    let upper = wasm_path("upper");
    let upper = upper.to_str().unwrap();
    let flag = format!("upper={upper}");
    let out = pappus(
        &[
            "run",
            "app.pap",
            "-c",
            "One",
            "--function",
            &flag,
            "--input",
            "A=hello",
            "--input",
            "A=@app.pap",
        ],
        dir.path(),
    );
    // `Nothing` is not an input of One: a check error, reported with the file name.
    fails_naming(&out, "app.pap:");

    std::fs::write(
        dir.path().join("app.pap"),
        "function upper (in) => (out);
         composition One (A, Nothing) => (B, Empty) {
             upper (in = each A) => (B = out);
             upper (in = each Nothing) => (Empty = out);
         }
         composition Two (Nothing) => (X) { upper (in = all Nothing) => (X = out); }",
    )
    .unwrap();
    let out = pappus(
        &[
            "run",
            "app.pap",
            "-c",
            "One",
            "--function",
            &flag,
            "--input",
            "A=hello",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\n  \"B\": [\n    {\"name\": \"\", \"key\": 0, \"data\": \"HELLO\"}\n  ],\n  \"Empty\": []\n}\n"
    );
    // Two compositions and no --composition: an error naming them.
    let out = pappus(&["run", "app.pap", "--function", &flag], dir.path());
    fails_naming(&out, "One, Two");
    // A missing module: the message says how to provide it.
    let out = pappus(&["run", "app.pap", "-c", "Two"], dir.path());
    fails_naming(&out, "--function upper=");
    // An unknown input set.
    let out = pappus(
        &["run", "app.pap", "-c", "Two", "-f", &flag, "--input", "Q=x"],
        dir.path(),
    );
    fails_naming(&out, "no input set `Q`");
}

#[test]
fn run_out_dir_writes_every_output_item() {
    let root = repo_root();
    let out_dir = tempfile::tempdir().unwrap();
    let out_path = out_dir.path().join("out");
    let out = pappus(
        &[
            "run",
            "examples/wordcount/wordcount.pap",
            "--input",
            "Docs=@examples/wordcount/docs",
            "--out-dir",
            out_path.to_str().unwrap(),
        ],
        &root,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Stdout is the JSON outputs and nothing else.
    let stdout = text(&out.stdout);
    let sets = pappus_engine::json::parse_sets(stdout.as_bytes()).unwrap();
    assert_eq!(stdout, pappus_engine::json::render_sets(&sets));
    let mut files = 0;
    for (set, items) in &sets {
        for item in items {
            let path = out_path.join(set).join(&item.name);
            let data = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            assert_eq!(data, &item.data[..], "{}", path.display());
            files += 1;
        }
        // Nothing but the items' files in the set's directory.
        assert_eq!(
            std::fs::read_dir(out_path.join(set)).unwrap().count(),
            items.len()
        );
    }
    assert_eq!(files, 27);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("wrote {files} files under {}", out_path.display())),
        "{stderr}"
    );
}

#[test]
fn run_with_s3_endpoint_but_no_keys_fails_clearly() {
    let root = repo_root();
    wasm_path("split_words");
    let mut command = Command::new(env!("CARGO_BIN_EXE_pappus"));
    for var in [
        "PAPPUS_S3_ACCESS_KEY",
        "PAPPUS_S3_SECRET_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        command.env_remove(var);
    }
    let out = command
        .args([
            "run",
            "examples/wordcount/wordcount.pap",
            "--input",
            "Docs=@examples/wordcount/docs",
            "--s3-endpoint",
            "http://127.0.0.1:3900",
        ])
        .current_dir(&root)
        .output()
        .expect("cannot run pappus");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("PAPPUS_S3_SECRET_KEY"), "{stderr}");
    assert!(stderr.contains("--s3-secret-key"), "{stderr}");
    assert!(stderr.contains("PAPPUS_S3_ACCESS_KEY"), "{stderr}");
}

#[test]
fn run_reads_the_io_table_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.pap"),
        "function upper (in) => (out);
         composition Up (A) => (B) { upper (in = each A) => (B = out); }",
    )
    .unwrap();
    let upper = wasm_path("upper");
    let manifest_with_io = |io: &str| {
        std::fs::write(
            dir.path().join("pappus.toml"),
            format!(
                "[functions]\nupper = {:?}\n\n[io]\n{io}\n",
                upper.to_str().unwrap()
            ),
        )
        .unwrap();
    };
    manifest_with_io("io_timeout_ms = 0");
    // The file's zero timeout is refused, naming the setting.
    let out = pappus(&["run", "app.pap", "--input", "A=hi"], dir.path());
    fails_naming(&out, "io_timeout_ms");
    // A flag overrides it.
    let out = pappus(
        &[
            "run",
            "app.pap",
            "--input",
            "A=hi",
            "--io-timeout-ms",
            "2000",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("\"HI\""),
        "{}",
        text(&out.stdout)
    );
    // Unknown keys in [io] are refused.
    manifest_with_io("io_timeout = 5");
    let out = pappus(&["run", "app.pap", "--input", "A=hi"], dir.path());
    fails_naming(&out, "io_timeout");
}
