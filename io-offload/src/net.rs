//! Name resolution and TCP connection set-up.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::fd::OwnedFd;

use crate::context::Ctx;
use crate::ops;
use crate::ring::spawn_blocking;

/// Resolves `host`. IP literals and `localhost` resolve at once; other names
/// go through the system resolver on a helper thread, since io_uring has no
/// name-lookup operation and `getaddrinfo` blocks.
pub(crate) async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if bare.eq_ignore_ascii_case("localhost") {
        return Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]);
    }
    let name = bare.to_owned();
    let found = spawn_blocking(move || (name.as_str(), port).to_socket_addrs().map(Vec::from_iter))
        .await
        .unwrap_or_else(|| Err(io::Error::other("name resolution thread failed")))?;
    if found.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no address for host {host:?}"),
        ));
    }
    Ok(found)
}

/// Connects to the first address of `host:port` that accepts.
pub(crate) async fn connect(
    ctx: &Ctx,
    host: &str,
    port: u16,
    deadline: std::time::Instant,
) -> io::Result<OwnedFd> {
    let addrs = resolve(host, port).await?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
    for addr in addrs {
        match ops::connect(&ctx.driver, addr, Some(deadline)).await {
            Ok(fd) => return Ok(fd),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}
