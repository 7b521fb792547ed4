//! A stable-toolchain stand-in for the cargo-fuzz targets in `fuzz/`: the
//! output reader's body (`fuzz/body.rs`) over arbitrary memory and over
//! memories laid out like real outputs with random (often lying) descriptors,
//! and the module rewrite over mutated example guests. `fuzz_for_a_while` is
//! ignored by default; run it with
//! `PAPPUS_FUZZ_SECS=300 cargo test -p pappus-isolation --release --test all -- --ignored fuzz_for_a_while`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;

#[allow(dead_code, reason = "shared with the cargo-fuzz target")]
mod body {
    include!("../../fuzz/body.rs");
}
use body::fuzz_read_outputs;

/// xorshift64*: a tiny deterministic generator, so runs are reproducible by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// A descriptor field: mostly plausible, sometimes anything.
    fn field(&mut self, mem_len: u64) -> u32 {
        match self.below(8) {
            0 => self.next() as u32,
            1 => u32::MAX - self.below(64) as u32,
            2 => 0,
            _ => self.below(mem_len + 8) as u32,
        }
    }
}

fn put(mem: &mut [u8], at: u64, value: u32) {
    let at = at as usize;
    if let Some(slot) = mem.get_mut(at..at + 4) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

/// A fuzz input: 8 bytes of parameters, then a memory with a header at `base`
/// whose output slot points at an output descriptor, set and item tables
/// filled with plausible or lying fields.
fn structured(rng: &mut Rng) -> Vec<u8> {
    let mem_len = 64 + rng.below(8192);
    let mut mem: Vec<u8> = (0..mem_len).map(|_| rng.next() as u8).collect();
    let base = rng.below(mem_len - 32);
    let out = rng.below(mem_len);
    put(&mut mem, base + 20, out as u32);
    let sets = rng.below(6) as u32;
    let table = rng.below(mem_len);
    put(
        &mut mem,
        out,
        if rng.below(8) == 0 {
            rng.field(mem_len)
        } else {
            sets
        },
    );
    put(&mut mem, out + 4, table as u32);
    for s in 0..u64::from(sets) {
        let d = table + s * 16;
        for k in 0..3 {
            let v = rng.field(mem_len);
            put(&mut mem, d + k * 4, v);
        }
        put(&mut mem, d + 12, rng.below(5) as u32);
    }
    let limit = [0u32, 100, 4096, u32::MAX][rng.below(4) as usize] << 8;
    let mut input = (base as u32).to_le_bytes().to_vec();
    input.extend_from_slice(&limit.to_le_bytes());
    input.extend_from_slice(&mem);
    input
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_memory_does_not_panic(b in prop::collection::vec(any::<u8>(), 0..2048)) {
        fuzz_read_outputs(&b);
    }
}

fn run(inputs: u64, time: Duration, seed: u64) -> u64 {
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut done = 0;
    while done < inputs && start.elapsed() < time {
        let input = structured(&mut rng);
        if std::panic::catch_unwind(|| fuzz_read_outputs(&input)).is_err() {
            panic!("the output reader panicked (seed {seed}, run {done})");
        }
        done += 1;
    }
    done
}

/// A short, fixed run on every test invocation.
#[test]
fn structured_lying_memories_do_not_panic() {
    assert_eq!(run(20_000, Duration::from_secs(3600), 0x5eed), 20_000);
}

/// The long run: `PAPPUS_FUZZ_SECS` seconds (default 60), seed `PAPPUS_FUZZ_SEED`.
#[test]
#[ignore = "long-running; run explicitly"]
fn fuzz_for_a_while() {
    let pappus_testkit::fuzz::LongRun { time, seed } = pappus_testkit::fuzz::long_run();
    let runs = run(u64::MAX, time, seed);
    println!(
        "fuzz_for_a_while: {runs} inputs in {} s (seed {seed}), no panic",
        time.as_secs()
    );
}

/// Example guests, read once: Rust ones with and without std, and the C one
/// that imports a function. Each rewrites as it is, so mutations start from a
/// module the rewrite accepts.
fn guests() -> &'static [Vec<u8>] {
    static GUESTS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    GUESTS.get_or_init(|| {
        [
            "upper",
            "identity",
            "count",
            "compress",
            "render",
            "spin",
            "grow",
            "imports_something",
        ]
        .into_iter()
        .map(|name| {
            let module = crate::support::wasm(name);
            if let Err(e) = pappus_isolation::fuzzing::rewrite_module(&module) {
                panic!("guest {name} does not rewrite: {e}");
            }
            module
        })
        .collect()
    })
}

/// One change to a module's bytes. Positions are taken modulo the length
/// at the time; one in four falls in the first 64 bytes (the header and
/// first sections).
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Remove { at: usize, len: usize },
}

impl Mutation {
    fn apply(&self, module: &mut Vec<u8>) {
        let place = |at: usize, len: usize| at % (len + 1);
        match self {
            Mutation::Flip { at, mask } => {
                if !module.is_empty() {
                    let at = at % module.len();
                    module[at] ^= mask;
                }
            }
            Mutation::Truncate { at } => module.truncate(place(*at, module.len())),
            Mutation::Insert { at, bytes } => {
                let at = place(*at, module.len());
                module.splice(at..at, bytes.iter().copied());
            }
            Mutation::Remove { at, len } => {
                let at = place(*at, module.len());
                let end = at.saturating_add(*len).min(module.len());
                module.drain(at..end);
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = prop_oneof![1 => 0..64usize, 3 => any::<usize>()];
    // Bytes that often mean something in a module: LEB128 continuations,
    // section ids, bulk-memory and other prefixes, `end`.
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(vec![
            0x00, 0x01, 0x0b, 0x0c, 0x0d, 0x7f, 0x80, 0xfc, 0xfd, 0xff
        ])
    ];
    prop_oneof![
        4 => (at.clone(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        1 => at.clone().prop_map(|at| Mutation::Truncate { at }),
        2 => (at.clone(), prop::collection::vec(byte, 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => (at, 1..16usize).prop_map(|(at, len)| Mutation::Remove { at, len }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The rewrite of a corrupted guest answers a module or an error, and
    /// never panics.
    #[test]
    fn mutated_guests_rewrite_or_are_refused_without_panicking(
        guest in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut module = guest.get(guests()).clone();
        for mutation in &mutations {
            mutation.apply(&mut module);
        }
        let _ = pappus_isolation::fuzzing::rewrite_module(&module);
    }
}
