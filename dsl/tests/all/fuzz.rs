//! A stable-toolchain stand-in for the cargo-fuzz target: the same body
//! (`fuzz/body.rs`) over arbitrary strings, token soup and mutated golden files.
//! `fuzz_for_a_while` is ignored by default; run it with
//! `PAPPUS_FUZZ_SECS=300 cargo test -p pappus-dsl --release --test all -- --ignored fuzz_for_a_while`.

use std::time::{Duration, Instant};

use proptest::prelude::*;

#[allow(dead_code, reason = "shared with the cargo-fuzz target")]
mod body {
    include!("../../fuzz/body.rs");
}
use body::fuzz_one;
use pappus_testkit::fuzz::{mutate, Rng};

/// Every token the generated inputs are made of: the keywords and [`OTHER_TOKENS`].
static TOKENS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    pappus_dsl::KEYWORDS
        .iter()
        .chain(OTHER_TOKENS)
        .copied()
        .collect()
});

/// Other tokens the generated inputs are made of, besides the keywords.
const OTHER_TOKENS: &[&str] = &[
    "http", "fetch", "store", "kv_get", "kv_put", "F", "G", "A", "B", "x", "y", "eachX", "_1", "(",
    ")", "{", "}", "=>", "=", ",", ";", "#", "# c\n", " ", "\n", "\t", "é", "\u{0}", ">", "-",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS.clone()), 0..120).prop_map(|t| t.join(" "))
}

/// Token soup biased towards almost-valid programs.
fn near_valid() -> impl Strategy<Value = String> {
    let app = (
        prop::sample::select(&["F", "G", "http", "C", "Nope"][..]),
        prop::sample::select(&["x", "request", "z"][..]),
        prop::sample::select(&["all", "each", "keyed", "optional keyed"][..]),
        prop::sample::select(&["A", "B", "M", "N"][..]),
        prop::sample::select(&["A", "B", "M", "N"][..]),
        prop::sample::select(&["y", "response"][..]),
        prop::sample::select(&["", " by A inner B", " by M cross N left A", " by"][..]),
    )
        .prop_map(|(f, p, m, s, o, out, by)| format!("{f} ({p} = {m} {s}) => ({o} = {out}){by};"));
    prop::collection::vec(app, 0..8).prop_map(|apps| {
        format!(
            "function F (x) => (y);\nfunction G (x, z) => (y);\ncomposition C (A) => (B) {{\n{}\n}}\ncomposition D (A, M) => (B, N) {{\n{}\n}}\n",
            apps.join("\n"),
            apps.join("\n")
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_do_not_panic(s in ".*") {
        fuzz_one(s.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(b in prop::collection::vec(any::<u8>(), 0..256)) {
        fuzz_one(&b);
    }

    #[test]
    fn token_soup_does_not_panic(s in soup()) {
        fuzz_one(s.as_bytes());
    }

    #[test]
    fn near_valid_programs_do_not_panic(s in near_valid()) {
        fuzz_one(s.as_bytes());
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pap"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    seeds.sort();
    seeds
}

fn run_mutations(duration: Duration, seed: u64) -> u64 {
    let seeds = seeds();
    let tokens: Vec<&[u8]> = TOKENS.iter().map(|t| t.as_bytes()).collect();
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < duration {
        let mut input = seeds[rng.below(seeds.len())].clone();
        for _ in 0..16 {
            mutate(&mut rng, &mut input, &tokens, &seeds);
            // Mostly valid UTF-8, so inputs get past the decoding check.
            let text = String::from_utf8_lossy(&input).into_owned();
            let result = std::panic::catch_unwind(|| fuzz_one(text.as_bytes()));
            if result.is_err() {
                panic!(
                    "fuzz_one panicked (seed {seed}, run {runs}) on input:\n{:?}",
                    String::from_utf8_lossy(&input)
                );
            }
            runs += 1;
        }
    }
    runs
}

/// A short mutation run on every test invocation.
#[test]
fn mutated_goldens_do_not_panic() {
    let runs = run_mutations(Duration::from_secs(2), 0x5eed);
    assert!(runs > 0);
}

/// The long run: `PAPPUS_FUZZ_SECS` seconds (default 60), seed `PAPPUS_FUZZ_SEED`.
#[test]
#[ignore = "long-running; run explicitly"]
fn fuzz_for_a_while() {
    let pappus_testkit::fuzz::LongRun { time, seed } = pappus_testkit::fuzz::long_run();
    let runs = run_mutations(time, seed);
    println!(
        "fuzz_for_a_while: {runs} inputs in {} s (seed {seed}), no panic",
        time.as_secs()
    );
}

/// Huge and pathological inputs: no stack overflow, reasonable time.
#[test]
fn huge_inputs_do_not_overflow() {
    let mut big = String::from("function F (x) => (y);\ncomposition C (S0) => (S30000) {\n");
    for i in 0..30_000 {
        big.push_str(&format!("F (x = each S{i}) => (S{} = y);\n", i + 1));
    }
    big.push_str("}\n");
    fuzz_one(big.as_bytes());
    let checked = pappus_dsl::check(&pappus_dsl::parse(&big).unwrap(), &pappus_dsl::Env::new());
    assert!(!checked.has_errors());
    assert_eq!(checked.plans[0].order.len(), 30_000);

    // A 30,000-long cycle: found without recursion.
    let cyc = big.replace("F (x = each S0)", "F (x = each S30000)");
    let checked = pappus_dsl::check(&pappus_dsl::parse(&cyc).unwrap(), &pappus_dsl::Env::new());
    assert!(checked
        .diagnostics
        .iter()
        .any(|d| d.message.starts_with("cycle")));

    for junk in [
        "(".repeat(1_000_000),
        "{".repeat(1_000_000),
        format!("composition C () => () {{{}}}", ";".repeat(1_000_000)),
        format!("function F ({}) => ();", "x, ".repeat(200_000)),
        "#".repeat(1_000_000),
        "a".repeat(1_000_000),
    ] {
        fuzz_one(junk.as_bytes());
    }
}
