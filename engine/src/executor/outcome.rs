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
}

impl Cause {
    /// The cause of a shard that did not run because its invocation was
    /// cancelled.
    pub(crate) fn cancelled() -> Cause {
        Cause {
            cause: "cancelled".into(),
            kind: "cancelled",
            refused: None,
        }
    }
}

/// A shard's output sets, or why it failed.
pub(crate) type ShardResult = std::result::Result<Vec<OutputSet>, Cause>;
