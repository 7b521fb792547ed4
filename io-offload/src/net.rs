//! Name resolution and TCP connection set-up, checked against the caller's
//! [`Authority`] on the address actually connected to.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::fd::OwnedFd;

use crate::context::{Ctx, Deadline};
use crate::ring::spawn_blocking;
use crate::{ops, Authority, Error, Result};

/// Resolves `host`. IP literals and `localhost` resolve at once; other names
/// go through the system resolver on a helper thread, since io_uring has no
/// name-lookup operation and `getaddrinfo` blocks. At most
/// `RingConfig::max_dns_lookups` run at once; others wait their turn.
pub(crate) async fn resolve(ctx: &Ctx, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if bare.eq_ignore_ascii_case("localhost") {
        return Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]);
    }
    let name = bare.to_owned();
    let _turn = ctx.shared.dns_lookups.enter().await;
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

/// Connects to the first address of `host:port` that accepts. With an
/// `authority`, addresses are resolved once, each is checked, and only
/// permitted ones are connected to (so a name cannot resolve to a permitted
/// address for the check and another one for the connection); when none is
/// permitted the call is `forbidden`. `None` is for destinations the operator
/// configured (the S3 endpoint, the Redis server).
pub(crate) async fn connect(
    ctx: &Ctx,
    authority: Option<&Authority>,
    uri: &str,
    host: &str,
    port: u16,
    deadline: Deadline,
) -> Result<OwnedFd> {
    let failed = |e: io::Error| {
        if e.kind() == io::ErrorKind::TimedOut {
            Error::Timeout {
                uri: uri.to_owned(),
                limit: deadline.limit,
            }
        } else {
            Error::Connect {
                uri: uri.to_owned(),
                source: e,
            }
        }
    };
    if let Some(authority) = authority {
        authority.check_host(uri, host, port)?;
    }
    let mut addrs = resolve(ctx, host, port).await.map_err(failed)?;
    if let Some(authority) = authority {
        let mut denial = None;
        addrs.retain(|&addr| match authority.check_addr(uri, host, addr) {
            Ok(()) => true,
            Err(e) => {
                denial.get_or_insert(e);
                false
            }
        });
        if let (true, Some(denial)) = (addrs.is_empty(), denial) {
            return Err(denial);
        }
    }
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
    for addr in addrs {
        match ops::connect(&ctx.driver, addr, Some(deadline.at)).await {
            Ok(fd) => return Ok(fd),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Err(failed(e)),
            Err(e) => last = e,
        }
    }
    Err(failed(last))
}
