//! [`InvocationFuture`]: the answer of an invocation started without
//! waiting, for any async runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::executor::{CancelToken, Core};
use crate::metrics::Counters;
use crate::oneshot::Receiver;
use crate::{Error, Invocation, Result};

/// The error of an invocation whose engine shut down before it answered.
pub(crate) fn shut_down() -> Error {
    Error::Config {
        reason: "the engine shut down before the invocation answered".into(),
    }
}

/// The answer of [`Tenant::invoke_async`](crate::Tenant::invoke_async): a future independent of any async
/// runtime (woken from the engine's threads).
#[must_use = "futures do nothing unless awaited"]
pub struct InvocationFuture {
    state: Option<Result<Receiver<Result<Invocation>>>>,
    /// Cancels the invocation if the future is dropped before its answer
    /// (the caller went away): nothing else would ever read it.
    cancel: Option<(CancelToken, Arc<Core>)>,
}

impl InvocationFuture {
    /// The future of a started invocation, cancelled by `cancel` if dropped
    /// before its answer.
    pub(crate) fn started(
        receiver: Receiver<Result<Invocation>>,
        cancel: CancelToken,
        core: Arc<Core>,
    ) -> InvocationFuture {
        InvocationFuture {
            state: Some(Ok(receiver)),
            cancel: Some((cancel, core)),
        }
    }

    /// A future that is ready with `error`.
    pub(crate) fn failed(error: Error) -> InvocationFuture {
        InvocationFuture {
            state: Some(Err(error)),
            cancel: None,
        }
    }
}

impl Drop for InvocationFuture {
    fn drop(&mut self) {
        if let (Some(Ok(_)), Some((cancel, core))) = (&self.state, &self.cancel) {
            cancel.cancel();
            Counters::add(&core.counters.invocations_cancelled, 1);
        }
    }
}

impl Future for InvocationFuture {
    type Output = Result<Invocation>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.state.as_mut() {
            None => Poll::Ready(Err(shut_down())),
            Some(Err(_)) => match self.state.take() {
                Some(Err(e)) => Poll::Ready(Err(e)),
                _ => Poll::Ready(Err(shut_down())),
            },
            Some(Ok(receiver)) => match Pin::new(receiver).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(answer) => {
                    self.state = None;
                    Poll::Ready(answer.unwrap_or_else(|| Err(shut_down())))
                }
            },
        }
    }
}
