//! Redis for `kv_get` and `kv_put`: RESP2 over io_uring sockets, with idle
//! connections kept per I/O thread.

mod resp;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use bytes::Bytes;

use crate::context::{Ctx, Deadline, Idle};
use crate::redis_target::RedisTarget;
use crate::ring::sys;
use crate::{net, ops, Error, Result};
use resp::{ParseError, Reply};

/// Parses one reply for the fuzzing entry point: the bytes it used, `None` if
/// incomplete, or the error.
pub(crate) fn parse_reply(buf: &[u8], limit: u64) -> std::result::Result<Option<usize>, String> {
    match resp::parse(buf, limit) {
        Ok(Some((_, used))) => {
            assert!(used <= buf.len(), "a reply used more bytes than it had");
            Ok(Some(used))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(format!("{e:?}")),
    }
}

/// Keys per `MGET` / pairs per `MSET` command.
const BATCH: usize = 512;
/// Most idle connections kept per I/O thread.
const MAX_IDLE: usize = 16;

fn target(ctx: &Ctx) -> Result<&RedisTarget> {
    ctx.shared.redis.as_ref().ok_or(Error::NotConfigured {
        uri: "redis".into(),
        what: "redis (RingConfig::redis)",
    })
}

/// The server's URL for messages (or `"redis"` when none is configured).
pub(crate) fn uri(ctx: &Ctx) -> String {
    target(ctx)
        .map(|t| t.uri.clone())
        .unwrap_or_else(|_| "redis".into())
}

/// `MGET` of every key, in order; `None` for missing keys.
pub(crate) async fn get(
    ctx: &Ctx,
    keys: &[Bytes],
    deadline: Deadline,
) -> Result<Vec<Option<Bytes>>> {
    let target = target(ctx)?;
    let mut values = Vec::with_capacity(keys.len());
    for batch in keys.chunks(BATCH) {
        let mut args: Vec<&[u8]> = vec![b"MGET"];
        args.extend(batch.iter().map(|k| k.as_ref()));
        let reply = command(ctx, target, &args, deadline).await?;
        let Reply::Array(Some(items)) = reply else {
            return Err(protocol(target, format!("MGET answered {reply:?}")));
        };
        if items.len() != batch.len() {
            return Err(protocol(
                target,
                "MGET answered the wrong number of values".into(),
            ));
        }
        for (item, key) in items.into_iter().zip(batch) {
            match item {
                Reply::Bulk(value) => {
                    if let Some(v) = &value {
                        ctx.shared.counters.add_fetched(v.len());
                    }
                    values.push(value);
                }
                Reply::Error(message) => return Err(refused(target, "GET", key, message)),
                other => return Err(protocol(target, format!("MGET value {other:?}"))),
            }
        }
    }
    Ok(values)
}

/// `MSET` of every pair.
pub(crate) async fn put(ctx: &Ctx, pairs: &[(Bytes, Bytes)], deadline: Deadline) -> Result<()> {
    let target = target(ctx)?;
    let limit = ctx.config().max_object_bytes;
    if let Some((key, value)) = pairs.iter().find(|(_, v)| v.len() as u64 > limit) {
        return Err(Error::TooLarge {
            uri: format!("{}#{}", target.uri, String::from_utf8_lossy(key)),
            limit_bytes: limit,
            limit_name: crate::http::OBJECT_LIMIT.into(),
            actual_bytes: value.len() as u64,
        });
    }
    for batch in pairs.chunks(BATCH) {
        let mut args: Vec<&[u8]> = vec![b"MSET"];
        for (k, v) in batch {
            args.push(k);
            args.push(v);
        }
        match command(ctx, target, &args, deadline).await? {
            Reply::Simple(_) => {}
            Reply::Error(message) => {
                let key = batch.first().map(|(k, _)| k.clone()).unwrap_or_default();
                return Err(refused(target, "SET", &key, message));
            }
            other => return Err(protocol(target, format!("MSET answered {other:?}"))),
        }
        ctx.shared
            .counters
            .add_stored(batch.iter().map(|(_, v)| v.len()).sum());
    }
    Ok(())
}

fn protocol(target: &RedisTarget, reason: String) -> Error {
    Error::Protocol {
        uri: target.uri.clone(),
        reason,
    }
}

fn refused(target: &RedisTarget, command: &'static str, key: &[u8], message: String) -> Error {
    Error::Redis {
        uri: target.uri.clone(),
        command,
        key: String::from_utf8_lossy(key).into_owned(),
        message,
    }
}

fn io_error(
    target: &RedisTarget,
    op: &'static str,
    source: io::Error,
    deadline: Deadline,
) -> Error {
    if source.kind() == io::ErrorKind::TimedOut {
        Error::Timeout {
            uri: target.uri.clone(),
            limit: deadline.limit,
        }
    } else {
        Error::Io {
            uri: target.uri.clone(),
            op,
            source,
        }
    }
}

/// Sends one command and reads its reply, on a pooled or new connection. A
/// pooled connection that fails before answering is replaced once.
async fn command(
    ctx: &Ctx,
    target: &RedisTarget,
    args: &[&[u8]],
    deadline: Deadline,
) -> Result<Reply> {
    let request = Bytes::from(resp::encode(args));
    let _open = ctx.shared.open_files.enter().await;
    loop {
        let pooled = checkout(ctx);
        let reused = pooled.is_some();
        let fd = match pooled {
            Some(fd) => fd,
            None => open(ctx, target, deadline).await?,
        };
        match exchange(ctx, target, &fd, request.clone(), deadline).await {
            Ok(reply) => {
                checkin(ctx, fd);
                return Ok(reply);
            }
            Err(Error::Io { .. }) if reused => {
                ctx.shared.counters.add_retry();
                continue;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn open(ctx: &Ctx, target: &RedisTarget, deadline: Deadline) -> Result<OwnedFd> {
    // The operator's server: not subject to the caller's http rules.
    let fd = net::connect(ctx, None, &target.uri, &target.host, target.port, deadline).await?;
    if let Some(password) = &target.password {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(user) = &target.username {
            args.push(user.as_bytes());
        }
        args.push(password.as_bytes());
        expect_ok(ctx, target, &fd, &args, "AUTH", deadline).await?;
    }
    if let Some(db) = target.db {
        let db = db.to_string();
        expect_ok(
            ctx,
            target,
            &fd,
            &[b"SELECT", db.as_bytes()],
            "SELECT",
            deadline,
        )
        .await?;
    }
    Ok(fd)
}

async fn expect_ok(
    ctx: &Ctx,
    target: &RedisTarget,
    fd: &OwnedFd,
    args: &[&[u8]],
    command: &'static str,
    deadline: Deadline,
) -> Result<()> {
    match exchange(ctx, target, fd, Bytes::from(resp::encode(args)), deadline).await? {
        Reply::Simple(_) => Ok(()),
        Reply::Error(message) => Err(refused(target, command, b"", message)),
        other => Err(protocol(target, format!("{command} answered {other:?}"))),
    }
}

async fn exchange(
    ctx: &Ctx,
    target: &RedisTarget,
    fd: &OwnedFd,
    request: Bytes,
    deadline: Deadline,
) -> Result<Reply> {
    let raw = fd.as_raw_fd();
    ops::send(&ctx.driver, raw, request, Some(deadline.at))
        .await
        .map_err(|e| io_error(target, "sending a command", e, deadline))?;
    let limit = ctx.config().max_object_bytes;
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        match resp::parse(&buf, limit) {
            Ok(Some((reply, _))) => return Ok(reply),
            Ok(None) => {}
            Err(ParseError::TooLarge(n)) => {
                return Err(Error::TooLarge {
                    uri: target.uri.clone(),
                    limit_bytes: limit,
                    limit_name: crate::http::OBJECT_LIMIT.into(),
                    actual_bytes: n,
                })
            }
            Err(ParseError::Protocol(reason)) => return Err(protocol(target, reason)),
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(buf.capacity().max(16 * 1024));
        }
        let (res, next) = ops::recv(&ctx.driver, raw, buf, Some(deadline.at)).await;
        buf = next;
        match res {
            Ok(0) => {
                return Err(io_error(
                    target,
                    "reading a reply",
                    io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"),
                    deadline,
                ))
            }
            Ok(_) => {}
            Err(e) => return Err(io_error(target, "reading a reply", e, deadline)),
        }
    }
}

fn checkout(ctx: &Ctx) -> Option<OwnedFd> {
    let mut pool = ctx.redis_pool.borrow_mut();
    while let Some(conn) = pool.pop() {
        if sys::socket_is_idle(conn.fd.as_raw_fd()) {
            return Some(conn.fd);
        }
    }
    None
}

fn checkin(ctx: &Ctx, fd: OwnedFd) {
    let mut pool = ctx.redis_pool.borrow_mut();
    if pool.len() < MAX_IDLE {
        pool.push(Idle {
            fd,
            since: Instant::now(),
        });
    }
}
