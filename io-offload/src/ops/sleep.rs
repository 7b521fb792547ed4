//! A timer (io_uring timeout operation), used for retry backoff.

use std::rc::Rc;
use std::time::Duration;

use crate::ring::{timespec, Driver, OpKind};

/// Waits for `duration` without blocking the ring.
pub(crate) async fn sleep(driver: &Rc<Driver>, duration: Duration) {
    let kind = OpKind::Sleep {
        time: timespec(duration),
    };
    // The timer completes with -ETIME when it fires; nothing else to report.
    let _ = driver.submit(kind, None).await;
}
