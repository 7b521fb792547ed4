//! [`Gate`]: a counting limit shared by every I/O thread (open files and
//! sockets, name lookups), which tasks wait on instead of failing.
//!
//! Hand-written rather than taken from an async runtime's semaphore: the I/O
//! threads run their own executor, and this needs only a mutex and wakers.

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

#[derive(Debug)]
struct State {
    in_use: usize,
    waiting: Vec<Waker>,
}

/// At most `max` permits out at once.
#[derive(Debug)]
pub(crate) struct Gate {
    max: usize,
    state: Mutex<State>,
}

/// Returned by [`Gate::enter`]; leaving frees the place.
#[derive(Debug)]
pub(crate) struct Permit {
    gate: Arc<Gate>,
}

impl Gate {
    pub(crate) fn new(max: usize) -> Arc<Gate> {
        Arc::new(Gate {
            max: max.max(1),
            state: Mutex::new(State {
                in_use: 0,
                waiting: Vec::new(),
            }),
        })
    }

    /// Waits for a place. Dropping the future while it waits gives up nothing.
    pub(crate) async fn enter(self: &Arc<Self>) -> Permit {
        poll_fn(|cx| {
            let Ok(mut state) = self.state.lock() else {
                // A poisoned lock means a bug elsewhere; do not add a hang to it.
                return Poll::Ready(());
            };
            if state.in_use < self.max {
                state.in_use += 1;
                Poll::Ready(())
            } else {
                // A bounded list: one entry per waiting task.
                if !state.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                    state.waiting.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
        .await;
        Permit {
            gate: Arc::clone(self),
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let waiting = match self.gate.state.lock() {
            Ok(mut state) => {
                state.in_use = state.in_use.saturating_sub(1);
                // Wake every waiter: one may have been dropped meanwhile, and a
                // lost wake-up would stall the rest.
                std::mem::take(&mut state.waiting)
            }
            Err(_) => Vec::new(),
        };
        for w in waiting {
            w.wake();
        }
    }
}
