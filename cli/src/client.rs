//! The daemon's HTTP API from the command line (`docs/daemon.md`): the
//! `--url`/`--token` flags (or `PAPPUS_URL`/`PAPPUS_TOKEN`) and a small
//! blocking client.
//!
//! The client is `ureq` with its default features off: a maintained, blocking
//! HTTP/1.1 client without TLS or compression, enough for a daemon that speaks
//! plain HTTP (on loopback by default), and it keeps a tokio runtime out of
//! commands that make a few calls each.

use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::Value;
use ureq::http::{Method, Request};

/// Where the daemon is and who we are to it.
#[derive(clap::Args, Clone)]
pub(crate) struct Remote {
    /// The daemon's base URL.
    #[arg(
        long,
        env = "PAPPUS_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    url: String,
    /// Bearer token, when the daemon has a tokens file.
    #[arg(
        long,
        env = "PAPPUS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
}

/// Largest answer read: outputs of an invocation may exceed ureq's 10 MB default.
const MAX_ANSWER_BYTES: u64 = 1 << 30;
/// Deadline of one call: registrations compile and invocations run, so this is
/// generous; a daemon that does not answer at all still ends the command.
const CALL_TIMEOUT: Duration = Duration::from_secs(300);
/// Deadline to connect, so a wrong address fails fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to one daemon.
pub(crate) struct Client {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
}

/// A successful answer.
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub(crate) fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).context("the daemon's answer is not JSON")
    }
}

impl Client {
    pub(crate) fn new(remote: &Remote) -> anyhow::Result<Client> {
        let base = remote.url.trim_end_matches('/').to_string();
        if !base.starts_with("http://") {
            bail!("--url {base:?} must be an http:// URL (the daemon speaks plain HTTP)");
        }
        let agent = ureq::Agent::config_builder()
            // Error answers carry the daemon's message: read them, do not fail early.
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .build()
            .new_agent();
        Ok(Client {
            agent,
            base,
            token: remote.token.clone(),
        })
    }

    /// The base URL, for messages.
    pub(crate) fn url(&self) -> &str {
        &self.base
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.call(Method::GET, path, None, None)
    }

    /// `DELETE path`.
    pub(crate) fn delete(&self, path: &str) -> anyhow::Result<Answer> {
        self.call(Method::DELETE, path, None, None)
    }

    /// `PUT path` with `body`.
    pub(crate) fn put(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> anyhow::Result<Answer> {
        self.call(Method::PUT, path, Some(body), Some(content_type))
    }

    /// `POST path` with `body`.
    pub(crate) fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> anyhow::Result<Answer> {
        self.call(Method::POST, path, Some(body), Some(content_type))
    }

    /// Sends one request; a non-2xx answer is an error carrying the daemon's
    /// kind and message (and its rendered diagnostics, if any).
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> anyhow::Result<Answer> {
        let url = format!("{}{path}", self.base);
        let mut builder = Request::builder().method(method.clone()).uri(&url);
        if let Some(token) = &self.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        let result = match body {
            // `Expect: 100-continue`: the daemon refuses a request it will not
            // take (too large, unauthorised, overloaded) before reading its
            // body; asking first lets us read that answer instead of writing
            // the body into a closed connection ("broken pipe").
            Some(body) => self.agent.run(
                builder
                    .header("expect", "100-continue")
                    .body(body)
                    .with_context(|| format!("invalid request {method} {url}"))?,
            ),
            None => self.agent.run(
                builder
                    .body(())
                    .with_context(|| format!("invalid request {method} {url}"))?,
            ),
        };
        let mut response = result.map_err(|e| self.unanswered(e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .with_context(|| format!("cannot read the daemon's answer to {method} {path}"))?;
        if (200..300).contains(&status) {
            return Ok(Answer { body });
        }
        bail!("{}", describe_error(status, &body))
    }
}

impl Client {
    /// The error for a request that got no answer: a connection the daemon
    /// closed while the body was on its way is told apart from one never made.
    fn unanswered(&self, error: ureq::Error) -> anyhow::Error {
        let closed = matches!(&error, ureq::Error::Io(e) if matches!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        ));
        let context = if closed {
            format!(
                "the daemon at {} closed the connection before answering",
                self.base
            )
        } else {
            format!("cannot reach the daemon at {}", self.base)
        };
        anyhow::Error::new(error).context(context)
    }
}

/// "the daemon answered 413 (payload_too_large): message [limit max_body_bytes
/// = 16777216]", plus rendered diagnostics.
fn describe_error(status: u16, body: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let Some(error) = error else {
        let text = String::from_utf8_lossy(body);
        return format!("the daemon answered {status}: {}", text.trim());
    };
    let kind = error.get("kind").and_then(Value::as_str).unwrap_or("error");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    let mut text = format!("the daemon answered {status} ({kind}): {message}");
    let detail = error.get("detail");
    if let Some(limit) = detail.and_then(|d| d.get("limit")).and_then(Value::as_str) {
        text.push_str(&format!(" [limit {limit}"));
        if let Some(max) = detail.and_then(|d| d.get("max")) {
            text.push_str(&format!(" = {max}"));
        }
        text.push(']');
    }
    if let Some(rendered) = error
        .get("detail")
        .and_then(|d| d.get("rendered"))
        .and_then(Value::as_str)
    {
        text.push('\n');
        text.push_str(rendered.trim_end());
    }
    text
}

/// `name` as a URL path segment: names the daemon accepts are identifiers, so
/// anything else is refused here rather than escaped into another route.
pub(crate) fn segment(name: &str) -> anyhow::Result<&str> {
    let mut bytes = name.bytes();
    let ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        bail!("{name:?} is not a function or composition name (letters, digits, `_`)");
    }
    Ok(name)
}
