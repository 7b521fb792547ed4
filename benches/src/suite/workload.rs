//! The requests the suite sends: each workload's input, how its answer is
//! checked, and the callers that send it in-process and to the daemon.

use std::net::SocketAddr;
use std::time::Duration;

use pappus_engine::{json, Bytes, Engine, Item, Sets};

use crate::daemon::{invoke_json, invoke_json_path, invoke_path, invoke_raw};
use crate::http::Connection;
use crate::loadgen::{self, Bounds, Mode, RunResult};
use crate::{kernels, workloads};

/// One request's input and expected output.
pub(super) struct Workload {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) function: &'static str,
    pub(super) composition: String,
    /// The input set whose one item is the request's body, and the output set
    /// whose one item is the answer.
    pub(super) input_set: &'static str,
    pub(super) output_set: &'static str,
    pub(super) input: Bytes,
    pub(super) expected: Vec<u8>,
    /// When not empty, a correct answer contains every one of these instead of
    /// being `expected` byte for byte.
    pub(super) contains: &'static [&'static str],
    /// Run the native, container and wasmtime baselines too.
    pub(super) baselines: bool,
    /// Run the container baselines (slow) too.
    pub(super) containers: bool,
    /// When not empty, the request's input set holds these items instead (item
    /// `i` with key `i`, sent to the daemon as a JSON body), `input`,
    /// `expected` and `contains` are unused, and a correct answer's output set
    /// holds one item per input with the same key.
    pub(super) items: Vec<ItemCase>,
}

/// One item of a request sending several: its bytes, and what the answer's
/// item with the same key must hold.
pub(super) struct ItemCase {
    pub(super) input: Bytes,
    pub(super) expected: Vec<u8>,
}

/// The bytes of each item of a fan-out request.
const FAN_OUT_ITEM: usize = 256;

/// Every workload the suite runs through each mode, in report order.
pub(super) fn all() -> Vec<Workload> {
    let mut all = Vec::new();
    for n in [3u64, 128] {
        let input = workloads::matrix(n);
        all.push(Workload {
            id: format!("matmul{n}"),
            title: format!("matmul {n}x{n}"),
            function: "matmul",
            composition: "MatMul".into(),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: kernels::matmul(&input).unwrap_or_default(),
            input: input.into(),
            baselines: true,
            containers: true,
            items: Vec::new(),
        });
    }
    // Dandelion's workload, A·Aᵀ (the rows stream in order), beside the A·A above.
    let input = workloads::matrix(128);
    all.push(Workload {
        id: "matmul_aat128".into(),
        title: "matmul A·Aᵀ 128x128".into(),
        function: "matmul_aat",
        composition: "MatMulAat".into(),
        input_set: "In",
        output_set: "Out",
        contains: &[],
        expected: kernels::matmul_aat(&input).unwrap_or_default(),
        input: input.into(),
        baselines: true,
        containers: false,
        items: Vec::new(),
    });
    for (kib, label) in [(64usize, "64 KiB"), (256, "256 KiB"), (1024, "1 MiB")] {
        let input = workloads::log_text(kib * 1024);
        all.push(Workload {
            id: format!("compress{kib}k"),
            title: format!("compress {label}"),
            function: "compress",
            composition: "Compress".into(),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: kernels::compress(&input),
            input: input.into(),
            baselines: true,
            containers: kib == 1024,
            items: Vec::new(),
        });
    }
    for n in [1usize, 2, 4, 8, 16] {
        let input = workloads::log_text(4096);
        all.push(Workload {
            id: format!("chain{n}"),
            title: format!("chain of {n} (4 KiB)"),
            function: "upper",
            composition: format!("Chain{n}"),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: input.to_ascii_uppercase(),
            input: input.into(),
            baselines: false,
            containers: false,
            items: Vec::new(),
        });
    }
    for n in [1usize, 16] {
        let text = workloads::log_text(n * FAN_OUT_ITEM);
        all.push(Workload {
            id: format!("fanout{n}"),
            title: format!("fan-out of {n} ({FAN_OUT_ITEM} B each)"),
            function: "upper",
            composition: format!("FanOut{n}"),
            input_set: "In",
            output_set: "Out",
            input: Bytes::new(),
            expected: Vec::new(),
            contains: &[],
            baselines: false,
            containers: false,
            items: text
                .chunks(FAN_OUT_ITEM)
                .map(|chunk| ItemCase {
                    input: chunk.to_vec().into(),
                    expected: chunk.to_ascii_uppercase(),
                })
                .collect(),
        });
    }
    all
}

/// The compositions the workloads use, from `examples/`.
pub(super) const COMPOSITIONS: [&str; 4] = [
    "examples/matmul-bench/matmul.pap",
    "examples/compress/compress.pap",
    "examples/chain/chain.pap",
    "examples/fan-out/fan-out.pap",
];
/// The functions the workloads call, from `examples/functions/wasm/`.
pub(super) const FUNCTIONS: [&str; 5] = ["matmul", "matmul_aat", "compress", "upper", "noop"];

/// One mode's outcome: numbers, or why there are none.
pub(super) struct Outcome {
    pub(super) mode: String,
    pub(super) run: Option<RunResult>,
    pub(super) note: String,
}

impl Outcome {
    pub(super) fn skipped(mode: &str, note: impl Into<String>) -> Outcome {
        Outcome {
            mode: mode.to_string(),
            run: None,
            note: note.into(),
        }
    }
}

/// Runs `make()`'s caller once as a probe (answering its error message), then
/// sequentially within `bounds`.
pub(super) fn sequential<F, C>(mode: &str, bounds: Bounds, warmup: u64, make: F) -> Outcome
where
    F: Fn() -> C + Sync,
    C: FnMut() -> Result<(), String>,
{
    let mut probe = make();
    for _ in 0..warmup.max(1) {
        if let Err(e) = probe() {
            return Outcome::skipped(mode, format!("failed: {e}"));
        }
    }
    drop(probe);
    let run = loadgen::run(Mode::Closed { clients: 1 }, bounds, make);
    Outcome {
        mode: mode.to_string(),
        run: Some(run),
        note: String::new(),
    }
}

/// `Ok` if `out` is `expected` byte for byte, else `wrong_output`.
pub(super) fn check(out: &[u8], expected: &[u8]) -> Result<(), String> {
    verdict(out == expected)
}

/// `Ok` for a correct answer, else the `wrong_output` error kind.
pub(super) fn verdict(correct: bool) -> Result<(), String> {
    if correct {
        Ok(())
    } else {
        Err("wrong_output".to_string())
    }
}

impl Workload {
    /// Whether `out` is a correct answer (`wrong_output` if not).
    pub(super) fn check(&self, out: &[u8]) -> Result<(), String> {
        if self.contains.is_empty() {
            return check(out, &self.expected);
        }
        let text = String::from_utf8_lossy(out);
        verdict(self.contains.iter().all(|s| text.contains(s)))
    }

    /// The input sets of a several-item request: item `i` named `item{i}`
    /// with key `i`.
    fn item_sets(&self) -> Sets {
        let items = self
            .items
            .iter()
            .zip(0u64..)
            .map(|(case, key)| Item::new(format!("item{key}"), key, case.input.clone()))
            .collect();
        Sets::from([(self.input_set.to_string(), items)])
    }

    /// Whether `out`, the output set's items of a several-item request, holds
    /// exactly one item per input, with its key, holding what that input
    /// expects (`wrong_output` if not; `no_output` without the set).
    pub(super) fn check_items(&self, out: Option<&[Item]>) -> Result<(), String> {
        let Some(out) = out else {
            return Err("no_output".to_string());
        };
        let mut by_key: Vec<&Item> = out.iter().collect();
        by_key.sort_by_key(|item| item.key);
        verdict(
            by_key.len() == self.items.len()
                && by_key
                    .iter()
                    .zip(&self.items)
                    .zip(0u64..)
                    .all(|((item, case), key)| item.key == key && item.data == case.expected),
        )
    }

    /// Whether `answer`, the daemon's JSON answer to a several-item request,
    /// is correct (see [`check_items`](Self::check_items); an answer that is
    /// not set JSON is `wrong_output`).
    pub(super) fn check_json(&self, answer: &[u8]) -> Result<(), String> {
        let sets = json::parse_sets(answer).map_err(|_| "wrong_output".to_string())?;
        self.check_items(sets.get(self.output_set).map(Vec::as_slice))
    }
}

/// A caller for the daemon's invoke endpoint (a raw body, or JSON for a
/// several-item request), checking every answer.
pub(super) fn daemon_caller<'a>(
    addr: SocketAddr,
    w: &'a Workload,
) -> impl FnMut() -> Result<(), String> + 'a {
    let mut conn = Connection::new(addr, Duration::from_secs(30));
    // A raw body for one item, the JSON set form for several.
    let raw = w.items.is_empty();
    let (path, body) = if raw {
        (invoke_path(&w.composition, w.input_set), Vec::new())
    } else {
        let body = json::render_sets(&w.item_sets()).into_bytes();
        (invoke_json_path(&w.composition), body)
    };
    move || {
        if raw {
            w.check(&invoke_raw(&mut conn, &path, &w.input)?)
        } else {
            w.check_json(&invoke_json(&mut conn, &path, &body)?)
        }
    }
}

/// A caller for [`Engine::invoke`], checking every answer.
pub(super) fn inproc_caller<'a>(
    engine: &'a Engine,
    w: &'a Workload,
) -> impl FnMut() -> Result<(), String> + 'a {
    move || {
        if !w.items.is_empty() {
            let answer = engine
                .invoke(&w.composition, w.item_sets())
                .map_err(|e| format!("{} ({e})", e.kind()))?;
            return w.check_items(answer.outputs.get(w.output_set).map(Vec::as_slice));
        }
        let mut sets = Sets::new();
        sets.insert(w.input_set.into(), vec![Item::new("x", 0, w.input.clone())]);
        let answer = engine
            .invoke(&w.composition, sets)
            .map_err(|e| format!("{} ({e})", e.kind()))?;
        match answer
            .outputs
            .get(w.output_set)
            .and_then(|items| items.first())
        {
            Some(item) => w.check(&item.data),
            None => Err("no_output".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fan_out_16() -> Workload {
        all()
            .into_iter()
            .find(|w| w.id == "fanout16")
            .expect("the fanout16 workload")
    }

    /// What a correct daemon would answer: the inputs' sets with each item
    /// uppercased, in the output set, in the JSON form.
    fn answer(w: &Workload, change: impl Fn(&mut Vec<Item>)) -> Vec<u8> {
        let mut items = w.item_sets().remove(w.input_set).unwrap_or_default();
        for item in &mut items {
            item.data = item.data.to_ascii_uppercase().into();
        }
        change(&mut items);
        json::render_sets(&Sets::from([(w.output_set.to_string(), items)])).into_bytes()
    }

    #[test]
    fn a_fan_out_request_sends_sixteen_items_of_log_text_as_json() {
        let w = fan_out_16();
        let sets = json::parse_sets(json::render_sets(&w.item_sets()).as_bytes())
            .expect("the request body is set JSON");
        let items = &sets[w.input_set];
        assert_eq!(items.len(), 16);
        assert!(items.iter().all(|item| item.data.len() == FAN_OUT_ITEM));
        assert_ne!(items[0].data, items[1].data);
    }

    #[test]
    fn the_correct_fan_out_answer_passes_in_any_order() {
        let w = fan_out_16();
        assert_eq!(w.check_json(&answer(&w, |_| {})), Ok(()));
        let reversed = answer(&w, |items| items.reverse());
        assert_eq!(w.check_json(&reversed), Ok(()));
        let sets = json::parse_sets(&reversed).expect("set JSON");
        assert_eq!(w.check_items(sets.get("Out").map(Vec::as_slice)), Ok(()));
    }

    #[test]
    fn a_wrong_missing_or_extra_fan_out_item_fails() {
        let w = fan_out_16();
        let wrong = |change: fn(&mut Vec<Item>)| w.check_json(&answer(&w, change));
        let bad = Err("wrong_output".to_string());
        assert_eq!(wrong(|items| items[3].data = "x".into()), bad);
        assert_eq!(wrong(|items| items[3].data = items[4].data.clone()), bad);
        assert_eq!(wrong(|items| drop(items.pop())), bad);
        assert_eq!(wrong(|items| items.push(items[0].clone())), bad);
        assert_eq!(wrong(|items| items[5].key = 99), bad);
        assert_eq!(wrong(|items| items.clear()), bad);
        assert_eq!(w.check_json(b"not json"), bad);
        assert_eq!(w.check_json(b"{\"Other\": []}"), Err("no_output".into()));
        assert_eq!(w.check_items(None), Err("no_output".into()));
    }

    #[test]
    fn single_item_workloads_keep_the_raw_body() {
        for w in all().iter().filter(|w| !w.id.starts_with("fanout")) {
            assert!(w.items.is_empty(), "{}", w.id);
        }
        let fan_out_1 = all().into_iter().find(|w| w.id == "fanout1");
        assert_eq!(fan_out_1.map(|w| w.items.len()), Some(1));
    }
}
