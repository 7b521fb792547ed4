//! Sans-I/O HTTP/1.1 response framing: the head (with `httparse`), how the body
//! is delimited, and the chunked decoder.
//!
//! Kept free of sockets so the fuzz target and the stable fuzz harness run the
//! very code the client runs. Every length a peer sends is checked: sizes are
//! compared with the limit before any arithmetic, and the arithmetic itself is
//! checked, so a hostile size is a protocol error for that call, never a panic.

/// Most headers in a response.
pub(crate) const MAX_HEADERS: usize = 128;
/// Longest chunk-size line (size, extensions and CRLF) accepted.
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

/// Why a response cannot be framed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// Malformed framing.
    Protocol(String),
    /// The body would exceed the size limit (the size claimed or reached).
    TooLarge(u64),
}

/// A parsed response head.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) version: u8,
    /// Bytes the head used, blank line included.
    pub(crate) len: usize,
}

/// Parses a response head from the start of `buf`; `None` if incomplete.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<Head>, FrameError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => Ok(Some(Head {
            status: resp.code.unwrap_or(0),
            reason: resp.reason.unwrap_or("").to_owned(),
            headers: resp
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
            version: resp.version.unwrap_or(1),
            len,
        })),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(FrameError::Protocol(format!(
            "malformed response head: {e}"
        ))),
    }
}

/// The first header called `name` (case-insensitive).
pub(crate) fn header<'h>(headers: &'h [(String, Vec<u8>)], name: &str) -> Option<&'h [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// True if the comma-separated header value lists `token`.
pub(crate) fn has_token(value: Option<&[u8]>, token: &str) -> bool {
    value
        .map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        })
        .unwrap_or(false)
}

/// How the body of a response is delimited.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (HEAD, 204, 304).
    Empty,
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// `Content-Length`, already checked against the limit.
    Sized(usize),
    /// Until the peer closes the connection.
    ToClose,
}

impl Head {
    /// True if the connection may be reused after this response.
    pub(crate) fn keep_alive(&self) -> bool {
        self.version == 1 && !has_token(header(&self.headers, "connection"), "close")
    }

    /// How this response's body is delimited, with a claimed length checked
    /// against `limit`.
    pub(crate) fn framing(&self, is_head: bool, limit: u64) -> Result<Framing, FrameError> {
        if is_head || self.status == 204 || self.status == 304 {
            return Ok(Framing::Empty);
        }
        if has_token(header(&self.headers, "transfer-encoding"), "chunked") {
            return Ok(Framing::Chunked);
        }
        let Some(value) = header(&self.headers, "content-length") else {
            return Ok(Framing::ToClose);
        };
        let len = std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| FrameError::Protocol("invalid content-length".into()))?;
        if len > limit {
            return Err(FrameError::TooLarge(len));
        }
        let len = usize::try_from(len)
            .map_err(|_| FrameError::Protocol(format!("content-length {len} does not fit")))?;
        Ok(Framing::Sized(len))
    }
}

/// Where a chunked decoder stands after [`Chunked::decode`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ChunkStep {
    /// More bytes are needed; `raw[..consumed]` may be dropped.
    More { consumed: usize },
    /// The body and trailers are complete after `used` bytes of `raw`.
    Done { used: usize },
}

/// Where the decoder is within the chunked framing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Stage {
    /// Expecting a chunk-size line.
    #[default]
    Size,
    /// Inside a chunk's data, with this many bytes of it still to come.
    Data(u64),
    /// After a chunk's data, expecting its CRLF.
    DataEnd,
    /// After the final zero-size chunk: trailers, then an empty line.
    Trailers,
}

/// Incremental decoder of a chunked body that streams: chunk data is handed
/// out as it arrives, so a large chunk never has to be held whole before it
/// is passed on (to memory or to a file).
#[derive(Debug, Default)]
pub(crate) struct Chunked {
    /// Body bytes decoded so far.
    decoded: u64,
    stage: Stage,
}

impl Chunked {
    /// Decodes what it can from `raw` (bytes not yet consumed), appending
    /// chunk data to `out`. Fails when the body would exceed `limit` (checked
    /// on each chunk's declared size, before its data arrives), on bad
    /// framing, and when a size line or the trailers grow past their bounds.
    pub(crate) fn decode(
        &mut self,
        raw: &[u8],
        limit: u64,
        out: &mut Vec<u8>,
    ) -> Result<ChunkStep, FrameError> {
        let mut pos = 0usize;
        loop {
            let rest = &raw[pos..];
            match self.stage {
                Stage::Size => {
                    let (line_len, size) = match httparse::parse_chunk_size(rest) {
                        Ok(httparse::Status::Complete(found)) => found,
                        Ok(httparse::Status::Partial) => {
                            if rest.len() > MAX_CHUNK_LINE {
                                return Err(FrameError::Protocol(
                                    "chunk size line too long".into(),
                                ));
                            }
                            return Ok(ChunkStep::More { consumed: pos });
                        }
                        Err(_) => {
                            return Err(FrameError::Protocol("invalid chunk size line".into()))
                        }
                    };
                    pos += line_len;
                    if size == 0 {
                        self.stage = Stage::Trailers;
                        continue;
                    }
                    // Compare before adding: `size` is whatever the peer wrote (up to u64::MAX).
                    if size > limit.saturating_sub(self.decoded) {
                        return Err(FrameError::TooLarge(self.decoded.saturating_add(size)));
                    }
                    self.stage = Stage::Data(size);
                }
                Stage::Data(left) => {
                    if rest.is_empty() {
                        return Ok(ChunkStep::More { consumed: pos });
                    }
                    let take = usize::try_from(left).map_or(rest.len(), |l| l.min(rest.len()));
                    out.extend_from_slice(&rest[..take]);
                    pos += take;
                    // `take <= left` and the sum stays under `limit`, checked above.
                    self.decoded += take as u64;
                    let left = left - take as u64;
                    self.stage = if left == 0 {
                        Stage::DataEnd
                    } else {
                        Stage::Data(left)
                    };
                }
                Stage::DataEnd => {
                    let Some(end) = rest.get(..2) else {
                        return Ok(ChunkStep::More { consumed: pos });
                    };
                    if end != b"\r\n" {
                        return Err(FrameError::Protocol("chunk not followed by CRLF".into()));
                    }
                    pos += 2;
                    self.stage = Stage::Size;
                }
                Stage::Trailers => {
                    // Zero or more header lines, then an empty line.
                    if rest.starts_with(b"\r\n") {
                        return Ok(ChunkStep::Done { used: pos + 2 });
                    }
                    if let Some(i) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
                        return Ok(ChunkStep::Done { used: pos + i + 4 });
                    }
                    if rest.len() > MAX_CHUNK_LINE * 16 {
                        return Err(FrameError::Protocol("chunked trailers too large".into()));
                    }
                    return Ok(ChunkStep::More { consumed: pos });
                }
            }
        }
    }

    /// Bytes of body decoded so far.
    pub(crate) fn len(&self) -> u64 {
        self.decoded
    }
}

/// What a complete response in one buffer frames to: status, body length, and
/// whether bytes followed it. For the fuzz target and its stable harness; the
/// end of `buf` plays the part of the peer closing the connection.
pub(crate) fn frame_whole(buf: &[u8], limit: u64) -> Result<(u16, usize, bool), FrameError> {
    let mut at = 0usize;
    let head = loop {
        let Some(head) = parse_head(&buf[at..])? else {
            return Err(FrameError::Protocol("incomplete head".into()));
        };
        at += head.len;
        if (100..200).contains(&head.status) && head.status != 101 {
            continue;
        }
        break head;
    };
    let rest = &buf[at..];
    match head.framing(false, limit)? {
        Framing::Empty => Ok((head.status, 0, !rest.is_empty())),
        Framing::Sized(len) => match rest.get(..len) {
            Some(body) => Ok((head.status, body.len(), rest.len() > len)),
            None => Err(FrameError::Protocol("truncated body".into())),
        },
        Framing::ToClose => {
            if rest.len() as u64 > limit {
                return Err(FrameError::TooLarge(rest.len() as u64));
            }
            Ok((head.status, rest.len(), false))
        }
        Framing::Chunked => {
            let mut decoder = Chunked::default();
            let mut body = Vec::new();
            match decoder.decode(rest, limit, &mut body)? {
                ChunkStep::Done { used } => {
                    assert!(decoder.len() <= limit, "body over the limit");
                    assert_eq!(decoder.len(), body.len() as u64, "length and body agree");
                    Ok((head.status, body.len(), used < rest.len()))
                }
                ChunkStep::More { .. } => Err(FrameError::Protocol("truncated chunks".into())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_chunk_sizes_are_errors_not_panics() {
        for size in ["ffffffffffffffff", "fffffffffffffff0", "8000000000000000"] {
            let raw = format!("{size}\r\nxx\r\n0\r\n\r\n");
            // No limit: the size is checked arithmetic, waiting for data or refused.
            let res = Chunked::default().decode(raw.as_bytes(), u64::MAX, &mut Vec::new());
            assert!(
                !matches!(res, Ok(ChunkStep::Done { .. })),
                "{size}: {res:?}"
            );
            let res = Chunked::default().decode(raw.as_bytes(), 1 << 20, &mut Vec::new());
            assert!(
                matches!(res, Err(FrameError::TooLarge(_))),
                "{size}: {res:?}"
            );
        }
    }

    #[test]
    fn chunks_decode_incrementally() {
        let raw = b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n";
        for cut in 0..raw.len() {
            let step = Chunked::default().decode(&raw[..cut], 100, &mut Vec::new());
            assert!(
                matches!(step, Ok(ChunkStep::More { .. })),
                "{cut}: {step:?}"
            );
        }
        let mut body = Vec::new();
        let mut decoder = Chunked::default();
        assert_eq!(
            decoder.decode(raw, 100, &mut body),
            Ok(ChunkStep::Done { used: raw.len() })
        );
        assert_eq!(body, b"abcde");
        // Fed a byte at a time, dropping what it consumed each time, the
        // decoder hands out the same body: data is streamed, never held back.
        let mut decoder = Chunked::default();
        let (mut body, mut pending, mut done) = (Vec::new(), Vec::new(), false);
        for &b in raw.iter() {
            pending.push(b);
            match decoder.decode(&pending, 100, &mut body) {
                Ok(ChunkStep::More { consumed }) => drop(pending.drain(..consumed)),
                Ok(ChunkStep::Done { used }) => {
                    assert_eq!(used, pending.len());
                    done = true;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert!(done);
        assert_eq!(body, b"abcde");
    }
}
