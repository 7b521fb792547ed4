//! `pappus build` of a C function is incremental: each source has its own
//! object file, recompiled only when the source, a header it includes or the
//! flags changed; the module is relinked only when an object changed.

use std::path::Path;
use std::process::{Command, Output};

fn pappus(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pappus"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cannot run pappus")
}

/// Builds the project in `dir` and returns its stderr, which names every
/// source compiled and ends with a summary line.
#[track_caller]
fn build(dir: &Path) -> String {
    let out = pappus(dir, &["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn compiled(stderr: &str) -> Vec<String> {
    let mut files: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("compiling "))
        .filter_map(|p| Path::new(p).file_name())
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

fn manifest(cflags: &str) -> String {
    format!(
        "[functions.shout]\nkind = \"wasi\"\nlang = \"c\"\nsrc = \"src\"\n\
         wasm = \"wasm/shout.wasm\"\ncflags = [{cflags}]\n"
    )
}

#[test]
fn unchanged_sources_are_not_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let src = project.join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(project.join("pappus.toml"), manifest("")).unwrap();
    std::fs::write(
        project.join("app.pap"),
        "function shout (stdin) => (stdout);\n\
         composition Shout (stdin) => (Out) {\n    shout (stdin = each stdin) => (Out = stdout);\n}\n",
    )
    .unwrap();
    std::fs::write(
        src.join("shout.h"),
        "#define SUFFIX \"!\"\nvoid shout(const char *s);\n",
    )
    .unwrap();
    std::fs::write(
        src.join("main.c"),
        "#include <stdio.h>\n#include \"shout.h\"\n\
         int main(void) { char line[256]; if (fgets(line, sizeof line, stdin)) shout(line); return 0; }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("shout.c"),
        "#include <ctype.h>\n#include <stdio.h>\n#include \"shout.h\"\n\
         void shout(const char *s) { for (; *s; s++) putchar(toupper((unsigned char)*s)); fputs(SUFFIX, stdout); }\n",
    )
    .unwrap();
    let run = || {
        let out = pappus(project, &["run", "app.pap", "--input", "stdin=hey"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sets = pappus_engine::json::parse_sets(&out.stdout).unwrap();
        String::from_utf8_lossy(&sets["Out"][0].data).into_owned()
    };

    let first = build(project);
    assert_eq!(compiled(&first), ["main.c", "shout.c"], "{first}");
    assert!(first.contains("shout: compiled 2 of 2 sources"), "{first}");
    assert_eq!(run(), "HEY!");
    let wasm = project.join("wasm/shout.wasm");
    let linked = std::fs::metadata(&wasm).unwrap().modified().unwrap();

    // Nothing changed: nothing compiled, nothing linked.
    let second = build(project);
    assert!(compiled(&second).is_empty(), "{second}");
    assert!(
        second.contains("shout: up to date (2 sources unchanged)"),
        "{second}"
    );
    assert!(!second.contains("linking"), "{second}");
    assert_eq!(
        std::fs::metadata(&wasm).unwrap().modified().unwrap(),
        linked
    );

    // One source edited: only it is recompiled.
    std::fs::write(
        src.join("main.c"),
        "#include <stdio.h>\n#include \"shout.h\"\n\
         int main(void) { char line[256]; if (fgets(line, sizeof line, stdin)) { shout(line); shout(line); } return 0; }\n",
    )
    .unwrap();
    let third = build(project);
    assert_eq!(compiled(&third), ["main.c"], "{third}");
    assert!(third.contains("compiled 1 of 2 sources"), "{third}");
    assert_eq!(run(), "HEY!HEY!");

    // The header both include: both are recompiled.
    std::fs::write(
        src.join("shout.h"),
        "#define SUFFIX \"?\"\nvoid shout(const char *s);\n",
    )
    .unwrap();
    let fourth = build(project);
    assert_eq!(compiled(&fourth), ["main.c", "shout.c"], "{fourth}");
    assert_eq!(run(), "HEY?HEY?");

    // Other flags: everything is recompiled, and the flags take effect.
    std::fs::write(project.join("pappus.toml"), manifest("\"-DLOUD\"")).unwrap();
    let fifth = build(project);
    assert_eq!(compiled(&fifth), ["main.c", "shout.c"], "{fifth}");
    let sixth = build(project);
    assert!(sixth.contains("up to date"), "{sixth}");

    // A deleted module is relinked from the objects, without compiling.
    std::fs::remove_file(&wasm).unwrap();
    let seventh = build(project);
    assert!(compiled(&seventh).is_empty(), "{seventh}");
    assert!(seventh.contains("linking"), "{seventh}");
    assert_eq!(run(), "HEY?HEY?");
}
