//! The typed failures of compiling and running a function.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong compiling or running a function.
///
/// Every variant caused by a function names it (see [`Error::function`]); none of
/// them leaves the [`Runtime`](crate::Runtime) unusable: the next call runs normally.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The module was refused at compile time: not WebAssembly, an import, a missing
    /// export, or a declared memory beyond the function's limit.
    #[error("function `{function}`: invalid module: {reason}")]
    InvalidModule {
        /// The function's name.
        function: String,
        /// Why it was refused, naming the offending import or export.
        reason: String,
    },
    /// The guest trapped (for example `unreachable`, an out-of-bounds access, or a
    /// stack overflow).
    #[error("function `{function}` trapped: {trap}{}", stderr_suffix(stderr))]
    Trap {
        /// The function's name.
        function: String,
        /// The trap, as wasmtime describes it.
        trap: String,
        /// The last bytes a WASI function wrote to stderr (empty for ABI v1
        /// functions), where Rust panic messages land.
        stderr: String,
    },
    /// A WASI function exited with a non-zero status (`proc_exit`, C's `exit`).
    #[error(
        "function `{function}` exited with status {code}{}",
        stderr_suffix(stderr)
    )]
    Exit {
        /// The function's name.
        function: String,
        /// The exit status.
        code: u32,
        /// The last bytes the function wrote to stderr (at most 4 KiB).
        stderr: String,
    },
    /// The guest panicked: it trapped after the SDK's panic handler left the
    /// panic's message for the host (`docs/abi.md`, "Traps").
    #[error("function `{function}` {message}")]
    Panic {
        /// The function's name.
        function: String,
        /// The panic's message, as the guest wrote it (`panicked at file:line: ...`).
        message: String,
        /// The trap that ended the call, as wasmtime describes it.
        trap: String,
    },
    /// The call ran past its wall-clock deadline and was interrupted.
    #[error("function `{function}` timed out after {limit:?}")]
    Timeout {
        /// The function's name.
        function: String,
        /// The deadline that was exceeded.
        limit: Duration,
    },
    /// The guest (or its inputs) needed more linear memory than its limit allows.
    #[error("function `{function}` exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// The function's name.
        function: String,
        /// The function's memory limit.
        limit_bytes: u64,
    },
    /// The outputs the guest reported are larger than the function's output limit.
    #[error(
        "function `{function}` produced at least {actual_bytes} output bytes, over its limit of {limit_bytes}"
    )]
    OutputTooLarge {
        /// The function's name.
        function: String,
        /// The function's output limit.
        limit_bytes: u64,
        /// The size the guest's outputs reached when the limit was crossed (names
        /// and data, plus a fixed cost per set and item; see
        /// [`Limits::max_output_bytes`](crate::Limits::max_output_bytes)): at
        /// least this much was reported.
        actual_bytes: u64,
    },
    /// The guest broke the ABI (`docs/abi.md`): for example an output descriptor
    /// pointing outside its memory or a name that is not UTF-8.
    #[error("function `{function}` violated the guest ABI: {detail}")]
    AbiViolation {
        /// The function's name.
        function: String,
        /// What was wrong.
        detail: String,
    },
    /// The guest's entry returned a non-zero status.
    #[error("function `{function}` failed with status {status}: {message}")]
    GuestError {
        /// The function's name.
        function: String,
        /// The status the entry returned.
        status: u32,
        /// The guest's error message (empty if it gave none).
        message: String,
    },
    /// The call was still running at the cutoff it was given
    /// ([`Runtime::run_until`](crate::Runtime::run_until)) and was stopped
    /// there. Unlike [`Error::Timeout`] this is not the function's fault: the
    /// caller gave it less time than its deadline, to run it elsewhere.
    #[error("function `{function}` was stopped at its caller's cutoff")]
    Cutoff {
        /// The function's name.
        function: String,
    },
    /// The call was cancelled through its [`CancelToken`](crate::CancelToken).
    #[error("function `{function}` was cancelled")]
    Cancelled {
        /// The function's name.
        function: String,
    },
    /// The host could not provide resources for the call, for example because every
    /// slot of the instance pool is in use.
    #[error("function `{function}`: out of resources: {detail}")]
    Resources {
        /// The function's name.
        function: String,
        /// Which resource ran out.
        detail: String,
    },
    /// The compiled-code cache directory could not be created or written.
    #[error("compiled-code cache at {}: {source}", path.display())]
    Cache {
        /// The file or directory involved.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The [`Config`](crate::Config) or a function's [`Limits`](crate::Limits) are
    /// not usable, for example a memory limit above
    /// [`Config::max_memory_bytes`](crate::Config::max_memory_bytes).
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// The name of the function the error is about, if it is about one.
    pub fn function(&self) -> Option<&str> {
        match self {
            Error::InvalidModule { function, .. }
            | Error::Trap { function, .. }
            | Error::Exit { function, .. }
            | Error::Panic { function, .. }
            | Error::Timeout { function, .. }
            | Error::MemoryLimit { function, .. }
            | Error::OutputTooLarge { function, .. }
            | Error::AbiViolation { function, .. }
            | Error::GuestError { function, .. }
            | Error::Cancelled { function }
            | Error::Cutoff { function }
            | Error::Resources { function, .. } => Some(function),
            Error::Cache { .. } | Error::Config { .. } => None,
        }
    }

    /// A stable, machine-readable name for the kind of failure: `"invalid_module"`,
    /// `"trap"`, `"exit"`, `"panic"`, `"timeout"`, `"memory_limit"`, `"output_too_large"`,
    /// `"abi_violation"`, `"guest_error"`, `"cancelled"`, `"cutoff"`, `"resources"`, `"cache"` or
    /// `"config"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidModule { .. } => "invalid_module",
            Error::Trap { .. } => "trap",
            Error::Exit { .. } => "exit",
            Error::Panic { .. } => "panic",
            Error::Timeout { .. } => "timeout",
            Error::MemoryLimit { .. } => "memory_limit",
            Error::OutputTooLarge { .. } => "output_too_large",
            Error::AbiViolation { .. } => "abi_violation",
            Error::GuestError { .. } => "guest_error",
            Error::Cancelled { .. } => "cancelled",
            Error::Cutoff { .. } => "cutoff",
            Error::Resources { .. } => "resources",
            Error::Cache { .. } => "cache",
            Error::Config { .. } => "config",
        }
    }
}

/// Formats a stderr tail for a failure message: nothing when it is empty.
fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; stderr (last {} bytes):\n{stderr}", stderr.len())
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
