//! The engine's error type.

use std::path::PathBuf;

use crate::WasiContext;

/// A diagnostic from the composition checker, flattened for API answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagnosticInfo {
    /// `"error"` or `"warning"`.
    pub severity: &'static str,
    /// 1-based line of the diagnostic's start.
    pub line: usize,
    /// 1-based column (in characters) of the diagnostic's start.
    pub column: usize,
    /// The message, without location.
    pub message: String,
}

/// An I/O call refused by the tenant's authority: the URI it named and the
/// rule that refused it (the same whether the target exists or not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The URI the call named, as the composition gave it.
    pub uri: String,
    /// The rule of the tenant's I/O policy that refused it.
    pub rule: String,
}

/// Everything that can go wrong in the engine.
///
/// [`Error::kind`] gives a stable, machine-readable name for each variant.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The invocation queue is full; retry later.
    #[error("overloaded: the invocation queue is full (bound {queue_bound})")]
    Overloaded {
        /// The configured queue bound.
        queue_bound: usize,
    },
    /// The engine is draining and admits no new invocations.
    #[error("the engine is draining and admits no new invocations")]
    Draining,
    /// No composition of that name is registered for the tenant.
    #[error("unknown composition `{name}`")]
    UnknownComposition {
        /// The name asked for.
        name: String,
    },
    /// No function of that name is registered for the tenant.
    #[error("unknown function `{name}`: it is declared by a composition but not registered")]
    UnknownFunction {
        /// The name asked for.
        name: String,
    },
    /// The module given for a function was refused.
    #[error("invalid module for function `{function}`: {reason}")]
    InvalidModule {
        /// The function being registered.
        function: String,
        /// Why it was refused (e.g. the import it named).
        reason: String,
    },
    /// A `function` declaration names other input or output sets than the
    /// signature its module embeds (`docs/abi.md`, "Signature").
    #[error(
        "function `{function}` is declared as {declared} but its module reads and writes {module}"
    )]
    SignatureMismatch {
        /// The function.
        function: String,
        /// The declaration's sets, `(in, ...) => (out, ...)`.
        declared: String,
        /// The module's sets, in the same form.
        module: String,
    },
    /// A function's limits are not allowed on this engine (for example a
    /// memory limit above [`EngineBuilder::max_memory_bytes`](crate::EngineBuilder::max_memory_bytes)).
    #[error("invalid limits for function `{function}`: {reason}")]
    InvalidLimits {
        /// The function being registered.
        function: String,
        /// What is wrong, naming the limit and the setting that bounds it.
        reason: String,
    },
    /// The composition text has errors.
    #[error("composition text has errors:\n{rendered}")]
    Diagnostics {
        /// Every diagnostic rendered with file:line:col, source line and caret.
        rendered: String,
        /// The same diagnostics, structured.
        diagnostics: Vec<DiagnosticInfo>,
    },
    /// The request was malformed (bad JSON, unknown input set, bad name).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What was wrong.
        reason: String,
    },
    /// The operation conflicts with the registry's state (e.g. deleting a
    /// function that a composition uses).
    #[error("conflict: {reason}")]
    Conflict {
        /// What it conflicts with.
        reason: String,
    },
    /// A shard of an application failed; the invocation was stopped.
    #[error(
        "composition `{composition}` failed in application {application}, shard {shard}: {cause}"
    )]
    Failure {
        /// The composition (outer first, `a > b` for nested compositions).
        composition: String,
        /// The application: its position, callee and output sets.
        application: String,
        /// The shard: its keys or item names per input.
        shard: String,
        /// The cause, as reported by the sandbox or the I/O runtime (boxed,
        /// with `wasi` and `refused`, to keep [`Error`] small).
        cause: Box<str>,
        /// The cause's kind (`"trap"`, `"timeout"`, `"memory_limit"`, ...).
        kind: &'static str,
        /// With kind `"forbidden"`: the I/O call the tenant's authority
        /// refused, as typed fields (never parsed back out of `cause`).
        refused: Option<Box<Refusal>>,
        /// The seed and time of the failed invocation: give them back
        /// ([`Engine::invoke_with`](crate::Engine::invoke_with)) to replay it.
        /// Boxed to keep [`Error`] small on every `Result` path.
        wasi: Box<WasiContext>,
    },
    /// Reading or writing the data directory failed.
    #[error("storage error at {}: {source}", path.display())]
    Storage {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A stored static item of a function does not match its content hash
    /// (or is missing): the function is refused rather than served bytes
    /// other than those registered.
    #[error("function `{function}`, static set `{set}`, item `{item}`: {reason}")]
    CorruptStatic {
        /// The function.
        function: String,
        /// Its static set.
        set: String,
        /// The item.
        item: String,
        /// What is wrong with the stored bytes.
        reason: String,
    },
    /// The engine could not be configured or started.
    #[error("configuration error: {reason}")]
    Config {
        /// What was wrong.
        reason: String,
    },
    /// A composition nests compositions more deeply than the engine allows
    /// (see [`EngineBuilder::max_nesting_depth`](crate::EngineBuilder::max_nesting_depth)).
    #[error("compositions nest too deeply: {} is {} levels, the limit is {limit}", chain.join(" > "), chain.len())]
    NestingTooDeep {
        /// The chain of compositions that is too long, outermost first.
        chain: Vec<String>,
        /// The configured limit.
        limit: usize,
    },
    /// An application would create more shards than the engine allows (per
    /// application, or in total for the invocation); the invocation was
    /// stopped before any of them was built. See
    /// [`EngineBuilder::max_shards_per_application`](crate::EngineBuilder::max_shards_per_application).
    #[error("composition `{composition}`, application {application}: {reason}")]
    TooManyShards {
        /// The composition (outer first, `a > b` for nested compositions).
        composition: String,
        /// The application: its position, callee and output sets.
        application: String,
        /// Which bound was exceeded, with the numbers.
        reason: String,
        /// The bound exceeded.
        limit: u64,
    },
    /// A registration would take the tenant over one of its quotas (see
    /// [`EngineBuilder::max_functions_per_tenant`](crate::EngineBuilder::max_functions_per_tenant)
    /// and its siblings); nothing was compiled or persisted.
    #[error("tenant `{tenant}` would exceed its quota of {limit} {what}")]
    QuotaExceeded {
        /// The tenant.
        tenant: String,
        /// Which quota: `"functions"`, `"compositions"`, `"module_bytes"` or
        /// `"static_bytes"`.
        what: &'static str,
        /// The quota.
        limit: u64,
    },
    /// The executor found one of its own invariants broken (a bug in the
    /// engine, not in the composition or its inputs). The invocation fails
    /// with this error instead of never answering.
    #[error("internal error: broken invariant: {invariant}")]
    Internal {
        /// The invariant that did not hold.
        invariant: &'static str,
    },
}

impl Error {
    /// A stable, machine-readable name for the variant.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Overloaded { .. } => "overloaded",
            Error::Draining => "draining",
            Error::UnknownComposition { .. } => "unknown_composition",
            Error::UnknownFunction { .. } => "unknown_function",
            Error::InvalidModule { .. } => "invalid_module",
            Error::SignatureMismatch { .. } => "signature_mismatch",
            Error::InvalidLimits { .. } => "invalid_limits",
            Error::Diagnostics { .. } => "diagnostics",
            Error::InvalidInput { .. } => "invalid_input",
            Error::Conflict { .. } => "conflict",
            Error::Failure { .. } => "failure",
            Error::Storage { .. } => "storage",
            Error::CorruptStatic { .. } => "corrupt_static",
            Error::Config { .. } => "config",
            Error::NestingTooDeep { .. } => "nesting_too_deep",
            Error::TooManyShards { .. } => "too_many_shards",
            Error::QuotaExceeded { .. } => "quota_exceeded",
            Error::Internal { .. } => "internal",
        }
    }

    /// The seed and time WASI functions saw in the invocation that failed
    /// ([`Error::Failure`]); `None` for errors raised before an invocation ran.
    pub fn wasi(&self) -> Option<WasiContext> {
        match self {
            Error::Failure { wasi, .. } => Some(**wasi),
            _ => None,
        }
    }

    pub(crate) fn invalid_input(reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            reason: reason.into(),
        }
    }

    pub(crate) fn storage(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Storage {
            path: path.into(),
            source,
        }
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
