//! `file://` under a tenant's authority: reads and writes only beneath its
//! roots, no escape by `..`, encoded dots or symlinks, kernel interfaces and
//! denied paths never, and the same error whether a forbidden target exists.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pappus_io::{Authority, Call, FilePolicy, IoPolicy, IoRuntime, Item};

use crate::support::*;

/// A tenant tree: `root/in` (readable), `root/out` (writable), `root/in/private`
/// (denied), and `outside/secret.txt` beyond every root.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    for d in [root.join("in/private"), root.join("out"), outside.clone()] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(root.join("in/a.txt"), b"mine").unwrap();
    std::fs::write(root.join("in/private/key"), b"hidden").unwrap();
    std::fs::write(outside.join("secret.txt"), b"secret").unwrap();
    Tree {
        _dir: dir,
        root,
        outside,
    }
}

fn tenant(t: &Tree) -> Arc<Authority> {
    let policy = IoPolicy {
        file: FilePolicy {
            read: vec![t.root.join("in")],
            write: vec![t.root.join("out")],
            deny: vec![t.root.join("in/private")],
        },
        ..IoPolicy::default()
    };
    Arc::new(Authority::new(&policy).unwrap())
}

fn fetch_as(rt: &IoRuntime, auth: &Arc<Authority>, uri: &str) -> pappus_io::Result<Vec<Item>> {
    rt.call_as(
        auth,
        Call::Fetch {
            uris: vec![Item::new("u", 0, uri.to_owned())],
        },
    )
}

fn store_as(
    rt: &IoRuntime,
    auth: &Arc<Authority>,
    uri: &str,
    data: &'static [u8],
) -> pappus_io::Result<Vec<Item>> {
    rt.call_as(
        auth,
        Call::Store {
            objects: vec![Item::new("o", 0, data)],
            uris: vec![Item::new("u", 0, uri.to_owned())],
        },
    )
}

/// The error's message with its URI taken out: what it says about the target.
fn forbidden_rule(res: pappus_io::Result<Vec<Item>>, uri: &str) -> String {
    let e = assert_error(res, "forbidden", uri);
    e.to_string().replace(uri, "<uri>")
}

fn uri(path: &Path) -> String {
    file_uri(path)
}

#[test]
fn reads_inside_the_read_root_and_nothing_outside() {
    let t = tree();
    let auth = tenant(&t);
    let rt = runtime();
    let mine = fetch_as(&rt, &auth, &uri(&t.root.join("in/a.txt"))).unwrap();
    assert_eq!(mine[0].data.as_ref(), b"mine");
    for path in ["/etc/passwd", "/etc/hostname"] {
        forbidden_rule(
            fetch_as(&rt, &auth, &format!("file://{path}")),
            &format!("file://{path}"),
        );
    }
    // The write root is not readable.
    std::fs::write(t.root.join("out/w.txt"), b"w").unwrap();
    let w = uri(&t.root.join("out/w.txt"));
    assert!(forbidden_rule(fetch_as(&rt, &auth, &w), &w).contains("read root"));
}

#[test]
fn missing_and_present_targets_outside_the_roots_give_the_same_error() {
    let t = tree();
    let auth = tenant(&t);
    let rt = runtime();
    let present = uri(&t.outside.join("secret.txt"));
    let missing = uri(&t.outside.join("nothing-here.txt"));
    assert_eq!(
        forbidden_rule(fetch_as(&rt, &auth, &present), &present),
        forbidden_rule(fetch_as(&rt, &auth, &missing), &missing)
    );
    // Through symlinks inside the root, too.
    symlink(t.outside.join("secret.txt"), t.root.join("in/to-secret")).unwrap();
    symlink(
        t.outside.join("nothing-here.txt"),
        t.root.join("in/to-nothing"),
    )
    .unwrap();
    let via_present = uri(&t.root.join("in/to-secret"));
    let via_missing = uri(&t.root.join("in/to-nothing"));
    assert_eq!(
        forbidden_rule(fetch_as(&rt, &auth, &via_present), &via_present),
        forbidden_rule(fetch_as(&rt, &auth, &via_missing), &via_missing)
    );
}

#[test]
fn dot_dot_and_encoded_dots_do_not_escape() {
    let t = tree();
    let auth = tenant(&t);
    let rt = runtime();
    let root = t.root.display().to_string();
    for escape in [
        format!("file://{root}/in/../../outside/secret.txt"),
        format!("file://{root}/in/%2e%2e/%2e%2e/outside/secret.txt"),
        format!("file://{root}/in/%2E%2E/%2E%2E/outside/secret.txt"),
        format!("file://{root}/in/.%2e/.%2e/outside/secret.txt"),
        format!("file://{root}/in/..%2f..%2foutside/secret.txt"),
        format!("file://{root}/in/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt"),
    ] {
        // Refused, or (if a decoder kept the dots as a name) not found in the
        // root: never the outside file's bytes.
        match fetch_as(&rt, &auth, &escape) {
            Ok(items) => panic!("{escape} escaped: {:?}", items[0].data),
            Err(e) => assert!(
                matches!(e.kind(), "forbidden" | "invalid_uri" | "io"),
                "{escape}: {e}"
            ),
        }
    }
}

#[test]
fn symlinks_inside_a_root_cannot_point_out() {
    let t = tree();
    let auth = tenant(&t);
    let rt = runtime();
    let cases = [
        ("abs", t.outside.join("secret.txt")),
        ("rel", PathBuf::from("../../outside/secret.txt")),
        ("dir", t.outside.clone()),
        ("etc", PathBuf::from("/etc/passwd")),
        ("environ", PathBuf::from("/proc/self/environ")),
        ("fd", PathBuf::from("/proc/self/fd/0")),
    ];
    for (name, target) in &cases {
        symlink(target, t.root.join("in").join(name)).unwrap();
    }
    for (name, _) in &cases {
        let via = match *name {
            "dir" => uri(&t.root.join("in/dir/secret.txt")),
            _ => uri(&t.root.join("in").join(name)),
        };
        forbidden_rule(fetch_as(&rt, &auth, &via), &via);
    }
}

#[test]
fn kernel_interfaces_and_denied_paths_are_never_named_even_inside_a_root() {
    let t = tree();
    let rt = runtime();
    // A root containing everything.
    let everything = IoPolicy {
        file: FilePolicy {
            read: vec!["/".into()],
            write: vec![t.root.join("out")],
            deny: vec![t.root.join("in/private")],
        },
        ..IoPolicy::default()
    };
    let auth = Arc::new(Authority::new(&everything).unwrap());
    for path in [
        "/proc/self/environ",
        "/proc/1/cmdline",
        "/sys/kernel/hostname",
        "/dev/zero",
        "/dev/../proc/self/environ",
    ] {
        let u = format!("file://{path}");
        forbidden_rule(fetch_as(&rt, &auth, &u), &u);
    }
    let private = uri(&t.root.join("in/private/key"));
    assert!(forbidden_rule(fetch_as(&rt, &auth, &private), &private).contains("denied"));
    // Reached by a relative symlink that stays beneath the root `/`.
    symlink("private/key", t.root.join("in/to-private")).unwrap();
    let depth = t.root.join("in").components().count() - 1;
    let up = "../".repeat(depth);
    symlink(
        format!("{up}proc/self/environ"),
        t.root.join("in/to-environ"),
    )
    .unwrap();
    for name in ["to-private", "to-environ"] {
        let via = uri(&t.root.join("in").join(name));
        forbidden_rule(fetch_as(&rt, &auth, &via), &via);
    }
    // A FIFO would block an open for reading: it is refused, not waited on.
    let fifo = t.root.join("in/fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if made {
        let u = uri(&fifo);
        forbidden_rule(fetch_as(&rt, &auth, &u), &u);
    }
}

#[test]
fn writes_only_beneath_the_write_root() {
    let t = tree();
    let auth = tenant(&t);
    let rt = runtime();
    let ok = uri(&t.root.join("out/new/deeper/x.txt"));
    store_as(&rt, &auth, &ok, b"written").unwrap();
    assert_eq!(
        std::fs::read(t.root.join("out/new/deeper/x.txt")).unwrap(),
        b"written"
    );
    // The read root is not writable, nor anything outside.
    for path in [
        t.root.join("in/a.txt"),
        t.outside.join("secret.txt"),
        t.outside.join("new.txt"),
    ] {
        let u = uri(&path);
        forbidden_rule(store_as(&rt, &auth, &u, b"overwrite"), &u);
    }
    let dotted = format!("file://{}/out/../in/a.txt", t.root.display());
    assert!(store_as(&rt, &auth, &dotted, b"overwrite").is_err());
    // A directory symlink in the write root pointing out: nothing is created there.
    symlink(&t.outside, t.root.join("out/escape")).unwrap();
    let via = uri(&t.root.join("out/escape/planted.txt"));
    forbidden_rule(store_as(&rt, &auth, &via, b"planted"), &via);
    let via_new_dir = uri(&t.root.join("out/escape/sub/planted.txt"));
    forbidden_rule(store_as(&rt, &auth, &via_new_dir, b"planted"), &via_new_dir);
    assert!(!t.outside.join("planted.txt").exists());
    assert!(!t.outside.join("sub").exists());
    assert_eq!(std::fs::read(t.root.join("in/a.txt")).unwrap(), b"mine");
    assert_eq!(
        std::fs::read(t.outside.join("secret.txt")).unwrap(),
        b"secret"
    );
    // A file symlink at the target name is replaced, not written through.
    symlink(t.outside.join("secret.txt"), t.root.join("out/link.txt")).unwrap();
    store_as(&rt, &auth, &uri(&t.root.join("out/link.txt")), b"replaced").unwrap();
    assert_eq!(
        std::fs::read(t.outside.join("secret.txt")).unwrap(),
        b"secret"
    );
}

#[test]
fn a_policy_without_file_roots_reads_and_writes_nothing() {
    let t = tree();
    let auth = Arc::new(Authority::new(&IoPolicy::default()).unwrap());
    let rt = runtime();
    let a = uri(&t.root.join("in/a.txt"));
    forbidden_rule(fetch_as(&rt, &auth, &a), &a);
    let w = uri(&t.root.join("out/x.txt"));
    forbidden_rule(store_as(&rt, &auth, &w, b"x"), &w);
    assert!(rt.stats().forbidden >= 2);
}

#[test]
fn invalid_file_policies_are_refused() {
    for bad in [
        FilePolicy {
            read: vec!["relative/root".into()],
            ..FilePolicy::default()
        },
        FilePolicy {
            write: vec!["/srv/../etc".into()],
            ..FilePolicy::default()
        },
        FilePolicy {
            deny: vec!["data".into()],
            ..FilePolicy::default()
        },
    ] {
        let policy = IoPolicy {
            file: bad,
            ..IoPolicy::default()
        };
        let e = Authority::new(&policy).unwrap_err();
        assert_eq!(e.kind(), "config", "{e}");
    }
}

#[test]
fn hard_links_into_a_root_are_not_read_and_writes_do_not_go_through_them() {
    let t = tree();
    let auth = tenant(&t);
    let rt = runtime();
    // An operator's hard link from a root to a file outside it (a tenant
    // cannot make one), and to a denied file.
    std::fs::hard_link(t.outside.join("secret.txt"), t.root.join("in/linked")).unwrap();
    std::fs::hard_link(t.root.join("in/private/key"), t.root.join("in/linked-key")).unwrap();
    for name in ["linked", "linked-key"] {
        let via = uri(&t.root.join("in").join(name));
        assert!(forbidden_rule(fetch_as(&rt, &auth, &via), &via).contains("hard link"));
    }
    // A store over a hard-linked name replaces the name, not the other file.
    std::fs::hard_link(t.outside.join("secret.txt"), t.root.join("out/linked")).unwrap();
    store_as(&rt, &auth, &uri(&t.root.join("out/linked")), b"replaced").unwrap();
    assert_eq!(
        std::fs::read(t.outside.join("secret.txt")).unwrap(),
        b"secret"
    );
    assert_eq!(
        std::fs::read(t.root.join("out/linked")).unwrap(),
        b"replaced"
    );
    // A file with one name still reads.
    assert_eq!(
        fetch_as(&rt, &auth, &uri(&t.root.join("in/a.txt"))).unwrap()[0].data,
        &b"mine"[..]
    );
}

#[test]
fn file_uris_naming_a_host_are_refused() {
    let t = tree();
    let auth = tenant(&t);
    let rt = runtime();
    let path = t.root.join("in/a.txt").display().to_string();
    for u in [
        format!("file://evil.example{path}"),
        format!("file://127.0.0.1{path}"),
    ] {
        assert_error(fetch_as(&rt, &auth, &u), "invalid_uri", &u);
    }
    // `localhost` is the local machine: judged by the path as any other.
    let local = format!("file://localhost{path}");
    assert_eq!(fetch_as(&rt, &auth, &local).unwrap()[0].data, &b"mine"[..]);
    let outside = format!("file://localhost{}", t.outside.join("secret.txt").display());
    forbidden_rule(fetch_as(&rt, &auth, &outside), &outside);
}
