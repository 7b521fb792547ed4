//! Small text tools for the functions that speak HTTP and write pages
//! (`access`, `fan_out`, `render`): `name: value` lines, raw HTTP/1.1 messages
//! (the `http` builtin's raw item form) and a bounded text buffer.

use core::fmt;

use pappus_guest::{alloc_bytes, Error, Inputs, Item};

use crate::input;

/// The `name: value` lines of `text` (a line without `:` is skipped; the value
/// is trimmed of ASCII whitespace).
pub fn fields(text: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    text.split(|&b| b == b'\n').filter_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        Some((trim(&line[..colon]), trim(&line[colon + 1..])))
    })
}

/// The value of the first `name:` line of `text`.
pub fn field<'a>(text: &'a [u8], name: &str) -> Option<&'a [u8]> {
    fields(text)
        .find(|(n, _)| *n == name.as_bytes())
        .map(|(_, v)| v)
}

/// `bytes` without leading and trailing ASCII whitespace.
pub fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// Whether `bytes` may go into a request line or URL path unescaped: visible
/// ASCII only (no spaces, CR or LF, so nothing can be smuggled into the head).
pub fn is_visible_ascii(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// The status code and body of a raw HTTP/1.1 response, as the `http` builtin
/// answers them (`HTTP/1.1 200 OK\r\n...headers...\r\n\r\nbody`).
pub fn response(raw: &[u8]) -> Option<(u16, &[u8])> {
    let line_end = raw.iter().position(|&b| b == b'\r')?;
    let mut parts = raw[..line_end].split(|&b| b == b' ');
    parts.next().filter(|v| v.starts_with(b"HTTP/"))?;
    let code = parts.next().filter(|c| c.len() == 3)?;
    let mut status = 0u16;
    for &d in code {
        if !d.is_ascii_digit() {
            return None;
        }
        status = status * 10 + u16::from(d - b'0');
    }
    let body_at = raw.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    Some((status, &raw[body_at..]))
}

/// A text buffer of fixed capacity in the guest's memory; writing past the end
/// is an error (never a reallocation, never a trap).
pub struct Text {
    buf: &'static mut [u8],
    len: usize,
}

impl Text {
    /// An empty buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Text {
        Text {
            buf: alloc_bytes(capacity),
            len: 0,
        }
    }

    /// Appends `bytes`.
    pub fn push(&mut self, bytes: &[u8]) -> fmt::Result {
        let end = self.len.checked_add(bytes.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Appends `bytes` escaped for HTML text and attribute values (invalid
    /// UTF-8 is passed through byte for byte; the page declares UTF-8).
    pub fn push_html(&mut self, bytes: &[u8]) -> fmt::Result {
        for &b in bytes {
            match b {
                b'&' => self.push(b"&amp;")?,
                b'<' => self.push(b"&lt;")?,
                b'>' => self.push(b"&gt;")?,
                b'"' => self.push(b"&quot;")?,
                b'\'' => self.push(b"&#39;")?,
                _ => self.push(&[b])?,
            }
        }
        Ok(())
    }

    /// What was written.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes())
    }
}

/// Writes a raw `GET` request for `server` (an `http://host:port` base, without
/// a trailing slash) and `path` (starting with `/`) into a new buffer.
pub fn get_request(server: &[u8], path: &[u8]) -> Option<Text> {
    let mut text = Text::with_capacity(server.len() + path.len() + 64);
    text.push(b"GET ").ok()?;
    text.push(server).ok()?;
    text.push(path).ok()?;
    text.push(b" HTTP/1.1\r\nAccept: text/plain\r\n\r\n").ok()?;
    Some(text)
}

/// The first item of input set `name` (or of the set at `index`), or a
/// bad-input error saying `missing`.
pub fn first_item(
    inputs: &Inputs,
    name: &str,
    index: usize,
    missing: &'static str,
) -> Result<Item, Error> {
    input(inputs, name, index)
        .next()
        .ok_or(Error::bad_input(missing))
}

/// The `server:` line of a render-logs request: an `http://` base URL of
/// visible ASCII, without a trailing slash.
pub fn server(request: &[u8]) -> Result<&[u8], Error> {
    let server =
        field(request, "server").ok_or(Error::bad_input("the request has no `server:` line"))?;
    if !server.starts_with(b"http://") || !is_visible_ascii(server) {
        return Err(Error::bad_input("`server:` must be an http:// URL"));
    }
    Ok(server.strip_suffix(b"/").unwrap_or(server))
}
