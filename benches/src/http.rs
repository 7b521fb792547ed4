//! A small keep-alive HTTP/1.1 client for loopback load generation.
//!
//! One [`Connection`] per load-generating thread, blocking I/O, `TCP_NODELAY`,
//! response framing parsed with `httparse` (Content-Length or chunked). It keeps
//! the client's own cost per request to a few microseconds, which matters when
//! the client and the daemon share two cores.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A failed exchange, by kind (the load generator counts errors by [`HttpError::kind`]).
#[derive(Debug)]
pub enum HttpError {
    /// Connecting failed.
    Connect(std::io::Error),
    /// Reading or writing the socket failed (including timeouts).
    Io(std::io::Error),
    /// The peer closed the connection before a whole response arrived.
    Closed,
    /// The response could not be parsed.
    Malformed(String),
}

impl HttpError {
    /// A short stable name: `connect`, `io`, `timeout`, `closed`, `malformed`.
    pub fn kind(&self) -> &'static str {
        match self {
            HttpError::Connect(_) => "connect",
            HttpError::Io(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                "timeout"
            }
            HttpError::Io(_) => "io",
            HttpError::Closed => "closed",
            HttpError::Malformed(_) => "malformed",
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Connect(e) => write!(f, "connect failed: {e}"),
            HttpError::Io(e) => write!(f, "i/o failed: {e}"),
            HttpError::Closed => write!(f, "connection closed mid-response"),
            HttpError::Malformed(why) => write!(f, "malformed response: {why}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// A response: status, selected headers, body.
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

/// A persistent connection that reconnects when the server closed it.
pub struct Connection {
    addr: SocketAddr,
    timeout: Duration,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Connection {
    /// A connection to `addr` (opened lazily); `timeout` bounds each read and write.
    pub fn new(addr: SocketAddr, timeout: Duration) -> Self {
        Connection {
            addr,
            timeout,
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    fn stream(&mut self) -> Result<&mut TcpStream, HttpError> {
        if self.stream.is_none() {
            let s =
                TcpStream::connect_timeout(&self.addr, self.timeout).map_err(HttpError::Connect)?;
            s.set_nodelay(true).map_err(HttpError::Connect)?;
            s.set_read_timeout(Some(self.timeout))
                .map_err(HttpError::Connect)?;
            s.set_write_timeout(Some(self.timeout))
                .map_err(HttpError::Connect)?;
            self.stream = Some(s);
        }
        match self.stream.as_mut() {
            Some(s) => Ok(s),
            None => Err(HttpError::Closed),
        }
    }

    /// Sends one request and reads its response. On any error the connection is
    /// dropped (the next request reconnects).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Response, HttpError> {
        let result = self.exchange(method, path, content_type, body);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Response, HttpError> {
        let head = request_head(
            method,
            path,
            &self.addr.to_string(),
            content_type,
            body.len(),
        );
        let mut out = Vec::with_capacity(head.len() + body.len());
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(body);
        let stream = self.stream()?;
        stream.write_all(&out).map_err(HttpError::Io)?;
        self.buf.clear();
        let (status, header_len, framing, close) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = parsed.code.unwrap_or(0);
                    let (framing, close) = framing(parsed.headers)?;
                    break (status, len, framing, close);
                }
                Ok(httparse::Status::Partial) => self.fill()?,
                Err(e) => return Err(HttpError::Malformed(e.to_string())),
            }
        };
        let body = match framing {
            Framing::Length(len) => {
                while self.buf.len() < header_len + len {
                    self.fill()?;
                }
                self.buf[header_len..header_len + len].to_vec()
            }
            Framing::Chunked => self.read_chunked(header_len)?,
        };
        if close {
            self.stream = None;
        }
        Ok(Response { status, body })
    }

    fn fill(&mut self) -> Result<(), HttpError> {
        let mut chunk = [0u8; 64 * 1024];
        let stream = match self.stream.as_mut() {
            Some(s) => s,
            None => return Err(HttpError::Closed),
        };
        let n = stream.read(&mut chunk).map_err(HttpError::Io)?;
        if n == 0 {
            return Err(HttpError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    fn read_chunked(&mut self, mut at: usize) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        loop {
            let (size_len, size) = loop {
                match httparse::parse_chunk_size(&self.buf[at..]) {
                    Ok(httparse::Status::Complete((len, size))) => break (len, size as usize),
                    Ok(httparse::Status::Partial) => self.fill()?,
                    Err(_) => return Err(HttpError::Malformed("bad chunk size".into())),
                }
            };
            at += size_len;
            // The chunk's data and its CRLF (for the last chunk: the final CRLF,
            // assuming no trailers, which the daemon does not send).
            while self.buf.len() < at + size + 2 {
                self.fill()?;
            }
            body.extend_from_slice(&self.buf[at..at + size]);
            at += size + 2;
            if size == 0 {
                return Ok(body);
            }
        }
    }
}

enum Framing {
    Length(usize),
    Chunked,
}

fn framing(headers: &[httparse::Header<'_>]) -> Result<(Framing, bool), HttpError> {
    let mut framing = Framing::Length(0);
    let mut close = false;
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            let len = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| HttpError::Malformed("bad content-length".into()))?;
            framing = Framing::Length(len);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding")
            && h.value.eq_ignore_ascii_case(b"chunked")
        {
            framing = Framing::Chunked;
        } else if h.name.eq_ignore_ascii_case("connection")
            && h.value.eq_ignore_ascii_case(b"close")
        {
            close = true;
        }
    }
    Ok((framing, close))
}

/// The request line and headers of a request with a `len`-byte body.
pub fn request_head(
    method: &str,
    path: &str,
    host: &str,
    content_type: Option<&str>,
    len: usize,
) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len}\r\n");
    if let Some(ct) = content_type {
        head.push_str("Content-Type: ");
        head.push_str(ct);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

/// The `error.kind` of a daemon error body (`{"error": {"kind": ...}}`), if any.
pub fn error_kind(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("error")?
        .get("kind")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn head_has_length_and_type() {
        let head = request_head(
            "POST",
            "/v1/x",
            "127.0.0.1:1",
            Some("application/octet-stream"),
            5,
        );
        assert_eq!(
            head,
            "POST /v1/x HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Length: 5\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
    }

    #[test]
    fn error_kind_from_daemon_body() {
        assert_eq!(
            error_kind(br#"{"error":{"kind":"overloaded","message":"m"}}"#).as_deref(),
            Some("overloaded")
        );
        assert_eq!(error_kind(b"not json"), None);
    }

    fn serve_once(responses: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            for r in responses {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                s.write_all(r).expect("write");
            }
        });
        addr
    }

    #[test]
    fn keep_alive_length_then_chunked() {
        let addr = serve_once(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        ]);
        let mut c = Connection::new(addr, Duration::from_secs(5));
        let r = c.request("POST", "/a", None, b"x").expect("first");
        assert_eq!((r.status, &r.body[..]), (200, &b"hello"[..]));
        let r = c.request("GET", "/b", None, b"").expect("second");
        assert_eq!((r.status, &r.body[..]), (429, &b"abcde"[..]));
    }

    #[test]
    fn early_close_is_an_error() {
        let addr = serve_once(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"]);
        let mut c = Connection::new(addr, Duration::from_secs(5));
        let e = c.request("GET", "/", None, b"").expect_err("truncated");
        assert_eq!(e.kind(), "closed");
    }
}
