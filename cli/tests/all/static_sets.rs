//! Static sets through `pappus run`: `pappus.toml` attaches a file and a
//! folder to a WASI function, which reads them as read-only folders; a path
//! that does not exist stops the run naming it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pappus_engine::json::parse_sets;
use pappus_testkit::repo_root;

/// `examples/static-sets`, built, copied into `dir`.
fn project(dir: &Path) -> PathBuf {
    let example = repo_root().join("examples/static-sets");
    let built = Command::new("bash")
        .arg(example.join("build.sh"))
        .output()
        .expect("cannot run build.sh");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    for file in [
        "pappus.toml",
        "peek.pap",
        "peek.wasm",
        "requests.txt",
        "data/table.txt",
        "data/lib/main.py",
        "data/lib/sub/util.py",
    ] {
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(example.join(file), &to).expect("copy");
    }
    dir.to_path_buf()
}

fn run(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pappus"))
        .args(["run", "peek.pap", "--input", "Requests=@requests.txt"])
        .current_dir(dir)
        .output()
        .expect("cannot run pappus")
}

#[test]
fn pappus_run_gives_a_wasi_function_its_static_sets() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let out = run(&project);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs = parse_sets(&out.stdout).unwrap();
    let answer = String::from_utf8_lossy(&outputs["Answers"][0].data).into_owned();
    assert_eq!(
        answer,
        "table.txt 17\nmain.py 15\nsub/\nutil.py 6\ndir\nbeta\nx = 1\n\nrefused 69\nrefused 2\n"
    );
}

#[test]
fn a_missing_static_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    std::fs::remove_dir_all(project.join("data/lib")).unwrap();
    let out = run(&project);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("function `peek`, static set `lib`") && stderr.contains("data/lib"),
        "{stderr}"
    );
}
