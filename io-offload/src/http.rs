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

use bytes::Bytes;

use crate::context::{Ctx, Deadline};
use crate::uri::HttpUrl;
use crate::{retry, Authority, Error, Result};

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
}

/// A complete response (body de-chunked).
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Bytes,
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
/// error naming the URL.
pub(crate) async fn send_for_object(
    ctx: &Ctx,
    request: &Request<'_>,
    deadline: Deadline,
) -> Result<Response> {
    let response = retry::retry(
        ctx,
        deadline,
        true,
        || send(ctx, request, deadline),
        |r| r.status >= 500,
    )
    .await?;
    if !response.is_success() {
        return Err(Error::Status {
            uri: request.url.full.clone(),
            status: response.status,
            reason: response.describe(),
        });
    }
    Ok(response)
}
