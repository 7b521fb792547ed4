//! The WASI profile: modules that import `wasi_snapshot_preview1` functions run as
//! pure functions over the shard's data (`docs/wasi.md`).
//!
//! The host implements those imports itself, over an in-memory file system built
//! from the call's input sets ([`vfs`]), a descriptor table ([`fds`]), captured
//! stdio ([`stdio`]) and a clock and random stream derived from the call's
//! [`WasiContext`] ([`entropy`]). No call reaches the operating system; inputs are
//! never placed in linear memory (the guest reads them with `fd_read`), and the
//! whole state is dropped with the call's store.

mod call;
mod ctx;
mod entropy;
mod errno;
mod fds;
mod names;
mod preview1;
mod stdio;
mod vfs;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::InputSet;

pub(crate) use call::{call, Program, START};
pub(crate) use preview1::{add_to_linker, check_imports, WasiState};

/// The per-invocation inputs of a WASI function besides its data: the seed of its
/// random stream and the wall-clock time it sees. Reported with every invocation
/// and given back to replay it bit for bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WasiContext {
    /// Seed of the `random_get` stream (ChaCha12).
    pub seed: u64,
    /// The time `clock_time_get(REALTIME)` answers, in whole seconds since the Unix
    /// epoch: C's `time(NULL)` returns exactly this.
    pub time_secs: u64,
}

impl WasiContext {
    /// A context for replay: the given seed and time.
    pub fn new(seed: u64, time_secs: u64) -> WasiContext {
        WasiContext { seed, time_secs }
    }

    /// The context of one shard of an invocation: the same time, and a seed
    /// derived from this one, the application's index in its composition and the
    /// shard's inputs (set names, item names and keys), so that sibling shards
    /// draw different random streams and a replay gives each shard the same one.
    pub fn for_shard(&self, application: u64, inputs: &[InputSet<'_>]) -> WasiContext {
        let mut hash = Sha256::new();
        hash.update(self.seed.to_le_bytes());
        hash.update(application.to_le_bytes());
        for set in inputs {
            hash.update((set.name.len() as u64).to_le_bytes());
            hash.update(set.name.as_bytes());
            for item in set.items {
                hash.update((item.name.len() as u64).to_le_bytes());
                hash.update(item.name.as_bytes());
                hash.update(item.key.to_le_bytes());
            }
        }
        let digest = hash.finalize();
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&digest[..8]);
        WasiContext {
            seed: u64::from_le_bytes(seed),
            time_secs: self.time_secs,
        }
    }

    /// A fresh context: a seed from the host's per-process random keys mixed with
    /// the current time, and the current time in whole seconds.
    pub fn fresh() -> WasiContext {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(now.as_nanos());
        WasiContext {
            seed: hasher.finish(),
            time_secs: now.as_secs(),
        }
    }
}

/// Settings of a WASI function fixed at registration (ignored by ABI v1 functions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasiSettings {
    /// The program's arguments, `argv[0]` included. Empty (the default) means
    /// `argv` is just the function's name.
    pub args: Vec<String>,
    /// The program's environment as `(name, value)` pairs. Default: empty. Never
    /// taken from the host's own environment.
    pub env: Vec<(String, String)>,
    /// Most files and directories the guest may have open at once, besides stdio
    /// and the root. Default 64; one more open fails with `EMFILE`.
    pub max_open_files: u32,
    /// Most files and directories the guest may create in one call. Default 4096;
    /// one more fails with `ENOSPC`.
    pub max_output_files: u32,
}

impl Default for WasiSettings {
    fn default() -> Self {
        WasiSettings {
            args: Vec::new(),
            env: Vec::new(),
            max_open_files: 64,
            max_output_files: 4096,
        }
    }
}

/// What one call needs besides its inputs, for WASI functions; ABI v1 functions
/// ignore it (their outputs name themselves).
#[derive(Clone, Copy, Debug)]
pub struct CallOptions<'a> {
    /// The function's output sets: a writable directory each, except `stdout` and
    /// `stderr`, which capture fd 1 and fd 2.
    pub outputs: &'a [&'a str],
    /// The shard's key when it was made by `keyed` sharding: the default key of
    /// the outputs.
    pub shard_key: Option<u64>,
    /// Seed and time of this invocation.
    pub context: WasiContext,
}

impl Default for CallOptions<'_> {
    fn default() -> Self {
        CallOptions {
            outputs: &[],
            shard_key: None,
            context: WasiContext::fresh(),
        }
    }
}
