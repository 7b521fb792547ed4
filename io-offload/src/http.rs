//! A small HTTP/1.1 client over io_uring sockets.
//!
//! Framing uses `httparse` (response heads and chunk sizes); bodies are framed
//! by `Content-Length`, `Transfer-Encoding: chunked` or connection close.
//! Connections are kept alive and reused per `host:port` on each I/O thread.
//! Plain `http://` only: TLS is out of scope.

mod client;
pub(crate) mod framing;
pub(crate) mod message;
mod response;

pub(crate) use client::send;

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

use crate::body::SpillDir;
use crate::budget::MemoryBudget;
use crate::context::{Ctx, Deadline};
use crate::uri::HttpUrl;
use crate::{retry, Authority, Error, Result};

/// How [`Error::TooLarge`] names [`RingConfig::max_object_bytes`](crate::RingConfig::max_object_bytes).
pub(crate) const OBJECT_LIMIT: &str = "the i/o object size limit";

/// The most bytes one body may have, and how the error names that limit.
#[derive(Clone, Debug)]
pub(crate) struct Limit {
    pub(crate) bytes: u64,
    pub(crate) name: Arc<str>,
}

impl Limit {
    /// The runtime's object size limit.
    pub(crate) fn object(ctx: &Ctx) -> Limit {
        Limit {
            bytes: ctx.config().max_object_bytes,
            name: Arc::from(OBJECT_LIMIT),
        }
    }

    pub(crate) fn too_large(&self, uri: &str, actual: u64) -> Error {
        Error::TooLarge {
            uri: uri.to_owned(),
            limit_bytes: self.bytes,
            limit_name: self.name.to_string(),
            actual_bytes: actual,
        }
    }
}

/// Where a response body goes.
#[derive(Clone, Debug)]
pub(crate) enum BodyPlan {
    /// In memory, bounded by the size limit only (`http` responses, `store` answers).
    Memory,
    /// A fetched object: in memory within `budgets`, else spilled to a file;
    /// or, for an answer the cache may keep, into a new file in the cache.
    Fetch {
        budgets: Vec<Arc<MemoryBudget>>,
        spill: Arc<SpillDir>,
        cache: Option<CacheDest>,
    },
}

/// Where a cacheable answer's body is written.
#[derive(Clone, Debug)]
pub(crate) struct CacheDest {
    /// The tenant's cache directory.
    pub(crate) dir: PathBuf,
    /// Largest body the cache may keep; larger ones are not cached.
    pub(crate) max_bytes: u64,
}

/// One request to send.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a HttpUrl,
    /// Extra headers; `Host`, `Content-Length`, `Transfer-Encoding` and
    /// `Connection` are set by the client.
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: Bytes,
    /// Whose authority the destination is checked against; `None` for a
    /// destination the operator configured (an S3 endpoint).
    pub(crate) authority: Option<&'a Authority>,
    /// The largest body accepted.
    pub(crate) limit: &'a Limit,
    /// Where the body goes.
    pub(crate) plan: &'a BodyPlan,
}

/// A complete response (body de-chunked).
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Bytes,
    /// For a body written into the cache ([`BodyPlan::Fetch`] with a
    /// [`CacheDest`]): the new file's name and descriptor.
    pub(crate) cache_file: Option<(PathBuf, OwnedFd)>,
}

impl Response {
    /// The first header called `name` (case-insensitive), if it is UTF-8.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// True for 2xx statuses.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A short description for error messages: reason phrase and the start
    /// of the body.
    pub(crate) fn describe(&self) -> String {
        let excerpt: String = String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if excerpt.is_empty() {
            self.reason.clone()
        } else {
            format!("{}: {excerpt}", self.reason)
        }
    }
}

/// Methods that are safe to repeat: retried on connection errors and 5xx.
pub(crate) fn is_idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "PUT")
}

/// Sends an idempotent `request` for a whole object (`fetch` and `store`):
/// retried on connection errors and 5xx; a final non-2xx answer is a `status`
/// error naming the URL, except a `304 Not Modified` to a `conditional` one.
pub(crate) async fn send_for_object(
    ctx: &Ctx,
    request: &Request<'_>,
    deadline: Deadline,
    conditional: bool,
) -> Result<Response> {
    let response = retry::retry(
        ctx,
        deadline,
        true,
        || send(ctx, request, deadline),
        |r| r.status >= 500,
    )
    .await?;
    let not_modified = conditional && response.status == 304;
    if !(response.is_success() || not_modified) {
        return Err(Error::Status {
            uri: request.url.full.clone(),
            status: response.status,
            reason: response.describe(),
        });
    }
    Ok(response)
}
