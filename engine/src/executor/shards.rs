//! Shard computation: how an application's input sets become shards.
//!
//! Pure functions over items, so that the sharding and join rules can be
//! tested as tables without running anything.
//!
//! An application's inputs are grouped into *dimensions*. Each input that is
//! not part of a `by` join is its own dimension; the inputs of a join form one
//! dimension together. A dimension is a list of *cells*, each holding one slice
//! of items per input of the dimension. The shards are the cross product of
//! the dimensions' cells.
//!
//! - `all`: one cell, the whole set.
//! - `each`: one cell per item.
//! - `keyed`: one cell per distinct key, in key order.
//! - `named`: one cell per distinct item name, in name order (byte order).
//! - A join, left-associative: rows start from the first input's key groups;
//!   `inner` keeps rows whose key the next input has, `left` keeps every row
//!   (with the next input's group of that key, or nothing), `right` keeps the
//!   next input's keys (with the matching rows, or nothing before), `outer`
//!   keeps both, `cross` pairs every row with every group of the next input. A
//!   row keeps its key through a `cross` (the left side's key).
//! - An empty input: if it is not optional the application does not run; if
//!   it is optional it contributes one empty cell (`all`, `each`, `keyed`, `named`,
//!   and the right side of a `cross`) or no groups (other join sides).

use std::collections::BTreeMap;
use std::sync::Arc;

use pappus_dsl::{Join, JoinKind, Mode};

use crate::Item;

/// An immutable, cheaply shared slice of items: one input of one shard.
pub(crate) type Unit = Arc<[Item]>;

/// A cell of a dimension: one unit per input of the dimension.
pub(crate) type Cell = Vec<Unit>;

/// One dimension of an application's shard space.
#[derive(Debug, Default)]
pub(crate) struct Dim {
    /// Indices (into the application's inputs) of the inputs of this dimension.
    pub inputs: Vec<usize>,
    /// The cells known so far.
    pub cells: Vec<Cell>,
    /// How many cells have been combined into launched shards.
    pub consumed: usize,
}

/// An empty unit.
pub(crate) fn empty_unit() -> Unit {
    Arc::from(Vec::new())
}

/// Items grouped by key, in key order.
pub(crate) fn key_groups(items: &[Item]) -> BTreeMap<u64, Vec<Item>> {
    let mut groups: BTreeMap<u64, Vec<Item>> = BTreeMap::new();
    for item in items {
        groups.entry(item.key).or_default().push(item.clone());
    }
    groups
}

/// Items grouped by name, in name order (byte order), each group in arrival order.
pub(crate) fn name_groups(items: &[Item]) -> BTreeMap<&str, Vec<Item>> {
    let mut groups: BTreeMap<&str, Vec<Item>> = BTreeMap::new();
    for item in items {
        groups
            .entry(item.name.as_str())
            .or_default()
            .push(item.clone());
    }
    groups
}

/// The cells of a single complete input in `mode`, or `None` when the input
/// is empty and not optional (the application must not run).
pub(crate) fn input_cells(items: &[Item], mode: &Mode, optional: bool) -> Option<Vec<Cell>> {
    if items.is_empty() {
        return optional.then(|| vec![vec![empty_unit()]]);
    }
    Some(match mode {
        Mode::All => vec![vec![Arc::from(items.to_vec())]],
        Mode::Each => items
            .iter()
            .map(|item| vec![Arc::from(vec![item.clone()])])
            .collect(),
        Mode::Keyed => key_groups(items)
            .into_values()
            .map(|group| vec![Arc::from(group)])
            .collect(),
        Mode::Named => name_groups(items)
            .into_values()
            .map(|group| vec![Arc::from(group)])
            .collect(),
    })
}

/// The cells of an `each` input for items that just arrived.
pub(crate) fn each_cells(items: &[Item]) -> impl Iterator<Item = Cell> + '_ {
    items.iter().map(|item| vec![Arc::from(vec![item.clone()])])
}

struct Row {
    key: u64,
    parts: Vec<Unit>,
}

/// The rows of a `by` join. `inputs[i]` is the items of the application's
/// input `i` and whether it is optional; the returned cells hold one unit per
/// joined input, in the order `join.first, join.rest...`. `None` when a joined
/// input is empty and not optional.
pub(crate) fn join_cells(inputs: &[(&[Item], bool)], join: &Join) -> Option<Dim> {
    let order: Vec<usize> = std::iter::once(join.first)
        .chain(join.rest.iter().map(|(_, i)| *i))
        .collect();
    for &i in &order {
        let (items, optional) = inputs.get(i)?;
        if items.is_empty() && !optional {
            return None;
        }
    }
    let first = inputs.get(join.first)?.0;
    let mut rows: Vec<Row> = key_groups(first)
        .into_iter()
        .map(|(key, group)| Row {
            key,
            parts: vec![Arc::from(group)],
        })
        .collect();
    for (width, (kind, index)) in join.rest.iter().enumerate() {
        // `width + 1` inputs are already in every row.
        let width = width + 1;
        let right: BTreeMap<u64, Unit> = key_groups(inputs.get(*index)?.0)
            .into_iter()
            .map(|(k, g)| (k, Arc::from(g)))
            .collect();
        rows = join_step(rows, &right, kind, width);
    }
    Some(Dim {
        inputs: order,
        cells: rows.into_iter().map(|r| r.parts).collect(),
        consumed: 0,
    })
}

fn join_step(
    left: Vec<Row>,
    right: &BTreeMap<u64, Unit>,
    kind: &JoinKind,
    width: usize,
) -> Vec<Row> {
    let with = |row: &Row, unit: Unit| {
        let mut parts = row.parts.clone();
        parts.push(unit);
        Row {
            key: row.key,
            parts,
        }
    };
    let padding = |key: u64, unit: &Unit| {
        let mut parts = vec![empty_unit(); width];
        parts.push(unit.clone());
        Row { key, parts }
    };
    let mut out = Vec::new();
    match kind {
        JoinKind::Inner => {
            for row in &left {
                if let Some(unit) = right.get(&row.key) {
                    out.push(with(row, unit.clone()));
                }
            }
        }
        JoinKind::Left => {
            for row in &left {
                let unit = right.get(&row.key).cloned().unwrap_or_else(empty_unit);
                out.push(with(row, unit));
            }
        }
        JoinKind::Right => {
            for (key, unit) in right {
                let mut matched = false;
                for row in left.iter().filter(|r| r.key == *key) {
                    matched = true;
                    out.push(with(row, unit.clone()));
                }
                if !matched {
                    out.push(padding(*key, unit));
                }
            }
        }
        JoinKind::Outer => {
            for row in &left {
                let unit = right.get(&row.key).cloned().unwrap_or_else(empty_unit);
                out.push(with(row, unit));
            }
            for (key, unit) in right {
                if !left.iter().any(|r| r.key == *key) {
                    out.push(padding(*key, unit));
                }
            }
        }
        JoinKind::Cross => {
            if right.is_empty() {
                for row in &left {
                    out.push(with(row, empty_unit()));
                }
            }
            for row in &left {
                for unit in right.values() {
                    out.push(with(row, unit.clone()));
                }
            }
        }
    }
    out
}

/// The shards formed by cells `new` of dimension `fresh` combined with the
/// already-consumed cells of every other dimension. Each shard has one unit
/// per application input (`n_inputs` of them; inputs in no dimension get an
/// empty unit).
pub(crate) fn product(
    n_inputs: usize,
    dims: &[Dim],
    fresh: usize,
    new: std::ops::Range<usize>,
) -> Vec<Vec<Unit>> {
    let mut shards: Vec<Vec<Unit>> = vec![vec![empty_unit(); n_inputs]];
    for (d, dim) in dims.iter().enumerate() {
        let cells = if d == fresh {
            dim.cells.get(new.clone()).unwrap_or(&[])
        } else {
            dim.cells.get(..dim.consumed).unwrap_or(&[])
        };
        let mut next = Vec::with_capacity(shards.len() * cells.len());
        for shard in &shards {
            for cell in cells {
                let mut s = shard.clone();
                for (slot, unit) in dim.inputs.iter().zip(cell) {
                    if let Some(place) = s.get_mut(*slot) {
                        *place = unit.clone();
                    }
                }
                next.push(s);
            }
        }
        shards = next;
        if shards.is_empty() {
            break;
        }
    }
    shards
}

/// How many shards [`product`] would build for the same arguments, computed
/// from the cell counts alone (so that a bound can be checked before anything
/// is allocated); `None` if the number does not fit in a `u64`.
pub(crate) fn product_len(dims: &[Dim], fresh: usize, new: std::ops::Range<usize>) -> Option<u64> {
    let mut len: u64 = 1;
    for (d, dim) in dims.iter().enumerate() {
        let cells = if d == fresh {
            dim.cells.get(new.clone()).map_or(0, <[Cell]>::len)
        } else {
            dim.cells.get(..dim.consumed).map_or(0, <[Cell]>::len)
        };
        len = len.checked_mul(u64::try_from(cells).ok()?)?;
        if len == 0 {
            break;
        }
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn items(spec: &[(&str, u64)]) -> Vec<Item> {
        spec.iter()
            .map(|(n, k)| Item::new(*n, *k, n.to_string()))
            .collect()
    }

    fn names(unit: &Unit) -> String {
        unit.iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }

    fn render(cells: &[Cell]) -> Vec<String> {
        cells
            .iter()
            .map(|c| c.iter().map(names).collect::<Vec<_>>().join("|"))
            .collect()
    }

    #[test]
    fn named_groups_by_name_not_key() {
        // (name, key): groups follow names in byte order, keys are ignored, and
        // each group keeps arrival order.
        let set = items(&[("b", 1), ("a", 1), ("b", 7), ("B", 1), ("a", 2), ("", 3)]);
        let cells = input_cells(&set, &Mode::Named, false).unwrap();
        let got: Vec<Vec<(String, u64)>> = cells
            .iter()
            .map(|c| c[0].iter().map(|i| (i.name.clone(), i.key)).collect())
            .collect();
        let want: Vec<Vec<(String, u64)>> = [
            vec![("", 3)],
            vec![("B", 1)],
            vec![("a", 1), ("a", 2)],
            vec![("b", 1), ("b", 7)],
        ]
        .iter()
        .map(|g| g.iter().map(|(n, k)| (n.to_string(), *k)).collect())
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn modes() {
        let set = items(&[("a", 2), ("b", 1), ("c", 2)]);
        type Case<'a> = (Mode, bool, &'a [Item], Option<Vec<&'a str>>);
        let table: &[Case<'_>] = &[
            (Mode::All, false, &set, Some(vec!["a+b+c"])),
            (Mode::Each, false, &set, Some(vec!["a", "b", "c"])),
            (Mode::Keyed, false, &set, Some(vec!["b", "a+c"])),
            (Mode::All, false, &[], None),
            (Mode::Each, false, &[], None),
            (Mode::Keyed, false, &[], None),
            (Mode::All, true, &[], Some(vec![""])),
            (Mode::Each, true, &[], Some(vec![""])),
            (Mode::Keyed, true, &[], Some(vec![""])),
            (Mode::Named, false, &set, Some(vec!["a", "b", "c"])),
            (Mode::Named, false, &[], None),
            (Mode::Named, true, &[], Some(vec![""])),
        ];
        for (mode, optional, input, want) in table {
            let got = input_cells(input, mode, *optional).map(|c| render(&c));
            let want = want
                .as_ref()
                .map(|w| w.iter().map(|s| s.to_string()).collect());
            assert_eq!(got, want, "{mode:?} optional={optional}");
        }
    }

    #[test]
    fn joins() {
        let a = items(&[("a1", 1), ("a2", 2), ("a2b", 2)]);
        let b = items(&[("b2", 2), ("b3", 3)]);
        let c = items(&[("c1", 1), ("c3", 3)]);
        let table: &[(JoinKind, Vec<&str>)] = &[
            (JoinKind::Inner, vec!["a2+a2b|b2"]),
            (JoinKind::Left, vec!["a1|", "a2+a2b|b2"]),
            (JoinKind::Right, vec!["a2+a2b|b2", "|b3"]),
            (JoinKind::Outer, vec!["a1|", "a2+a2b|b2", "|b3"]),
            (
                JoinKind::Cross,
                vec!["a1|b2", "a1|b3", "a2+a2b|b2", "a2+a2b|b3"],
            ),
        ];
        for (kind, want) in table {
            let join = Join {
                first: 0,
                rest: vec![(*kind, 1)],
            };
            let dim = join_cells(&[(&a, false), (&b, false)], &join).unwrap();
            assert_eq!(render(&dim.cells), *want, "{kind:?}");
            assert_eq!(dim.inputs, vec![0, 1]);
        }
        // Left-associative chain: (a outer b) inner c.
        let join = Join {
            first: 0,
            rest: vec![(JoinKind::Outer, 1), (JoinKind::Inner, 2)],
        };
        let dim = join_cells(&[(&a, false), (&b, false), (&c, false)], &join).unwrap();
        assert_eq!(render(&dim.cells), vec!["a1||c1", "|b3|c3"]);
        // Join order follows `by`, not parameter order: b left a.
        let join = Join {
            first: 1,
            rest: vec![(JoinKind::Left, 0)],
        };
        let dim = join_cells(&[(&a, false), (&b, false)], &join).unwrap();
        assert_eq!(dim.inputs, vec![1, 0]);
        assert_eq!(render(&dim.cells), vec!["b2|a2+a2b", "b3|"]);
    }

    #[test]
    fn joins_with_empty_inputs() {
        let a = items(&[("a1", 1)]);
        let join = |kind| Join {
            first: 0,
            rest: vec![(kind, 1)],
        };
        assert!(join_cells(&[(&a, false), (&[], false)], &join(JoinKind::Left)).is_none());
        let left = join_cells(&[(&a, false), (&[], true)], &join(JoinKind::Left)).unwrap();
        assert_eq!(render(&left.cells), vec!["a1|"]);
        let inner = join_cells(&[(&a, false), (&[], true)], &join(JoinKind::Inner)).unwrap();
        assert!(inner.cells.is_empty());
        let cross = join_cells(&[(&a, false), (&[], true)], &join(JoinKind::Cross)).unwrap();
        assert_eq!(render(&cross.cells), vec!["a1|"]);
        let right = join_cells(&[(&[], true), (&a, false)], &join(JoinKind::Right)).unwrap();
        assert_eq!(render(&right.cells), vec!["|a1"]);
    }

    #[test]
    fn incremental_product_generates_each_pair_once() {
        let mut dims = vec![
            Dim {
                inputs: vec![0],
                ..Dim::default()
            },
            Dim {
                inputs: vec![2],
                ..Dim::default()
            },
        ];
        let mut all = Vec::new();
        let arrivals = [(0, "x"), (1, "p"), (0, "y"), (1, "q"), (1, "r")];
        for (d, name) in arrivals {
            let before = dims[d].cells.len();
            dims[d]
                .cells
                .push(vec![Arc::from(vec![Item::new(name, 0, "")])]);
            let after = dims[d].cells.len();
            for shard in product(3, &dims, d, before..after) {
                assert!(shard[1].is_empty());
                all.push(format!("{}{}", names(&shard[0]), names(&shard[2])));
            }
            dims[d].consumed = after;
        }
        all.sort();
        assert_eq!(all, ["xp", "xq", "xr", "yp", "yq", "yr"]);
    }

    #[test]
    fn product_len_counts_without_building() {
        let cells = |n: usize| -> Vec<Cell> { (0..n).map(|_| vec![empty_unit()]).collect() };
        let dim = |n: usize, consumed: usize| Dim {
            inputs: vec![0],
            cells: cells(n),
            consumed,
        };
        let dims = vec![dim(3, 3), dim(4, 2), dim(5, 5)];
        for (fresh, new) in [(usize::MAX, 0..0), (1, 2..4), (0, 1..3), (2, 0..0)] {
            assert_eq!(
                product_len(&dims, fresh, new.clone()),
                Some(product(3, &dims, fresh, new.clone()).len() as u64),
                "fresh {fresh} new {new:?}"
            );
        }
        assert_eq!(product_len(&[], usize::MAX, 0..0), Some(1));
        // 2^64 overflows; an empty dimension makes it zero whatever follows.
        let huge: Vec<Dim> = (0..64).map(|_| dim(2, 2)).collect();
        assert_eq!(product_len(&huge, usize::MAX, 0..0), None);
        let mut zero = vec![dim(0, 0)];
        zero.extend((0..64).map(|_| dim(2, 2)));
        assert_eq!(product_len(&zero, usize::MAX, 0..0), Some(0));
    }
}
