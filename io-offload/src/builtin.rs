//! The five built-in functions, one file each, and the bounded fan-out they
//! share.

mod fetch;
mod http;
mod kv;
mod store;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

use crate::context::Ctx;
use crate::{Authority, Call, CallOptions, Item, Result};

/// Runs one call to completion on the current I/O thread, with `auth`'s
/// authority and `options`.
pub(crate) async fn run(
    ctx: &Ctx,
    auth: &Authority,
    call: Call,
    options: &CallOptions,
) -> Result<Vec<Item>> {
    match call {
        Call::Http { requests } => http::run(ctx, auth, requests).await,
        Call::Fetch { uris } => fetch::run(ctx, auth, uris, options).await,
        Call::Store { objects, uris } => store::run(ctx, auth, objects, uris).await,
        Call::KvGet { keys } => kv::get(ctx, auth, keys).await,
        Call::KvPut { pairs } => kv::put(ctx, auth, pairs).await,
    }
}

/// Runs `f` on every input with at most `limit` running at once. Answers the
/// results in input order, or the first error (the others are then dropped,
/// which cancels their waits; the driver keeps their buffers until the kernel
/// is done with them).
pub(crate) async fn for_each<'a, T, R, F, Fut>(inputs: Vec<T>, limit: usize, f: F) -> Result<Vec<R>>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R>> + 'a,
{
    let total = inputs.len();
    let mut waiting = inputs.into_iter().enumerate();
    let mut running: Vec<(usize, Pin<Box<Fut>>)> = Vec::new();
    let mut results: Vec<Option<R>> = (0..total).map(|_| None).collect();
    let mut finished = 0;
    poll_fn(move |cx| {
        loop {
            while running.len() < limit.max(1) {
                match waiting.next() {
                    Some((i, input)) => running.push((i, Box::pin(f(input)))),
                    None => break,
                }
            }
            let mut progressed = false;
            let mut j = 0;
            while j < running.len() {
                match running[j].1.as_mut().poll(cx) {
                    Poll::Ready(Ok(value)) => {
                        let (i, _) = running.swap_remove(j);
                        results[i] = Some(value);
                        finished += 1;
                        progressed = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => j += 1,
                }
            }
            if finished == total {
                return Poll::Ready(Ok(results.iter_mut().filter_map(Option::take).collect()));
            }
            // Slots freed: start more inputs before waiting.
            if !progressed || waiting.len() == 0 {
                return Poll::Pending;
            }
        }
    })
    .await
}
