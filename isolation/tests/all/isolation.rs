//! No state survives between calls: memory, globals and earlier inputs are gone.

use pappus_isolation::{InputSet, Limits};

use crate::support::{function, item, run1, runtime};

/// A guest that reports its entire linear memory as one item, with
/// key = 1000 * (a counter in a global) + (a counter in memory): always 1001 when
/// every call starts from a fresh instance.
const SNOOP: &str = r#"(module
    (memory (export "memory") 1)
    (global $calls (mut i32) (i32.const 0))
    (data (i32.const 200) "out")
    (func (export "pappus_entry") (param $region i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.const 1)))
        ;; output descriptor at 128: one set at 144
        (i32.store (i32.const 128) (i32.const 1))
        (i32.store (i32.const 132) (i32.const 144))
        ;; set "out" with one item at 160
        (i32.store (i32.const 144) (i32.const 200))
        (i32.store (i32.const 148) (i32.const 3))
        (i32.store (i32.const 152) (i32.const 160))
        (i32.store (i32.const 156) (i32.const 1))
        ;; item "out": key, data = all of memory
        (i32.store (i32.const 160) (i32.const 200))
        (i32.store (i32.const 164) (i32.const 3))
        (i64.store (i32.const 168) (i64.extend_i32_u
            (i32.add (i32.mul (global.get $calls) (i32.const 1000)) (i32.load (i32.const 64)))))
        (i32.store (i32.const 176) (i32.const 0))
        (i32.store (i32.const 180) (i32.mul (memory.size) (i32.const 65536)))
        (i32.store offset=20 (local.get $region) (i32.const 128))
        i32.const 0))"#;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_call_cannot_see_earlier_inputs_outputs_or_state() {
    let rt = runtime();
    let snoop = rt
        .compile("snoop", SNOOP.as_bytes(), Limits::default())
        .expect("snoop");
    let upper = function(&rt, "upper");
    let secret = b"secret-4b1d-input";
    let upper_secret = b"SECRET-4B1D-INPUT";

    let first = run1(&rt, &snoop, "in", &[item("s", 1, secret)]);
    let memory = &first[0].items[0];
    assert_eq!(memory.key, 1001);
    assert!(
        contains(&memory.data, secret),
        "the guest sees its own inputs"
    );

    // Another function processes the secret; its outputs live in guest memory too.
    let out = run1(&rt, &upper, "in", &[item("s", 1, secret)]);
    assert_eq!(out[0].items[0].data, &upper_secret[..]);

    for _ in 0..3 {
        let next = run1(&rt, &snoop, "in", &[item("t", 2, b"harmless")]);
        let memory = &next[0].items[0];
        assert_eq!(memory.key, 1001, "state survived between calls");
        assert!(
            !contains(&memory.data, secret),
            "a previous call's input is visible"
        );
        assert!(
            !contains(&memory.data, upper_secret),
            "a previous call's output is visible"
        );
        assert!(contains(&memory.data, b"harmless"));
    }
}

#[test]
fn inputs_are_placed_exactly() {
    let rt = runtime();
    let f = function(&rt, "identity");
    // Odd sizes exercise the 8-byte padding; one item is large.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let items = vec![
        item("odd", 3, b"abc"),
        item("", u64::MAX, b""),
        item("big", 7, &big),
        item("ünïcödé", 0, b"\x00\xff"),
    ];
    let out = rt
        .run(
            &f,
            &[InputSet {
                name: "in",
                items: &items,
            }],
            None,
        )
        .expect("identity");
    assert_eq!(out[0].items, items);
}
