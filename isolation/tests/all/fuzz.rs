//! A stable-toolchain stand-in for the cargo-fuzz target in `fuzz/`: the same
//! body (`fuzz/body.rs`) over arbitrary memory and over memories laid out like
//! real outputs with random (often lying) descriptors. `fuzz_for_a_while` is
//! ignored by default; run it with
//! `PAPPUS_FUZZ_SECS=300 cargo test -p pappus-isolation --release --test all -- --ignored fuzz_for_a_while`.

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
