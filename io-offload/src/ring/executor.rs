//! A single-threaded task queue driven by the I/O thread's loop.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};

use slab::Slab;

use super::sys;

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Task ids ready to be polled, shared with wakers (which may run on other
/// threads, e.g. a blocking helper finishing a name lookup).
struct ReadyQueue {
    ids: Mutex<Vec<usize>>,
    owner: ThreadId,
    wake_fd: i32,
}

struct TaskWaker {
    id: usize,
    queue: Arc<ReadyQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Ok(mut ids) = self.queue.ids.lock() {
            ids.push(self.id);
        }
        if thread::current().id() != self.queue.owner {
            // The ring may be blocked in io_uring_enter: wake it.
            sys::eventfd_signal(self.queue.wake_fd);
        }
    }
}

/// Runs the tasks of one I/O thread.
pub(crate) struct Executor {
    tasks: RefCell<Slab<Option<Task>>>,
    queue: Arc<ReadyQueue>,
}

impl Executor {
    /// An executor owned by the current thread; `wake_fd` is the driver's eventfd.
    pub(crate) fn new(wake_fd: i32) -> Executor {
        Executor {
            tasks: RefCell::new(Slab::new()),
            queue: Arc::new(ReadyQueue {
                ids: Mutex::new(Vec::new()),
                owner: thread::current().id(),
                wake_fd,
            }),
        }
    }

    /// Adds a task; it is first polled by the next [`run_ready`](Self::run_ready).
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        let id = self.tasks.borrow_mut().insert(Some(Box::pin(task)));
        if let Ok(mut ids) = self.queue.ids.lock() {
            ids.push(id);
        }
    }

    /// Number of unfinished tasks.
    pub(crate) fn len(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// True when some task is waiting to be polled.
    pub(crate) fn has_ready(&self) -> bool {
        self.queue
            .ids
            .lock()
            .map(|ids| !ids.is_empty())
            .unwrap_or(false)
    }

    /// Polls every ready task once (tasks woken meanwhile wait for the next round).
    pub(crate) fn run_ready(&self) {
        let ids = match self.queue.ids.lock() {
            Ok(mut ids) => std::mem::take(&mut *ids),
            Err(_) => return,
        };
        for id in ids {
            // Take the task out while polling so it may spawn or wake freely.
            let task = match self.tasks.borrow_mut().get_mut(id) {
                Some(slot) => slot.take(),
                None => None,
            };
            let Some(mut task) = task else {
                continue;
            };
            let waker = Waker::from(Arc::new(TaskWaker {
                id,
                queue: Arc::clone(&self.queue),
            }));
            let mut cx = Context::from_waker(&waker);
            match task.as_mut().poll(&mut cx) {
                Poll::Ready(()) => {
                    self.tasks.borrow_mut().remove(id);
                }
                Poll::Pending => {
                    if let Some(slot) = self.tasks.borrow_mut().get_mut(id) {
                        *slot = Some(task);
                    }
                }
            }
        }
    }

    /// Drops every task (their completions report a shutdown).
    pub(crate) fn clear(&self) {
        let tasks = std::mem::take(&mut *self.tasks.borrow_mut());
        drop(tasks);
    }
}

/// Result slot shared between a blocking helper thread and the task awaiting it.
struct Shared<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

/// Future returned by [`spawn_blocking`].
pub(crate) struct Waiter<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

/// Runs `f` on a short-lived helper thread (used for name resolution, which
/// has no io_uring operation) and resolves to its result without blocking the
/// ring. Resolves to `None` if the helper thread could not be started.
pub(crate) fn spawn_blocking<T, F>(f: F) -> Waiter<Option<T>>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let shared = Arc::new(Mutex::new(Shared {
        value: None,
        waker: None,
    }));
    let theirs = Arc::clone(&shared);
    let spawned = thread::Builder::new()
        .name("pappus-io-resolve".into())
        .spawn(move || {
            let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
            let waker = match theirs.lock() {
                Ok(mut s) => {
                    s.value = Some(value);
                    s.waker.take()
                }
                Err(_) => None,
            };
            if let Some(w) = waker {
                w.wake();
            }
        });
    if spawned.is_err() {
        if let Ok(mut s) = shared.lock() {
            s.value = Some(None);
        }
    }
    Waiter { shared }
}

impl<T> Future for Waiter<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let Ok(mut s) = self.shared.lock() else {
            return Poll::Pending;
        };
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
