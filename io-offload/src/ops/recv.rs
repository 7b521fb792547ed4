//! `recv` from a socket, appending to a buffer.

use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{Driver, OpKind};

/// Receives into the spare capacity of `buf`; returns the buffer and how many
/// bytes were appended (0 when the peer closed the connection).
pub(crate) async fn recv(
    driver: &Rc<Driver>,
    fd: RawFd,
    buf: Vec<u8>,
    deadline: Option<Instant>,
) -> (io::Result<usize>, Vec<u8>) {
    let (res, kind) = driver.submit(OpKind::Recv { fd, buf }, deadline).await;
    let buf = match kind {
        OpKind::Recv { buf, .. } => buf,
        _ => Vec::new(),
    };
    (super::check(res).map(|n| n as usize), buf)
}
