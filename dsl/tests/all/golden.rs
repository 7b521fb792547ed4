//! Golden tests: each `tests/golden/NAME.pap` is parsed and checked; the rendered
//! diagnostics must equal `NAME.err` and, when there is no error, the plan dump must
//! equal `NAME.plan`. `BLESS=1 cargo test -p pappus-dsl` rewrites the expected files.

use std::fs;
use std::path::{Path, PathBuf};

use pappus_dsl::{check, parse, Env};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Rendered diagnostics and the plan dump (if the file checks) of one source.
fn outputs(name: &str, source: &str) -> (String, Option<String>) {
    let file_name = format!("{name}.pap");
    match parse(source) {
        Err(diags) => (
            diags
                .iter()
                .map(|d| d.render(&file_name, source))
                .collect::<Vec<_>>()
                .join("\n"),
            None,
        ),
        Ok(file) => {
            let checked = check(&file, &Env::new());
            let err = checked
                .diagnostics
                .iter()
                .map(|d| d.render(&file_name, source))
                .collect::<Vec<_>>()
                .join("\n");
            let plan = (!checked.has_errors()).then(|| {
                checked
                    .plans
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            (err, plan)
        }
    }
}

fn compare(path: &Path, actual: Option<&str>, bless: bool, failures: &mut Vec<String>) {
    let expected = fs::read_to_string(path).ok();
    if bless {
        match actual {
            Some(a) => fs::write(path, a).unwrap(),
            None if expected.is_some() => fs::remove_file(path).unwrap(),
            None => {}
        }
        return;
    }
    if expected.as_deref() != actual {
        failures.push(format!(
            "{}:\n--- expected\n{}\n--- actual\n{}",
            path.display(),
            expected.as_deref().unwrap_or("<no file>"),
            actual.unwrap_or("<no file>")
        ));
    }
}

#[test]
fn golden() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut entries: Vec<PathBuf> = fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pap"))
        .collect();
    entries.sort();
    assert!(entries.len() > 30, "golden files missing");
    let mut failures = Vec::new();
    for path in &entries {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let source = fs::read_to_string(path).unwrap();
        let (err, plan) = outputs(name, &source);
        let err = (!err.is_empty()).then_some(err);
        compare(
            &path.with_extension("err"),
            err.as_deref(),
            bless,
            &mut failures,
        );
        compare(
            &path.with_extension("plan"),
            plan.as_deref(),
            bless,
            &mut failures,
        );
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches (run with BLESS=1 to accept):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every `.err`/`.plan` file belongs to a `.pap` file.
#[test]
fn no_stale_expectations() {
    for entry in fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "err" || e == "plan") {
            assert!(
                path.with_extension("pap").exists(),
                "{} has no source",
                path.display()
            );
        }
    }
}

/// One golden per diagnostic kind: each file meant to fail produces an error.
#[test]
fn failing_goldens_have_errors() {
    for entry in fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.extension().is_none_or(|e| e != "pap") {
            continue;
        }
        let source = fs::read_to_string(&path).unwrap();
        let (err, plan) = outputs(&name, &source);
        let warn_only = name.starts_with("unused_");
        let ok = [
            "render_logs",
            "joins",
            "nested",
            "word_boundaries",
            "out_of_order_application",
            "named",
            "named_as_identifier",
            "catch",
        ]
        .contains(&name.as_str());
        if ok {
            assert!(
                err.is_empty() && plan.is_some(),
                "{name} should check cleanly: {err}"
            );
        } else if warn_only {
            assert!(
                err.starts_with("warning") && plan.is_some(),
                "{name}: {err}"
            );
        } else {
            assert!(
                err.contains("error: ") && plan.is_none(),
                "{name} should fail"
            );
        }
    }
}
