//! What a finished shard reports back to its invocation's state machine,
//! whether it ran in a sandbox, on the I/O runtime or as a nested run.

use pappus_isolation::OutputSet;

use crate::Refusal;

/// Why a shard failed.
pub(crate) struct Cause {
    pub cause: String,
    pub kind: &'static str,
    /// The refused I/O call, when the tenant's authority refused one.
    pub refused: Option<Box<Refusal>>,
    /// The last bytes a WASI function wrote to stderr before it failed
    /// (empty otherwise), for the item a `catch` set records.
    pub stderr: String,
}

impl Cause {
    /// The cause of a shard that did not run because its invocation was
    /// cancelled.
    pub(crate) fn cancelled() -> Cause {
        Cause {
            cause: "cancelled".into(),
            kind: "cancelled",
            refused: None,
            stderr: String::new(),
        }
    }
}

/// Runs a shard's host work, turning a panic into the shard's failure (kind
/// `internal`, logged): a bug in the host while running one shard fails that
/// shard, never leaves its invocation unanswered, and the thread serves on.
pub(crate) fn shielded(function: &str, run: impl FnOnce() -> ShardResult) -> ShardResult {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        tracing::error!(function, panic = %message, "the host panicked running a shard");
        Err(Cause {
            cause: format!(
                "internal error: the host panicked running function `{function}`: {message}"
            ),
            kind: "internal",
            refused: None,
            stderr: String::new(),
        })
    })
}

/// A shard's output sets, or why it failed.
pub(crate) type ShardResult = std::result::Result<Vec<OutputSet>, Cause>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_running_a_shard_is_its_internal_failure() {
        let Err(cause) = shielded("f", || panic!("broken invariant {}", 7)) else {
            panic!("a panicking shard must fail");
        };
        assert_eq!(cause.kind, "internal");
        assert!(cause.cause.contains("function `f`"), "{}", cause.cause);
        assert!(
            cause.cause.contains("broken invariant 7"),
            "{}",
            cause.cause
        );
        assert!(matches!(shielded("f", || Ok(Vec::new())), Ok(v) if v.is_empty()));
    }
}
