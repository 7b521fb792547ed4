//! A tiny deterministic generator for the stable fuzz harnesses that
//! `cargo test` runs, and the mutations they apply: a run is reproduced from
//! its seed alone.

/// xorshift64*: fast, deterministic, good enough to drive mutations.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Largest input a mutation leaves (the harnesses test parsers, not memory).
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// Applies one to eight random mutations to `input`: insert one of `tokens`,
/// delete a run, overwrite a byte, duplicate a run, splice in a slice of one
/// of `seeds`, swap two bytes, or truncate. The result is at most
/// [`MAX_INPUT_BYTES`] long.
pub fn mutate(rng: &mut Rng, input: &mut Vec<u8>, tokens: &[&[u8]], seeds: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(8) {
        let len = input.len();
        match rng.below(7) {
            0 if !tokens.is_empty() => {
                let t = tokens[rng.below(tokens.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, t.iter().copied());
            }
            1 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(16));
                input.drain(at..at + n);
            }
            2 if len > 0 => {
                let at = rng.below(len);
                input[at] = rng.next_u64() as u8;
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                let chunk: Vec<u8> = input[at..at + n].to_vec();
                let to = rng.below(len + 1);
                input.splice(to..to, chunk);
            }
            4 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let to = from + rng.below(other.len() - from + 1);
                let at = rng.below(len + 1);
                input.splice(at..at, other[from..to].iter().copied());
            }
            5 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                input.swap(a, b);
            }
            _ => {
                let at = rng.below(len + 1);
                input.truncate(at);
            }
        }
        input.truncate(MAX_INPUT_BYTES);
    }
}

/// How long a stable harness's long run lasts and what it starts from.
pub struct LongRun {
    /// `PAPPUS_FUZZ_SECS` seconds (default 60).
    pub time: std::time::Duration,
    /// `PAPPUS_FUZZ_SEED` (default: from the clock); the harness prints it,
    /// so a finding can be replayed.
    pub seed: u64,
}

/// The long run's settings, from the environment (see [`LongRun`]).
pub fn long_run() -> LongRun {
    let var = |name: &str| std::env::var(name).ok().and_then(|s| s.parse().ok());
    let seed = var("PAPPUS_FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    LongRun {
        time: std::time::Duration::from_secs(var("PAPPUS_FUZZ_SECS").unwrap_or(60)),
        seed,
    }
}
