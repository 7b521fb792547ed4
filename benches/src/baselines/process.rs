//! Process per request: fork+exec of the static native binary, input on stdin,
//! output from stdout. The container baselines run through the same helper.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Spawns `command`, writes `input` to its stdin (from a second thread, so a
/// large input and a large output cannot deadlock), and answers its stdout.
///
/// Errors: spawning fails, or the process exits unsuccessfully (its stderr is
/// quoted).
pub fn pipe_through(mut command: Command, input: &[u8]) -> Result<Vec<u8>> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {:?}", command.get_program()))?;
    let mut stdin = child.stdin.take().context("child stdin")?;
    let mut stdout = child.stdout.take().context("child stdout")?;
    let mut stderr = child.stderr.take().context("child stderr")?;
    let (out, err) = std::thread::scope(|s| {
        s.spawn(move || {
            // A child that exits early closes its stdin; its exit status says why.
            let _ = stdin.write_all(input);
        });
        let err = s.spawn(move || {
            let mut err = Vec::new();
            let _ = stderr.read_to_end(&mut err);
            err
        });
        let mut out = Vec::new();
        let read = stdout.read_to_end(&mut out);
        (read.map(|_| out), err.join().unwrap_or_default())
    });
    let status = child.wait().context("waiting for the child")?;
    let out = out.context("reading the child's stdout")?;
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        bail!(
            "{:?} exited with {status}: {}",
            command.get_program(),
            err.trim()
        );
    }
    Ok(out)
}

/// Runs `native FUNCTION` once on `input`.
pub fn run(native: &Path, function: &str, input: &[u8]) -> Result<Vec<u8>> {
    let mut command = Command::new(native);
    command.arg(function);
    pipe_through(command, input)
}
