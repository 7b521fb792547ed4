//! RESP2 encoding of commands and incremental parsing of replies.

use bytes::Bytes;

/// A reply from the server.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Bytes>),
    Array(Option<Vec<Reply>>),
}

/// Why a reply could not be parsed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// A bulk string longer than the size limit.
    TooLarge(u64),
    /// Malformed reply.
    Protocol(String),
}

/// Encodes a command as a RESP array of bulk strings.
pub(crate) fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Parses one reply from the start of `buf`: `Ok(None)` if more bytes are
/// needed, else the reply and the bytes it used.
pub(crate) fn parse(buf: &[u8], limit: u64) -> Result<Option<(Reply, usize)>, ParseError> {
    parse_at(buf, 0, limit, 0)
}

/// Longest status, error or length line accepted: without a bound, a peer that
/// never ends a line would grow the receive buffer until the deadline.
const MAX_LINE: usize = 64 * 1024;

/// The line starting at `pos` and the position after its CRLF; `None` if
/// incomplete.
fn line(buf: &[u8], pos: usize) -> Result<Option<(&[u8], usize)>, ParseError> {
    let Some(rest) = buf.get(pos..) else {
        return Ok(None);
    };
    match rest.windows(2).position(|w| w == b"\r\n") {
        Some(i) if i <= MAX_LINE => Ok(Some((&rest[..i], pos + i + 2))),
        None if rest.len() <= MAX_LINE => Ok(None),
        _ => Err(ParseError::Protocol(format!(
            "reply line longer than {MAX_LINE} bytes"
        ))),
    }
}

fn int(text: &[u8]) -> Result<i64, ParseError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ParseError::Protocol(format!(
                "invalid integer {:?}",
                String::from_utf8_lossy(text)
            ))
        })
}

fn parse_at(
    buf: &[u8],
    pos: usize,
    limit: u64,
    depth: usize,
) -> Result<Option<(Reply, usize)>, ParseError> {
    if depth > 8 {
        return Err(ParseError::Protocol("reply nested too deeply".into()));
    }
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((text, next)) = line(buf, pos + 1)? else {
        return Ok(None);
    };
    let text_string = || String::from_utf8_lossy(text).into_owned();
    match tag {
        b'+' => Ok(Some((Reply::Simple(text_string()), next))),
        b'-' => Ok(Some((Reply::Error(text_string()), next))),
        b':' => Ok(Some((Reply::Int(int(text)?), next))),
        b'$' => {
            let len = int(text)?;
            if len < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            let len = len.unsigned_abs();
            if len > limit {
                return Err(ParseError::TooLarge(len));
            }
            // The length is the peer's: every step is checked.
            let end = usize::try_from(len)
                .ok()
                .and_then(|len| next.checked_add(len))
                .ok_or_else(|| ParseError::Protocol(format!("bulk length {len} overflows")))?;
            let Some(crlf) = end.checked_add(2).and_then(|after| buf.get(end..after)) else {
                return Ok(None);
            };
            if crlf != b"\r\n" {
                return Err(ParseError::Protocol(
                    "bulk string not followed by CRLF".into(),
                ));
            }
            let data = Bytes::copy_from_slice(&buf[next..end]);
            Ok(Some((Reply::Bulk(Some(data)), end + 2)))
        }
        b'*' => {
            let count = int(text)?;
            if count < 0 {
                return Ok(Some((Reply::Array(None), next)));
            }
            // Capacity is not taken on trust: the items must arrive first.
            let mut items = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(1024));
            let mut at = next;
            for _ in 0..count {
                match parse_at(buf, at, limit, depth + 1)? {
                    Some((reply, after)) => {
                        items.push(reply);
                        at = after;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(Some(items)), at)))
        }
        other => Err(ParseError::Protocol(format!(
            "unexpected reply type byte {:?}",
            other as char
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replies_incrementally() {
        let full = b"*3\r\n$3\r\nabc\r\n$-1\r\n:7\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut], 100), Ok(None), "cut at {cut}");
        }
        let (reply, used) = parse(full, 100)
            .ok()
            .flatten()
            .unwrap_or((Reply::Int(0), 0));
        assert_eq!(used, full.len());
        assert_eq!(
            reply,
            Reply::Array(Some(vec![
                Reply::Bulk(Some(Bytes::from_static(b"abc"))),
                Reply::Bulk(None),
                Reply::Int(7),
            ]))
        );
    }

    #[test]
    fn hostile_lengths_are_errors() {
        assert_eq!(parse(b"$9223372036854775807\r\nab\r\n", u64::MAX), Ok(None));
        assert!(parse(&[b'+'; 70_000], 100).is_err());
        assert_eq!(parse(b"*9223372036854775807\r\n:1\r\n", 10), Ok(None));
    }

    #[test]
    fn refuses_oversized_bulk() {
        assert_eq!(parse(b"$1000\r\n", 10), Err(ParseError::TooLarge(1000)));
    }

    #[test]
    fn encodes_commands() {
        assert_eq!(encode(&[b"GET", b"k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }
}
