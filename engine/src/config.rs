//! [`EngineConfig`]: every setting of an engine as data, the one place
//! `pappus run`, `pappus serve` and a cluster node read them from.
//!
//! Every field is optional so that sources can be layered with
//! [`EngineConfig::or`] (flags and `PAPPUS_*` environment variables over a
//! TOML file over the defaults); [`EngineConfig::builder`] applies the
//! defaults, validates the result (each message names the setting) and
//! answers the [`EngineBuilder`] to start the engine with.
//!
//! The same struct is the schema of the TOML file (keys are the field names;
//! the I/O runtime's settings go in an `[io]` table, [`IoSettings`]) and, with
//! this crate's `clap` feature, the flags of the `pappus` command (the flag is
//! the field name with `-` for `_`, its help text the field's doc comment).
//! Without the feature the crate does not depend on clap.
//!
//! # Adding a setting
//! 1. A field here, `Option<T>`, whose doc comment ends with its default in
//!    `[default: ...]` (the flag's help shows it), with its `cfg_attr(arg(...))`
//!    line naming the `PAPPUS_*` variable, as the fields below do.
//! 2. Its line in [`EngineConfig::or`] (the destructuring there makes the
//!    compiler point at it).
//! 3. Its validation and use in [`EngineConfig::builder`]: a field of
//!    [`EngineBuilder`] (with a setter, for embedders) or a resolved accessor
//!    here, as [`EngineConfig::default_limits`].
//!
//! Nothing else: the daemon's settings file and `pappus serve`'s flags pick
//! the field up through `#[serde(flatten)]` and `#[command(flatten)]`.

pub(crate) mod io;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

pub use io::{
    IoSettings, DEFAULT_IO_MAX_OBJECT_MIB, DEFAULT_IO_RETRIES, DEFAULT_IO_TIMEOUT_MS,
    DEFAULT_S3_REGION,
};

use crate::{Engine, EngineBuilder, Error, Limits, Result};

const MIB: u64 = 1024 * 1024;

/// Default bound on invocations waiting for an execution slot.
pub const DEFAULT_QUEUE_BOUND: usize = 1024;
/// Default number of invocations executing at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
/// Default number of I/O threads.
pub const DEFAULT_IO_THREADS: usize = 1;

/// The settings of an engine, each optional (unset: the default its doc
/// names); see this module's documentation for layering and for adding one.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Directory holding registered functions, compositions and compiled code;
    /// without it the registry lives in memory and is lost on exit.
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_DATA_DIR", value_name = "DIR")
    )]
    pub data_dir: Option<PathBuf>,
    /// Threads running compute shards [default: one per core].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_COMPUTE_THREADS", value_name = "N")
    )]
    pub compute_threads: Option<usize>,
    /// Threads running I/O functions [default: 1].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_THREADS", value_name = "N")
    )]
    pub io_threads: Option<usize>,
    /// Invocations executing at once [default: 64].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_IN_FLIGHT", value_name = "N")
    )]
    pub max_in_flight: Option<usize>,
    /// Invocations that may wait for an execution slot; beyond it requests get
    /// 429 at once (0: none wait) [default: 1024].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_QUEUE_BOUND", value_name = "N")
    )]
    pub queue_bound: Option<usize>,
    /// Memory limit of a function registered without `memory_mib` [default: 64].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_FUNCTION_MEMORY_MIB", value_name = "MIB")
    )]
    pub function_memory_mib: Option<u64>,
    /// Deadline of a function registered without `timeout_ms` [default: 5000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_FUNCTION_TIMEOUT_MS", value_name = "MS")
    )]
    pub function_timeout_ms: Option<u64>,
    /// Output limit of a function registered without `max_output_mib` [default: 16].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_FUNCTION_MAX_OUTPUT_MIB", value_name = "MIB")
    )]
    pub function_max_output_mib: Option<u64>,
    /// Largest memory limit a registration may ask for [default: the engine's].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_MEMORY_MIB", value_name = "MIB")
    )]
    pub max_memory_mib: Option<u64>,
    /// Longest chain of compositions calling compositions that a registration
    /// may create [default: 32].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_NESTING_DEPTH", value_name = "N")
    )]
    pub max_nesting_depth: Option<usize>,
    /// Most shards one application may create in one invocation; beyond it the
    /// invocation fails with `too_many_shards` [default: 100000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_SHARDS_PER_APPLICATION", value_name = "N")
    )]
    pub max_shards_per_application: Option<u64>,
    /// Most shards one invocation may create in total, nested compositions
    /// included [default: 1000000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_SHARDS_PER_INVOCATION", value_name = "N")
    )]
    pub max_shards_per_invocation: Option<u64>,
    /// Most functions one tenant may register; one more is refused with 403
    /// `quota_exceeded` [default: 1000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_FUNCTIONS_PER_TENANT", value_name = "N")
    )]
    pub max_functions_per_tenant: Option<u64>,
    /// Most compositions one tenant may register [default: 1000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_COMPOSITIONS_PER_TENANT", value_name = "N")
    )]
    pub max_compositions_per_tenant: Option<u64>,
    /// Most MiB of modules (summed over its functions) one tenant may register
    /// [default: 512].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_MODULE_MIB_PER_TENANT", value_name = "MIB")
    )]
    pub max_module_mib_per_tenant: Option<u64>,
    /// Settings of the I/O runtime (timeouts, object size, S3 store, Redis):
    /// flat flags (`--s3-endpoint`), an `[io]` table in a file.
    #[cfg_attr(feature = "clap", command(flatten))]
    #[serde(default)]
    pub io: IoSettings,
}

impl EngineConfig {
    /// Fills every setting missing here from `lower` (a lower-priority source).
    pub fn or(self, lower: EngineConfig) -> EngineConfig {
        // Destructured so that a new field cannot be forgotten here.
        let EngineConfig {
            data_dir,
            compute_threads,
            io_threads,
            max_in_flight,
            queue_bound,
            function_memory_mib,
            function_timeout_ms,
            function_max_output_mib,
            max_memory_mib,
            max_nesting_depth,
            max_shards_per_application,
            max_shards_per_invocation,
            max_functions_per_tenant,
            max_compositions_per_tenant,
            max_module_mib_per_tenant,
            io,
        } = self;
        EngineConfig {
            data_dir: data_dir.or(lower.data_dir),
            compute_threads: compute_threads.or(lower.compute_threads),
            io_threads: io_threads.or(lower.io_threads),
            max_in_flight: max_in_flight.or(lower.max_in_flight),
            queue_bound: queue_bound.or(lower.queue_bound),
            function_memory_mib: function_memory_mib.or(lower.function_memory_mib),
            function_timeout_ms: function_timeout_ms.or(lower.function_timeout_ms),
            function_max_output_mib: function_max_output_mib.or(lower.function_max_output_mib),
            max_memory_mib: max_memory_mib.or(lower.max_memory_mib),
            max_nesting_depth: max_nesting_depth.or(lower.max_nesting_depth),
            max_shards_per_application: max_shards_per_application
                .or(lower.max_shards_per_application),
            max_shards_per_invocation: max_shards_per_invocation
                .or(lower.max_shards_per_invocation),
            max_functions_per_tenant: max_functions_per_tenant.or(lower.max_functions_per_tenant),
            max_compositions_per_tenant: max_compositions_per_tenant
                .or(lower.max_compositions_per_tenant),
            max_module_mib_per_tenant: max_module_mib_per_tenant
                .or(lower.max_module_mib_per_tenant),
            io: io.or(lower.io),
        }
    }

    /// The limits of a function registered without explicit ones.
    ///
    /// # Errors
    /// [`Error::Config`] for a MiB count whose bytes overflow, or a default
    /// memory limit above [`max_memory_bytes`](Self::max_memory_bytes).
    pub fn default_limits(&self) -> Result<Limits> {
        let defaults = Limits::default();
        let limits = Limits {
            memory_bytes: mib(self.function_memory_mib, "function_memory_mib")?
                .unwrap_or(defaults.memory_bytes),
            timeout: self
                .function_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(defaults.timeout),
            max_output_bytes: mib(self.function_max_output_mib, "function_max_output_mib")?
                .unwrap_or(defaults.max_output_bytes),
        };
        if let Some(max) = self.max_memory_bytes()? {
            if limits.memory_bytes > max {
                return Err(config(format!(
                    "function_memory_mib ({} bytes) exceeds max_memory_mib ({max} bytes)",
                    limits.memory_bytes
                )));
            }
        }
        Ok(limits)
    }

    /// The ceiling of a function's memory limit, in bytes; `None`: the
    /// engine's default.
    ///
    /// # Errors
    /// [`Error::Config`] when the bytes overflow.
    pub fn max_memory_bytes(&self) -> Result<Option<u64>> {
        mib(self.max_memory_mib, "max_memory_mib")
    }

    /// Applies the defaults, validates every setting and answers the builder
    /// of the engine they describe (nothing is started yet; add hooks or
    /// tenant authorities, then [`EngineBuilder::build`]).
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting: a zero thread count, bound or
    /// depth; a MiB count whose bytes overflow; a default memory limit above
    /// `max_memory_mib`; invalid I/O settings ([`IoSettings::ring_config`]).
    pub fn builder(&self) -> Result<EngineBuilder> {
        let mut builder = Engine::builder()
            .queue_bound(self.queue_bound.unwrap_or(DEFAULT_QUEUE_BOUND))
            .default_limits(self.default_limits()?)
            .io_config(self.io.ring_config()?);
        if let Some(n) = positive(self.max_in_flight, "max_in_flight")? {
            builder = builder.max_in_flight(n);
        }
        if let Some(n) = positive(self.compute_threads, "compute_threads")? {
            builder = builder.compute_threads(n);
        }
        if let Some(n) = positive(self.io_threads, "io_threads")? {
            builder = builder.io_threads(n);
        }
        if let Some(bytes) = self.max_memory_bytes()? {
            builder = builder.max_memory_bytes(bytes);
        }
        if let Some(depth) = positive(self.max_nesting_depth, "max_nesting_depth")? {
            builder = builder.max_nesting_depth(depth);
        }
        if let Some(n) = positive(
            self.max_shards_per_application,
            "max_shards_per_application",
        )? {
            builder = builder.max_shards_per_application(n);
        }
        if let Some(n) = positive(self.max_shards_per_invocation, "max_shards_per_invocation")? {
            builder = builder.max_shards_per_invocation(n);
        }
        if let Some(n) = self.max_functions_per_tenant {
            builder = builder.max_functions_per_tenant(n);
        }
        if let Some(n) = self.max_compositions_per_tenant {
            builder = builder.max_compositions_per_tenant(n);
        }
        if let Some(bytes) = mib(self.max_module_mib_per_tenant, "max_module_mib_per_tenant")? {
            builder = builder.max_module_bytes_per_tenant(bytes);
        }
        if let Some(dir) = &self.data_dir {
            builder = builder.data_dir(dir.clone());
        }
        Ok(builder)
    }
}

fn config(reason: String) -> Error {
    Error::Config { reason }
}

/// Converts an optional MiB count to bytes, refusing overflow.
fn mib(value: Option<u64>, what: &str) -> Result<Option<u64>> {
    value
        .map(|v| {
            v.checked_mul(MIB)
                .ok_or_else(|| config(format!("{what} = {v} is too large")))
        })
        .transpose()
}

/// Refuses an explicit zero, which would make the engine unable to do anything.
fn positive<T: Default + PartialEq>(value: Option<T>, what: &str) -> Result<Option<T>> {
    match value {
        Some(v) if v == T::default() => Err(config(format!("{what} must be at least 1"))),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bounds_and_overflow_name_the_setting() {
        let message = |config: EngineConfig| match config.builder() {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        let zero = EngineConfig {
            max_shards_per_application: Some(0),
            ..EngineConfig::default()
        };
        assert!(message(zero).contains("max_shards_per_application"));
        let huge = EngineConfig {
            max_module_mib_per_tenant: Some(u64::MAX),
            ..EngineConfig::default()
        };
        assert!(message(huge).contains("max_module_mib_per_tenant"));
        let above = EngineConfig {
            function_memory_mib: Some(64),
            max_memory_mib: Some(32),
            ..EngineConfig::default()
        };
        assert!(message(above).contains("max_memory_mib"));
        assert!(EngineConfig::default().builder().is_ok());
    }

    #[test]
    fn higher_source_wins() {
        let high = EngineConfig {
            queue_bound: Some(7),
            ..EngineConfig::default()
        };
        let low = EngineConfig {
            queue_bound: Some(9),
            max_in_flight: Some(3),
            ..EngineConfig::default()
        };
        let merged = high.or(low);
        assert_eq!(
            (merged.queue_bound, merged.max_in_flight),
            (Some(7), Some(3))
        );
    }
}
