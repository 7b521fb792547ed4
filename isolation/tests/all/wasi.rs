//! The WASI profile with hand-written WAT guests: registration, every provided
//! call and its errors, failure kinds, limits, isolation between calls, replay.
//!
//! Most guests end with `proc_exit(errno of the call under test)`, so a test
//! reads the errno from [`Error::Exit`] (or success for errno 0).

use pappus_isolation::{
    CallOptions, Error, Function, InputSet, Item, Limits, OutputSet, Runtime, WasiContext,
    WasiSettings,
};

use crate::support::{item, runtime};

/// Import declarations of every function the guests below use.
const IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $fd_tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $fd_filestat_set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $fd_renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory" (func $rmdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_readlink" (func $readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
"#;

// Errno values of preview1.
const EACCES: u32 = 2;
const EBADF: u32 = 8;
const EEXIST: u32 = 20;
const EFAULT: u32 = 21;
const EINVAL: u32 = 28;
const EISDIR: u32 = 31;
const EMFILE: u32 = 33;
const ENAMETOOLONG: u32 = 37;
const ENOENT: u32 = 44;
const ENOSPC: u32 = 51;
const ENOTDIR: u32 = 54;
const ENOTEMPTY: u32 = 55;
const ENOTSUP: u32 = 58;
const EROFS: u32 = 69;
const ESPIPE: u32 = 70;

// Rights and flags.
const READ: i64 = 1 << 1;
const WRITE: i64 = 1 << 6;
const O_CREAT: i32 = 1;
const O_DIRECTORY: i32 = 2;
const O_EXCL: i32 = 4;
const O_TRUNC: i32 = 8;

/// A WASI module: `data` segments (WAT text) and the body of `_start`, which may
/// use the locals `$fd`, `$r` (i32) and `$n` (i64).
fn module(data: &str, body: &str) -> String {
    format!(
        r#"(module {IMPORTS}
  (memory (export "memory") 1)
  {data}
  (func (export "_start") (local $fd i32) (local $r i32) (local $n i64)
    {body}))"#
    )
}

/// `(data ...)` placing `text` at `at`.
fn data(at: u32, text: &str) -> String {
    let escaped: String = text.bytes().map(|b| format!("\\{b:02x}")).collect();
    format!(r#"(data (i32.const {at}) "{escaped}")"#)
}

/// `path_open` of the `len`-byte path at `at`, relative to the root (fd 3),
/// storing the new fd at address 0.
fn open(at: u32, len: usize, oflags: i32, rights: i64, fdflags: i32) -> String {
    format!(
        "(call $path_open (i32.const 3) (i32.const 0) (i32.const {at}) (i32.const {len}) (i32.const {oflags}) (i64.const {rights}) (i64.const 0) (i32.const {fdflags}) (i32.const 0))"
    )
}

/// Exits with the errno `expr` evaluates to.
fn exit_with(expr: &str) -> String {
    format!("(call $proc_exit {expr})")
}

/// Writes the `len` bytes at `at` to `fd` (iovec at 16), exiting on error.
fn write(fd: &str, at: u32, len: u32) -> String {
    format!(
        "(i32.store (i32.const 16) (i32.const {at})) (i32.store (i32.const 20) (i32.const {len}))
         (local.set $r (call $fd_write {fd} (i32.const 16) (i32.const 1) (i32.const 24)))
         (if (local.get $r) (then (call $proc_exit (local.get $r))))"
    )
}

fn compile(rt: &Runtime, name: &str, wat: &str) -> Function {
    rt.compile(name, wat.as_bytes(), Limits::default())
        .unwrap_or_else(|e| panic!("compiling {name}: {e}\n{wat}"))
}

fn docs() -> Vec<Item> {
    vec![
        item("a.txt", 7, b"alpha"),
        item("b.txt", 9, b"bravo!"),
        item("sub/c.txt", 11, b"charlie"),
    ]
}

fn context() -> WasiContext {
    WasiContext::new(42, 1_700_000_000)
}

/// Calls `f` with input set `Docs` and the given outputs.
fn call_with(
    rt: &Runtime,
    f: &Function,
    inputs: &[InputSet<'_>],
    outputs: &[&str],
    shard_key: Option<u64>,
) -> Result<Vec<OutputSet>, Error> {
    let options = CallOptions {
        outputs,
        shard_key,
        context: context(),
    };
    rt.call(f, inputs, &options, None)
}

fn call(rt: &Runtime, f: &Function, outputs: &[&str]) -> Result<Vec<OutputSet>, Error> {
    let docs = docs();
    call_with(
        rt,
        f,
        &[InputSet {
            name: "Docs",
            items: &docs,
        }],
        outputs,
        None,
    )
}

/// The errno a `proc_exit(errno)` guest ended with (0 for success).
fn errno(rt: &Runtime, data: &str, body: &str) -> u32 {
    let f = compile(rt, "errno", &module(data, body));
    match call(rt, &f, &["Out"]) {
        Ok(_) => 0,
        Err(Error::Exit { code, .. }) => code,
        Err(e) => panic!("expected an exit status, got {e}"),
    }
}

fn set<'a>(outputs: &'a [OutputSet], name: &str) -> &'a OutputSet {
    outputs
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no output set {name} in {outputs:?}"))
}

#[test]
fn abi_v1_modules_still_run_and_are_not_wasi() {
    let rt = runtime();
    let f = crate::support::function(&rt, "identity");
    assert!(!f.is_wasi());
    let out = crate::support::run1(&rt, &f, "in", &[item("x", 1, b"abc")]);
    assert_eq!(out[0].items[0].data, "abc");
}

#[test]
fn imports_outside_wasi_or_not_provided_are_refused_by_name() {
    let rt = runtime();
    let cases = [
        (
            r#"(module (import "env" "host_call" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
            "`env`.`host_call`",
        ),
        (
            r#"(module (import "wasi_snapshot_preview1" "proc_raise" (func (param i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))"#,
            "`wasi_snapshot_preview1`.`proc_raise`",
        ),
        (
            r#"(module (import "wasi_snapshot_preview1" "no_such_call" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
            "no_such_call",
        ),
        (
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (memory (export "memory") 1))"#,
            "_start",
        ),
        (
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start")))"#,
            "memory",
        ),
        (
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i64))) (memory (export "memory") 1) (func (export "_start")))"#,
            "proc_exit",
        ),
    ];
    for (wat, needle) in cases {
        match rt.compile("refused", wat.as_bytes(), Limits::default()) {
            Err(e @ Error::InvalidModule { .. }) => {
                assert!(e.to_string().contains(needle), "{needle}: {e}")
            }
            Err(e) => panic!("{needle}: wrong error {e}"),
            Ok(_) => panic!("{needle}: accepted"),
        }
    }
}

#[test]
fn a_wasi_module_is_detected_and_returning_from_start_succeeds() {
    let rt = runtime();
    let f = compile(&rt, "empty", &module("", ""));
    assert!(f.is_wasi());
    let out = call(&rt, &f, &["Out"]).expect("runs");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].name, "Out");
    assert!(out[0].items.is_empty());
    // Through `run` too (no declared outputs, a fresh context).
    assert!(rt.run(&f, &[], None).expect("runs").is_empty());
}

#[test]
fn exit_statuses_zero_succeeds_other_fails_with_code_and_stderr_tail() {
    let rt = runtime();
    let ok = compile(&rt, "exit0", &module("", "(call $proc_exit (i32.const 0))"));
    assert!(call(&rt, &ok, &[]).is_ok());

    let msg = "something went wrong\n";
    let body = format!(
        "{} (call $proc_exit (i32.const 3))",
        write("(i32.const 2)", 100, msg.len() as u32)
    );
    let f = compile(&rt, "exit3", &module(&data(100, msg), &body));
    match call(&rt, &f, &[]) {
        Err(e @ Error::Exit { .. }) => {
            assert_eq!(e.kind(), "exit");
            let Error::Exit { code, stderr, .. } = &e else {
                unreachable!()
            };
            assert_eq!(*code, 3);
            assert_eq!(stderr, msg);
            assert!(
                e.to_string().contains("status 3") && e.to_string().contains(msg),
                "{e}"
            );
        }
        other => panic!("expected exit 3, got {other:?}"),
    }
}

#[test]
fn a_trap_keeps_its_code_and_shows_the_stderr_tail() {
    let rt = runtime();
    let msg = "panicked at src/main.rs: index out of bounds\n";
    let body = format!(
        "{} unreachable",
        write("(i32.const 2)", 100, msg.len() as u32)
    );
    let f = compile(&rt, "trap", &module(&data(100, msg), &body));
    match call(&rt, &f, &[]) {
        Err(e @ Error::Trap { .. }) => {
            let text = e.to_string();
            assert!(text.contains("unreachable"), "{text}");
            assert!(text.contains("index out of bounds"), "{text}");
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn only_the_last_4_kib_of_stderr_are_kept() {
    let rt = runtime();
    // 10 KiB of 'x' then "END", then exit 1.
    let body = format!(
        "(memory.fill (i32.const 1024) (i32.const 120) (i32.const 10240))
         {} {} (call $proc_exit (i32.const 1))",
        write("(i32.const 2)", 1024, 10240),
        write("(i32.const 2)", 100, 3)
    );
    let f = compile(&rt, "noisy", &module(&data(100, "END"), &body));
    match call(&rt, &f, &[]) {
        Err(Error::Exit { stderr, .. }) => {
            assert_eq!(stderr.len(), 4096);
            assert!(stderr.ends_with("xxEND"));
        }
        other => panic!("expected exit 1, got {other:?}"),
    }
}

#[test]
fn input_files_are_read_with_fd_read_seek_and_pread() {
    let rt = runtime();
    // Open Docs/b.txt, read 3 bytes, seek to 4, read the rest, pread at 1:
    // stdout gets "bra" + "o!" + "ravo".
    let body = format!(
        "(local.set $r {open}) (if (local.get $r) (then (call $proc_exit (local.get $r))))
         (local.set $fd (i32.load (i32.const 0)))
         (i32.store (i32.const 16) (i32.const 200)) (i32.store (i32.const 20) (i32.const 3))
         (drop (call $fd_read (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))
         (drop (call $fd_seek (local.get $fd) (i64.const 4) (i32.const 0) (i32.const 32)))
         (i32.store (i32.const 16) (i32.const 203)) (i32.store (i32.const 20) (i32.const 100))
         (drop (call $fd_read (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))
         (if (i32.ne (i32.load (i32.const 24)) (i32.const 2)) (then (call $proc_exit (i32.const 100))))
         (i32.store (i32.const 16) (i32.const 205)) (i32.store (i32.const 20) (i32.const 4))
         (drop (call $fd_pread (local.get $fd) (i32.const 16) (i32.const 1) (i64.const 1) (i32.const 24)))
         (drop (call $fd_tell (local.get $fd) (i32.const 32)))
         (if (i64.ne (i64.load (i32.const 32)) (i64.const 6)) (then (call $proc_exit (i32.const 101))))
         {out}",
        open = open(100, 10, 0, READ, 0),
        out = write("(i32.const 1)", 200, 9),
    );
    let f = compile(&rt, "reader", &module(&data(100, "Docs/b.txt"), &body));
    let out = call(&rt, &f, &["stdout"]).expect("runs");
    let stdout = set(&out, "stdout");
    assert_eq!(stdout.items.len(), 1);
    assert_eq!(stdout.items[0].data, "brao!ravo");
}

#[test]
fn nested_item_names_are_directories_and_keys_are_files() {
    let rt = runtime();
    // Read /.keys/Docs/sub/c.txt and /Docs/sub/c.txt to stdout.
    let path_key = "/.keys/Docs/sub/c.txt";
    let path_doc = "Docs/sub/c.txt";
    let read_to_stdout = |at: u32, len: usize| {
        format!(
            "(local.set $r {open}) (if (local.get $r) (then (call $proc_exit (local.get $r))))
             (local.set $fd (i32.load (i32.const 0)))
             (i32.store (i32.const 16) (i32.const 400)) (i32.store (i32.const 20) (i32.const 64))
             (drop (call $fd_read (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))
             (i32.store (i32.const 20) (i32.load (i32.const 24)))
             (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
             (drop (call $fd_close (local.get $fd)))",
            open = open(at, len, 0, READ, 0)
        )
    };
    // Paths are relative to the preopened "/": skip the leading slash.
    let body = format!(
        "{} {}",
        read_to_stdout(101, path_key.len() - 1),
        read_to_stdout(200, path_doc.len())
    );
    let f = compile(
        &rt,
        "keys",
        &module(
            &format!("{} {}", data(100, path_key), data(200, path_doc)),
            &body,
        ),
    );
    let out = call(&rt, &f, &["stdout"]).expect("runs");
    assert_eq!(set(&out, "stdout").items[0].data, "11\ncharlie");
}

#[test]
fn files_under_output_dirs_become_items_with_keys_from_key_files_or_defaults() {
    let rt = runtime();
    // Creates Out/a.txt ("A", default key: the input a.txt's 7), Out/d/e.txt
    // ("E", key file says 99) and Out/new.txt ("N", no input of that name: 0).
    let body = format!(
        "(drop {mk})
         (drop {o1}) (local.set $fd (i32.load (i32.const 0))) {w1}
         (drop {o2}) (local.set $fd (i32.load (i32.const 0))) {w2}
         (drop {o3}) (local.set $fd (i32.load (i32.const 0))) {w3}
         (drop (call $mkdir (i32.const 3) (i32.const 340) (i32.const 11)))
         (drop {o4}) (local.set $fd (i32.load (i32.const 0))) {w4}",
        mk = "(call $mkdir (i32.const 3) (i32.const 300) (i32.const 5))",
        o1 = open(310, 9, O_CREAT, WRITE, 0),
        w1 = write("(local.get $fd)", 500, 1),
        o2 = open(320, 11, O_CREAT, WRITE, 0),
        w2 = write("(local.get $fd)", 501, 1),
        o3 = open(360, 11, O_CREAT, WRITE, 0),
        w3 = write("(local.get $fd)", 502, 1),
        o4 = open(400, 17, O_CREAT, WRITE, 0),
        w4 = write("(local.get $fd)", 503, 3),
    );
    let segments = [
        data(300, "Out/d"),
        data(310, "Out/a.txt"),
        data(320, "Out/d/e.txt"),
        data(340, ".keys/Out/d"),
        data(360, "Out/new.txt"),
        data(400, ".keys/Out/d/e.txt"),
        data(500, "AEN99\n"),
    ]
    .join(" ");
    let f = compile(&rt, "writer", &module(&segments, &body));
    let out = call(&rt, &f, &["Out"]).expect("runs");
    let items: Vec<(String, u64, String)> = set(&out, "Out")
        .items
        .iter()
        .map(|i| {
            (
                i.name.clone(),
                i.key,
                String::from_utf8_lossy(&i.data).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("a.txt".to_owned(), 7, "A".to_owned()),
            ("d/e.txt".to_owned(), 99, "E".to_owned()),
            ("new.txt".to_owned(), 0, "N".to_owned()),
        ]
    );
    // A keyed shard's key is the default instead.
    let docs = docs();
    let out = call_with(
        &rt,
        &f,
        &[InputSet {
            name: "Docs",
            items: &docs,
        }],
        &["Out"],
        Some(5),
    )
    .expect("runs");
    let keys: Vec<u64> = set(&out, "Out").items.iter().map(|i| i.key).collect();
    assert_eq!(keys, [5, 99, 5]);
}

#[test]
fn a_key_file_that_is_not_a_number_fails_the_call() {
    let rt = runtime();
    let body = format!(
        "(drop {o1}) (drop {o2}) (local.set $fd (i32.load (i32.const 0))) {w}",
        o1 = open(310, 5, O_CREAT, WRITE, 0),
        o2 = open(320, 11, O_CREAT, WRITE, 0),
        w = write("(local.get $fd)", 500, 5),
    );
    let segments = [
        data(310, "Out/x"),
        data(320, ".keys/Out/x"),
        data(500, "seven"),
    ]
    .join(" ");
    let f = compile(&rt, "badkey", &module(&segments, &body));
    let err = call(&rt, &f, &["Out"]).expect_err("bad key");
    assert!(err.to_string().contains("seven"), "{err}");
}

#[test]
fn errno_semantics_of_paths_and_descriptors() {
    let rt = runtime();
    let d = |at: u32, s: &str| data(at, s);
    // (data, body, expected errno, what)
    let cases: Vec<(String, String, u32, &str)> = vec![
        (d(100, "Docs/zzz"), exit_with(&open(100, 8, 0, READ, 0)), ENOENT, "missing file"),
        (d(100, "Docs/a.txt"), exit_with(&open(100, 10, 0, READ | WRITE, 0)), EACCES, "write-open an input"),
        (d(100, "Docs/a.txt"), exit_with(&open(100, 10, O_TRUNC, READ, 0)), EACCES, "truncate an input"),
        (d(100, "Docs/new"), exit_with(&open(100, 8, O_CREAT, WRITE, 0)), EROFS, "create in an input set"),
        (d(100, "toplevel"), exit_with(&open(100, 8, O_CREAT, WRITE, 0)), EROFS, "create at the root"),
        (d(100, "Docs/a.txt"), exit_with(&open(100, 10, O_DIRECTORY, READ, 0)), ENOTDIR, "file as directory"),
        (d(100, "Docs/a.txt/x"), exit_with(&open(100, 12, 0, READ, 0)), ENOTDIR, "file as path prefix"),
        (d(100, "Docs"), exit_with(&open(100, 4, 0, READ | WRITE, 0)), EISDIR, "write-open a directory"),
        (d(100, "Docs/a.txt"), exit_with(&open(100, 10, O_CREAT | O_EXCL, WRITE, 0)), EEXIST, "exclusive create"),
        (d(100, "Docs"), exit_with("(call $mkdir (i32.const 3) (i32.const 100) (i32.const 4))"), EEXIST, "mkdir existing"),
        (d(100, "Docs/x"), exit_with("(call $mkdir (i32.const 3) (i32.const 100) (i32.const 6))"), EROFS, "mkdir in input"),
        (d(100, "Out/x"), exit_with("(call $mkdir (i32.const 3) (i32.const 100) (i32.const 5))"), 0, "mkdir in output"),
        (d(100, "Docs/a.txt"), exit_with("(call $unlink (i32.const 3) (i32.const 100) (i32.const 10))"), EROFS, "unlink an input"),
        (d(100, "Docs"), exit_with("(call $rmdir (i32.const 3) (i32.const 100) (i32.const 4))"), ENOTEMPTY, "rmdir non-empty"),
        (d(100, "Out"), exit_with("(call $unlink (i32.const 3) (i32.const 100) (i32.const 3))"), EISDIR, "unlink a directory"),
        (String::new(), exit_with("(call $fd_close (i32.const 99))"), EBADF, "close unknown fd"),
        (String::new(), exit_with("(call $fd_read (i32.const 1) (i32.const 16) (i32.const 0) (i32.const 24))"), EBADF, "read stdout"),
        (String::new(), exit_with("(call $fd_write (i32.const 0) (i32.const 16) (i32.const 0) (i32.const 24))"), EBADF, "write stdin"),
        (String::new(), exit_with("(call $fd_seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 24))"), ESPIPE, "seek stdout"),
        (d(100, "Docs"), exit_with("(call $fd_write (i32.const 3) (i32.const 16) (i32.const 0) (i32.const 24))"), EISDIR, "write a directory fd"),
        (d(100, "Docs/a.txt"), format!("(drop {}) {}", open(100, 10, 0, READ, 0), exit_with("(call $fd_write (i32.load (i32.const 0)) (i32.const 16) (i32.const 0) (i32.const 24))")), EBADF, "write a read-only fd"),
        (d(100, "Docs/a.txt"), format!("(drop {}) {}", open(100, 10, 0, READ, 0), exit_with("(call $fd_seek (i32.load (i32.const 0)) (i64.const -1) (i32.const 0) (i32.const 24))")), EINVAL, "seek before start"),
        (d(100, "Out/l"), exit_with("(call $symlink (i32.const 100) (i32.const 5) (i32.const 3) (i32.const 100) (i32.const 5))"), ENOTSUP, "symlink"),
        (d(100, "Docs/a.txt"), exit_with("(call $readlink (i32.const 3) (i32.const 100) (i32.const 10) (i32.const 200) (i32.const 10) (i32.const 24))"), EINVAL, "readlink of a file"),
        (d(100, "Docs/a.txt"), exit_with("(call $rename (i32.const 3) (i32.const 100) (i32.const 10) (i32.const 3) (i32.const 100) (i32.const 6))"), EROFS, "rename an input"),
        (d(100, "Docs/a.txt"), exit_with("(call $clock_time_get (i32.const 9) (i64.const 0) (i32.const 0))"), EINVAL, "unknown clock"),
        (d(100, "Docs/a.txt"), exit_with("(call $fd_renumber (i32.const 3) (i32.const 77))"), EBADF, "renumber onto a closed fd"),
    ];
    for (segments, body, expected, what) in cases {
        assert_eq!(errno(&rt, &segments, &body), expected, "{what}");
    }
}

#[test]
fn lying_guests_get_errors_not_host_failures() {
    let rt = runtime();
    let cases: Vec<(String, u32, &str)> = vec![
        (exit_with("(call $fd_write (i32.const 1) (i32.const 65530) (i32.const 1) (i32.const 24))"), EFAULT, "iovec array past memory"),
        (exit_with("(call $fd_write (i32.const 1) (i32.const 16) (i32.const 0x7fffffff) (i32.const 24))"), EFAULT, "huge iovec count"),
        (exit_with("(call $fd_read (i32.const 0) (i32.const 16) (i32.const -1) (i32.const 24))"), EFAULT, "iovec count of 2^32-1"),
        (
            "(i32.store (i32.const 16) (i32.const 60000)) (i32.store (i32.const 20) (i32.const 100000))
             (call $proc_exit (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))"
                .to_owned(),
            EFAULT,
            "buffer past memory",
        ),
        (exit_with(&open(100, 1 << 20, 0, READ, 0)), ENAMETOOLONG, "1 MB path"),
        (exit_with(&open(65000, 1000, 0, READ, 0)), EFAULT, "path past memory"),
        (exit_with("(call $random_get (i32.const 65000) (i32.const 1000))"), EFAULT, "random past memory"),
        (exit_with("(call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 65533))"), EFAULT, "clock result past memory"),
        (exit_with("(call $args_get (i32.const 65535) (i32.const 0))"), EFAULT, "argv past memory"),
        (exit_with("(call $fd_readdir (i32.const 3) (i32.const 65000) (i32.const 1000) (i64.const 0) (i32.const 24))"), EFAULT, "readdir buffer past memory"),
        (exit_with("(call $poll_oneoff (i32.const 0) (i32.const 0) (i32.const 0x7fffffff) (i32.const 24))"), EFAULT, "huge poll count"),
        (exit_with("(call $fd_prestat_dir_name (i32.const 3) (i32.const 200) (i32.const 0))"), ENAMETOOLONG, "prestat name buffer too small"),
    ];
    for (body, expected, what) in cases {
        assert_eq!(
            errno(&rt, &data(100, "Docs/a.txt"), &body),
            expected,
            "{what}"
        );
    }
}

#[test]
fn directory_listing_and_stat() {
    let rt = runtime();
    // Open Docs, readdir into 1000.., write the raw buffer to stdout; then
    // stat Docs/b.txt (size at 1500+32) and write the 8 bytes to stdout.
    let body = format!(
        "(drop {o}) (local.set $fd (i32.load (i32.const 0)))
         (drop (call $fd_readdir (local.get $fd) (i32.const 1000) (i32.const 400) (i64.const 0) (i32.const 24)))
         (i32.store (i32.const 16) (i32.const 1000)) (i32.store (i32.const 20) (i32.load (i32.const 24)))
         (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
         (local.set $r (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 200) (i32.const 10) (i32.const 1500)))
         (if (local.get $r) (then (call $proc_exit (local.get $r))))
         {w}",
        o = open(100, 4, O_DIRECTORY, READ, 0),
        w = write("(i32.const 1)", 1532, 8),
    );
    let segments = format!("{} {}", data(100, "Docs"), data(200, "Docs/b.txt"));
    let f = compile(&rt, "ls", &module(&segments, &body));
    let out = call(&rt, &f, &["stdout"]).expect("runs");
    let bytes = &set(&out, "stdout").items[0].data;
    let (listing, size) = bytes.split_at(bytes.len() - 8);
    assert_eq!(u64::from_le_bytes(size.try_into().expect("8 bytes")), 6);
    // Parse dirents: 24-byte header, name.
    let mut names = Vec::new();
    let mut at = 0;
    while at + 24 <= listing.len() {
        let len = u32::from_le_bytes(listing[at + 16..at + 20].try_into().expect("4")) as usize;
        let kind = listing[at + 20];
        names.push((
            String::from_utf8_lossy(&listing[at + 24..at + 24 + len]).into_owned(),
            kind,
        ));
        at += 24 + len;
    }
    assert_eq!(
        names,
        [
            (".".into(), 3),
            ("..".into(), 3),
            ("a.txt".into(), 4),
            ("b.txt".into(), 4),
            ("sub".into(), 3)
        ]
    );
}

#[test]
fn stdin_stdout_and_stderr_follow_the_declared_sets() {
    let rt = runtime();
    // cat: copy stdin to stdout and to stderr until EOF.
    let body = "
        (block $done (loop $more
          (i32.store (i32.const 16) (i32.const 1000)) (i32.store (i32.const 20) (i32.const 3))
          (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
          (br_if $done (i32.eqz (i32.load (i32.const 24))))
          (i32.store (i32.const 20) (i32.load (i32.const 24)))
          (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 28)))
          (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 28)))
          (br $more)))";
    let f = compile(&rt, "cat", &module("", body));
    // One stdin item: stdout takes its name and key.
    let one = [item("doc.txt", 3, b"hello world")];
    let out = call_with(
        &rt,
        &f,
        &[InputSet {
            name: "stdin",
            items: &one,
        }],
        &["stdout", "stderr"],
        None,
    )
    .expect("runs");
    assert_eq!(
        set(&out, "stdout").items,
        [Item::new("doc.txt", 3, "hello world")]
    );
    assert_eq!(
        set(&out, "stderr").items,
        [Item::new("doc.txt", 3, "hello world")]
    );
    // Several: concatenated in (key, name) order, named `stdout`, shard key or 0.
    let many = [item("b", 2, b"B"), item("a", 2, b"A"), item("z", 1, b"Z")];
    let out = call_with(
        &rt,
        &f,
        &[InputSet {
            name: "stdin",
            items: &many,
        }],
        &["stdout"],
        Some(8),
    )
    .expect("runs");
    assert_eq!(out.len(), 1);
    assert_eq!(set(&out, "stdout").items, [Item::new("stdout", 8, "ZAB")]);
    // Nothing declared: stdout is discarded, the call still succeeds.
    let out = call_with(
        &rt,
        &f,
        &[InputSet {
            name: "stdin",
            items: &many,
        }],
        &[],
        None,
    )
    .expect("runs");
    assert!(out.is_empty());
}

#[test]
fn clock_is_the_invocation_time_and_random_is_seeded() {
    let rt = runtime();
    // stdout: realtime (8 bytes), monotonic twice (16), 16 random bytes.
    let body = format!(
        "(drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 1000)))
         (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 1008)))
         (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 1016)))
         (drop (call $random_get (i32.const 1024) (i32.const 16)))
         (drop (call $clock_res_get (i32.const 0) (i32.const 1040)))
         {}",
        write("(i32.const 1)", 1000, 48)
    );
    let f = compile(&rt, "clock", &module("", &body));
    let run = |seed: u64, time: u64| {
        let options = CallOptions {
            outputs: &["stdout"],
            shard_key: None,
            context: WasiContext::new(seed, time),
        };
        let out = rt.call(&f, &[], &options, None).expect("runs");
        out[0].items[0].data.to_vec()
    };
    let a = run(1, 1_700_000_000);
    let word = |b: &[u8], i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8"));
    assert_eq!(word(&a, 0), 1_700_000_000 * 1_000_000_000);
    assert!(word(&a, 2) > word(&a, 1), "monotonic clock advances");
    assert_eq!(word(&a, 5), 1_000_000_000);
    assert_eq!(a, run(1, 1_700_000_000), "same seed and time: same bytes");
    assert_ne!(
        a[24..40],
        run(2, 1_700_000_000)[24..40],
        "another seed: other random bytes"
    );
}

#[test]
fn args_and_environment_come_from_the_registration() {
    let rt = runtime();
    // Writes the argv buffer and the environ buffer to stdout.
    let body = format!(
        "(drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
         (drop (call $args_get (i32.const 100) (i32.const 1000)))
         {}
         (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
         (drop (call $environ_get (i32.const 100) (i32.const 2000)))
         (i32.store (i32.const 16) (i32.const 2000)) (i32.store (i32.const 20) (i32.load (i32.const 4)))
         (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))",
        "(i32.store (i32.const 16) (i32.const 1000)) (i32.store (i32.const 20) (i32.load (i32.const 4)))
         (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))"
    );
    let wat = module("", &body);
    let settings = WasiSettings {
        args: vec!["prog".into(), "--flag".into()],
        env: vec![("LANG".into(), "C".into())],
        ..WasiSettings::default()
    };
    let f = rt
        .compile_with("argv", wat.as_bytes(), Limits::default(), &settings)
        .expect("compiles");
    let out = call(&rt, &f, &["stdout"]).expect("runs");
    assert_eq!(set(&out, "stdout").items[0].data, "prog\0--flag\0LANG=C\0");
    // Default: argv is the function's name, the environment is empty.
    let f = compile(&rt, "plain", &wat);
    let out = call(&rt, &f, &["stdout"]).expect("runs");
    assert_eq!(set(&out, "stdout").items[0].data, "plain\0");
}

#[test]
fn preopen_root_fdstat_poll_and_yield() {
    let rt = runtime();
    // prestat of fd 3 -> name "/", fdstat of fd 1 is a character device,
    // poll_oneoff on one clock subscription returns 1 event, sched_yield ok.
    let body = format!(
        "(local.set $r (call $fd_prestat_get (i32.const 3) (i32.const 100)))
         (if (local.get $r) (then (call $proc_exit (local.get $r))))
         (drop (call $fd_prestat_dir_name (i32.const 3) (i32.const 108) (i32.load (i32.const 104))))
         (drop (call $fd_fdstat_get (i32.const 1) (i32.const 200)))
         (i32.store8 (i32.const 109) (i32.load8_u (i32.const 200)))
         (i64.store (i32.const 300) (i64.const 5)) (i32.store8 (i32.const 308) (i32.const 0))
         (i64.store (i32.const 324) (i64.const 1000000))
         (drop (call $poll_oneoff (i32.const 300) (i32.const 400) (i32.const 1) (i32.const 500)))
         (i32.store8 (i32.const 110) (i32.add (i32.const 48) (i32.load (i32.const 500))))
         (i32.store8 (i32.const 111) (i32.add (i32.const 48) (call $sched_yield)))
         (local.set $r (call $fd_prestat_get (i32.const 1) (i32.const 100)))
         (i32.store8 (i32.const 112) (i32.add (i32.const 48) (local.get $r)))
         {}",
        write("(i32.const 1)", 108, 5)
    );
    let f = compile(&rt, "misc", &module("", &body));
    let out = call(&rt, &f, &["stdout"]).expect("runs");
    // "/", filetype 2, one event, yield 0, prestat of stdout EBADF (8).
    assert_eq!(set(&out, "stdout").items[0].data, &b"/\x0210\x38"[..]);
}

#[test]
fn output_files_can_be_rewritten_truncated_renamed_and_removed() {
    let rt = runtime();
    // Out/f: write "hello", pwrite "J" at 0, truncate to 4 -> "Jell";
    // Out/g: created then renamed to Out/h; Out/tmp created then unlinked;
    // Out/dir created then removed.
    let body = format!(
        "(drop {of}) (local.set $fd (i32.load (i32.const 0)))
         {w1}
         (i32.store (i32.const 16) (i32.const 510)) (i32.store (i32.const 20) (i32.const 1))
         (drop (call $fd_pwrite (local.get $fd) (i32.const 16) (i32.const 1) (i64.const 0) (i32.const 24)))
         (local.set $r (call $fd_filestat_set_size (local.get $fd) (i64.const 4)))
         (if (local.get $r) (then (call $proc_exit (local.get $r))))
         (drop {og})
         (local.set $r (call $rename (i32.const 3) (i32.const 320) (i32.const 5) (i32.const 3) (i32.const 330) (i32.const 5)))
         (if (local.get $r) (then (call $proc_exit (i32.add (i32.const 1000) (local.get $r)))))
         (drop {ot})
         (local.set $r (call $unlink (i32.const 3) (i32.const 340) (i32.const 7)))
         (if (local.get $r) (then (call $proc_exit (i32.add (i32.const 2000) (local.get $r)))))
         (drop (call $mkdir (i32.const 3) (i32.const 350) (i32.const 7)))
         (local.set $r (call $rmdir (i32.const 3) (i32.const 350) (i32.const 7)))
         (if (local.get $r) (then (call $proc_exit (i32.add (i32.const 3000) (local.get $r)))))",
        of = open(310, 5, O_CREAT, READ | WRITE, 0),
        w1 = write("(local.get $fd)", 500, 5),
        og = open(320, 5, O_CREAT, WRITE, 0),
        ot = open(340, 7, O_CREAT, WRITE, 0),
    );
    let segments = [
        data(310, "Out/f"),
        data(320, "Out/g"),
        data(330, "Out/h"),
        data(340, "Out/tmp"),
        data(350, "Out/dir"),
        data(500, "hello"),
        data(510, "J"),
    ]
    .join(" ");
    let f = compile(&rt, "rewrite", &module(&segments, &body));
    let out = call(&rt, &f, &["Out"]).expect("runs");
    let items: Vec<(&str, &[u8])> = set(&out, "Out")
        .items
        .iter()
        .map(|i| (i.name.as_str(), &i.data[..]))
        .collect();
    assert_eq!(items, [("f", &b"Jell"[..]), ("h", &b""[..])]);
}

#[test]
fn files_written_in_one_call_are_never_seen_by_the_next() {
    let rt = runtime();
    // Exit 44 (ENOENT) if Out/x does not exist yet, then create it.
    let body = format!(
        "(local.set $r {probe}) (drop {create}) (call $proc_exit (local.get $r))",
        probe = open(100, 5, 0, READ, 0),
        create = open(100, 5, O_CREAT, WRITE, 0),
    );
    let f = compile(&rt, "probe", &module(&data(100, "Out/x"), &body));
    for _ in 0..3 {
        match call(&rt, &f, &["Out"]) {
            Err(Error::Exit { code, .. }) => assert_eq!(code, ENOENT),
            other => panic!("expected ENOENT every time, got {other:?}"),
        }
    }
}

#[test]
fn output_bytes_open_files_and_created_files_are_capped() {
    let rt = runtime();
    // Output bytes: write 64 KiB to stdout with a 1 KiB limit.
    let limits = Limits {
        max_output_bytes: 1024,
        ..Limits::default()
    };
    let wat = module("", &write("(i32.const 1)", 0, 65536));
    let f = rt.compile("big", wat.as_bytes(), limits).expect("compiles");
    match call(&rt, &f, &["stdout"]) {
        Err(e @ Error::OutputTooLarge { .. }) => assert_eq!(e.kind(), "output_too_large"),
        other => panic!("expected output_too_large, got {other:?}"),
    }

    // Open files: open Docs/a.txt until it fails; the errno is EMFILE.
    let body = format!(
        "(block $out (loop $again
            (local.set $r {o})
            (br_if $out (local.get $r))
            (br $again)))
         (call $proc_exit (local.get $r))",
        o = open(100, 10, 0, READ, 0)
    );
    let settings = WasiSettings {
        max_open_files: 5,
        ..WasiSettings::default()
    };
    let f = rt
        .compile_with(
            "many_open",
            module(&data(100, "Docs/a.txt"), &body).as_bytes(),
            Limits::default(),
            &settings,
        )
        .expect("compiles");
    match call(&rt, &f, &["Out"]) {
        Err(Error::Exit { code, .. }) => assert_eq!(code, EMFILE),
        other => panic!("expected EMFILE, got {other:?}"),
    }

    // Created files: mkdir Out/<n> for n = 'a', 'b', ... until it fails: ENOSPC.
    let body = "
        (i32.store (i32.const 200) (i32.const 0x612f7475)) ;; \"ut/a\" after the O
        (i32.store8 (i32.const 199) (i32.const 0x4f))
        (block $out (loop $again
            (local.set $r (call $mkdir (i32.const 3) (i32.const 199) (i32.const 5)))
            (br_if $out (local.get $r))
            (i32.store8 (i32.const 203) (i32.add (i32.load8_u (i32.const 203)) (i32.const 1)))
            (br $again)))
        (call $proc_exit (local.get $r))";
    let settings = WasiSettings {
        max_output_files: 10,
        ..WasiSettings::default()
    };
    let f = rt
        .compile_with(
            "many_files",
            module("", body).as_bytes(),
            Limits::default(),
            &settings,
        )
        .expect("compiles");
    match call(&rt, &f, &["Out"]) {
        Err(Error::Exit { code, .. }) => assert_eq!(code, ENOSPC),
        other => panic!("expected ENOSPC, got {other:?}"),
    }
}

#[test]
fn deadline_and_memory_limits_apply_to_wasi_functions() {
    let rt = runtime();
    let limits = Limits {
        timeout: std::time::Duration::from_millis(50),
        ..Limits::default()
    };
    let f = rt
        .compile("spin", module("", "(loop $l (br $l))").as_bytes(), limits)
        .expect("compiles");
    assert_eq!(call(&rt, &f, &[]).expect_err("times out").kind(), "timeout");

    let limits = Limits {
        memory_bytes: 1 << 20,
        ..Limits::default()
    };
    let f = rt
        .compile("grow", module("", "(drop (memory.grow (i32.const 100))) (i32.store (i32.const 2000000) (i32.const 1))").as_bytes(), limits)
        .expect("compiles");
    assert_eq!(
        call(&rt, &f, &[]).expect_err("too big").kind(),
        "memory_limit"
    );
}

#[test]
fn odd_item_names_are_encoded_reversibly() {
    let rt = runtime();
    // Copies Docs/<encoded> back to Out/<same encoded name>: each output item
    // must carry the original name. Here: "a//b" is one file "a%2F%2Fb".
    let body = format!(
        "(drop {oi}) (local.set $fd (i32.load (i32.const 0)))
         (i32.store (i32.const 16) (i32.const 1000)) (i32.store (i32.const 20) (i32.const 100))
         (drop (call $fd_read (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))
         (local.set $n (i64.extend_i32_u (i32.load (i32.const 24))))
         (local.set $r {oo}) (if (local.get $r) (then (call $proc_exit (local.get $r))))
         (local.set $fd (i32.load (i32.const 0)))
         (i32.store (i32.const 20) (i32.wrap_i64 (local.get $n)))
         (drop (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))",
        oi = open(100, 13, 0, READ, 0),
        oo = open(200, 12, O_CREAT, WRITE, 0),
    );
    let segments = format!(
        "{} {}",
        data(100, "Docs/a%2F%2Fb"),
        data(200, "Out/a%2F%2Fb")
    );
    let f = compile(&rt, "odd", &module(&segments, &body));
    let items = [item("a//b", 4, b"odd")];
    let out = call_with(
        &rt,
        &f,
        &[InputSet {
            name: "Docs",
            items: &items,
        }],
        &["Out"],
        None,
    )
    .expect("runs");
    assert_eq!(set(&out, "Out").items, [Item::new("a//b", 4, "odd")]);
}
