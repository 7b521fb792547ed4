//! A bound on open client connections: each accepted connection takes a
//! permit and gives it back when it closes, so at most `max_connections`
//! sockets are held for clients. A connection over the cap is answered at once
//! with `429 overloaded` (`detail.limit: max_connections`) and closed, so a
//! flood of connections neither exhausts file descriptors nor leaves clients
//! waiting without an answer; the connections already open keep being served.
//!
//! A connection must also send a request's head, and take its answer, within
//! `client_timeout` of opening or of its previous answer; an idle, trickling
//! or non-reading one is closed, so that holding every connection open costs a
//! client its connections, not the node its clients. While a request of it is being handled (tracked by the
//! [`track_requests`] middleware) no such deadline runs.
//!
//! Hand-written because axum's `serve` has no connection limit and tower's
//! concurrency limits count requests, not sockets. Accept errors (such as
//! `EMFILE`) are handled by axum's `TcpListener` listener: it logs, waits a
//! second and accepts again, so the loop neither spins nor exits.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::serve::Listener;
use std::future::Future as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::threads::Placed;

/// Connections over the cap being answered at once; beyond it they are
/// closed without an answer (each answer holds a socket for a moment).
const MAX_REFUSING: usize = 64;

/// How long a refused connection is kept open for its request to arrive, so
/// that closing it does not reset the answer away; then it is closed anyway.
const REFUSE_LINGER: Duration = Duration::from_secs(1);

/// The answer to a connection over the cap, in the shape of every error answer.
const REFUSAL: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 138\r\n\
\r\n\
{\"error\":{\"detail\":{\"limit\":\"max_connections\"},\"kind\":\"overloaded\",\"message\":\"too many open connections (max_connections); retry later\"}}\n";

/// A TCP listener that holds at most `max` connections open at once.
pub(crate) struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    refusing: Arc<Semaphore>,
    client_timeout: Duration,
}

impl LimitedListener {
    /// Wraps `inner`, allowing `max` connections (at least 1), each idle for
    /// at most `client_timeout` between requests.
    pub(crate) fn new(inner: TcpListener, max: usize, client_timeout: Duration) -> LimitedListener {
        LimitedListener {
            inner,
            permits: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
            client_timeout,
        }
    }

    /// The next connection under the cap. Connections over it are answered
    /// and closed meanwhile; accept errors are waited out (axum's listener:
    /// a second's pause after errors such as `EMFILE`).
    pub(crate) async fn accept(&mut self) -> Admitted {
        loop {
            let (stream, addr) = Listener::accept(&mut self.inner).await;
            let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
                self.refuse(stream, addr);
                continue;
            };
            match stream.into_std() {
                Ok(stream) => {
                    return Admitted {
                        permit,
                        stream,
                        client_timeout: self.client_timeout,
                    }
                }
                Err(error) => tracing::debug!(%addr, %error, "accepted connection lost"),
            }
        }
    }

    /// Answers a connection over the cap with [`REFUSAL`] and closes it, on a
    /// task of its own so that accepting goes on.
    fn refuse(&self, stream: TcpStream, addr: SocketAddr) {
        tracing::warn!(%addr, "connection refused: max_connections reached");
        let Ok(permit) = Arc::clone(&self.refusing).try_acquire_owned() else {
            return;
        };
        tokio::spawn(async move {
            let _permit = permit;
            if write_all(&stream, REFUSAL).await.is_err() {
                return;
            }
            let mut stream = stream;
            if std::future::poll_fn(|cx| Pin::new(&mut stream).poll_shutdown(cx))
                .await
                .is_err()
            {
                return;
            }
            // Read what the client sent until it closes (or a moment passes):
            // closing with unread data would reset the connection and could
            // discard the answer before the client reads it.
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(REFUSE_LINGER, async {
                loop {
                    if stream.readable().await.is_err() {
                        return;
                    }
                    match stream.try_read(&mut sink) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
            })
            .await;
        });
    }
}

/// Writes all of `bytes` to `stream`.
async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A connection taken under the cap, not yet served: its socket is detached
/// from the accepting runtime so that the thread serving it can register it
/// with its own.
pub(crate) struct Admitted {
    permit: OwnedSemaphorePermit,
    stream: std::net::TcpStream,
    client_timeout: Duration,
}

impl Admitted {
    /// Registers the socket with the current thread's runtime and starts its
    /// first deadline. Must be called inside a runtime.
    ///
    /// # Errors
    /// The socket cannot be registered.
    pub(crate) fn settle(self, placed: Placed) -> io::Result<(Counted, Connection)> {
        let stream = TcpStream::from_std(self.stream)?;
        let requests = Arc::<Requests>::default();
        let counted = Counted {
            held: Some((self.permit, placed)),
            stream,
            idle: Box::pin(tokio::time::sleep(self.client_timeout)),
            client_timeout: self.client_timeout,
            requests: Arc::clone(&requests),
        };
        Ok((counted, Connection(requests)))
    }
}

/// A client connection holding one of the listener's permits and its place on
/// its thread until it shuts down or is dropped. Both go back before the
/// socket is shut down, so a client that saw the connection end can open
/// another at once, and it is placed knowing this one has gone.
pub(crate) struct Counted {
    /// The permit and the place, given back together.
    held: Option<(OwnedSemaphorePermit, Placed)>,
    stream: TcpStream,
    /// When the connection is closed if no request is being handled.
    idle: Pin<Box<tokio::time::Sleep>>,
    client_timeout: Duration,
    requests: Arc<Requests>,
}

/// The requests of one connection being handled, shared with the
/// [`track_requests`] middleware through [`Connection`].
#[derive(Debug, Default)]
pub(crate) struct Requests {
    handling: AtomicUsize,
    /// Set when a request finished: the idle deadline starts again.
    finished: AtomicBool,
}

/// The connection a request came on, as an extension of each of its requests.
#[derive(Clone, Debug)]
pub(crate) struct Connection(Arc<Requests>);

/// Counts the request as being handled on its connection until it has
/// answered, so that its connection's idle deadline does not run meanwhile.
pub(crate) async fn track_requests(request: Request, next: Next) -> Response {
    let Some(Connection(requests)) = request.extensions().get::<Connection>().cloned() else {
        return next.run(request).await;
    };
    requests.handling.fetch_add(1, Ordering::AcqRel);
    let _handling = Handling(requests);
    next.run(request).await
}

/// Ends the handling of one request when dropped (answered or cancelled).
struct Handling(Arc<Requests>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.finished.store(true, Ordering::Release);
        self.0.handling.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Counted {
    /// Whether the client kept the connection waiting (for a request, or to
    /// take an answer) past its deadline. No deadline runs while a request is
    /// being handled; the next one starts when it has answered (or when the
    /// connection opened).
    fn waited_too_long(&mut self, cx: &mut Context<'_>) -> bool {
        if self.requests.handling.load(Ordering::Acquire) > 0 {
            return false;
        }
        if self.requests.finished.swap(false, Ordering::AcqRel) {
            let now = tokio::time::Instant::now();
            // A timeout too large to add is as good as none (a year).
            let deadline = now
                .checked_add(self.client_timeout)
                .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
            self.idle.as_mut().reset(deadline);
        }
        self.idle.as_mut().poll(cx).is_ready()
    }

    /// `poll`'s answer, or a timeout if it is pending past the deadline.
    fn bounded<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending if self.waited_too_long(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client kept the connection waiting longer than client_timeout_ms",
            ))),
            other => other,
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        this.bounded(cx, poll)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.bounded(cx, poll)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_flush(cx);
        this.bounded(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.held.take();
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.bounded(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::REFUSAL;

    #[test]
    fn the_refusal_is_a_complete_overloaded_answer() {
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(REFUSAL) {
            Ok(httparse::Status::Complete(n)) => n,
            other => panic!("incomplete: {other:?}"),
        };
        assert_eq!(response.code, Some(429));
        let length = response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok());
        let body = &REFUSAL[head..];
        assert_eq!(length, Some(body.len()));
        let json: serde_json::Value = serde_json::from_slice(body).expect("JSON body");
        assert_eq!(json["error"]["kind"], "overloaded");
        assert_eq!(json["error"]["detail"]["limit"], "max_connections");
    }
}
