//! [`IoRuntime`]: the I/O threads and the way calls reach them.

use std::future::Future;
use std::os::fd::{AsRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::{self, JoinHandle};

use crate::builtin;
use crate::context::{Ctx, Shared};
use crate::ring::{sys, Driver, Executor};
use crate::stats::IoStats;
use crate::{Authority, Call, CallOptions, Error, Item, Result, RingConfig};

/// Completion callback of [`IoRuntime::submit`].
pub type Done = Box<dyn FnOnce(Result<Vec<Item>, Error>) + Send>;

enum Msg {
    Call(Call, Arc<Authority>, CallOptions, Done),
    /// Tests only: the thread's loop panics, as a bug escaping the per-task
    /// catch would; with `fail_restart`, making its fresh ring fails too.
    #[cfg(test)]
    Fault {
        fail_restart: bool,
    },
}

struct Worker {
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    wake_fd: Arc<OwnedFd>,
    thread: Mutex<Option<JoinHandle<()>>>,
    health: Arc<ThreadHealth>,
}

/// What an I/O thread reports about itself.
#[derive(Debug, Default)]
struct ThreadHealth {
    /// False once the thread has stopped serving (it could not restart its ring).
    alive: AtomicBool,
    /// Times the thread's loop panicked and was restarted with a fresh ring.
    restarts: AtomicU64,
}

/// The state of the I/O threads, from [`IoRuntime::health`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IoHealth {
    /// I/O threads configured.
    pub io_threads: usize,
    /// I/O threads serving now.
    pub serving_threads: usize,
    /// Times an I/O thread's loop panicked and was restarted (its calls in
    /// flight failed with [`Error::Shutdown`]); the thread serves again at once.
    pub restarts: u64,
    /// I/O tasks that panicked (each failed only its own call).
    pub task_panics: u64,
}

impl IoHealth {
    /// True when every I/O thread is serving.
    pub fn is_healthy(&self) -> bool {
        self.serving_threads == self.io_threads
    }
}

struct Inner {
    workers: Vec<Worker>,
    next: AtomicUsize,
    shared: Arc<Shared>,
}

/// The I/O runtime: dedicated threads, each driving its own io_uring instance,
/// that run the built-in communication functions.
///
/// Cheap to clone (an `Arc` inside) and usable from any thread. The threads
/// stop when the last clone is dropped, after finishing the calls they hold
/// (each bounded by the call timeout).
///
/// ```no_run
/// use pappus_io::{Call, IoRuntime, Item, RingConfig};
///
/// let io = IoRuntime::start(&RingConfig::new())?;
/// let objects = io.call(Call::Fetch {
///     uris: vec![Item::new("motd", 0, "file:///etc/motd")],
/// })?;
/// println!("{} bytes", objects[0].data.len());
/// # Ok::<(), pappus_io::Error>(())
/// ```
#[derive(Clone)]
pub struct IoRuntime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for IoRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoRuntime")
            .field("io_threads", &self.inner.workers.len())
            .finish_non_exhaustive()
    }
}

impl IoRuntime {
    /// Validates `config` and starts the I/O threads.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration (including a malformed S3
    /// endpoint or Redis URL); [`Error::Unavailable`] when io_uring cannot be
    /// set up (kernel too old, `kernel.io_uring_disabled`, seccomp) or lacks an
    /// operation the runtime uses; [`Error::Io`] if a thread cannot be spawned.
    pub fn start(config: &RingConfig) -> Result<IoRuntime> {
        config.validate()?;
        let shared = Arc::new(Shared::new(config)?);
        let mut workers = Vec::with_capacity(config.io_threads);
        for index in 0..config.io_threads {
            workers.push(start_worker(index, &shared)?);
        }
        Ok(IoRuntime {
            inner: Arc::new(Inner {
                workers,
                next: AtomicUsize::new(0),
                shared,
            }),
        })
    }

    /// Runs `call` on an I/O thread (round-robin) and returns at once.
    ///
    /// `done` is called exactly once, on that I/O thread, with the call's one
    /// output set, or with the first error (which names the URI and cause). It
    /// must not block: the I/O thread serves other calls. If the runtime shuts
    /// down first, `done` gets [`Error::Shutdown`].
    pub fn submit(&self, call: Call, done: Done) {
        let authority = Arc::clone(&self.inner.shared.config.authority);
        self.submit_as(&authority, call, done);
    }

    /// Like [`submit`](Self::submit), with `authority` instead of the runtime's
    /// default ([`RingConfig::authority`]): every file, host, bucket and key the
    /// call names is checked against it, and one it does not allow fails the
    /// call with [`Error::Forbidden`]. A daemon passes each tenant's.
    ///
    /// When [`RingConfig::max_queued_calls`] calls are already unfinished,
    /// `done` gets [`Error::Overloaded`] at once.
    pub fn submit_as(&self, authority: &Arc<Authority>, call: Call, done: Done) {
        self.submit_with(authority, call, CallOptions::default(), done);
    }

    /// Like [`submit_as`](Self::submit_as), with `options` for this call: a
    /// smaller object size limit, an invocation's memory budget
    /// ([`CallOptions`]).
    pub fn submit_with(
        &self,
        authority: &Arc<Authority>,
        call: Call,
        options: CallOptions,
        done: Done,
    ) {
        let shared = &self.inner.shared;
        let limit = shared.config.max_queued_calls;
        if shared.queued.fetch_add(1, Ordering::AcqRel) >= limit {
            shared.queued.fetch_sub(1, Ordering::AcqRel);
            done(Err(Error::Overloaded {
                what: "queued calls",
                limit,
            }));
            return;
        }
        let done = counted(Arc::clone(shared), done);
        let n = self.inner.workers.len();
        let index = self.inner.next.fetch_add(1, Ordering::Relaxed) % n.max(1);
        let Some(worker) = self.inner.workers.get(index) else {
            done(Err(Error::Shutdown));
            return;
        };
        let tx = worker.tx.lock().ok().and_then(|tx| tx.clone());
        let rejected = match tx {
            Some(tx) => match tx.send(Msg::Call(call, Arc::clone(authority), options, done)) {
                Ok(()) => {
                    sys::eventfd_signal(worker.wake_fd.as_raw_fd());
                    None
                }
                Err(mpsc::SendError(Msg::Call(_, _, _, done))) => Some(done),
                #[cfg(test)]
                Err(mpsc::SendError(Msg::Fault { .. })) => None,
            },
            None => Some(done),
        };
        if let Some(done) = rejected {
            done(Err(Error::Shutdown));
        }
    }

    /// The authority of calls without one of their own ([`RingConfig::authority`]).
    pub fn default_authority(&self) -> Arc<Authority> {
        Arc::clone(&self.inner.shared.config.authority)
    }

    /// Runs `call` and blocks the current thread until it completes.
    ///
    /// Must not be called from a `done` callback (it would wait on the thread
    /// it blocks).
    ///
    /// # Errors
    /// The call's error, see [`Error`].
    pub fn call(&self, call: Call) -> Result<Vec<Item>> {
        let authority = Arc::clone(&self.inner.shared.config.authority);
        self.call_as(&authority, call)
    }

    /// Like [`call`](Self::call), with `authority` (see [`submit_as`](Self::submit_as)).
    ///
    /// # Errors
    /// The call's error, see [`Error`]; [`Error::Forbidden`] when `authority`
    /// does not allow a URI, host, bucket or key of the call.
    pub fn call_as(&self, authority: &Arc<Authority>, call: Call) -> Result<Vec<Item>> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit_as(
            authority,
            call,
            Box::new(move |res| {
                let _ = tx.send(res);
            }),
        );
        rx.recv().unwrap_or(Err(Error::Shutdown))
    }

    /// Whether every I/O thread is serving, and how many panics were survived.
    pub fn health(&self) -> IoHealth {
        let workers = &self.inner.workers;
        IoHealth {
            io_threads: workers.len(),
            serving_threads: workers
                .iter()
                .filter(|w| w.health.alive.load(Ordering::Acquire))
                .count(),
            restarts: workers
                .iter()
                .map(|w| w.health.restarts.load(Ordering::Relaxed))
                .sum(),
            task_panics: self.inner.shared.counters.snapshot().panics,
        }
    }

    /// A snapshot of the byte and call counters, and of the fetch cache and
    /// budgets.
    pub fn stats(&self) -> IoStats {
        self.inner.shared.stats()
    }

    /// Number of I/O threads.
    pub fn io_threads(&self) -> usize {
        self.inner.workers.len()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for worker in &self.workers {
            if let Ok(mut tx) = worker.tx.lock() {
                tx.take();
            }
            sys::eventfd_signal(worker.wake_fd.as_raw_fd());
        }
        let me = thread::current().id();
        for worker in &self.workers {
            let handle = worker.thread.lock().ok().and_then(|mut h| h.take());
            if let Some(handle) = handle {
                // The last clone may be dropped by a callback on an I/O thread;
                // that thread cannot wait for itself and exits on its own.
                if handle.thread().id() != me {
                    let _ = handle.join();
                }
            }
        }
    }
}

fn start_worker(index: usize, shared: &Arc<Shared>) -> Result<Worker> {
    let wake_fd = Arc::new(sys::eventfd().map_err(|source| Error::Unavailable { source })?);
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    let thread_shared = Arc::clone(shared);
    let thread_fd = Arc::clone(&wake_fd);
    let health = Arc::new(ThreadHealth::default());
    let thread_health = Arc::clone(&health);
    let thread = thread::Builder::new()
        .name(format!("pappus-io-{index}"))
        .spawn(move || {
            let entries = thread_shared.config.ring_entries;
            let driver = match Driver::new(entries, Arc::clone(&thread_fd)) {
                Ok(driver) => driver,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            thread_health.alive.store(true, Ordering::Release);
            let _ = ready_tx.send(Ok(()));
            serve(driver, &thread_shared, &rx, &thread_fd, &thread_health);
            thread_health.alive.store(false, Ordering::Release);
        })
        .map_err(|source| Error::Io {
            uri: String::from("io thread"),
            op: "spawning",
            source,
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(Worker {
            tx: Mutex::new(Some(tx)),
            wake_fd,
            thread: Mutex::new(Some(thread)),
            health,
        }),
        Ok(Err(source)) => {
            let _ = thread.join();
            Err(Error::Unavailable { source })
        }
        Err(_) => {
            let _ = thread.join();
            Err(Error::Unavailable {
                source: std::io::Error::other("the i/o thread exited during start-up"),
            })
        }
    }
}

/// Runs the thread's loop until the runtime shuts down. A panic that escapes
/// the loop (task panics are caught per task) fails the calls the thread held,
/// is logged, and the loop starts again on a fresh ring; if no ring can be made,
/// the thread stops and [`IoRuntime::health`] reports it.
fn serve(
    mut driver: Rc<Driver>,
    shared: &Arc<Shared>,
    rx: &mpsc::Receiver<Msg>,
    wake_fd: &Arc<OwnedFd>,
    health: &ThreadHealth,
) {
    loop {
        let ring = Rc::clone(&driver);
        let res = catch_unwind(AssertUnwindSafe(|| run(ring, Arc::clone(shared), rx)));
        let Err(panic) = res else {
            return;
        };
        health.restarts.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            panic = %panic_message(panic.as_ref()),
            "an i/o thread's loop panicked; restarting it on a fresh ring"
        );
        // The old ring may still own buffers the kernel writes to: drain it if
        // that is possible, otherwise leak it rather than free them under it.
        let old = driver;
        if catch_unwind(AssertUnwindSafe(|| old.drain())).is_err() {
            std::mem::forget(old);
        }
        match fresh_driver(shared, wake_fd) {
            Ok(fresh) => driver = fresh,
            Err(e) => {
                tracing::error!(error = %e, "an i/o thread could not restart its ring; it stops");
                return;
            }
        }
    }
}

/// A new ring for a thread whose loop panicked.
fn fresh_driver(shared: &Shared, wake_fd: &Arc<OwnedFd>) -> std::io::Result<Rc<Driver>> {
    #[cfg(test)]
    if tests::FAIL_RESTART.with(std::cell::Cell::take) {
        return Err(std::io::Error::other("injected: no ring"));
    }
    Driver::new(shared.config.ring_entries, Arc::clone(wake_fd))
}

/// The text of a panic payload.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The I/O thread's loop: take calls, poll ready tasks, wait on the ring.
fn run(driver: Rc<Driver>, shared: Arc<Shared>, rx: &mpsc::Receiver<Msg>) {
    let executor = Executor::new(driver.wake_fd());
    let ctx = Rc::new(Ctx::new(Rc::clone(&driver), shared));
    let mut open = true;
    loop {
        while open {
            match rx.try_recv() {
                Ok(Msg::Call(call, authority, options, done)) => {
                    executor.spawn(run_call(
                        Rc::clone(&ctx),
                        authority,
                        call,
                        options,
                        DoneGuard(Some(done)),
                    ));
                }
                #[cfg(test)]
                Ok(Msg::Fault { fail_restart }) => {
                    tests::FAIL_RESTART.with(|f| f.set(fail_restart));
                    panic!("injected fault in the i/o loop");
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => open = false,
            }
        }
        executor.run_ready();
        if !open && executor.len() == 0 {
            break;
        }
        if driver.submit_and_wait(!executor.has_ready()).is_err() {
            break;
        }
        driver.reap();
    }
    executor.clear();
    drop(ctx);
    driver.drain();
}

async fn run_call(
    ctx: Rc<Ctx>,
    authority: Arc<Authority>,
    call: Call,
    options: CallOptions,
    mut done: DoneGuard,
) {
    let builtin = call.builtin_name();
    let res = CatchPanic(Box::pin(async {
        let res = builtin::run(&ctx, &authority, call, &options).await;
        if let Err(e @ Error::Forbidden { .. }) = &res {
            ctx.shared.counters.add_forbidden();
            authority.count_refused();
            if let Some(hook) = &ctx.config().on_forbidden {
                (hook.0)(&authority, e);
            }
        }
        res
    }))
    .await
    .unwrap_or_else(|message| {
        ctx.shared.counters.add_panic();
        tracing::error!(builtin, panic = %message, "an i/o task panicked; its call fails");
        Err(Error::Internal { builtin, message })
    });
    ctx.shared.counters.finish_call(res.is_ok());
    done.finish(res);
}

/// Polls a future, turning a panic into `Err` with its message, so that one
/// call's bug fails that call only.
struct CatchPanic<'a, T>(Pin<Box<dyn Future<Output = T> + 'a>>);

impl<T> Future for CatchPanic<'_, T> {
    type Output = std::result::Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic_message(panic.as_ref()))),
        }
    }
}

/// Wraps `done` so the call leaves the queued-calls count when it completes.
fn counted(shared: Arc<Shared>, done: Done) -> Done {
    Box::new(move |res| {
        shared.queued.fetch_sub(1, Ordering::AcqRel);
        done(res);
    })
}

/// Calls the completion exactly once: with the result, or with
/// [`Error::Shutdown`] if the task is dropped before finishing.
struct DoneGuard(Option<Done>);

impl DoneGuard {
    fn finish(&mut self, res: Result<Vec<Item>>) {
        if let Some(done) = self.0.take() {
            // A panicking callback must not take the I/O thread down with it.
            let _ = catch_unwind(AssertUnwindSafe(move || done(res)));
        }
    }
}

impl Drop for DoneGuard {
    fn drop(&mut self) {
        self.finish(Err(Error::Shutdown));
    }
}

#[cfg(test)]
mod tests;
