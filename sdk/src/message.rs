//! Formatted error messages without the `alloc` crate: the text is written into
//! the SDK's arena (see [`alloc_bytes`]), which lives for the whole call, so the
//! result is a `&'static str` like a literal message and [`Error`](crate::Error)
//! stays `Copy`.

use core::fmt::{self, Write};

use crate::alloc_bump::alloc_bytes;

/// Longest message kept, in bytes: the host reads at most this much (`docs/abi.md`).
pub(crate) const MAX_MESSAGE: usize = 4096;

/// Counts the bytes a formatting would write (capped at [`MAX_MESSAGE`]).
struct Count(usize);

impl Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 = self.0.saturating_add(s.len()).min(MAX_MESSAGE);
        Ok(())
    }
}

/// Writes into a fixed buffer, dropping what does not fit (on a character boundary).
pub(crate) struct Fill<'b> {
    pub(crate) buf: &'b mut [u8],
    pub(crate) len: usize,
}

impl Write for Fill<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

impl Fill<'_> {
    /// The text written so far (whole characters only, so always UTF-8).
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

/// `args` formatted into the arena, truncated to [`MAX_MESSAGE`] bytes.
pub(crate) fn format(args: fmt::Arguments<'_>) -> &'static str {
    if let Some(literal) = args.as_str() {
        return literal;
    }
    let mut count = Count(0);
    let _ = count.write_fmt(args);
    let buf = alloc_bytes(count.0);
    let mut fill = Fill {
        buf: &mut *buf,
        len: 0,
    };
    let _ = fill.write_fmt(args);
    let len = fill.len;
    let buf: &'static [u8] = buf;
    let bytes = &buf[..len];
    // `Fill` only copies whole characters of `&str`s, so this is UTF-8.
    core::str::from_utf8(bytes).unwrap_or("")
}
