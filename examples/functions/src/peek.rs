//! `peek (in) => (out)`: reads ranges of any input set's items, static sets
//! included (`docs/dataplane.md`), with no copy of what it does not return.
//!
//! Each item of `in` is a request, as text:
//! - `?` answers one item `sets`: every input set the guest received, in
//!   order, as `NAME:ITEMS` joined by `,` (static sets follow the call's own);
//! - `SET/ITEM:OFFSET:LEN` answers an item of the request's name holding the
//!   LEN bytes at OFFSET of item ITEM of set SET (fewer at its end), or
//!   `missing` when there is no such item.
#![no_std]

use pappus_guest::{alloc_slice, entry, Inputs, Outputs, Result};

fn number(text: &str) -> Option<usize> {
    let mut n: usize = 0;
    if text.is_empty() {
        return None;
    }
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add((b - b'0') as usize)?;
    }
    Some(n)
}

fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// The bytes a request asks for, if it names an item.
fn lookup(inputs: &Inputs, request: &str) -> Option<&'static [u8]> {
    let mut parts = request.rsplitn(3, ':');
    let len = number(parts.next()?)?;
    let offset = number(parts.next()?)?;
    let (set, item) = parts.next()?.split_once('/')?;
    let data = inputs.set(set)?.items().find(|i| i.name == item)?.data;
    let start = offset.min(data.len());
    let end = start.saturating_add(len).min(data.len());
    Some(&data[start..end])
}

fn peek(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("out");
    for request in inputs.items("in") {
        let text = core::str::from_utf8(request.data).unwrap_or("").trim();
        if text == "?" {
            let mut len = 0;
            for s in inputs.sets() {
                len += s.name.len() + 22;
            }
            let listing = alloc_slice(len, 0u8);
            let mut at = 0;
            for (i, s) in inputs.sets().enumerate() {
                if i > 0 {
                    listing[at] = b',';
                    at += 1;
                }
                for &b in s.name.as_bytes().iter().chain(b":") {
                    listing[at] = b;
                    at += 1;
                }
                let mut buf = [0u8; 20];
                for &b in decimal(s.len(), &mut buf) {
                    listing[at] = b;
                    at += 1;
                }
            }
            out.push(set, "sets", request.key, &listing[..at]);
            continue;
        }
        match lookup(inputs, text) {
            Some(bytes) => out.push(set, request.name, request.key, bytes),
            None => out.push(set, request.name, request.key, b"missing"),
        }
    }
    Ok(())
}

entry!(peek);
