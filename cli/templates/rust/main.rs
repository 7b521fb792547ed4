//! `{{function}} (stdin) => (stdout)`: reads its input on stdin and writes
//! "Hello, <input>!" on stdout.
//!
//! A WASI program run as a pure function (Pappus's WASI profile): an input set
//! named `stdin` is read on fd 0 and an output set named `stdout` receives fd 1;
//! every other input set is a read-only directory `/<SET>/` with one file per
//! item, and every other output set a writable directory `/<SET>/` whose files
//! become its items. Nothing reaches the operating system.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("{{function}}: cannot read stdin: {e}");
        return ExitCode::FAILURE;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = write!(stdout, "Hello, {}!", input.trim_end()) {
        eprintln!("{{function}}: cannot write stdout: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
