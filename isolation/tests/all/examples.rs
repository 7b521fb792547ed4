//! The exact behaviour of every example guest function.

use pappus_isolation::{InputSet, Item, OutputSet};

use crate::support::{function, item, run1, runtime};

fn only_set(out: Vec<OutputSet>, name: &str) -> Vec<Item> {
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].name, name);
    out.into_iter().next().map(|s| s.items).unwrap_or_default()
}

#[test]
fn identity_copies_every_item() {
    let rt = runtime();
    let f = function(&rt, "identity");
    let items = vec![item("a", 1, b"x"), item("b", 2, b"yy"), item("", 0, b"")];
    assert_eq!(only_set(run1(&rt, &f, "in", &items), "out"), items);
    assert_eq!(only_set(run1(&rt, &f, "in", &[]), "out"), vec![]);
}

#[test]
fn upper_uppercases_ascii_only() {
    let rt = runtime();
    let f = function(&rt, "upper");
    let items = [
        item("greeting", 9, "Hello, wörld!".as_bytes()),
        item("b", 1, b"abc"),
    ];
    let out = only_set(run1(&rt, &f, "in", &items), "out");
    assert_eq!(
        out,
        vec![
            item("greeting", 9, "HELLO, WöRLD!".as_bytes()),
            item("b", 1, b"ABC")
        ]
    );
}

#[test]
fn split_words_emits_one_item_per_word_in_order() {
    let rt = runtime();
    let f = function(&rt, "split_words");
    let items = [
        item("t1", 5, b"  the quick\tbrown\n fox "),
        item("t2", 6, b"jumps"),
    ];
    let out = only_set(run1(&rt, &f, "text", &items), "words");
    let expected: Vec<Item> = ["the", "quick", "brown", "fox", "jumps"]
        .iter()
        .map(|w| item(w, w.len() as u64, w.as_bytes()))
        .collect();
    assert_eq!(out, expected);
}

#[test]
fn count_counts_items_per_name_in_name_order() {
    let rt = runtime();
    let f = function(&rt, "count");
    let items = [
        item("b", 2, b"1"),
        item("a", 5, b"2"),
        item("c", 9, b"3"),
        item("a", 3, b"4"),
        item("a", 7, b"5"),
    ];
    let out = only_set(run1(&rt, &f, "in", &items), "counts");
    assert_eq!(
        out,
        vec![item("a", 3, b"3"), item("b", 2, b"1"), item("c", 9, b"1")]
    );
    // Multi-digit counts.
    let many: Vec<Item> = (0..12).map(|k| item("x", 100 - k, b"")).collect();
    assert_eq!(
        only_set(run1(&rt, &f, "in", &many), "counts"),
        vec![item("x", 89, b"12")]
    );
}

#[test]
fn concat_joins_data_in_key_then_name_order() {
    let rt = runtime();
    let f = function(&rt, "concat");
    let items = [item("b", 2, b"B"), item("z", 1, b"Z"), item("a", 1, b"A")];
    assert_eq!(
        only_set(run1(&rt, &f, "in", &items), "out"),
        vec![item("concat", 0, b"AZB")]
    );
    assert_eq!(
        only_set(run1(&rt, &f, "in", &[]), "out"),
        vec![item("concat", 0, b"")]
    );
}

#[test]
fn merge_joins_a_then_b_with_a_bar() {
    let rt = runtime();
    let f = function(&rt, "merge");
    let a = [item("x", 3, b"X3"), item("y", 1, b"Y1")];
    let b = [item("p", 2, b"P2"), item("o", 2, b"O2")];
    let run = |a: &[Item], b: &[Item]| {
        let sets = [
            InputSet {
                name: "a",
                items: a,
            },
            InputSet {
                name: "b",
                items: b,
            },
        ];
        only_set(rt.run(&f, &sets, None).expect("merge"), "out")
    };
    assert_eq!(run(&a, &b), vec![item("merge", 1, b"Y1X3|O2P2")]);
    assert_eq!(run(&[], &b), vec![item("merge", 2, b"|O2P2")]);
    assert_eq!(run(&a, &[]), vec![item("merge", 1, b"Y1X3|")]);
    assert_eq!(run(&[], &[]), vec![item("merge", 0, b"|")]);
}

fn matrix(n: u64, cells: &[u64]) -> Vec<u8> {
    std::iter::once(n)
        .chain(cells.iter().copied())
        .flat_map(u64::to_le_bytes)
        .collect()
}

#[test]
fn matmul_squares_each_matrix_with_wrapping() {
    let rt = runtime();
    let f = function(&rt, "matmul");
    let n = 5usize;
    let a: Vec<u64> = (0..n * n)
        .map(|i| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect();
    let mut c = vec![0u64; n * n];
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                c[i * n + j] = c[i * n + j].wrapping_add(a[i * n + k].wrapping_mul(a[k * n + j]));
            }
        }
    }
    let items = [
        item("m", 42, &matrix(n as u64, &a)),
        item("one", 1, &matrix(1, &[3])),
    ];
    let out = only_set(run1(&rt, &f, "in", &items), "out");
    assert_eq!(
        out,
        vec![
            item("m", 42, &matrix(n as u64, &c)),
            item("one", 1, &matrix(1, &[9]))
        ]
    );
    // A malformed matrix is bad input (status 2).
    let bad = [item("m", 0, &matrix(3, &[1, 2]))];
    let err = rt
        .run(
            &f,
            &[InputSet {
                name: "in",
                items: &bad,
            }],
            None,
        )
        .expect_err("malformed");
    assert!(
        matches!(err, pappus_isolation::Error::GuestError { status: 2, .. }),
        "{err}"
    );
}

#[test]
fn noop_echoes_the_first_item_only() {
    let rt = runtime();
    let f = function(&rt, "noop");
    let items = [item("first", 1, &[5u8; 1024]), item("second", 2, b"x")];
    assert_eq!(
        only_set(run1(&rt, &f, "in", &items), "out"),
        vec![items[0].clone()]
    );
    assert!(rt.run(&f, &[], None).expect("noop").is_empty());
}

#[test]
fn sets_bind_by_position_when_names_differ() {
    let rt = runtime();
    let f = function(&rt, "upper");
    let out = only_set(run1(&rt, &f, "whatever", &[item("a", 0, b"q")]), "out");
    assert_eq!(out, vec![item("a", 0, b"Q")]);
}
