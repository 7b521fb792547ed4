//! The compute thread pool: a FIFO of jobs served by a fixed set of threads.
//!
//! Jobs are sandbox runs and the bookkeeping that follows them; nothing that
//! waits on I/O is ever queued here (builtins go to the I/O runtime and come
//! back through its callbacks).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

struct Queue {
    jobs: VecDeque<Job>,
    shutdown: bool,
    /// Threads currently running a job.
    busy: usize,
    /// Threads still alive.
    alive: usize,
}

struct Inner {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Jobs queued, mirrored outside the lock (for an idle thread that spins,
    /// and for metrics).
    queued: AtomicUsize,
    /// At most one idle thread spins for the next job (see `crate::spin`).
    spinning: AtomicBool,
}

/// A pool of compute threads. Dropping the pool lets the threads finish the
/// queued jobs (and the jobs those spawn) and exit.
pub(crate) struct Pool {
    inner: Arc<Inner>,
    threads: Vec<JoinHandle<()>>,
}

fn lock(inner: &Inner) -> MutexGuard<'_, Queue> {
    // A job never panics while holding the queue lock, so poisoning cannot
    // leave the queue inconsistent.
    inner.queue.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pool {
    pub(crate) fn new(threads: usize) -> std::io::Result<Pool> {
        let inner = Arc::new(Inner {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                shutdown: false,
                busy: 0,
                alive: threads,
            }),
            ready: Condvar::new(),
            queued: AtomicUsize::new(0),
            spinning: AtomicBool::new(false),
        });
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            let shared = inner.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("pappus-compute-{index}"))
                .spawn(move || worker(&shared));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    let pool = Pool {
                        inner,
                        threads: handles,
                    };
                    drop(pool);
                    return Err(e);
                }
            }
        }
        Ok(Pool {
            inner,
            threads: handles,
        })
    }

    /// A cheap handle for queueing jobs.
    pub(crate) fn handle(&self) -> PoolHandle {
        PoolHandle {
            inner: self.inner.clone(),
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let mut q = lock(&self.inner);
        q.shutdown = true;
        // Threads that could not be spawned never started.
        q.alive = q.alive.min(self.threads.len());
        drop(q);
        self.inner.ready.notify_all();
    }
}

/// Queues jobs on the pool.
#[derive(Clone)]
pub(crate) struct PoolHandle {
    inner: Arc<Inner>,
}

impl PoolHandle {
    /// Queues `job`. If every thread has already exited (the engine was
    /// dropped and the pool drained), the job runs on the calling thread.
    pub(crate) fn spawn(&self, job: Job) {
        let mut q = lock(&self.inner);
        if q.alive == 0 {
            drop(q);
            job();
            return;
        }
        q.jobs.push_back(job);
        let queued = q.jobs.len();
        self.inner.queued.store(queued, Ordering::SeqCst);
        drop(q);
        // A spinning thread takes a lone job itself (it locks the queue again
        // after it stops spinning, so the job cannot be missed): no wake-up
        // needed. A burst of jobs wakes the parked threads as usual.
        if queued > 1 || !self.inner.spinning.load(Ordering::SeqCst) {
            self.inner.ready.notify_one();
        }
    }

    /// Jobs waiting for a thread.
    pub(crate) fn queued(&self) -> usize {
        self.inner.queued.load(Ordering::SeqCst)
    }
}

fn worker(inner: &Inner) {
    super::placement::enter_pool();
    let mut q = lock(inner);
    // Whether this thread has spun since its last job: it spins once, then parks.
    let mut spun = false;
    loop {
        if let Some(job) = q.jobs.pop_front() {
            spun = false;
            inner.queued.store(q.jobs.len(), Ordering::SeqCst);
            q.busy += 1;
            drop(q);
            // A panicking job must not take the thread down with it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            q = lock(inner);
            q.busy -= 1;
            continue;
        }
        // A busy thread may still queue follow-up jobs, so only exit when
        // nothing can arrive from inside the pool any more.
        if q.shutdown && q.busy == 0 {
            q.alive -= 1;
            drop(q);
            inner.ready.notify_all();
            return;
        }
        if !spun
            && !q.shutdown
            && crate::spin::sync_wait_recent()
            && !inner.spinning.swap(true, Ordering::SeqCst)
        {
            spun = true;
            drop(q);
            crate::spin::spin_until(|| inner.queued.load(Ordering::SeqCst) > 0);
            inner.spinning.store(false, Ordering::SeqCst);
            q = lock(inner);
            continue;
        }
        q = inner.ready.wait(q).unwrap_or_else(|p| p.into_inner());
    }
}
