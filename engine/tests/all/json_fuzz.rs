//! A stable-toolchain stand-in for the cargo-fuzz target in `fuzz/`: the same
//! body (`fuzz/body.rs`) over seeded mutations of valid JSON inputs. Ignored
//! long run: `PAPPUS_FUZZ_SECS=300 cargo test -p pappus-engine --release --test all -- --ignored json_fuzz_for_a_while`.

use std::time::{Duration, Instant};

#[allow(dead_code, reason = "shared with the cargo-fuzz target")]
mod body {
    include!("../../fuzz/body.rs");
}
use body::fuzz_json_sets;
use pappus_testkit::fuzz::Rng;

const SEEDS: &[&str] = &[
    r#"{"in": [{"name": "a", "key": 3, "data": "text"}, {"data_base64": "AAEC"}], "other": []}"#,
    r#"{"s": [{"key": 18446744073709551615, "name": "é\u0000", "data": "\ud83d\ude00"}]}"#,
    r#"{}"#,
    r#"{"x": [{}, {}, {"data_base64": "=="}]}"#,
];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\u",
    "\\ud800",
    "name",
    "key",
    "data",
    "data_base64",
    "-1",
    "1e999",
    "18446744073709551616",
    "null",
    "true",
    "AAEC",
    "====",
    " ",
    "\u{0}",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(6) {
        let len = input.len();
        match rng.below(5) {
            0 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len + 1);
                input.splice(at..at, t.iter().copied());
            }
            1 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(8));
                input.drain(at..at + n);
            }
            2 if len > 0 => {
                let at = rng.below(len);
                input[at] = rng.next_u64() as u8;
            }
            3 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                input.swap(a, b);
            }
            _ => {
                let at = rng.below(len + 1);
                input.truncate(at);
            }
        }
    }
}

fn run(inputs: u64, time: Duration, seed: u64) -> u64 {
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut done = 0;
    while done < inputs && start.elapsed() < time {
        let mut input = SEEDS[rng.below(SEEDS.len())].as_bytes().to_vec();
        for _ in 0..8 {
            mutate(&mut rng, &mut input);
            if std::panic::catch_unwind(|| fuzz_json_sets(&input)).is_err() {
                panic!("fuzz_json_sets panicked (seed {seed}) on {input:?}");
            }
            done += 1;
        }
    }
    done
}

/// A short, fixed run on every test invocation.
#[test]
fn mutated_json_inputs_do_not_panic() {
    for seed in SEEDS {
        fuzz_json_sets(seed.as_bytes());
    }
    assert_eq!(run(20_000, Duration::from_secs(3600), 0x5eed), 20_000);
}

/// The long run: `PAPPUS_FUZZ_SECS` seconds (default 60), seed `PAPPUS_FUZZ_SEED`.
#[test]
#[ignore = "long-running; run explicitly"]
fn json_fuzz_for_a_while() {
    let pappus_testkit::fuzz::LongRun { time, seed } = pappus_testkit::fuzz::long_run();
    let runs = run(u64::MAX, time, seed);
    println!(
        "json_fuzz_for_a_while: {runs} inputs in {} s (seed {seed}), no panic",
        time.as_secs()
    );
}
