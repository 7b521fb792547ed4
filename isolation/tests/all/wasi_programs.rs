//! What real programs need of the WASI profile, with C programs built against
//! wasi-libc at test time (skipped where that toolchain is missing): socket
//! calls linked but never usable, a scratch `/tmp`, files unlinked while open,
//! and the `/dev` files.

use pappus_isolation::{CallOptions, Function, InputSet, Limits, OutputSet, Runtime, WasiContext};

use crate::support::runtime;
use crate::wasi_c::{compile_wasi, guest_source};

/// Compiles test guest `source` (under `tests/guests/`) as function `name`.
fn program(rt: &Runtime, source: &str, limits: Limits) -> Option<Function> {
    let dir = tempfile::tempdir().expect("tempdir");
    let module = compile_wasi(&guest_source(source), dir.path())?;
    Some(
        rt.compile(source, &module, limits)
            .unwrap_or_else(|e| panic!("registering {source}: {e}")),
    )
}

/// Runs `f` with `inputs`, declaring `outputs`.
fn run(
    rt: &Runtime,
    f: &Function,
    inputs: &[InputSet<'_>],
    outputs: &[&str],
) -> Result<Vec<OutputSet>, pappus_isolation::Error> {
    let options = CallOptions {
        outputs,
        shard_key: None,
        context: WasiContext::new(7, 1_700_000_000),
    };
    rt.call(f, inputs, &options, None)
}

/// The stdout item of a successful run, as text.
fn stdout_of(outputs: &[OutputSet]) -> String {
    let set = outputs
        .iter()
        .find(|s| s.name == "stdout")
        .expect("a stdout set");
    String::from_utf8_lossy(&set.items[0].data).into_owned()
}

#[test]
fn a_program_linking_socket_calls_registers_and_every_call_fails_cleanly() {
    let rt = runtime();
    let Some(f) = program(&rt, "sockets.c", Limits::default()) else {
        return;
    };
    let out = run(&rt, &f, &[], &["stdout"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stdout_of(&out),
        "accept stdin: -1 Not supported\n\
         recv stdin: -1 Not supported\n\
         send stdout: -1 Not supported\n\
         shutdown stdout: -1 Not supported\n\
         recv closed: -1 Bad file descriptor\n\
         send closed: -1 Bad file descriptor\n"
    );
}
