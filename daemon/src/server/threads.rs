//! The threads that serve HTTP: one tokio current-thread runtime each, and a
//! connection belongs to one of them from accept to close.
//!
//! Why not one multi-thread runtime: its workers share their work, so a
//! request whose socket became readable on one worker's I/O driver often wakes
//! a parked second worker to look for it, a futex wake and a context switch
//! (about 4 µs of CPU per request on the machines we measure, a sixth of a
//! small invocation's cost). Here a connection's socket is registered with its
//! own thread's I/O driver, its requests are parsed, routed and answered there,
//! and a shard the engine runs on the calling thread runs there as well: a
//! request makes no thread hand-off at all. A thread blocked for a moment (the
//! engine holds it for at most its inline budget) delays only its own
//! connections; slow work goes to the engine's compute threads or to the
//! blocking pool either way.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

/// Blocking-pool threads per HTTP thread (compiling registrations, fsync).
/// The daemon bounds registrations node-wide on top of this.
const MAX_BLOCKING_THREADS: usize = 16;

/// How long a stopping thread waits for its blocking work before leaving it.
const BLOCKING_GRACE: Duration = Duration::from_secs(1);

/// Work handed to a thread: it runs inside that thread's runtime, so it may
/// register sockets and spawn tasks there.
type Job = Box<dyn FnOnce() + Send>;

/// The HTTP threads. Dropping them lets each thread finish its current jobs'
/// set-up and stop; connections still open on them are closed.
pub struct HttpThreads {
    threads: Vec<HttpThread>,
}

/// One serving thread: where to send it work, and how many connections it has.
struct HttpThread {
    jobs: mpsc::UnboundedSender<Job>,
    connections: Arc<AtomicUsize>,
}

/// A connection's place on its thread: counts it there until dropped, so the
/// next connection goes to a less busy thread.
pub(crate) struct Placed {
    connections: Arc<AtomicUsize>,
}

impl Drop for Placed {
    fn drop(&mut self) {
        self.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HttpThreads {
    /// Starts `count` threads (at least one), named `pappus-http-N`.
    ///
    /// # Errors
    /// A runtime or a thread cannot be created.
    pub fn start(count: usize) -> io::Result<HttpThreads> {
        let threads = (0..count.max(1))
            .map(HttpThread::start)
            .collect::<io::Result<Vec<_>>>()?;
        Ok(HttpThreads { threads })
    }

    /// Runs `job` on the serving thread with the fewest connections, counting
    /// one more there for as long as `job` keeps its [`Placed`]. A thread that
    /// has stopped (it cannot, short of a bug) is passed over, so that its
    /// empty count does not draw every connection; returns false if all have
    /// (the job is dropped, and uncounted with it).
    pub(crate) fn place(&self, job: impl FnOnce(Placed) + Send + 'static) -> bool {
        let Some(thread) = self
            .threads
            .iter()
            .filter(|t| !t.jobs.is_closed())
            .min_by_key(|t| t.connections.load(Ordering::Acquire))
        else {
            return false;
        };
        thread.connections.fetch_add(1, Ordering::AcqRel);
        let placed = Placed {
            connections: Arc::clone(&thread.connections),
        };
        thread.jobs.send(Box::new(move || job(placed))).is_ok()
    }
}

impl HttpThread {
    fn start(index: usize) -> io::Result<HttpThread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("pappus-http-blocking")
            .max_blocking_threads(MAX_BLOCKING_THREADS)
            .build()?;
        let (jobs, mut incoming) = mpsc::unbounded_channel::<Job>();
        let connections = Arc::new(AtomicUsize::new(0));
        std::thread::Builder::new()
            .name(format!("pappus-http-{index}"))
            .spawn(move || {
                runtime.block_on(async {
                    while let Some(job) = incoming.recv().await {
                        job();
                    }
                });
                runtime.shutdown_timeout(BLOCKING_GRACE);
            })?;
        Ok(HttpThread { jobs, connections })
    }
}
