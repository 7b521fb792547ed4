//! `send` the whole of a buffer on a socket.

use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;

use crate::ring::{Driver, OpKind};

/// Sends all of `buf`, looping over short sends.
pub(crate) async fn send(
    driver: &Rc<Driver>,
    fd: RawFd,
    mut buf: Bytes,
    deadline: Option<Instant>,
) -> io::Result<()> {
    while !buf.is_empty() {
        let (res, _) = driver
            .submit(
                OpKind::Send {
                    fd,
                    buf: buf.clone(),
                },
                deadline,
            )
            .await;
        let n = super::check(res)? as usize;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "send wrote nothing",
            ));
        }
        let _ = buf.split_to(n.min(buf.len()));
    }
    Ok(())
}
