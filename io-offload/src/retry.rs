//! Retries with exponential backoff, bounded by the call's deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::context::{Ctx, Deadline};
use crate::{ops, Result};

/// First backoff; doubles per attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Runs `attempt` until it succeeds without `wants_retry`, fails with a
/// non-retryable error, runs out of retries, or the next backoff would end
/// after the deadline. Only idempotent operations get retries.
pub(crate) async fn retry<T, F, Fut>(
    ctx: &Ctx,
    deadline: Deadline,
    idempotent: bool,
    mut attempt: F,
    wants_retry: impl Fn(&T) -> bool,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let max = if idempotent { ctx.config().retries } else { 0 };
    let mut backoff = FIRST_BACKOFF;
    let mut tries = 0;
    loop {
        let res = attempt().await;
        let again = match &res {
            Ok(value) => wants_retry(value),
            Err(e) => e.is_retryable(),
        };
        if !again || tries >= max || Instant::now() + backoff >= deadline.at {
            return res;
        }
        tries += 1;
        ctx.shared.counters.add_retry();
        ops::sleep(&ctx.driver, backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
