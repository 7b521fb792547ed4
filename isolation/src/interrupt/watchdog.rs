//! The thread that stops overdue and cancelled calls.
//!
//! Every running call is registered with its thread, the instant it must stop
//! by (its deadline, or the caller's earlier cutoff) and its cancel token. Each
//! tick the watchdog looks at them all and signals the thread of each call that
//! is due or cancelled ([`signal`](super::signal)). A call whose signal found
//! its thread in host code is signalled again after [`RETRY`] rather than a
//! whole tick, since host routines return to guest code within microseconds.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use slab::Slab;

use super::code::CodeMap;
use super::signal::{self, FIRED, IN_HOST, RUNNING};
use crate::CancelToken;

/// How soon a call whose signal landed in host code is signalled again.
const RETRY: Duration = Duration::from_micros(20);

/// Watches the calls of one runtime; stops its thread when dropped.
pub(crate) struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    calls: Mutex<Slab<Watched>>,
    quit: AtomicBool,
    signal: libc::c_int,
}

struct Watched {
    tid: libc::pid_t,
    state: StatePtr,
    stop_at: Instant,
    cancel: Option<CancelToken>,
}

/// A thread's call state. The pointer is only read while the call is
/// registered, and the call's thread is inside the call until it has removed
/// the registration (under the same lock), so the thread-local outlives every
/// use.
struct StatePtr(*const AtomicU8);

// SAFETY: see `StatePtr`; the pointee is an atomic.
unsafe impl Send for StatePtr {}

impl Watchdog {
    /// Installs the signal handler (once per process) and starts the thread,
    /// which looks at the running calls every `tick`.
    pub(crate) fn start(tick: Duration) -> io::Result<Watchdog> {
        let signal = signal::install()?;
        let shared = Arc::new(Shared {
            calls: Mutex::new(Slab::new()),
            quit: AtomicBool::new(false),
            signal,
        });
        let watched = shared.clone();
        let thread = std::thread::Builder::new()
            .name("pappus-watchdog".to_owned())
            .spawn(move || watched.run(tick))?;
        Ok(Watchdog {
            shared,
            thread: Some(thread),
        })
    }

    /// Watches a call of the module mapped by `code` on this thread until the
    /// returned guard is finished or dropped: it is stopped once `stop_at`
    /// passes or `cancel` is cancelled.
    pub(crate) fn arm<'a>(
        &'a self,
        code: &'a CodeMap,
        stop_at: Instant,
        cancel: Option<&CancelToken>,
    ) -> Armed<'a> {
        let tid = signal::enter(code);
        let key = self.shared.lock().insert(Watched {
            tid,
            state: StatePtr(signal::state()),
            stop_at,
            cancel: cancel.cloned(),
        });
        Armed {
            shared: &self.shared,
            key: Some(key),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// A watched call; ends the watch when finished or dropped.
pub(crate) struct Armed<'a> {
    shared: &'a Shared,
    key: Option<usize>,
}

impl Armed<'_> {
    /// Ends the watch; returns whether the call was stopped (its trap, or the
    /// error of a host function that refused to run, is the stop).
    pub(crate) fn finish(mut self) -> bool {
        self.end()
    }

    fn end(&mut self) -> bool {
        let Some(key) = self.key.take() else {
            return false;
        };
        // Unregister first: after this the watchdog no longer touches this
        // thread's state, and a signal already on its way finds no target or
        // host code.
        self.shared.lock().try_remove(key);
        signal::leave()
    }
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        self.end();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Slab<Watched>> {
        // The registry stays consistent whatever panicked while holding it.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self, tick: Duration) {
        while !self.quit.load(Ordering::Acquire) {
            let again = if self.visit() { RETRY } else { tick };
            std::thread::park_timeout(again);
        }
    }

    /// Signals every call that is due, cancelled, or signalled before without
    /// effect; returns whether one of them was in host code.
    fn visit(&self) -> bool {
        let now = Instant::now();
        let mut in_host = false;
        for (_, call) in self.lock().iter() {
            // SAFETY: see `StatePtr`.
            let state = unsafe { &*call.state.0 };
            let due = match state.load(Ordering::Acquire) {
                RUNNING => {
                    let due = now >= call.stop_at
                        || call.cancel.as_ref().is_some_and(CancelToken::is_cancelled);
                    due && state
                        .compare_exchange(RUNNING, FIRED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                }
                FIRED => true,
                IN_HOST => {
                    in_host = true;
                    true
                }
                _ => false,
            };
            if due {
                signal::send(self.signal, call.tid);
            }
        }
        in_host
    }
}
