//! The input area: room for a call's input region inside the memory a new
//! instance already has (`docs/abi.md`, "One call").
//!
//! Growing the memory to place the inputs costs an `mprotect` (the new pages
//! become read-write), and the next instance in the same pool slot pays another
//! to hide them again, since compiled code relies on the slot's guard pages
//! rather than on bounds checks. So an ABI v1 module's declared minimum memory
//! is raised, before it is compiled, by a fixed area just above the module's own
//! initial memory: the region of a small call fits there, no `memory.grow` is
//! needed, and a slot's accessible size stays the same from one call to the
//! next. The guest sees its inputs at the address it always did (the module's
//! declared initial size, a multiple of 64 KiB); `memory.grow` gives it pages
//! above the area.
//!
//! The area counts against the function's memory limit like the inputs always
//! did: it is clipped so that the raised minimum stays within the limit and the
//! module's declared maximum. A module is left as it is (and its inputs are
//! placed by growing the memory) when the rewrite could change what it sees
//! besides its memory size: it imports anything (WASI programs never get inputs
//! in linear memory), has a start function (which could run before the inputs
//! are placed), or has a data segment whose place is not a constant inside its
//! declared initial memory (such a module fails to instantiate today, and must
//! keep failing rather than write into the area).

use std::borrow::Cow;

use wasmparser::{DataKind, Encoding, Operator, Parser, Payload};

use crate::abi::PAGE;

/// Most of the area, in bytes: a 128x128 matrix of 64-bit integers with its
/// descriptors fits (the region is rounded up to whole pages).
pub(crate) const AREA_BYTES: u64 = 256 << 10;

/// Where a module's input area lies in its memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InputArea {
    /// Guest address of the area's first byte: the module's declared initial
    /// memory size.
    pub(crate) base: u64,
    /// Length of the area in bytes, a whole number of pages.
    pub(crate) len: u64,
}

impl InputArea {
    /// The memory size of a fresh instance: its initial memory and the area.
    pub(crate) fn end(&self) -> u64 {
        self.base + self.len
    }
}

/// A module ready to compile: its bytes (with the raised minimum, when it has
/// an area) and its input area, if any.
pub(crate) struct Prepared<'a> {
    pub(crate) bytes: Cow<'a, [u8]>,
    pub(crate) area: Option<InputArea>,
}

/// Gives `module` (binary WebAssembly) an input area within `memory_limit`
/// bytes, or returns it unchanged with none when it is not eligible (see the
/// module's documentation) or cannot be parsed (compiling it reports why).
pub(crate) fn reserve(module: &[u8], memory_limit: u64) -> Prepared<'_> {
    let unchanged = || Prepared {
        bytes: Cow::Borrowed(module),
        area: None,
    };
    let Some(memory) = eligible_memory(module) else {
        return unchanged();
    };
    // The raised minimum must stay within the limit and the declared maximum.
    let limit_pages = memory_limit / PAGE;
    let ceiling = memory
        .maximum
        .map_or(limit_pages, |max| max.min(limit_pages));
    let pages = (AREA_BYTES / PAGE).min(ceiling.saturating_sub(memory.initial));
    if pages == 0 {
        return unchanged();
    }
    let raised = wasmparser::MemoryType {
        initial: memory.initial + pages,
        ..memory
    };
    match rewrite_memory(module, raised) {
        Some(bytes) => Prepared {
            bytes: Cow::Owned(bytes),
            area: Some(InputArea {
                base: memory.initial * PAGE,
                len: pages * PAGE,
            }),
        },
        None => unchanged(),
    }
}

/// The module's only memory, if the module may have an input area.
fn eligible_memory(module: &[u8]) -> Option<wasmparser::MemoryType> {
    let mut memory = None;
    let mut data_ends = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        match payload.ok()? {
            Payload::Version { encoding, .. } if encoding != Encoding::Module => return None,
            Payload::ImportSection(imports) if imports.count() > 0 => return None,
            Payload::StartSection { .. } => return None,
            Payload::MemorySection(memories) => {
                let mut memories = memories.into_iter();
                let (Some(Ok(only)), None) = (memories.next(), memories.next()) else {
                    return None;
                };
                memory = Some(only);
            }
            Payload::DataSection(data) => {
                for segment in data {
                    let segment = segment.ok()?;
                    if let DataKind::Active {
                        memory_index,
                        offset_expr,
                    } = segment.kind
                    {
                        if memory_index != 0 {
                            return None;
                        }
                        let offset = constant_offset(&offset_expr)?;
                        data_ends.push(offset + segment.data.len() as u64);
                    }
                }
            }
            _ => {}
        }
    }
    let memory = memory?;
    let plain = !memory.memory64
        && !memory.shared
        && memory
            .page_size_log2
            .is_none_or(|log2| 1u64 << log2 == PAGE);
    let data_inside = data_ends
        .iter()
        .all(|&end| end <= memory.initial.saturating_mul(PAGE));
    (plain && data_inside).then_some(memory)
}

/// The offset of an active data segment written as a lone `i32.const`.
fn constant_offset(expr: &wasmparser::ConstExpr<'_>) -> Option<u64> {
    let mut ops = expr.get_operators_reader();
    let Ok(Operator::I32Const { value }) = ops.read() else {
        return None;
    };
    let Ok(Operator::End) = ops.read() else {
        return None;
    };
    // Offsets are unsigned addresses.
    Some(u64::from(value as u32))
}

/// `module` with its memory section replaced by one declaring `memory`; every
/// other section is copied byte for byte, in order.
fn rewrite_memory(module: &[u8], memory: wasmparser::MemoryType) -> Option<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.ok()?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        if let Payload::MemorySection(_) = payload {
            let mut section = wasm_encoder::MemorySection::new();
            section.memory(wasm_encoder::MemoryType {
                minimum: memory.initial,
                maximum: memory.maximum,
                memory64: memory.memory64,
                shared: memory.shared,
                page_size_log2: memory.page_size_log2,
            });
            out.section(&section);
        } else {
            out.section(&wasm_encoder::RawSection {
                id,
                data: module.get(range)?,
            });
        }
    }
    Some(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wasm(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("valid text")
    }

    fn minimum(module: &[u8]) -> u64 {
        eligible_memory(module).expect("a plain memory").initial
    }

    #[test]
    fn raises_the_minimum_by_the_area_and_keeps_everything_else() {
        let module = wasm(
            r#"(module
                (memory (export "memory") 2)
                (data (i32.const 16) "hi")
                (func (export "pappus_entry") (param i32) (result i32) i32.const 0)
                (@custom "pappus.signature" "\01\00\00\00\00\00\00\00\00"))"#,
        );
        let prepared = reserve(&module, 64 << 20);
        let area = prepared.area.expect("an area");
        assert_eq!(area.base, 2 * PAGE);
        assert_eq!(area.len, AREA_BYTES);
        assert_eq!(minimum(&prepared.bytes), 2 + AREA_BYTES / PAGE);
        assert!(wasmparser::validate(&prepared.bytes).is_ok());
        // Only the memory section differs: the custom section survives.
        assert_eq!(
            crate::signature::read(&prepared.bytes),
            crate::signature::read(&module)
        );
    }

    #[test]
    fn the_area_stays_within_the_limit_and_the_declared_maximum() {
        let module = wasm(r#"(module (memory (export "memory") 1 3))"#);
        let prepared = reserve(&module, 64 << 20);
        assert_eq!(prepared.area.map(|a| a.len), Some(2 * PAGE));
        let module = wasm(r#"(module (memory (export "memory") 1))"#);
        let prepared = reserve(&module, 2 * PAGE + 100);
        assert_eq!(prepared.area.map(|a| a.len), Some(PAGE));
        assert_eq!(minimum(&prepared.bytes), 2);
    }

    #[test]
    fn modules_that_could_notice_are_left_alone() {
        for text in [
            // Full already: the maximum is the minimum, or the limit is reached.
            r#"(module (memory (export "memory") 1 1))"#,
            // A start function runs before the inputs are placed.
            r#"(module (memory (export "memory") 1) (func $s) (start $s))"#,
            // Imports: a WASI program never gets inputs in its memory.
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                (memory (export "memory") 1))"#,
            // Data beyond the initial memory must keep failing to instantiate.
            r#"(module (memory (export "memory") 1) (data (i32.const 65535) "ab"))"#,
            // No memory at all.
            r#"(module)"#,
        ] {
            let module = wasm(text);
            let prepared = reserve(&module, 64 << 20);
            assert_eq!(prepared.area, None, "{text}");
            assert_eq!(&prepared.bytes[..], &module[..], "{text}");
        }
        let full = wasm(r#"(module (memory (export "memory") 2))"#);
        assert_eq!(reserve(&full, 2 * PAGE).area, None);
    }

    #[test]
    fn bytes_that_do_not_parse_are_passed_through() {
        let garbage = b"\0asm\x01\0\0\0\x05\xff".to_vec();
        let prepared = reserve(&garbage, 64 << 20);
        assert_eq!(prepared.area, None);
        assert_eq!(&prepared.bytes[..], &garbage[..]);
    }
}
