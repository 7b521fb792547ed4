//! Cooperative cancellation of running calls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A handle that cancels the calls it is passed to.
///
/// Clones share the same flag. A running guest is stopped at the watchdog's next
/// tick (see [`Config::watch_tick`](crate::Config::watch_tick)); a call started
/// with an already cancelled token fails at once with
/// [`Error::Cancelled`](crate::Error::Cancelled).
#[derive(Clone, Default, Debug)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every call using this token (or a clone of it). Idempotent.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Release);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }
}
