//! Where the input region lies (`docs/abi.md`, "One call"): at the module's
//! declared initial memory size, in pages a fresh instance already has when the
//! region fits the input area, and within the function's memory limit.

use pappus_isolation::{Error, Function, InputSet, Limits, Runtime};

use crate::support::{item, runtime};

const PAGE: u64 = 65536;
/// The input area's size when neither the limit nor a declared maximum clips it.
const AREA: u64 = 256 << 10;

/// A guest with a 2-page initial memory that reports, as four little-endian
/// `u32`: the region's address, the memory size at entry in bytes, what
/// `memory.grow(1)` returned, and the region's length. `START` is replaced by a
/// start function, or by nothing.
const PROBE: &str = r#"(module
    (memory (export "memory") 2 MAX)
    (data (i32.const 200) "out")
    START
    (func (export "pappus_entry") (param $r i32) (result i32)
        (i32.store (i32.const 240) (local.get $r))
        (i32.store (i32.const 244) (i32.mul (memory.size) (i32.const 65536)))
        (i32.store (i32.const 248) (memory.grow (i32.const 1)))
        (i32.store (i32.const 252) (i32.load offset=8 (local.get $r)))
        ;; output descriptor at 128: one set at 144, named "out", one item at 160
        (i32.store (i32.const 128) (i32.const 1))
        (i32.store (i32.const 132) (i32.const 144))
        (i32.store (i32.const 144) (i32.const 200))
        (i32.store (i32.const 148) (i32.const 3))
        (i32.store (i32.const 152) (i32.const 160))
        (i32.store (i32.const 156) (i32.const 1))
        (i32.store (i32.const 160) (i32.const 200))
        (i32.store (i32.const 164) (i32.const 3))
        (i32.store (i32.const 176) (i32.const 240))
        (i32.store (i32.const 180) (i32.const 16))
        (i32.store offset=20 (local.get $r) (i32.const 128))
        i32.const 0))"#;

fn probe(rt: &Runtime, start: &str, max: &str, limits: Limits) -> Function {
    let text = PROBE.replace("START", start).replace("MAX", max);
    rt.compile("probe", text.as_bytes(), limits)
        .expect("probe compiles")
}

/// What the probe saw: (region, size, grow result, region length).
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    region: u64,
    size: u64,
    grown_from: u32,
    region_len: u64,
}

fn call(rt: &Runtime, f: &Function, data_len: usize) -> Result<Seen, Error> {
    let items = [item("x", 0, &vec![1u8; data_len])];
    let out = rt.run(
        f,
        &[InputSet {
            name: "in",
            items: &items,
        }],
        None,
    )?;
    let data = &out[0].items[0].data;
    let word = |i: usize| u32::from_le_bytes(data[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
    Ok(Seen {
        region: u64::from(word(0)),
        size: u64::from(word(1)),
        grown_from: word(2),
        region_len: u64::from(word(3)),
    })
}

fn whole_pages(bytes: u64) -> u64 {
    bytes.div_ceil(PAGE) * PAGE
}

#[test]
fn a_small_region_sits_in_the_area_above_the_initial_memory() {
    let rt = runtime();
    let f = probe(&rt, "", "", Limits::default());
    for _ in 0..3 {
        let seen = call(&rt, &f, 1024).expect("small call");
        assert_eq!(seen.region, 2 * PAGE, "{seen:?}");
        assert_eq!(seen.size, 2 * PAGE + AREA, "{seen:?}");
        // The guest's own growth comes above the area.
        assert_eq!(u64::from(seen.grown_from) * PAGE, seen.size, "{seen:?}");
    }
}

#[test]
fn a_region_larger_than_the_area_stays_in_one_piece() {
    let rt = runtime();
    let f = probe(&rt, "", "", Limits::default());
    let seen = call(&rt, &f, 400 << 10).expect("large call");
    assert_eq!(seen.region, 2 * PAGE, "{seen:?}");
    assert!(seen.region_len > AREA, "{seen:?}");
    assert_eq!(
        seen.size,
        seen.region + whole_pages(seen.region_len),
        "{seen:?}"
    );
    assert_eq!(u64::from(seen.grown_from) * PAGE, seen.size, "{seen:?}");
}

#[test]
fn a_module_with_a_start_function_gets_its_region_above_everything() {
    let rt = runtime();
    // The start function grows the memory by one page before any call.
    let start = "(func $s (drop (memory.grow (i32.const 1)))) (start $s)";
    let f = probe(&rt, start, "", Limits::default());
    let seen = call(&rt, &f, 1024).expect("call");
    assert_eq!(seen.region, 3 * PAGE, "{seen:?}");
    assert_eq!(
        seen.size,
        seen.region + whole_pages(seen.region_len),
        "{seen:?}"
    );
}

#[test]
fn the_area_counts_against_the_declared_maximum_and_the_memory_limit() {
    let rt = runtime();
    // A declared maximum one page above the minimum: the area is that page.
    let f = probe(&rt, "", "3", Limits::default());
    let seen = call(&rt, &f, 1024).expect("small call");
    assert_eq!((seen.region, seen.size), (2 * PAGE, 3 * PAGE), "{seen:?}");
    assert_eq!(
        seen.grown_from,
        u32::MAX,
        "the guest cannot grow past its maximum"
    );

    // A limit one page above the minimum: the same, and a region of two pages
    // does not fit.
    let limits = Limits {
        memory_bytes: 3 * PAGE,
        ..Limits::default()
    };
    let f = probe(&rt, "", "", limits);
    let seen = call(&rt, &f, 1024).expect("small call");
    assert_eq!((seen.region, seen.size), (2 * PAGE, 3 * PAGE), "{seen:?}");
    assert_eq!(
        seen.grown_from,
        u32::MAX,
        "the guest cannot grow past its limit"
    );
    let err = call(&rt, &f, 100 << 10).expect_err("two pages of input");
    assert!(
        matches!(err, Error::MemoryLimit { limit_bytes, .. } if limit_bytes == 3 * PAGE),
        "{err}"
    );
}

#[test]
fn a_data_segment_beyond_the_initial_memory_still_fails_to_instantiate() {
    let rt = runtime();
    let text = r#"(module
        (memory (export "memory") 1)
        (data (i32.const 65535) "ab")
        (func (export "pappus_entry") (param i32) (result i32) i32.const 0))"#;
    let f = rt
        .compile("spill", text.as_bytes(), Limits::default())
        .expect("compiles");
    let err = rt
        .run(&f, &[], None)
        .expect_err("out-of-bounds data segment");
    assert!(matches!(err, Error::Trap { .. }), "{err}");
}
