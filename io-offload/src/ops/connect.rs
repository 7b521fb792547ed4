//! `connect` a new TCP socket.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{sys, Driver, OpKind, SockAddr};

/// Opens a TCP socket and connects it to `addr`.
pub(crate) async fn connect(
    driver: &Rc<Driver>,
    addr: SocketAddr,
    deadline: Option<Instant>,
) -> io::Result<OwnedFd> {
    let fd = sys::tcp_socket(&addr)?;
    let kind = OpKind::Connect {
        fd: fd.as_raw_fd(),
        addr: SockAddr::new(&addr),
    };
    let (res, _) = driver.submit(kind, deadline).await;
    super::check(res)?;
    Ok(fd)
}
