//! [`IoRuntime`]: the I/O threads and the way calls reach them.

use std::os::fd::{AsRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, JoinHandle};

use crate::builtin;
use crate::context::{Ctx, Shared};
use crate::ring::{sys, Driver, Executor};
use crate::stats::IoStats;
use crate::{Call, Error, Item, Result, RingConfig};

/// Completion callback of [`IoRuntime::submit`].
pub type Done = Box<dyn FnOnce(Result<Vec<Item>, Error>) + Send>;

enum Msg {
    Call(Call, Done),
}

struct Worker {
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    wake_fd: Arc<OwnedFd>,
    thread: Mutex<Option<JoinHandle<()>>>,
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
        let n = self.inner.workers.len();
        let index = self.inner.next.fetch_add(1, Ordering::Relaxed) % n.max(1);
        let Some(worker) = self.inner.workers.get(index) else {
            done(Err(Error::Shutdown));
            return;
        };
        let tx = worker.tx.lock().ok().and_then(|tx| tx.clone());
        let rejected = match tx {
            Some(tx) => match tx.send(Msg::Call(call, done)) {
                Ok(()) => {
                    sys::eventfd_signal(worker.wake_fd.as_raw_fd());
                    None
                }
                Err(mpsc::SendError(Msg::Call(_, done))) => Some(done),
            },
            None => Some(done),
        };
        if let Some(done) = rejected {
            done(Err(Error::Shutdown));
        }
    }

    /// Runs `call` and blocks the current thread until it completes.
    ///
    /// Must not be called from a `done` callback (it would wait on the thread
    /// it blocks).
    ///
    /// # Errors
    /// The call's error, see [`Error`].
    pub fn call(&self, call: Call) -> Result<Vec<Item>> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(
            call,
            Box::new(move |res| {
                let _ = tx.send(res);
            }),
        );
        rx.recv().unwrap_or(Err(Error::Shutdown))
    }

    /// A snapshot of the byte and call counters.
    pub fn stats(&self) -> IoStats {
        self.inner.shared.counters.snapshot()
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
    let thread = thread::Builder::new()
        .name(format!("pappus-io-{index}"))
        .spawn(move || {
            let entries = thread_shared.config.ring_entries;
            match Driver::new(entries, thread_fd) {
                Ok(driver) => {
                    let _ = ready_tx.send(Ok(()));
                    run(driver, thread_shared, rx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
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

/// The I/O thread's loop: take calls, poll ready tasks, wait on the ring.
fn run(driver: Rc<Driver>, shared: Arc<Shared>, rx: mpsc::Receiver<Msg>) {
    let executor = Executor::new(driver.wake_fd());
    let ctx = Rc::new(Ctx::new(Rc::clone(&driver), shared));
    let mut open = true;
    loop {
        while open {
            match rx.try_recv() {
                Ok(Msg::Call(call, done)) => {
                    executor.spawn(run_call(Rc::clone(&ctx), call, DoneGuard(Some(done))));
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

async fn run_call(ctx: Rc<Ctx>, call: Call, mut done: DoneGuard) {
    let res = builtin::run(&ctx, call).await;
    ctx.shared.counters.finish_call(res.is_ok());
    done.finish(res);
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
