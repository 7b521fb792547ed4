//! A runtime-agnostic one-shot channel: the sender completes it once from any
//! thread; the receiver blocks ([`Receiver::wait`]) or is awaited as a future.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    /// The sender was dropped without sending.
    closed: bool,
    /// A thread blocks in [`Receiver::wait`] on the condvar: only then does
    /// finishing notify it (a notification costs a futex call even when
    /// nobody waits, and an awaited receiver never does).
    blocked: bool,
}

struct Shared<T> {
    slot: Mutex<Slot<T>>,
    ready: Condvar,
    /// Set once the slot holds the value or is closed: lets [`Receiver::wait`]
    /// spin without taking the lock.
    done: AtomicBool,
}

pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
    sent: bool,
}

/// The receiving half; `None` means the sender went away without answering.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot {
            value: None,
            waker: None,
            closed: false,
            blocked: false,
        }),
        ready: Condvar::new(),
        done: AtomicBool::new(false),
    });
    (
        Sender {
            shared: shared.clone(),
            sent: false,
        },
        Receiver { shared },
    )
}

impl<T> Shared<T> {
    fn finish(&self, value: Option<T>) {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match value {
            Some(v) => slot.value = Some(v),
            None => slot.closed = true,
        }
        let waker = slot.waker.take();
        let blocked = slot.blocked;
        self.done.store(true, Ordering::Release);
        drop(slot);
        if blocked {
            self.ready.notify_all();
        }
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Sender<T> {
    pub(crate) fn send(mut self, value: T) {
        self.sent = true;
        self.shared.finish(Some(value));
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if !self.sent {
            self.shared.finish(None);
        }
    }
}

impl<T> Receiver<T> {
    /// Blocks until the value arrives (or the sender is dropped).
    pub(crate) fn wait(self) -> Option<T> {
        crate::spin::note_sync_wait();
        crate::spin::spin_until(|| self.shared.done.load(Ordering::Acquire));
        let mut slot = self.shared.slot.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(v) = slot.value.take() {
                return Some(v);
            }
            if slot.closed {
                return None;
            }
            slot.blocked = true;
            slot = self
                .shared
                .ready
                .wait(slot)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = self.shared.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = slot.value.take() {
            return Poll::Ready(Some(v));
        }
        if slot.closed {
            return Poll::Ready(None);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
