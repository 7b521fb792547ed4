//! The function bundle: a module and its static sets in one request body
//! (`PUT /v1/functions/{name}` with `Content-Type:
//! application/vnd.pappus.function`, `docs/daemon.md`).
//!
//! Integers are little-endian:
//!
//! ```text
//! "PPFN"  u32 version = 1
//! u64 module_len, module bytes
//! u32 set_count, then per set:
//!     u32 name_len, name (UTF-8), u32 item_count, then per item:
//!         u32 name_len, name (UTF-8), u64 key, u64 data_len, data
//! ```
//!
//! Nothing may follow the last item. Decoding slices the body: no item's
//! bytes are copied.

use pappus_engine::{Bytes, Item, StaticSet};

/// The bundle's media type.
pub const CONTENT_TYPE: &str = "application/vnd.pappus.function";

const MAGIC: &[u8; 4] = b"PPFN";
const VERSION: u32 = 1;

/// Encodes `module` and `statics` as a bundle.
pub fn encode(module: &[u8], statics: &[StaticSet]) -> Vec<u8> {
    let data: usize = statics
        .iter()
        .flat_map(|s| &s.items)
        .map(|i| i.data.len() + i.name.len() + 20)
        .sum();
    let mut out = Vec::with_capacity(module.len() + data + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(module.len() as u64).to_le_bytes());
    out.extend_from_slice(module);
    out.extend_from_slice(&(statics.len() as u32).to_le_bytes());
    for set in statics {
        out.extend_from_slice(&(set.name.len() as u32).to_le_bytes());
        out.extend_from_slice(set.name.as_bytes());
        out.extend_from_slice(&(set.items.len() as u32).to_le_bytes());
        for item in &set.items {
            out.extend_from_slice(&(item.name.len() as u32).to_le_bytes());
            out.extend_from_slice(item.name.as_bytes());
            out.extend_from_slice(&item.key.to_le_bytes());
            out.extend_from_slice(&(item.data.len() as u64).to_le_bytes());
            out.extend_from_slice(&item.data);
        }
    }
    out
}

/// A reader over the body that never reads past its end.
struct Reader {
    body: Bytes,
    at: usize,
}

impl Reader {
    fn take(&mut self, len: u64, what: &str) -> Result<Bytes, String> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.at.checked_add(len))
            .filter(|&end| end <= self.body.len())
            .ok_or_else(|| format!("the bundle ends inside {what}"))?;
        let taken = self.body.slice(self.at..end);
        self.at = end;
        Ok(taken)
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_le_bytes(a))
    }

    fn name(&mut self, what: &str) -> Result<String, String> {
        let len = self.u32(what)?;
        let bytes = self.take(u64::from(len), what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
    }

    fn left(&self) -> usize {
        self.body.len() - self.at
    }
}

/// Decodes a bundle into its module and static sets.
///
/// # Errors
/// A sentence naming what is wrong: the magic or version, a length running
/// past the end, a name that is not UTF-8, bytes after the last item.
pub fn decode(body: Bytes) -> Result<(Bytes, Vec<StaticSet>), String> {
    let mut r = Reader { body, at: 0 };
    if &r.take(4, "the magic")?[..] != MAGIC {
        return Err("the body is not a function bundle (it does not start with PPFN)".into());
    }
    let version = r.u32("the version")?;
    if version != VERSION {
        return Err(format!(
            "bundle version {version} is not supported (only {VERSION})"
        ));
    }
    let module_len = r.u64("the module length")?;
    let module = r.take(module_len, "the module")?;
    let set_count = r.u32("the set count")?;
    // Each set takes at least 8 bytes: never reserve more than the body holds.
    let mut statics = Vec::with_capacity((set_count as usize).min(r.left() / 8));
    for _ in 0..set_count {
        let name = r.name("a static set name")?;
        let item_count = r.u32("an item count")?;
        let mut items = Vec::with_capacity((item_count as usize).min(r.left() / 20));
        for _ in 0..item_count {
            let item_name = r.name("an item name")?;
            let key = r.u64("an item key")?;
            let len = r.u64("an item length")?;
            let data = r.take(len, "an item's data")?;
            items.push(Item {
                name: item_name,
                key,
                data,
            });
        }
        statics.push(StaticSet { name, items });
    }
    if r.left() != 0 {
        return Err(format!("{} bytes follow the bundle's last item", r.left()));
    }
    Ok((module, statics))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_truncation() {
        let statics = vec![StaticSet {
            name: "model".into(),
            items: vec![Item::new("a/b.txt", 3, "hello"), Item::new("c", 0, "")],
        }];
        let encoded = encode(b"\0asm", &statics);
        let (module, decoded) = decode(Bytes::from(encoded.clone())).expect("decodes");
        assert_eq!(&module[..], b"\0asm");
        assert_eq!(decoded, statics);
        for cut in 0..encoded.len() {
            assert!(
                decode(Bytes::copy_from_slice(&encoded[..cut])).is_err(),
                "{cut}"
            );
        }
        let mut long = encoded;
        long.push(0);
        assert!(decode(Bytes::from(long)).is_err());
    }
}
