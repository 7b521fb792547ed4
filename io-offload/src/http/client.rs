//! Sending a request on a pooled or fresh connection.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use bytes::Bytes;

use super::response::{read_response, ReadError};
use super::{Request, Response};
use crate::context::{Ctx, Deadline, Idle};
use crate::ring::sys;
use crate::{net, ops, Authority, Result};

/// Most idle connections kept per `host:port` on one I/O thread.
const MAX_IDLE_PER_HOST: usize = 16;
/// Most idle connections kept on one I/O thread, over all hosts.
const MAX_IDLE: usize = 256;

/// Idle connections older than this are closed rather than reused (servers
/// close idle keep-alive connections after a while; nginx after 75 s).
const MAX_IDLE_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Sends `req` once (no retries beyond replacing a dead keep-alive
/// connection) and reads the whole response.
pub(crate) async fn send(ctx: &Ctx, req: &Request<'_>, deadline: Deadline) -> Result<Response> {
    let uri = &req.url.full;
    let head = Bytes::from(build_head(req));
    let is_head = req.method == "HEAD";
    // Connections are pooled per authority: one made for a destination one
    // principal may reach is never handed to another.
    let pool_key = format!(
        "{}/{}",
        req.authority.map_or(0, Authority::id),
        req.url.authority
    );
    let _open = ctx.shared.open_files.enter().await;
    loop {
        let (fd, reused) = match checkout(ctx, &pool_key) {
            Some(fd) => (fd, true),
            None => {
                let fd = net::connect(
                    ctx,
                    req.authority,
                    uri,
                    &req.url.host,
                    req.url.port,
                    deadline,
                )
                .await?;
                (fd, false)
            }
        };
        match exchange(ctx, &fd, head.clone(), req, is_head, deadline.at).await {
            Ok((response, reusable)) => {
                ctx.shared.counters.add_stored(req.body.len());
                ctx.shared.counters.add_fetched(response.body.len());
                if reusable {
                    checkin(ctx, &pool_key, fd);
                }
                return Ok(response);
            }
            // A kept-alive connection the server closed meanwhile: nothing of
            // the response arrived, so the request is sent again on a new one.
            Err(e) if reused && e.before_response() => {
                ctx.shared.counters.add_retry();
                continue;
            }
            Err(e) => return Err(e.into_error(uri, req.limit, deadline)),
        }
    }
}

async fn exchange(
    ctx: &Ctx,
    fd: &OwnedFd,
    head: Bytes,
    req: &Request<'_>,
    is_head: bool,
    deadline: Instant,
) -> std::result::Result<(Response, bool), ReadError> {
    let raw = fd.as_raw_fd();
    ops::send(&ctx.driver, raw, head, Some(deadline))
        .await
        .map_err(ReadError::Send)?;
    if !req.body.is_empty() {
        ops::send(&ctx.driver, raw, req.body.clone(), Some(deadline))
            .await
            .map_err(ReadError::Send)?;
    }
    read_response(ctx, raw, is_head, deadline, req.limit, req.plan).await
}

fn build_head(req: &Request<'_>) -> Vec<u8> {
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.url.target);
    let mut has_host = false;
    let mut has_agent = false;
    for (name, value) in req.headers {
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("connection")
        {
            continue;
        }
        has_host |= name.eq_ignore_ascii_case("host");
        has_agent |= name.eq_ignore_ascii_case("user-agent");
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    if !has_host {
        head.push_str(&format!("Host: {}\r\n", req.url.authority));
    }
    if !has_agent {
        head.push_str(concat!(
            "User-Agent: pappus-io/",
            env!("CARGO_PKG_VERSION"),
            "\r\n"
        ));
    }
    if !req.body.is_empty() || matches!(req.method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn checkout(ctx: &Ctx, authority: &str) -> Option<OwnedFd> {
    let mut pool = ctx.http_pool.borrow_mut();
    let idle = pool.get_mut(authority)?;
    while let Some(conn) = idle.pop() {
        if conn.since.elapsed() < MAX_IDLE_TIME && sys::socket_is_idle(conn.fd.as_raw_fd()) {
            return Some(conn.fd);
        }
    }
    None
}

fn checkin(ctx: &Ctx, authority: &str, fd: OwnedFd) {
    let mut pool = ctx.http_pool.borrow_mut();
    pool.retain(|_, idle| !idle.is_empty());
    let total: usize = pool.values().map(Vec::len).sum();
    let idle = pool.entry(authority.to_owned()).or_default();
    if idle.len() < MAX_IDLE_PER_HOST && total < MAX_IDLE {
        idle.push(Idle {
            fd,
            since: Instant::now(),
        });
    }
}
