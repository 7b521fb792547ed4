//! Guests that lie in their output descriptors: the host reads at most the
//! function's output limit, counting every set and item, and says why it
//! stopped.

use pappus_isolation::{Error, InputSet, Limits};

use crate::counting_alloc::allocated_by;
use crate::support::{item, runtime};

/// A guest that reports `sets` output sets, all sharing one table of `items`
/// empty items (a 16-byte set descriptor each from 4096, the item table at
/// 17 MiB), within a 64 MiB memory.
fn liar(sets: u32, items: u32) -> String {
    format!(
        r#"(module
  (memory (export "memory") 920)
  (func (export "pappus_entry") (param $base i32) (result i32)
    (local $i i32)
    ;; the output descriptor at 1024: set count, set table
    (i32.store (i32.const 1024) (i32.const {sets}))
    (i32.store (i32.const 1028) (i32.const 4096))
    (i32.store (i32.add (local.get $base) (i32.const 20)) (i32.const 1024))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {sets})))
        (i32.store offset=8 (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 4)))
          (i32.const 17825792))
        (i32.store offset=12 (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 4)))
          (i32.const {items}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0)))"#
    )
}

fn run_liar(sets: u32, items: u32, limit: u64) -> (Error, u64) {
    let rt = runtime();
    let limits = Limits {
        max_output_bytes: limit,
        ..Limits::default()
    };
    let f = rt
        .compile("liar", liar(sets, items).as_bytes(), limits)
        .unwrap_or_else(|e| panic!("compiling the liar: {e}"));
    let inputs = [item("a", 0, b"x")];
    let (res, allocated) = allocated_by(|| {
        rt.run(
            &f,
            &[InputSet {
                name: "in",
                items: &inputs,
            }],
            None,
        )
    });
    (
        res.expect_err("a lying guest's outputs were accepted"),
        allocated,
    )
}

#[test]
fn a_million_sets_sharing_a_huge_item_table_are_refused_within_the_limit() {
    // 1,000,000 sets x 1,700,000 items: 1.7e12 items if read, in a 64 MiB guest.
    let limit = 1 << 20;
    let (err, allocated) = run_liar(1_000_000, 1_700_000, limit);
    assert_eq!(err.kind(), "output_too_large", "{err}");
    assert!(err.to_string().contains("liar"), "{err}");
    assert!(
        allocated < 2 * limit,
        "the host allocated {allocated} bytes for outputs limited to {limit}"
    );
}

#[test]
fn one_set_claiming_millions_of_empty_items_is_refused() {
    let limit = 1 << 20;
    let (err, allocated) = run_liar(1, 1_700_000, limit);
    assert!(
        matches!(err, Error::OutputTooLarge { limit_bytes, .. } if limit_bytes == limit),
        "{err:?}"
    );
    assert!(allocated < 2 * limit, "allocated {allocated} bytes");
}

#[test]
fn many_empty_sets_count_against_the_limit() {
    // 20,000 empty sets with no items would be 20,000 host allocations for
    // nothing; they are charged for what the host holds per set.
    let limit = 64 * 1024;
    let (err, allocated) = run_liar(20_000, 0, limit);
    assert_eq!(err.kind(), "output_too_large", "{err}");
    assert!(allocated < 2 * limit, "allocated {allocated} bytes");
}
