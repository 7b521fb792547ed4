//! The crate's error type.

use std::io;
use std::time::Duration;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call (or starting the runtime) failed.
///
/// Every variant about a transfer names the URI (for `http`, the request URL;
/// for `kv_get`/`kv_put`, the Redis URL) and the cause. [`Error::kind`] gives a
/// stable short name for metrics and API answers.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URI could not be parsed, or lacks a part its scheme needs.
    #[error("invalid uri {uri:?}: {reason}")]
    InvalidUri {
        /// The offending URI (lossy UTF-8 if the item data was not UTF-8).
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The URI's scheme is not one the call supports.
    #[error("unsupported scheme {scheme:?} in uri {uri:?} (supported: {supported})")]
    UnsupportedScheme {
        /// The offending URI.
        uri: String,
        /// Its scheme.
        scheme: String,
        /// The schemes the call accepts, e.g. `"file://, http://, s3://"`.
        supported: &'static str,
    },
    /// An `http` request item is not a valid request description.
    #[error("invalid http request item {name:?} (key {key}): {reason}")]
    InvalidRequest {
        /// Item name.
        name: String,
        /// Item key.
        key: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A `store` object has no URI item with the same key.
    #[error("no uri for object {name:?} (key {key})")]
    MissingUri {
        /// Object item name.
        name: String,
        /// Object item key.
        key: u64,
    },
    /// The URI needs a store that the runtime was not configured with.
    #[error("cannot reach {uri}: {what} is not configured")]
    NotConfigured {
        /// The URI.
        uri: String,
        /// What is missing, e.g. `"s3 (RingConfig::s3)"`.
        what: &'static str,
    },
    /// The connection could not be established (refused, unreachable, name
    /// resolution failed), after retries.
    #[error("cannot connect to {uri}: {source}")]
    Connect {
        /// The URI.
        uri: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A file or socket operation failed.
    #[error("i/o error on {uri} while {op}: {source}")]
    Io {
        /// The URI.
        uri: String,
        /// The operation, e.g. `"reading"`, `"renaming into place"`.
        op: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The call's deadline passed before the transfer finished.
    #[error("timed out after {limit:?} on {uri}")]
    Timeout {
        /// The URI.
        uri: String,
        /// The configured call timeout.
        limit: Duration,
    },
    /// The server answered a status that means the object could not be read or
    /// written (`fetch` and `store` only; `http` returns statuses as data).
    #[error("{uri} answered {status} {reason}")]
    Status {
        /// The URI.
        uri: String,
        /// HTTP status code.
        status: u16,
        /// Reason phrase plus the start of the body, if any.
        reason: String,
    },
    /// The peer broke the protocol: malformed response, truncated body, bad
    /// chunk framing, unexpected RESP reply.
    #[error("protocol error from {uri}: {reason}")]
    Protocol {
        /// The URI.
        uri: String,
        /// What went wrong.
        reason: String,
    },
    /// The object is larger than [`RingConfig::max_object_bytes`](crate::RingConfig::max_object_bytes)
    /// or the call's own limit ([`CallOptions::max_object_bytes`](crate::CallOptions::max_object_bytes),
    /// e.g. what its consumer can take). Reported as soon as the size is
    /// known (a `Content-Length`, an S3 object's or a file's size) before its
    /// bytes are read, and otherwise as soon as the bytes received cross it.
    #[error(
        "object at {uri} exceeds {limit_name}: at least {actual_bytes} bytes, limit {limit_bytes}"
    )]
    TooLarge {
        /// The URI.
        uri: String,
        /// The limit.
        limit_bytes: u64,
        /// Which limit, e.g. `"the i/o object size limit"`.
        limit_name: String,
        /// The object's size, or how much had arrived when the limit was crossed.
        actual_bytes: u64,
    },
    /// Redis answered an error reply.
    #[error("redis at {uri} refused {command} of key {key:?}: {message}")]
    Redis {
        /// The Redis URL.
        uri: String,
        /// The command, e.g. `"GET"`.
        command: &'static str,
        /// The key (lossy UTF-8).
        key: String,
        /// The server's error message.
        message: String,
    },
    /// The configuration is invalid.
    #[error("invalid i/o configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// io_uring cannot be used on this machine (old kernel, disabled by
    /// `kernel.io_uring_disabled`, or blocked by seccomp).
    #[error("io_uring is unavailable ({source}); pappus-io needs Linux 6.1 or later with io_uring enabled")]
    Unavailable {
        /// The error from `io_uring_setup` or the probe.
        #[source]
        source: io::Error,
    },
    /// The runtime shut down before the call completed.
    #[error("the i/o runtime has shut down")]
    Shutdown,
    /// The call's [`Authority`](crate::Authority) does not allow it. The same
    /// error is given whether the target exists or not.
    #[error("forbidden: {uri}: {rule}")]
    Forbidden {
        /// The URI (for `kv_*`, the Redis URL and the key as the caller named it).
        uri: String,
        /// The rule that denied it.
        rule: String,
    },
    /// The runtime is at a configured bound (queued calls) and refused the call.
    #[error("i/o runtime overloaded: {what} (limit {limit})")]
    Overloaded {
        /// Which bound, e.g. `"queued calls"`.
        what: &'static str,
        /// The configured limit.
        limit: usize,
    },
    /// A bug: the call's task panicked. The call fails, the panic is logged, and
    /// the runtime keeps serving.
    #[error("internal error in the {builtin} built-in: {message}")]
    Internal {
        /// The built-in, e.g. `"fetch"`.
        builtin: &'static str,
        /// The panic message.
        message: String,
    },
}

impl Error {
    /// Stable short name of the variant: `"invalid_uri"`, `"unsupported_scheme"`,
    /// `"invalid_request"`, `"missing_uri"`, `"not_configured"`, `"connect"`,
    /// `"io"`, `"timeout"`, `"status"`, `"protocol"`, `"too_large"`, `"redis"`,
    /// `"config"`, `"unavailable"`, `"shutdown"`, `"forbidden"`, `"overloaded"`,
    /// `"internal"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidUri { .. } => "invalid_uri",
            Error::UnsupportedScheme { .. } => "unsupported_scheme",
            Error::InvalidRequest { .. } => "invalid_request",
            Error::MissingUri { .. } => "missing_uri",
            Error::NotConfigured { .. } => "not_configured",
            Error::Connect { .. } => "connect",
            Error::Io { .. } => "io",
            Error::Timeout { .. } => "timeout",
            Error::Status { .. } => "status",
            Error::Protocol { .. } => "protocol",
            Error::TooLarge { .. } => "too_large",
            Error::Redis { .. } => "redis",
            Error::Config { .. } => "config",
            Error::Unavailable { .. } => "unavailable",
            Error::Shutdown => "shutdown",
            Error::Forbidden { .. } => "forbidden",
            Error::Overloaded { .. } => "overloaded",
            Error::Internal { .. } => "internal",
        }
    }

    /// The URI the error is about, when there is one.
    pub fn uri(&self) -> Option<&str> {
        match self {
            Error::InvalidUri { uri, .. }
            | Error::UnsupportedScheme { uri, .. }
            | Error::NotConfigured { uri, .. }
            | Error::Connect { uri, .. }
            | Error::Io { uri, .. }
            | Error::Timeout { uri, .. }
            | Error::Status { uri, .. }
            | Error::Protocol { uri, .. }
            | Error::TooLarge { uri, .. }
            | Error::Redis { uri, .. }
            | Error::Forbidden { uri, .. } => Some(uri),
            Error::InvalidRequest { .. }
            | Error::MissingUri { .. }
            | Error::Config { .. }
            | Error::Unavailable { .. }
            | Error::Shutdown
            | Error::Overloaded { .. }
            | Error::Internal { .. } => None,
        }
    }

    /// True for errors a retry may cure (connection errors and 5xx answers).
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. } => true,
            Error::Status { status, .. } => *status >= 500,
            Error::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            ),
            _ => false,
        }
    }
}
