//! Static sets: read-only items registered with a function once and seen by
//! every call of it (`docs/dataplane.md`), without a per-call copy.
//!
//! - A WASI program sees each static set as a read-only directory `/<SET>/`,
//!   laid out exactly like an input set; its files share the set's [`Bytes`]
//!   (one host copy for every call), so a read copies only what it reads.
//! - An ABI v1 guest receives each static set as an extra input set after the
//!   call's own. The items are **baked** into a variant of the module when it
//!   is compiled ([`bake`]): data segments placed in a static block just above
//!   the module's declared initial memory, which the module's declared minimum
//!   is raised to cover. wasmtime builds the initial memory image of such a
//!   module once and maps it copy-on-write into every instance, so a call pays
//!   for the pages it touches, not for the set's size. At the call the host
//!   writes only the call's inputs and one set descriptor per static set,
//!   pointing at item descriptors inside the static block.

use std::fmt;

use wasmparser::{DataKind, Encoding, Operator, Parser, Payload};

use crate::abi::PAGE;
use crate::Item;

/// A named set of read-only items registered with a function
/// ([`Runtime::compile_static`](crate::Runtime::compile_static)).
///
/// Cloning copies no item data (items hold reference-counted [`Bytes`](crate::Bytes)).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticSet {
    /// The set's name: the directory `/<name>/` of a WASI program, the input
    /// set name an ABI v1 guest sees.
    pub name: String,
    /// Its items, in the order an ABI v1 guest sees them.
    pub items: Vec<Item>,
}

impl fmt::Debug for StaticSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes: u64 = self.items.iter().map(|i| i.data.len() as u64).sum();
        f.debug_struct("StaticSet")
            .field("name", &self.name)
            .field("items", &self.items.len())
            .field("bytes", &bytes)
            .finish()
    }
}

/// The SHA-256 of `statics`: every set's name and, in order, every item's
/// name, key and bytes, each length-prefixed so that no two different lists
/// of sets hash alike. A function without static sets has the digest of the
/// empty list.
pub(crate) fn digest(statics: &[StaticSet]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let len = |hash: &mut Sha256, n: usize| hash.update((n as u64).to_le_bytes());
    len(&mut hash, statics.len());
    for set in statics {
        len(&mut hash, set.name.len());
        hash.update(set.name.as_bytes());
        len(&mut hash, set.items.len());
        for item in &set.items {
            len(&mut hash, item.name.len());
            hash.update(item.name.as_bytes());
            hash.update(item.key.to_le_bytes());
            len(&mut hash, item.data.len());
            hash.update(&item.data);
        }
    }
    hash.finalize().into()
}

/// One baked static set: the fields of its set descriptor (`docs/abi.md`),
/// which point into the static block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BakedSet {
    pub(crate) name_ptr: u32,
    pub(crate) name_len: u32,
    pub(crate) items_ptr: u32,
    pub(crate) item_count: u32,
}

/// A module with its static sets baked in.
pub(crate) struct Baked {
    pub(crate) bytes: Vec<u8>,
    pub(crate) sets: Vec<BakedSet>,
}

/// Items at least this large get their own data segment, starting on a host
/// page, so that the memory image maps them whole; smaller ones are packed
/// into the block's first segment with the descriptors and names.
const OWN_SEGMENT: u64 = 4096;
/// Most data segments a baked module may have (wasmparser's bound).
const MAX_SEGMENTS: usize = 100_000;
const ITEM_DESC_LEN: u64 = 24;

fn align(n: u64, to: u64) -> u64 {
    n.div_ceil(to) * to
}

/// The module's memory and what the rewrite needs to know of its sections.
struct Layout {
    memory: wasmparser::MemoryType,
    /// The data section: its payload range (after the section header) and count.
    data: Option<(std::ops::Range<usize>, u32)>,
    /// Index (among sections) of the last non-custom section.
    last_known: usize,
}

fn layout(module: &[u8]) -> Result<Layout, String> {
    let mut memory = None;
    let mut data = None;
    let mut last_known = 0;
    let mut index = 0;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| format!("{e:#}"))?;
        if let Payload::Version { encoding, .. } = &payload {
            if *encoding != Encoding::Module {
                return Err("is not a core module".into());
            }
        }
        let Some((id, _)) = payload.as_section() else {
            continue;
        };
        if id != 0 {
            last_known = index;
        }
        index += 1;
        match payload {
            Payload::ImportSection(imports) if imports.count() > 0 => {
                return Err("imports something".into())
            }
            Payload::MemorySection(memories) => {
                let mut memories = memories.into_iter();
                let (Some(Ok(only)), None) = (memories.next(), memories.next()) else {
                    return Err("must define exactly one memory".into());
                };
                memory = Some(only);
            }
            Payload::DataSection(reader) => {
                let count = reader.count();
                let range = reader.range();
                for segment in reader {
                    let segment = segment.map_err(|e| format!("{e:#}"))?;
                    if let DataKind::Active {
                        memory_index,
                        offset_expr,
                    } = segment.kind
                    {
                        let offset = constant_offset(&offset_expr).filter(|_| memory_index == 0);
                        let Some(offset) = offset else {
                            return Err(
                                "has a data segment whose place is not a constant `i32.const` offset"
                                    .into(),
                            );
                        };
                        let end = offset + segment.data.len() as u64;
                        if memory.is_some_and(|m: wasmparser::MemoryType| {
                            end > m.initial.saturating_mul(PAGE)
                        }) {
                            return Err(
                                "has a data segment beyond its declared initial memory".into()
                            );
                        }
                    }
                }
                data = Some((range, count));
            }
            _ => {}
        }
    }
    let memory = memory.ok_or("defines no memory")?;
    if memory.memory64 || memory.shared || memory.page_size_log2.is_some_and(|l| 1u64 << l != PAGE)
    {
        return Err("`memory` must be a 32-bit, unshared memory with 64 KiB pages".into());
    }
    Ok(Layout {
        memory,
        data,
        last_known,
    })
}

fn constant_offset(expr: &wasmparser::ConstExpr<'_>) -> Option<u64> {
    let mut ops = expr.get_operators_reader();
    let Ok(Operator::I32Const { value }) = ops.read() else {
        return None;
    };
    let Ok(Operator::End) = ops.read() else {
        return None;
    };
    Some(u64::from(value as u32))
}

fn leb_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn sleb_i32(out: &mut Vec<u8>, mut value: i32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends an active data segment for memory 0 at `offset`.
fn segment(out: &mut Vec<u8>, offset: u64, data: &[u8]) {
    out.push(0x00);
    out.push(0x41); // i32.const
    sleb_i32(out, offset as u32 as i32);
    out.push(0x0b); // end
    leb_u32(out, data.len() as u32);
    out.extend_from_slice(data);
}

fn put_u32(buf: &mut [u8], at: usize, value: u32) {
    buf[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Bakes `statics` into `module` (binary, importing nothing) for a function
/// whose memory limit is `memory_limit` bytes: see the module documentation.
/// The module's own memory, code and data are unchanged; its declared minimum
/// grows by the static block, so the host's pages (static block, then input
/// region) still start at its original declared initial size.
///
/// # Errors
/// A sentence saying why: a module whose memory or data segments could place
/// bytes over the static block, or a block that does not fit in the memory
/// limit, the declared maximum or 4 GiB.
pub(crate) fn bake(
    module: &[u8],
    statics: &[StaticSet],
    memory_limit: u64,
) -> Result<Baked, String> {
    let layout = layout(module).map_err(|e| format!("cannot receive static sets: it {e}"))?;
    let base = layout.memory.initial.saturating_mul(PAGE);
    // First the descriptors, names and small items (one segment), then every
    // large item on its own host page.
    let item_count: u64 = statics.iter().map(|s| s.items.len() as u64).sum();
    let mut meta_len = item_count * ITEM_DESC_LEN;
    for set in statics {
        meta_len += align(set.name.len() as u64, 8);
        for item in &set.items {
            meta_len += align(item.name.len() as u64, 8);
            if (item.data.len() as u64) < OWN_SEGMENT {
                meta_len += align(item.data.len() as u64, 8);
            }
        }
    }
    let too_large = |end: u64| {
        format!(
            "static sets take {} bytes of linear memory above the module's own {base} bytes, \
             over the function's memory limit of {memory_limit} bytes: raise the limit \
             (an ABI v1 function holds its static sets in its memory)",
            end.saturating_sub(base)
        )
    };
    let mut end = base + meta_len;
    let mut large = Vec::new();
    for set in statics {
        for item in &set.items {
            let len = item.data.len() as u64;
            if len >= OWN_SEGMENT {
                let at = align(end, OWN_SEGMENT);
                end = at + len;
                large.push(at);
            }
        }
    }
    let end = align(end, PAGE);
    let limit_pages = (memory_limit / PAGE).min(1 << 16);
    let ceiling = layout
        .memory
        .maximum
        .map_or(limit_pages, |max| max.min(limit_pages));
    let pages = end / PAGE;
    if pages > ceiling {
        return Err(too_large(end));
    }
    if large.len() + 1 > MAX_SEGMENTS {
        return Err(format!(
            "static sets hold {} items of {OWN_SEGMENT} bytes or more, over the {} an ABI v1 module may hold",
            large.len(),
            MAX_SEGMENTS - 1
        ));
    }

    // The block's first segment.
    let mut meta = vec![0u8; meta_len as usize];
    let mut sets = Vec::with_capacity(statics.len());
    let mut desc_at = 0usize;
    let mut bytes_at = (item_count * ITEM_DESC_LEN) as usize;
    let addr = |offset: usize| (base + offset as u64) as u32;
    let mut large_at = large.iter();
    let mut place = |meta: &mut Vec<u8>, bytes: &[u8]| -> u32 {
        let at = bytes_at;
        meta[at..at + bytes.len()].copy_from_slice(bytes);
        bytes_at += align(bytes.len() as u64, 8) as usize;
        addr(at)
    };
    let mut large_items = Vec::with_capacity(large.len());
    for set in statics {
        let items_ptr = addr(desc_at);
        let name_ptr = place(&mut meta, set.name.as_bytes());
        sets.push(BakedSet {
            name_ptr,
            name_len: set.name.len() as u32,
            items_ptr,
            item_count: set.items.len() as u32,
        });
        for item in &set.items {
            let name_ptr = place(&mut meta, item.name.as_bytes());
            let data_ptr = if (item.data.len() as u64) < OWN_SEGMENT {
                place(&mut meta, &item.data)
            } else {
                let at = large_at.next().copied().unwrap_or(base);
                large_items.push((at, &item.data));
                at as u32
            };
            put_u32(&mut meta, desc_at, name_ptr);
            put_u32(&mut meta, desc_at + 4, item.name.len() as u32);
            meta[desc_at + 8..desc_at + 16].copy_from_slice(&item.key.to_le_bytes());
            put_u32(&mut meta, desc_at + 16, data_ptr);
            put_u32(&mut meta, desc_at + 20, item.data.len() as u32);
            desc_at += ITEM_DESC_LEN as usize;
        }
    }

    // The new segments, encoded once.
    let added = 1 + large_items.len() as u32;
    let data_bytes: u64 = large_items.iter().map(|(_, d)| d.len() as u64).sum();
    let mut segments = Vec::with_capacity((meta_len + data_bytes) as usize + 16 * added as usize);
    segment(&mut segments, base, &meta);
    drop(meta);
    for (at, data) in &large_items {
        segment(&mut segments, *at, data);
    }
    let memory = wasmparser::MemoryType {
        initial: pages.max(layout.memory.initial),
        ..layout.memory
    };
    let bytes = rewrite(module, &layout, memory, added, &segments)
        .ok_or("cannot receive static sets: it cannot be re-encoded")?;
    Ok(Baked { bytes, sets })
}

/// `module` with its memory's minimum raised, its data count (if any) and data
/// section extended by `added` segments encoded in `segments`.
fn rewrite(
    module: &[u8],
    layout: &Layout,
    memory: wasmparser::MemoryType,
    added: u32,
    segments: &[u8],
) -> Option<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    let data_section = |out: &mut wasm_encoder::Module| -> Option<()> {
        let (old, count) = match &layout.data {
            Some((range, count)) => {
                // The payload starts with the count (a LEB128 u32): skip it.
                let payload = module.get(range.clone())?;
                let skip = payload.iter().position(|b| b & 0x80 == 0)? + 1;
                (payload.get(skip..)?, *count)
            }
            None => (&[][..], 0),
        };
        let mut content = Vec::with_capacity(old.len() + segments.len() + 5);
        leb_u32(&mut content, count.checked_add(added)?);
        content.extend_from_slice(old);
        content.extend_from_slice(segments);
        out.section(&wasm_encoder::RawSection {
            id: 11,
            data: &content,
        });
        Some(())
    };
    let mut index = 0;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.ok()?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        match payload {
            Payload::MemorySection(_) => {
                let mut section = wasm_encoder::MemorySection::new();
                section.memory(wasm_encoder::MemoryType {
                    minimum: memory.initial,
                    maximum: memory.maximum,
                    memory64: false,
                    shared: false,
                    page_size_log2: memory.page_size_log2,
                });
                out.section(&section);
            }
            Payload::DataCountSection { count, .. } => {
                out.section(&wasm_encoder::DataCountSection {
                    count: count.checked_add(added)?,
                });
            }
            Payload::DataSection(_) => data_section(&mut out)?,
            _ => {
                out.section(&wasm_encoder::RawSection {
                    id,
                    data: module.get(range)?,
                });
            }
        }
        if index == layout.last_known && layout.data.is_none() {
            data_section(&mut out)?;
        }
        index += 1;
    }
    Some(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wasm(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("valid text")
    }

    fn set(name: &str, items: &[(&str, Vec<u8>)]) -> StaticSet {
        StaticSet {
            name: name.into(),
            items: items
                .iter()
                .map(|(n, d)| Item::new(*n, 0, d.clone()))
                .collect(),
        }
    }

    #[test]
    fn bakes_small_and_large_items_into_valid_modules() {
        for text in [
            r#"(module (memory (export "memory") 2))"#,
            r#"(module (memory (export "memory") 2) (data (i32.const 8) "hi")
                (func (export "f") (result i32) i32.const 0))"#,
            r#"(module (memory (export "memory") 2) (data "passive")
                (func (export "f") i32.const 0 i32.const 0 i32.const 1 memory.init 0))"#,
        ] {
            let module = wasm(text);
            let statics = [set(
                "model",
                &[("a", b"tiny".to_vec()), ("b", vec![7; 70_000])],
            )];
            let baked = bake(&module, &statics, 64 << 20).expect("baked");
            wasmparser::validate(&baked.bytes).expect("valid");
            assert_eq!(baked.sets.len(), 1);
            assert_eq!(baked.sets[0].item_count, 2);
            assert_eq!(u64::from(baked.sets[0].items_ptr), 2 * PAGE);
            let memory = layout(&baked.bytes).expect("layout").memory;
            assert!(
                memory.initial * PAGE >= 2 * PAGE + 70_000,
                "{}",
                memory.initial
            );
            // The large item's data starts on a host page, in its own segment.
            let segments = Parser::new(0)
                .parse_all(&baked.bytes)
                .filter_map(|p| match p {
                    Ok(Payload::DataSection(r)) => Some(r),
                    _ => None,
                })
                .flat_map(|r| r.into_iter().map(|s| s.expect("segment")))
                .filter_map(|s| match s.kind {
                    DataKind::Active { offset_expr, .. } => Some((
                        constant_offset(&offset_expr).expect("constant"),
                        s.data.len(),
                    )),
                    DataKind::Passive => None,
                })
                .collect::<Vec<_>>();
            let large = segments
                .iter()
                .find(|(_, len)| *len == 70_000)
                .expect("own segment");
            assert_eq!(large.0 % OWN_SEGMENT, 0);
            assert!(large.0 >= 2 * PAGE);
        }
    }

    #[test]
    fn refuses_what_cannot_hold_the_block() {
        let module = wasm(r#"(module (memory (export "memory") 1 2))"#);
        let statics = [set("big", &[("x", vec![0; 200_000])])];
        let err = bake(&module, &statics, 64 << 20).err().expect("refused");
        assert!(err.contains("memory limit"), "{err}");
        let module = wasm(r#"(module (memory (export "memory") 1))"#);
        let err = bake(&module, &statics, 2 * PAGE).err().expect("refused");
        assert!(err.contains("raise the limit"), "{err}");
        let module = wasm(
            r#"(module (global i32 (i32.const 0)) (memory (export "memory") 1)
                (data (global.get 0) "x"))"#,
        );
        let err = bake(&module, &statics, 64 << 20).err().expect("refused");
        assert!(err.contains("constant"), "{err}");
    }
}
