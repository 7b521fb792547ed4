//! The host side of guest ABI v1 (`docs/abi.md`): laying out and writing the input
//! region, and reading back the outputs with every field bounds-checked.
//!
//! Nothing here trusts guest memory: every pointer and length the guest controls
//! goes through [`range`] before it is used.

use std::collections::HashSet;
use std::ops::Range;

use bytes::Bytes;

use crate::static_sets::BakedSet;
use crate::{InputSet, Item, OutputSet};

/// `b"PPUS"` read as a little-endian `u32`.
pub(crate) const MAGIC: u32 = u32::from_le_bytes(*b"PPUS");
/// The ABI version this host speaks.
pub(crate) const VERSION: u32 = 1;
/// Name of the entry export: `(func (param i32) (result i32))`.
pub(crate) const ENTRY: &str = "pappus_entry";
/// Name of the memory export.
pub(crate) const MEMORY: &str = "memory";
/// WebAssembly page size (custom page sizes are refused at compile time).
pub(crate) const PAGE: u64 = 65536;

const HEADER_LEN: u64 = 32;
const SET_DESC_LEN: u64 = 16;
const ITEM_DESC_LEN: u64 = 24;
const OUTPUT_DESC_LEN: u64 = 16;
/// Offset in the header of the slot where the guest stores its output descriptor's address.
const OUTPUT_SLOT: usize = 20;
/// Longest guest error message kept, in bytes.
const MAX_MESSAGE: usize = 4096;
/// What the host holds per output set besides its name: the set itself and its
/// entries in the reader's two tables. Charged against the output limit so
/// that a guest reporting many empty sets cannot make the host allocate more
/// than the limit.
const SET_COST: u64 = (std::mem::size_of::<OutputSet>()
    + std::mem::size_of::<&str>()
    + std::mem::size_of::<Range<usize>>()) as u64;
/// What the host holds per output item besides its name and data.
const ITEM_COST: u64 = std::mem::size_of::<Item>() as u64;

fn align8(n: u64) -> u64 {
    (n + 7) & !7
}

/// Size of the input region for `inputs` and `baked` static sets (only
/// their set descriptors: their items lie in the static block), or `None` if
/// it does not fit in 32 bits.
pub(crate) fn region_len(inputs: &[InputSet<'_>], baked: usize) -> Option<u64> {
    let mut items = 0u64;
    let mut bytes = 0u64;
    for set in inputs {
        items += set.items.len() as u64;
        bytes += align8(set.name.len() as u64);
        for item in set.items {
            bytes += align8(item.name.len() as u64) + align8(item.data.len() as u64);
        }
    }
    let sets = inputs.len() as u64 + baked as u64;
    let total = HEADER_LEN + SET_DESC_LEN * sets + ITEM_DESC_LEN * items + bytes;
    (total <= u64::from(u32::MAX)).then_some(total)
}

fn put_u32(buf: &mut [u8], at: usize, value: u32) {
    buf[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn put_u64(buf: &mut [u8], at: usize, value: u64) {
    buf[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// Writes the input region into `region`, which starts at guest address `base`,
/// is exactly [`region_len`] bytes long and is zeroed (freshly grown memory, or
/// the input area of a fresh instance, which nothing has run in yet).
///
/// The set descriptors of the `baked` static sets follow the inputs' (their
/// items and data are already in the static block).
///
/// Addresses fit in `u32` because the caller checked `base + region.len()`.
pub(crate) fn write_inputs(
    region: &mut [u8],
    base: u32,
    inputs: &[InputSet<'_>],
    baked: &[BakedSet],
) {
    let item_count: usize = inputs.iter().map(|s| s.items.len()).sum();
    let sets_at = HEADER_LEN as usize;
    let set_count = inputs.len() + baked.len();
    let mut item_desc_at = sets_at + SET_DESC_LEN as usize * set_count;
    let mut bytes_at = item_desc_at + ITEM_DESC_LEN as usize * item_count;
    let addr = |offset: usize| base + offset as u32;

    put_u32(region, 0, MAGIC);
    put_u32(region, 4, VERSION);
    put_u32(region, 8, region.len() as u32);
    put_u32(region, 12, set_count as u32);
    put_u32(region, 16, addr(sets_at));

    // Copies `bytes` to the data area and returns its guest address.
    let mut place = |region: &mut [u8], bytes: &[u8]| -> u32 {
        let at = bytes_at;
        region[at..at + bytes.len()].copy_from_slice(bytes);
        bytes_at += align8(bytes.len() as u64) as usize;
        addr(at)
    };

    for (i, set) in inputs.iter().enumerate() {
        let desc = sets_at + i * SET_DESC_LEN as usize;
        let name_ptr = place(region, set.name.as_bytes());
        put_u32(region, desc, name_ptr);
        put_u32(region, desc + 4, set.name.len() as u32);
        put_u32(region, desc + 8, addr(item_desc_at));
        put_u32(region, desc + 12, set.items.len() as u32);
        for item in set.items {
            let name_ptr = place(region, item.name.as_bytes());
            let data_ptr = place(region, &item.data);
            put_u32(region, item_desc_at, name_ptr);
            put_u32(region, item_desc_at + 4, item.name.len() as u32);
            put_u64(region, item_desc_at + 8, item.key);
            put_u32(region, item_desc_at + 16, data_ptr);
            put_u32(region, item_desc_at + 20, item.data.len() as u32);
            item_desc_at += ITEM_DESC_LEN as usize;
        }
    }
    for (i, set) in baked.iter().enumerate() {
        let desc = sets_at + (inputs.len() + i) * SET_DESC_LEN as usize;
        put_u32(region, desc, set.name_ptr);
        put_u32(region, desc + 4, set.name_len);
        put_u32(region, desc + 8, set.items_ptr);
        put_u32(region, desc + 12, set.item_count);
    }
}

/// Why the outputs could not be read.
#[derive(Debug)]
pub(crate) enum OutputError {
    /// Broke the ABI: a pointer out of bounds, a name that is not UTF-8...
    Abi(String),
    /// The entry returned a non-zero status.
    Guest { status: u32, message: String },
    /// Too many output bytes.
    TooLarge { actual: u64 },
}

/// The byte range `[ptr, ptr + len)` if it lies inside a memory of `mem_len` bytes.
pub(crate) fn range(mem_len: usize, ptr: u32, len: u64) -> Option<Range<usize>> {
    let start = u64::from(ptr);
    let end = start.checked_add(len)?;
    (end <= mem_len as u64).then_some(start as usize..end as usize)
}

fn get_u32(mem: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&mem[at..at + 4]);
    u32::from_le_bytes(b)
}

fn get_u64(mem: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&mem[at..at + 8]);
    u64::from_le_bytes(b)
}

fn abi(detail: String) -> OutputError {
    OutputError::Abi(detail)
}

/// A checked view of a descriptor array: `count` records of `size` bytes at `ptr`.
fn table(
    mem: &[u8],
    what: &str,
    ptr: u32,
    count: u32,
    size: u64,
) -> Result<Range<usize>, OutputError> {
    range(mem.len(), ptr, u64::from(count) * size).ok_or_else(|| {
        abi(format!(
            "{what} ({count} descriptors at {ptr:#x}) lies outside linear memory of {} bytes",
            mem.len()
        ))
    })
}

fn name_str<'m>(mem: &'m [u8], what: &str, ptr: u32, len: u32) -> Result<&'m str, OutputError> {
    let r = range(mem.len(), ptr, u64::from(len)).ok_or_else(|| {
        abi(format!(
            "{what} ({len} bytes at {ptr:#x}) lies outside linear memory of {} bytes",
            mem.len()
        ))
    })?;
    std::str::from_utf8(&mem[r]).map_err(|_| abi(format!("{what} is not valid UTF-8")))
}

/// Reads the outputs of a call whose input region starts at `base` and whose entry
/// returned `status`. `mem` is the guest's whole linear memory after the call.
pub(crate) fn read_outputs(
    mem: &[u8],
    base: usize,
    status: u32,
    max_output_bytes: u64,
) -> Result<Vec<OutputSet>, OutputError> {
    // The header lies inside memory: the host placed it and memory never shrinks.
    let out_ptr = get_u32(mem, base + OUTPUT_SLOT);
    if status != 0 {
        return Err(OutputError::Guest {
            status,
            message: guest_message(mem, out_ptr),
        });
    }
    if out_ptr == 0 {
        return Ok(Vec::new());
    }
    let desc = range(mem.len(), out_ptr, OUTPUT_DESC_LEN).ok_or_else(|| {
        abi(format!(
            "output descriptor at {out_ptr:#x} lies outside linear memory of {} bytes",
            mem.len()
        ))
    })?;
    let set_count = get_u32(mem, desc.start);
    let sets_ptr = get_u32(mem, desc.start + 4);
    // Charged before anything is allocated or walked (after the O(1) bounds
    // check of each table): every set, item, name and data byte counts, and
    // the first pass stops as soon as the total passes the limit, which also
    // bounds its time (sets may share one table).
    let mut budget = Budget {
        used: 0,
        limit: max_output_bytes,
    };
    let sets = table(
        mem,
        "the output set table",
        sets_ptr,
        set_count,
        SET_DESC_LEN,
    )?;
    budget.charge(u64::from(set_count).saturating_mul(SET_COST))?;

    // First pass: check every descriptor and measure, before copying anything.
    let mut data_total = 0u64;
    let mut names: Vec<&str> = Vec::with_capacity(set_count as usize);
    for s in 0..set_count as usize {
        let d = sets.start + s * SET_DESC_LEN as usize;
        let name = name_str(
            mem,
            "an output set name",
            get_u32(mem, d),
            get_u32(mem, d + 4),
        )?;
        budget.charge(name.len() as u64)?;
        names.push(name);
        let item_count = get_u32(mem, d + 12);
        let items = table(
            mem,
            "an output item table",
            get_u32(mem, d + 8),
            item_count,
            ITEM_DESC_LEN,
        )?;
        budget.charge(u64::from(item_count).saturating_mul(ITEM_COST))?;
        for it in items.step_by(ITEM_DESC_LEN as usize) {
            let (name_ptr, name_len) = (get_u32(mem, it), get_u32(mem, it + 4));
            let (data_ptr, data_len) = (get_u32(mem, it + 16), get_u32(mem, it + 20));
            if range(mem.len(), name_ptr, u64::from(name_len)).is_none() {
                return Err(abi(format!(
                    "an item name in output set `{name}` ({name_len} bytes at {name_ptr:#x}) lies outside linear memory of {} bytes",
                    mem.len()
                )));
            }
            if range(mem.len(), data_ptr, u64::from(data_len)).is_none() {
                return Err(abi(format!(
                    "an item's data in output set `{name}` ({data_len} bytes at {data_ptr:#x}) lies outside linear memory of {} bytes",
                    mem.len()
                )));
            }
            budget.charge(u64::from(name_len) + u64::from(data_len))?;
            data_total += u64::from(data_len);
        }
    }
    check_unique(&names)?;

    // Second pass: copy. All data goes into one buffer; items share it.
    let mut buf = Vec::with_capacity(data_total as usize);
    let mut shapes = Vec::with_capacity(set_count as usize);
    for s in 0..set_count as usize {
        let d = sets.start + s * SET_DESC_LEN as usize;
        let (items_ptr, item_count) = (get_u32(mem, d + 8), get_u32(mem, d + 12));
        let items = table(
            mem,
            "an output item table",
            items_ptr,
            item_count,
            ITEM_DESC_LEN,
        )?;
        for it in items.clone().step_by(ITEM_DESC_LEN as usize) {
            let (data_ptr, data_len) = (get_u32(mem, it + 16), get_u32(mem, it + 20));
            let r = range(mem.len(), data_ptr, u64::from(data_len))
                .ok_or_else(|| abi("an output item changed during reading".to_owned()))?;
            buf.extend_from_slice(&mem[r]);
        }
        shapes.push(items);
    }
    let buf = Bytes::from(buf);
    let mut offset = 0usize;
    let mut out = Vec::with_capacity(set_count as usize);
    for (name, items) in names.into_iter().zip(shapes) {
        let mut set = OutputSet {
            name: name.to_owned(),
            items: Vec::with_capacity(items.len() / ITEM_DESC_LEN as usize),
        };
        for it in items.step_by(ITEM_DESC_LEN as usize) {
            let item_name = name_str(
                mem,
                "an output item name",
                get_u32(mem, it),
                get_u32(mem, it + 4),
            )?;
            let data_len = get_u32(mem, it + 20) as usize;
            set.items.push(Item {
                name: item_name.to_owned(),
                key: get_u64(mem, it + 8),
                data: buf.slice(offset..offset + data_len),
            });
            offset += data_len;
        }
        out.push(set);
    }
    Ok(out)
}

/// Host bytes charged so far against the output limit.
struct Budget {
    used: u64,
    limit: u64,
}

impl Budget {
    /// Adds `bytes`; fails once the total passes the limit (the error gives the
    /// total reached, a lower bound of what the guest reported).
    fn charge(&mut self, bytes: u64) -> Result<(), OutputError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(OutputError::TooLarge { actual: self.used });
        }
        Ok(())
    }
}

fn check_unique(names: &[&str]) -> Result<(), OutputError> {
    let dup = if names.len() <= 8 {
        names
            .iter()
            .enumerate()
            .find(|&(i, n)| names[..i].contains(n))
            .map(|(_, n)| *n)
    } else {
        let mut seen = HashSet::with_capacity(names.len());
        names.iter().copied().find(|n| !seen.insert(*n))
    };
    match dup {
        Some(name) => Err(abi(format!("output set `{name}` is reported twice"))),
        None => Ok(()),
    }
}

/// The guest's error message, if its output descriptor gives a readable one.
fn guest_message(mem: &[u8], out_ptr: u32) -> String {
    if out_ptr == 0 {
        return String::new();
    }
    let Some(desc) = range(mem.len(), out_ptr, OUTPUT_DESC_LEN) else {
        return "(error message unreadable: output descriptor out of bounds)".to_owned();
    };
    let (ptr, len) = (get_u32(mem, desc.start + 8), get_u32(mem, desc.start + 12));
    let len = (len as usize).min(MAX_MESSAGE);
    match range(mem.len(), ptr, len as u64) {
        Some(r) => String::from_utf8_lossy(&mem[r]).into_owned(),
        None => "(error message unreadable: out of bounds)".to_owned(),
    }
}

/// The message a guest left before trapping (`docs/abi.md`, "Traps"): the
/// error of the output descriptor in the header's slot, if it is non-empty and
/// readable. Bounded like any guest message.
pub(crate) fn trap_message(mem: &[u8], base: usize) -> Option<String> {
    let slot = base.checked_add(OUTPUT_SLOT)?;
    let out_ptr = u32::from_le_bytes(mem.get(slot..slot.checked_add(4)?)?.try_into().ok()?);
    let desc = range(mem.len(), out_ptr, OUTPUT_DESC_LEN).filter(|_| out_ptr != 0)?;
    let (ptr, len) = (get_u32(mem, desc.start + 8), get_u32(mem, desc.start + 12));
    let len = (len as usize).min(MAX_MESSAGE);
    let message = &mem[range(mem.len(), ptr, len as u64).filter(|_| len > 0)?];
    Some(String::from_utf8_lossy(message).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_rejects_overflow_and_out_of_bounds() {
        assert_eq!(range(100, 90, 10), Some(90..100));
        assert_eq!(range(100, 90, 11), None);
        assert_eq!(range(100, u32::MAX, u64::MAX), None);
    }

    #[test]
    fn layout_is_eight_byte_aligned() {
        let items = [Item::new("a", 1, &b"xyz"[..])];
        let sets = [InputSet {
            name: "in",
            items: &items,
        }];
        let len = region_len(&sets, 0).unwrap_or(0);
        assert_eq!(len, 32 + 16 + 24 + 8 + 8 + 8);
        let mut region = vec![0u8; len as usize];
        write_inputs(&mut region, 0x1_0000, &sets, &[]);
        assert_eq!(get_u32(&region, 0), MAGIC);
        assert_eq!(get_u32(&region, 16), 0x1_0000 + 32);
        assert_eq!(get_u64(&region, 48 + 8), 1);
    }
}
