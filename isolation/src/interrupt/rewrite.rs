//! The module rewrite that lets a running call be stopped without checks in
//! compiled code.
//!
//! A call past its deadline is stopped by a signal whose handler, when the
//! interrupted instruction lies in the module's compiled wasm code, redirects it
//! to a function whose body is `unreachable`: wasmtime then reports a trap and
//! unwinds as usual. This module appends that function (always the module's last
//! defined function). A guest inside one of wasmtime's own host routines cannot
//! be redirected, so the instructions whose host routine costs time the guest
//! chooses are replaced by calls to wasm helpers with the same semantics:
//! `memory.fill` and `memory.copy` become loops (32 bytes per iteration, then 8, then 1), and
//! `memory.init` becomes a loop of native `memory.init`s of at most 4 KiB each.
//! Only memory 0 is rewritten, and only when it is a 32-bit memory.
//!
//! No existing index moves: new types go at the end of the type section and new
//! functions at the end of the function and code sections. Every other section
//! keeps its entries (re-encoded by `wasm_encoder::reencode`); custom sections
//! are copied byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use wasm_encoder::reencode::{utils, Error as ReencodeError, Reencode};
use wasm_encoder::{
    BlockType, CodeSection, CustomSection, Function, FunctionSection, Instruction, InstructionSink,
    MemArg, Module, SectionId, TypeSection, ValType,
};
use wasmparser::{Operator, Parser, Payload, TypeRef};

/// Rewrites `module` (binary WebAssembly; see the module documentation) so a
/// running call of it can be stopped by redirecting it. Errors name the cause:
/// the parser's message when the module does not parse, or a count of types or
/// functions that leaves no room for the new ones.
pub(crate) fn rewrite(module: &[u8]) -> Result<Vec<u8>, String> {
    let plan = Plan::of(module)?;
    let mut rewriter = Rewriter {
        plan,
        emitted: Emitted::default(),
    };
    let mut out = Module::new();
    rewriter
        .parse_core_module(&mut out, Parser::new(0), module)
        .map_err(|e| format!("cannot rewrite the module: {e}"))?;
    Ok(out.finish())
}

/// Bytes moved by one native `memory.init` in the `memory.init` helper: small
/// enough that a stop waits little for the host routine to return.
const INIT_CHUNK: i32 = 4096;

/// An instruction replaced by a call to a helper.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Helper {
    Fill,
    Copy,
    /// `memory.init` of this data segment.
    Init(u32),
}

impl Helper {
    /// The helper that replaces `op`, if `op` works on memory 0.
    fn replacing(op: &Operator<'_>) -> Option<Helper> {
        match *op {
            Operator::MemoryFill { mem: 0 } => Some(Helper::Fill),
            Operator::MemoryCopy {
                dst_mem: 0,
                src_mem: 0,
            } => Some(Helper::Copy),
            Operator::MemoryInit { data_index, mem: 0 } => Some(Helper::Init(data_index)),
            _ => None,
        }
    }
}

/// What the module has, read before rewriting it.
struct Plan {
    /// Index of the new `() -> ()` type; the helpers' type follows it.
    stop_type: u32,
    /// Function index of each helper, in order after the module's functions.
    helpers: BTreeMap<Helper, u32>,
    /// Log2 of memory 0's page size.
    page_log2: u32,
}

impl Plan {
    /// Reads `module`, or says why it cannot be rewritten.
    fn of(module: &[u8]) -> Result<Plan, String> {
        if Parser::is_component(module) {
            return Err("the module is a component, not a core module".into());
        }
        let scan = Scan::of(module).map_err(|e| format!("cannot parse the module: {e}"))?;
        // The new functions: the helpers, then the stop function.
        let new_functions = u32::try_from(scan.used.len() + 1).unwrap_or(u32::MAX);
        if scan.types > u32::MAX - 2 || scan.functions > u32::MAX - new_functions {
            return Err(format!(
                "the module has too many types ({}) or functions ({}) to add {new_functions} functions",
                scan.types, scan.functions
            ));
        }
        Ok(Plan {
            stop_type: scan.types,
            helpers: scan.used.into_iter().zip(scan.functions..).collect(),
            page_log2: scan.memory0.and_then(|m| m.page_size_log2).unwrap_or(16),
        })
    }

    /// Type index of `(i32, i32, i32) -> ()`, the helpers' type.
    fn helper_type(&self) -> u32 {
        self.stop_type + 1
    }
}

/// The counts and instructions of a module that a [`Plan`] needs.
struct Scan {
    /// Types, counting each member of a recursion group.
    types: u32,
    /// Functions, imported and defined (saturating: too many is refused).
    functions: u32,
    memory0: Option<wasmparser::MemoryType>,
    /// The helpers the module's code needs, if memory 0 is a 32-bit memory.
    used: BTreeSet<Helper>,
}

impl Scan {
    fn of(module: &[u8]) -> wasmparser::Result<Scan> {
        let mut scan = Scan {
            types: 0,
            functions: 0,
            memory0: None,
            used: BTreeSet::new(),
        };
        for payload in Parser::new(0).parse_all(module) {
            match payload? {
                Payload::TypeSection(section) => {
                    for group in section {
                        let count = u32::try_from(group?.types().len()).unwrap_or(u32::MAX);
                        scan.types = scan.types.saturating_add(count);
                    }
                }
                Payload::ImportSection(section) => {
                    for import in section.into_imports() {
                        match import?.ty {
                            TypeRef::Func(_) | TypeRef::FuncExact(_) => {
                                scan.functions = scan.functions.saturating_add(1);
                            }
                            TypeRef::Memory(memory) => {
                                scan.memory0.get_or_insert(memory);
                            }
                            _ => {}
                        }
                    }
                }
                Payload::FunctionSection(section) => {
                    scan.functions = scan.functions.saturating_add(section.count());
                }
                Payload::MemorySection(section) => {
                    if let Some(memory) = section.into_iter().next() {
                        scan.memory0.get_or_insert(memory?);
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut reader = body.get_operators_reader()?;
                    let memory32 = scan.memory0.is_some_and(|m| !m.memory64);
                    while memory32 && !reader.eof() {
                        scan.used.extend(Helper::replacing(&reader.read()?));
                    }
                }
                _ => {}
            }
        }
        Ok(scan)
    }
}

/// The sections this rewrite has already written its additions to.
#[derive(Default)]
struct Emitted {
    types: bool,
    functions: bool,
    code: bool,
}

/// Re-encodes a module following a [`Plan`].
struct Rewriter {
    plan: Plan,
    emitted: Emitted,
}

impl Rewriter {
    fn append_types(&mut self, types: &mut TypeSection) {
        if std::mem::replace(&mut self.emitted.types, true) {
            return;
        }
        types.ty().function([], []);
        if !self.plan.helpers.is_empty() {
            types.ty().function([ValType::I32; 3], []);
        }
    }

    fn append_functions(&mut self, functions: &mut FunctionSection) {
        if std::mem::replace(&mut self.emitted.functions, true) {
            return;
        }
        for _ in self.plan.helpers.keys() {
            functions.function(self.plan.helper_type());
        }
        functions.function(self.plan.stop_type);
    }

    fn append_code(&mut self, code: &mut CodeSection) {
        if std::mem::replace(&mut self.emitted.code, true) {
            return;
        }
        for helper in self.plan.helpers.keys() {
            code.function(&helper_body(*helper, self.plan.page_log2));
        }
        let mut stop = Function::new([]);
        stop.instructions().unreachable().end();
        code.function(&stop);
    }
}

/// Where `id` stands in the order of a module's sections.
fn order(id: SectionId) -> usize {
    use SectionId::*;
    let order = [
        Custom, Type, Import, Function, Table, Memory, Tag, Global, Export, Start, Element,
        DataCount, Code, Data,
    ];
    order.iter().position(|known| *known == id).unwrap_or(0)
}

impl Reencode for Rewriter {
    type Error = Infallible;

    fn instruction<'a>(
        &mut self,
        op: Operator<'a>,
    ) -> Result<Instruction<'a>, ReencodeError<Infallible>> {
        match Helper::replacing(&op).and_then(|h| self.plan.helpers.get(&h)) {
            Some(&index) => Ok(Instruction::Call(index)),
            None => utils::instruction(self, op),
        }
    }

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        utils::parse_type_section(self, types, section)?;
        self.append_types(types);
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        utils::parse_function_section(self, functions, section)?;
        self.append_functions(functions);
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        utils::parse_code_section(self, code, section)?;
        self.append_code(code);
        Ok(())
    }

    /// Custom sections are kept byte for byte (the default re-encodes the name
    /// section, and fails on one that does not parse, which wasmtime accepts).
    fn parse_custom_section(
        &mut self,
        module: &mut Module,
        section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        module.section(&CustomSection {
            name: section.name().into(),
            data: section.data().into(),
        });
        Ok(())
    }

    /// Writes the type, function and code sections the module lacks, where
    /// they belong.
    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), ReencodeError<Infallible>> {
        let next = before.map_or(usize::MAX, order);
        if !self.emitted.types && next > order(SectionId::Type) {
            let mut types = TypeSection::new();
            self.append_types(&mut types);
            module.section(&types);
        }
        if !self.emitted.functions && next > order(SectionId::Function) {
            let mut functions = FunctionSection::new();
            self.append_functions(&mut functions);
            module.section(&functions);
        }
        if !self.emitted.code && next > order(SectionId::Code) {
            let mut code = CodeSection::new();
            self.append_code(&mut code);
            module.section(&code);
        }
        Ok(())
    }
}

// Helper parameters, in the order of the instructions' operands, and locals.
const DST: u32 = 0;
const SRC: u32 = 1;
const VALUE: u32 = 1;
const LEN: u32 = 2;
const SCRATCH: u32 = 3;

/// Bytes moved per step of the fill and copy loops, widest first: four 8-byte
/// words per back-edge (their constant offsets folded into the instructions),
/// then one word, then one byte.
const STEPS: [i32; 3] = [32, 8, 1];

/// A byte-aligned access to memory 0.
fn mem(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 0,
        memory_index: 0,
    }
}

/// The body of `helper`, of type `(i32, i32, i32) -> ()`: it checks every bound
/// before it writes anything, then does the instruction's work in a wasm loop.
fn helper_body(helper: Helper, page_log2: u32) -> Function {
    let mut f = Function::new(match helper {
        Helper::Fill => vec![(1, ValType::I64)],
        Helper::Copy => vec![],
        Helper::Init(_) => vec![(1, ValType::I32)],
    });
    let mut sink = f.instructions();
    let i = &mut sink;
    check_in_memory(i, DST, page_log2);
    match helper {
        Helper::Fill => {
            // The byte, repeated in the 8 bytes of an i64.
            i.local_get(VALUE).i64_extend_i32_u();
            i.i64_const(0xff).i64_and();
            i.i64_const(0x0101_0101_0101_0101).i64_mul();
            i.local_set(SCRATCH);
            for width in STEPS {
                let value = if width < 8 { VALUE } else { SCRATCH };
                counted_loop(i, width, |i| {
                    for at in offsets(width) {
                        i.local_get(DST).local_get(value);
                        store(i, width, at);
                    }
                    advance(i, DST, width);
                    advance(i, LEN, -width);
                });
            }
        }
        Helper::Copy => {
            check_in_memory(i, SRC, page_log2);
            // Like memmove: forward unless the destination is above the source.
            i.local_get(DST).local_get(SRC).i32_le_u();
            i.if_(BlockType::Empty);
            // Upwards, word by word within a step.
            for width in STEPS {
                counted_loop(i, width, |i| {
                    for at in offsets(width) {
                        i.local_get(DST).local_get(SRC);
                        load(i, width, at);
                        store(i, width, at);
                    }
                    advance(i, DST, width);
                    advance(i, SRC, width);
                    advance(i, LEN, -width);
                });
            }
            i.else_();
            // From the end (the remaining length is the offset of what is
            // left), downwards, word by word within a step.
            for width in STEPS {
                counted_loop(i, width, |i| {
                    advance(i, LEN, -width);
                    for at in offsets(width).rev() {
                        i.local_get(DST).local_get(LEN).i32_add();
                        i.local_get(SRC).local_get(LEN).i32_add();
                        load(i, width, at);
                        store(i, width, at);
                    }
                });
            }
            i.end();
        }
        Helper::Init(segment) => {
            i.local_get(SRC).i64_extend_i32_u();
            i.local_get(LEN).i64_extend_i32_u();
            i.i64_add().i64_const(u32::MAX.into()).i64_gt_u();
            trap_if(i);
            // The segment's current length is only known to the native
            // instruction: a zero-length init at `s + n` checks it.
            i.i32_const(0);
            i.local_get(SRC).local_get(LEN).i32_add();
            i.i32_const(0).memory_init(0, segment);
            i.block(BlockType::Empty).loop_(BlockType::Empty);
            i.local_get(LEN).i32_eqz().br_if(1);
            i.local_get(DST).local_get(SRC);
            // The chunk: min(n, INIT_CHUNK).
            i.local_get(LEN).i32_const(INIT_CHUNK);
            i.local_get(LEN).i32_const(INIT_CHUNK).i32_lt_u();
            i.select().local_tee(SCRATCH);
            i.memory_init(0, segment);
            for local in [DST, SRC] {
                i.local_get(local).local_get(SCRATCH);
                i.i32_add().local_set(local);
            }
            i.local_get(LEN).local_get(SCRATCH);
            i.i32_sub().local_set(LEN);
            i.br(0).end().end();
        }
    }
    i.end();
    f
}

/// Traps as an out-of-bounds access unless `[at, at + len)` lies in memory 0,
/// computed in 64 bits so that no sum wraps.
fn check_in_memory(i: &mut InstructionSink<'_>, at: u32, page_log2: u32) {
    i.local_get(at).i64_extend_i32_u();
    i.local_get(LEN).i64_extend_i32_u().i64_add();
    i.memory_size(0).i64_extend_i32_u();
    i.i64_const(page_log2.into()).i64_shl();
    i.i64_gt_u();
    trap_if(i);
}

/// Pops a condition and, if it holds, traps with the trap of an out-of-bounds
/// memory access: the load's effective address is past 4 GiB, beyond any
/// 32-bit memory.
fn trap_if(i: &mut InstructionSink<'_>) {
    i.if_(BlockType::Empty);
    i.i32_const(-1).i64_load(mem(u32::MAX.into())).drop();
    i.end();
}

/// Runs `step` (which takes `width` off the length) while at least `width`
/// bytes remain.
fn counted_loop(i: &mut InstructionSink<'_>, width: i32, step: impl Fn(&mut InstructionSink<'_>)) {
    i.block(BlockType::Empty).loop_(BlockType::Empty);
    i.local_get(LEN).i32_const(width).i32_lt_u().br_if(1);
    step(i);
    i.br(0).end().end();
}

/// The offsets of the accesses of a step of `width` bytes: one per word, or
/// one byte.
fn offsets(width: i32) -> impl DoubleEndedIterator<Item = u64> {
    (0..u64::try_from(width / 8).unwrap_or(0).max(1)).map(|word| word * 8)
}

/// Loads a word (a step of 8 bytes or more) or a byte at `at` past the address.
fn load(i: &mut InstructionSink<'_>, width: i32, at: u64) {
    if width >= 8 {
        i.i64_load(mem(at));
    } else {
        i.i32_load8_u(mem(at));
    }
}

/// Stores a word (a step of 8 bytes or more) or a byte at `at` past the address.
fn store(i: &mut InstructionSink<'_>, width: i32, at: u64) {
    if width >= 8 {
        i.i64_store(mem(at));
    } else {
        i.i32_store8(mem(at));
    }
}

/// Adds `by` to local `local` (wrapping, as `i32.add` does).
fn advance(i: &mut InstructionSink<'_>, local: u32, by: i32) {
    i.local_get(local).i32_const(by).i32_add().local_set(local);
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use wasmtime::{Engine, Instance, Module as WasmModule, Store, Trap};

    use super::*;

    const PAGE: u32 = 65536;

    fn wasm(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("valid text")
    }

    fn rewritten(module: &[u8]) -> Vec<u8> {
        rewrite(module).expect("rewrites")
    }

    /// The passive segment of [`bulk_module`]: longer than one `memory.init`
    /// chunk, so the helper loops.
    fn segment() -> Vec<u8> {
        (0..10_000u32).map(|k| (k * 31 % 251) as u8).collect()
    }

    /// A module exporting each bulk-memory instruction on a memory of `pages`
    /// pages, with its arguments as parameters.
    fn bulk_module(pages: u32) -> Vec<u8> {
        let escaped: String = segment().iter().map(|b| format!("\\{b:02x}")).collect();
        wasm(&format!(
            r#"(module
                (memory (export "memory") {pages})
                (data $passive "{escaped}")
                (data $active (i32.const 100) "active")
                (func (export "fill") (param i32 i32 i32)
                    local.get 0 local.get 1 local.get 2 memory.fill)
                (func (export "copy") (param i32 i32 i32)
                    local.get 0 local.get 1 local.get 2 memory.copy)
                (func (export "init") (param i32 i32 i32)
                    local.get 0 local.get 1 local.get 2 memory.init $passive)
                (func (export "init_active") (param i32 i32 i32)
                    local.get 0 local.get 1 local.get 2 memory.init $active)
                (func (export "drop") (param i32 i32 i32) data.drop $passive))"#
        ))
    }

    fn engine() -> &'static Engine {
        static ENGINE: OnceLock<Engine> = OnceLock::new();
        ENGINE.get_or_init(Engine::default)
    }

    /// The original and rewritten [`bulk_module`] of 1, 2 and 3 pages, compiled
    /// once for all cases.
    fn bulk_modules(pages: u32) -> &'static (WasmModule, WasmModule) {
        static MODULES: OnceLock<Vec<(WasmModule, WasmModule)>> = OnceLock::new();
        let all = MODULES.get_or_init(|| {
            (1..=3)
                .map(|pages| {
                    let original = bulk_module(pages);
                    let compile =
                        |bytes: &[u8]| WasmModule::new(engine(), bytes).expect("compiles");
                    (compile(&original), compile(&rewritten(&original)))
                })
                .collect()
        });
        &all[pages as usize - 1]
    }

    /// An exported function's name and arguments.
    type Call = (&'static str, [u32; 3]);

    /// Each call's trap (if any) and the memory afterwards.
    type Outcome = (Vec<Option<Trap>>, Vec<u8>);

    /// Runs `calls` in order on a fresh instance of `module` whose memory
    /// starts with a pattern (so copies show).
    fn run(module: &WasmModule, calls: &[Call]) -> Outcome {
        let mut store = Store::new(engine(), ());
        let instance = Instance::new(&mut store, module, &[]).expect("instantiates");
        let memory = instance.get_memory(&mut store, "memory").expect("a memory");
        for (k, byte) in memory.data_mut(&mut store).iter_mut().enumerate() {
            *byte = (k % 253) as u8 ^ (k >> 8) as u8;
        }
        let traps = calls
            .iter()
            .map(|(name, [a, b, c])| {
                let f = instance
                    .get_typed_func::<(u32, u32, u32), ()>(&mut store, name)
                    .expect("an export");
                f.call(&mut store, (*a, *b, *c)).err().map(|e| {
                    *e.downcast_ref::<Trap>()
                        .unwrap_or_else(|| panic!("not a trap: {e:?}"))
                })
            })
            .collect();
        (traps, memory.data(&store).to_vec())
    }

    /// Runs `calls` on the original and rewritten module of `pages` pages and
    /// checks they agree, returning the outcome.
    fn same_outcome(pages: u32, calls: &[Call]) -> Outcome {
        let (original, rewritten) = bulk_modules(pages);
        let expected = run(original, calls);
        let actual = run(rewritten, calls);
        assert_eq!(actual.0, expected.0, "traps of {calls:?}");
        assert!(actual.1 == expected.1, "memory after {calls:?} differs");
        expected
    }

    #[test]
    fn bulk_instructions_behave_as_the_native_ones() {
        let end = PAGE;
        let oob = Some(Trap::MemoryOutOfBounds);
        let cases: &[(&[Call], &[Option<Trap>])] = &[
            (&[("fill", [10, 0xab, 100])], &[None]),
            (&[("fill", [3, 0x1ff, 5])], &[None]),
            (&[("fill", [end - 20, 7, 20])], &[None]),
            (&[("fill", [end, 7, 0])], &[None]),
            (&[("fill", [end - 20, 7, 21])], &[oob]),
            (&[("fill", [end + 1, 7, 0])], &[oob]),
            (&[("fill", [u32::MAX, 7, 2])], &[oob]),
            (&[("copy", [1000, 10, 3000])], &[None]),
            (&[("copy", [10, 1000, 3000])], &[None]),
            (&[("copy", [13, 10, 29])], &[None]),
            (&[("copy", [10, 13, 29])], &[None]),
            // Overlaps closer than the 32-byte steps, each way, over several steps.
            (&[("copy", [13, 10, 100])], &[None]),
            (&[("copy", [10, 13, 100])], &[None]),
            (&[("copy", [27, 10, 71])], &[None]),
            (&[("copy", [10, 41, 200])], &[None]),
            (&[("fill", [5, 0x1ab, 77])], &[None]),
            (&[("copy", [0, end - 9, 9])], &[None]),
            (&[("copy", [end, 0, 0])], &[None]),
            (&[("copy", [0, end, 0])], &[None]),
            (&[("copy", [0, end + 1, 0])], &[oob]),
            (&[("copy", [end - 8, 0, 9])], &[oob]),
            (&[("copy", [0, u32::MAX, 1])], &[oob]),
            (&[("init", [5, 3, 9_997])], &[None]),
            (&[("init", [end - 10, 9_990, 10])], &[None]),
            (&[("init", [5, 9_990, 11])], &[oob]),
            (&[("init", [end - 10, 0, 11])], &[oob]),
            (&[("init", [0, 10_000, 0])], &[None]),
            (&[("init", [0, u32::MAX, 2])], &[oob]),
            (&[("drop", [0; 3]), ("init", [0, 0, 0])], &[None, None]),
            (&[("drop", [0; 3]), ("init", [0, 0, 1])], &[None, oob]),
            (&[("drop", [0; 3]), ("init", [0, 1, 0])], &[None, oob]),
            (&[("init_active", [0, 0, 0])], &[None]),
            (&[("init_active", [0, 0, 1])], &[oob]),
        ];
        for (calls, traps) in cases {
            assert_eq!(same_outcome(1, calls).0, *traps, "{calls:?}");
        }
    }

    /// Values near the edges a bounds check can get wrong, for a memory of
    /// `len` bytes.
    fn edge(len: u32) -> impl Strategy<Value = u32> {
        prop_oneof![
            0..64u32,
            len - 64..=len + 64,
            0..len,
            u32::MAX - 64..=u32::MAX,
            any::<u32>(),
        ]
    }

    fn length() -> impl Strategy<Value = u32> {
        prop_oneof![0..40u32, 0..12_000u32, any::<u32>(), Just(PAGE)]
    }

    proptest! {
        #[test]
        fn bulk_instructions_agree_on_any_arguments(
            (pages, calls) in (1..=3u32).prop_flat_map(|pages| {
                let call = (
                    prop::sample::select(vec!["fill", "copy", "init", "init_active", "drop"]),
                    edge(pages * PAGE),
                    edge(pages * PAGE),
                    length(),
                ).prop_map(|(name, d, s, n)| (name, [d, s, n]));
                (Just(pages), prop::collection::vec(call, 1..4))
            })
        ) {
            same_outcome(pages, &calls);
        }
    }

    /// The instructions of every function body of `module`.
    fn bodies(module: &[u8]) -> Vec<Vec<String>> {
        Parser::new(0)
            .parse_all(module)
            .filter_map(|payload| match payload.expect("parses") {
                Payload::CodeSectionEntry(body) => Some(
                    body.get_operators_reader()
                        .expect("a body")
                        .into_iter()
                        .map(|op| format!("{:?}", op.expect("an operator")))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_instructions_become_calls_to_helpers_that_come_before_the_stop_function() {
        let module = bulk_module(1);
        let code = bodies(&rewritten(&module));
        // 5 functions, fill, copy, init of each segment, and the stop function.
        assert_eq!(code.len(), 5 + 4 + 1);
        for (index, body) in code[..5].iter().enumerate() {
            let calls = body.iter().filter(|op| op.starts_with("Call")).count();
            let bulk = body.iter().filter(|op| op.starts_with("Memory")).count();
            assert_eq!((calls, bulk), (usize::from(index < 4), 0), "{body:?}");
        }
        assert_eq!(code[9], ["Unreachable", "End"]);
    }

    #[test]
    fn the_stop_function_is_the_last_one_and_traps_as_unreachable() {
        // The export names function 2, which only the rewrite creates: the
        // stop function comes after the module's function and the fill helper.
        let module = wasm(
            r#"(module
                (import "host" "f" (func))
                (memory 1)
                (func $fill (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
                (export "stop" (func 3)))"#,
        );
        let module = WasmModule::new(engine(), rewritten(&module)).expect("compiles");
        let last = module.functions().last().expect("a function");
        assert_eq!(last.index.as_u32(), 3);
        assert_eq!(module.functions().len(), 3);
        let mut store = Store::new(engine(), ());
        let mut linker = wasmtime::Linker::new(engine());
        linker.func_wrap("host", "f", || {}).expect("defines");
        let instance = linker
            .instantiate(&mut store, &module)
            .expect("instantiates");
        let stop = instance
            .get_typed_func::<(), ()>(&mut store, "stop")
            .expect("an export of type () -> ()");
        let error = stop.call(&mut store, ()).expect_err("traps");
        assert_eq!(
            error.downcast_ref::<Trap>(),
            Some(&Trap::UnreachableCodeReached)
        );
    }

    #[test]
    fn missing_sections_are_created() {
        for (text, functions) in [
            ("(module)", 1),
            (r#"(module (import "a" "b" (func)))"#, 1),
            (
                r#"(module (memory 1) (data (i32.const 0) "x") (@custom "c" "d"))"#,
                1,
            ),
            (
                r#"(module (type (func (param i32))) (global i32 (i32.const 1)))"#,
                1,
            ),
        ] {
            let module = rewritten(&wasm(text));
            let module = WasmModule::new(engine(), module).expect(text);
            assert_eq!(module.functions().len(), functions, "{text}");
        }
    }

    #[test]
    fn new_types_follow_recursion_groups() {
        let module = wasm(
            r#"(module
                (rec (type (struct)) (type $f (func)))
                (type (func (param i32)))
                (memory 1)
                (func (type 2) local.get 0 i32.const 0 i32.const 1 memory.fill))"#,
        );
        let out = rewritten(&module);
        assert!(wasmparser::validate(&out).is_ok());
        let code = bodies(&out);
        assert_eq!(code[0][3], "Call { function_index: 1 }");
        let functions: Vec<u32> = Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.expect("parses") {
                Payload::FunctionSection(s) => Some(s),
                _ => None,
            })
            .flat_map(|s| s.into_iter().map(|t| t.expect("a type")))
            .collect();
        // The stop type is index 3 (after the group's two and the lone one),
        // the helpers' type index 4.
        assert_eq!(functions, [2, 4, 3]);
    }

    #[test]
    fn other_memories_and_64_bit_memories_are_left_alone() {
        let multi = wasm(
            r#"(module (memory 1) (memory $b 1)
                (func (param i32 i32 i32)
                    local.get 0 local.get 1 local.get 2 memory.fill $b
                    local.get 0 local.get 1 local.get 2 memory.copy 0 $b
                    local.get 0 local.get 1 local.get 2 memory.copy 0 0))"#,
        );
        let code = bodies(&rewritten(&multi));
        assert_eq!(
            code.len(),
            1 + 1 + 1,
            "one helper (copy) and the stop function"
        );
        assert_eq!(
            code[0].iter().filter(|op| op.starts_with("Memory")).count(),
            2
        );
        let wide = wasm(
            r#"(module (memory i64 1)
                (func (param i64 i32 i64) local.get 0 local.get 1 local.get 2 memory.fill))"#,
        );
        let out = rewritten(&wide);
        assert!(wasmparser::validate(&out).is_ok());
        let code = bodies(&out);
        assert_eq!(code.len(), 2, "only the stop function is added");
        assert!(code[0].iter().any(|op| op.starts_with("MemoryFill")));
    }

    /// Every section but the type, function and code sections, as (id, bytes).
    /// Re-encoding writes the same bytes when the input's LEB128 numbers are
    /// minimal, as wat's and the guest toolchain's are.
    fn kept_sections(module: &[u8]) -> Vec<(u8, Vec<u8>)> {
        Parser::new(0)
            .parse_all(module)
            .filter_map(|payload| {
                let payload = payload.expect("parses");
                let (id, range) = payload.as_section()?;
                let kept = ![1, 3, 10].contains(&id);
                kept.then(|| (id, module[range].to_vec()))
            })
            .collect()
    }

    #[test]
    fn other_sections_are_kept() {
        let mut module = wasm(
            r#"(module
                (import "host" "f" (func))
                (table 2 funcref)
                (memory (export "memory") 1)
                (global (mut i32) (i32.const 0))
                (func $a (export "a") (param i32 i32 i32)
                    local.get 0 local.get 1 local.get 2 memory.copy)
                (func $start)
                (start $start)
                (elem (i32.const 0) $a $start)
                (data $d "passive")
                (func (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.init $d)
                (@custom "pappus.signature" "\01\02"))"#,
        );
        // A name section that does not parse is still kept (wasmtime ignores it).
        use wasm_encoder::Section;
        wasm_encoder::CustomSection {
            name: "name".into(),
            data: [0x01, 0xff, 0xff].as_slice().into(),
        }
        .append_to(&mut module);
        let out = rewritten(&module);
        assert_eq!(kept_sections(&out), kept_sections(&module));
        assert!(wasmparser::validate(&out).is_ok());
    }

    #[test]
    fn bytes_that_do_not_parse_are_refused_without_panicking() {
        for garbage in [&b""[..], b"garbage", b"\0asm\x01\0\0\0\x01\x05\xff"] {
            let error = rewrite(garbage).expect_err("an error");
            assert!(error.starts_with("cannot parse"), "{error}");
        }
        let component = rewrite(b"\0asm\x0d\0\x01\0").expect_err("an error");
        assert!(component.contains("component"), "{component}");
        // Every prefix and every one-byte corruption of a real module either
        // rewrites or fails with a message.
        let module = bulk_module(1);
        let module = &module[..module.len().min(400)];
        for end in 0..module.len() {
            let _ = rewrite(&module[..end]);
            let mut corrupted = module.to_vec();
            corrupted[end] ^= 0x5a;
            let _ = rewrite(&corrupted);
        }
    }

    #[test]
    fn every_example_guest_rewrites_and_still_works() {
        // Builds the guests if they are missing.
        pappus_testkit::wasm_path("identity");
        let dir = pappus_testkit::functions_dir().join("wasm");
        let mut helpers = 0;
        let mut guests = 0;
        for entry in std::fs::read_dir(&dir).expect("the guests' folder") {
            let path = entry.expect("an entry").path();
            if path.extension().is_none_or(|e| e != "wasm") {
                continue;
            }
            let module = std::fs::read(&path).expect("a guest");
            let out = rewritten(&module);
            let compiled = WasmModule::new(engine(), &out)
                .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            let original = WasmModule::new(engine(), &module).expect("compiles");
            let added = compiled.functions().len() - original.functions().len();
            helpers += added - 1;
            guests += 1;
            assert_eq!(kept_sections(&out), kept_sections(&module));
        }
        assert!(guests >= 20, "{guests} guests in {}", dir.display());
        assert!(helpers > 0, "no guest uses a bulk-memory instruction");
        // And they compute the same outputs.
        let runtime = crate::Runtime::new(crate::Config::new().pool_size(4)).expect("a runtime");
        let items = [
            crate::Item::new("b", 2, "some words to split, Ünïcode"),
            crate::Item::new("a", 1, "x".repeat(5000)),
            crate::Item::new("a", 1, ""),
        ];
        for (name, set) in [
            ("identity", "in"),
            ("upper", "in"),
            ("split_words", "text"),
            ("count", "in"),
            ("concat", "in"),
        ] {
            let module = pappus_testkit::wasm(name);
            let outputs = [module.clone(), rewritten(&module)].map(|bytes| {
                let f = runtime
                    .compile(name, &bytes, crate::Limits::default())
                    .expect("compiles");
                let input = [crate::InputSet {
                    name: set,
                    items: &items,
                }];
                runtime.run(&f, &input, None).expect("runs")
            });
            assert_eq!(outputs[0], outputs[1], "{name}");
        }
    }
}
