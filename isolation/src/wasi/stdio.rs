//! fd 0, 1 and 2: stdin reads the `stdin` set's items in (key, name) order;
//! stdout and stderr are captured when the function declares outputs of those
//! names; the last [`TAIL`] bytes of stderr are always kept for failure reports.

use std::collections::VecDeque;

use bytes::Bytes;

use super::errno::Errno;
use super::vfs::Budget;
use crate::Item;

/// How much of stderr is kept for failure reports.
pub(crate) const TAIL: usize = 4096;

/// The stdin stream: the items' data one after the other.
pub(crate) struct Stdin {
    chunks: VecDeque<Bytes>,
}

impl Stdin {
    pub(crate) fn new(items: &[Item]) -> Stdin {
        let mut sorted: Vec<&Item> = items.iter().collect();
        sorted.sort_by(|a, b| (a.key, &a.name).cmp(&(b.key, &b.name)));
        Stdin {
            chunks: sorted.into_iter().map(|i| i.data.clone()).collect(),
        }
    }

    /// Copies up to `buf.len()` bytes into `buf`; 0 at the end.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            let Some(chunk) = self.chunks.front_mut() else {
                break;
            };
            let n = chunk.len().min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&chunk[..n]);
            let _ = chunk.split_to(n);
            if chunk.is_empty() {
                self.chunks.pop_front();
            }
            done += n;
        }
        done
    }
}

/// A captured output stream: kept whole if declared (within the output budget).
pub(crate) struct Capture {
    pub(crate) data: Option<Vec<u8>>,
}

impl Capture {
    pub(crate) fn new(declared: bool) -> Capture {
        Capture {
            data: declared.then(Vec::new),
        }
    }

    pub(crate) fn write(&mut self, bytes: &[u8], budget: &mut Budget) -> Result<(), Errno> {
        if let Some(data) = &mut self.data {
            let old = data.len() as u64;
            budget.resize(old, old + bytes.len() as u64)?;
            data.extend_from_slice(bytes);
        }
        Ok(())
    }
}

/// The last [`TAIL`] bytes written to stderr.
#[derive(Default)]
pub(crate) struct Tail {
    bytes: VecDeque<u8>,
}

impl Tail {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let keep = &bytes[bytes.len().saturating_sub(TAIL)..];
        let overflow = (self.bytes.len() + keep.len()).saturating_sub(TAIL);
        self.bytes.drain(..overflow);
        self.bytes.extend(keep);
    }

    /// The tail as text (invalid UTF-8 replaced), empty if nothing was written.
    pub(crate) fn text(&self) -> String {
        let (a, b) = self.bytes.as_slices();
        let mut all = Vec::with_capacity(a.len() + b.len());
        all.extend_from_slice(a);
        all.extend_from_slice(b);
        String::from_utf8_lossy(&all).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_bytes() {
        let mut tail = Tail::default();
        tail.push(&[b'a'; TAIL]);
        tail.push(b"end");
        let text = tail.text();
        assert_eq!(text.len(), TAIL);
        assert!(text.ends_with("aend"));
        tail.push(&vec![b'z'; 3 * TAIL]);
        assert_eq!(tail.text(), "z".repeat(TAIL));
    }

    #[test]
    fn stdin_reads_items_in_key_then_name_order() {
        let items = [
            Item::new("b", 1, "B"),
            Item::new("a", 2, "A2"),
            Item::new("a", 1, "A1"),
        ];
        let mut stdin = Stdin::new(&items);
        let mut buf = [0u8; 3];
        let n = stdin.read(&mut buf);
        assert_eq!(&buf[..n], b"A1B");
        let n = stdin.read(&mut buf);
        assert_eq!(&buf[..n], b"A2");
        assert_eq!(stdin.read(&mut buf), 0);
    }
}
