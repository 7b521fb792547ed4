//! A lost I/O thread: a panic escaping its loop fails the calls it held, the
//! loop restarts on a fresh ring and [`IoRuntime::health`] counts it; a thread
//! that cannot make a fresh ring stops, and health reports it as not serving.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::cell::Cell;

use super::*;

thread_local! {
    /// Set by an injected fault: the next fresh ring of this thread fails.
    pub(super) static FAIL_RESTART: Cell<bool> = const { Cell::new(false) };
}

impl IoRuntime {
    /// Makes the first I/O thread's loop panic.
    fn inject_fault(&self, fail_restart: bool) {
        let worker = &self.inner.workers[0];
        let tx = worker.tx.lock().unwrap().clone().unwrap();
        tx.send(Msg::Fault { fail_restart }).unwrap();
        sys::eventfd_signal(worker.wake_fd.as_raw_fd());
    }

    /// Waits (yielding) until the health satisfies `done`.
    fn await_health(&self, done: impl Fn(&IoHealth) -> bool) -> IoHealth {
        loop {
            let health = self.health();
            if done(&health) {
                return health;
            }
            thread::yield_now();
        }
    }
}

fn fetch_file(rt: &IoRuntime, path: &std::path::Path) -> Result<Vec<Item>> {
    let uri = format!("file://{}", path.display());
    rt.call(Call::Fetch {
        uris: vec![Item::new("u0", 0, uri)],
    })
}

#[test]
fn a_panicking_io_loop_restarts_and_one_that_cannot_is_reported() {
    let rt = IoRuntime::start(RingConfig::new().io_threads(1)).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"still here").unwrap();
    assert!(rt.health().is_healthy());

    rt.inject_fault(false);
    let health = rt.await_health(|h| h.restarts == 1);
    assert_eq!(health.serving_threads, 1, "{health:?}");
    let items = fetch_file(&rt, file.path()).unwrap();
    assert_eq!(&items[0].data[..], b"still here");
    assert!(rt.health().is_healthy());

    rt.inject_fault(true);
    let health = rt.await_health(|h| h.serving_threads == 0);
    assert!(!health.is_healthy(), "{health:?}");
    assert_eq!(health.restarts, 2);
    // The thread is gone: calls fail rather than hang.
    let err = fetch_file(&rt, file.path()).unwrap_err();
    assert!(matches!(err, Error::Shutdown), "{err}");
}
