//! Settings of the I/O runtime that runs the builtins (`fetch`, `store`, `http`,
//! `kv_get`, `kv_put`), shared by `pappus run` and `pappus serve`: [`IoSettings`].
//!
//! Every setting is optional so that sources can be layered with
//! [`IoSettings::or`] (flags and environment over a TOML `[io]` table over the
//! defaults); [`IoSettings::ring_config`] applies the defaults, validates the
//! result and builds the [`RingConfig`] given to
//! [`EngineBuilder::io_config`](crate::EngineBuilder::io_config). It is the
//! `io` part of [`EngineConfig`](crate::EngineConfig).
//!
//! The I/O runtime starts lazily, on the first builtin call, so a setting it
//! would refuse would otherwise only show up in the middle of an invocation;
//! [`IoSettings::ring_config`] therefore checks what it can up front and names
//! the flag, environment variable and file key to fix.

use std::fmt;
use std::time::Duration;

use pappus_io::{RingConfig, S3Config};
use serde::Deserialize;

use crate::{Error, Result};

/// Returns [`Error::Config`] with a formatted reason.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err(Error::Config { reason: format!($($arg)*) })
    };
}

/// Default deadline of one I/O call: 30 s (the I/O runtime's own default).
pub const DEFAULT_IO_TIMEOUT_MS: u64 = 30_000;
/// Default largest object read or written: 256 MiB.
pub const DEFAULT_IO_MAX_OBJECT_MIB: u64 = 256;
/// Default retries of an idempotent request: 3.
pub const DEFAULT_IO_RETRIES: u32 = 3;
/// Default region used to sign S3 requests: `us-east-1`, what AWS and MinIO
/// expect by default (Garage expects its `s3_region`, often `garage`).
pub const DEFAULT_S3_REGION: &str = "us-east-1";

const MIB: u64 = 1024 * 1024;

/// One source of I/O runtime settings; every field is optional so that sources
/// can be layered with [`IoSettings::or`].
///
/// The same struct is a clap argument group (each flag also read from its
/// `PAPPUS_*` environment variable) and the schema of an `[io]` TOML table (keys
/// are the flag names with `_` for `-`; unknown keys are refused so that typos
/// do not pass silently).
///
/// `Debug` is written by hand: settings get logged and printed in errors, and
/// the S3 secret key and a password in the Redis URL must never end up there.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "clap",
    command(next_help_heading = "I/O runtime (fetch, store, http, kv_get, kv_put)")
)]
pub struct IoSettings {
    /// Deadline of one I/O call, retries and backoff included [default: 30000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_TIMEOUT_MS", value_name = "MS")
    )]
    pub io_timeout_ms: Option<u64>,
    /// Largest object an I/O call may read or write, in MiB [default: 256].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_MAX_OBJECT_MIB", value_name = "MIB")
    )]
    pub io_max_object_mib: Option<u64>,
    /// Retries of an idempotent request after a connection error or a 5xx
    /// answer [default: 3].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_RETRIES", value_name = "N")
    )]
    pub io_retries: Option<u32>,
    /// S3-compatible store for `s3://bucket/key` URIs, e.g.
    /// http://127.0.0.1:3900 (plain HTTP only) [default: none, `s3://` fails].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_S3_ENDPOINT", value_name = "URL")
    )]
    pub s3_endpoint: Option<String>,
    /// Region the S3 store expects in signatures [default: us-east-1].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_S3_REGION", value_name = "REGION")
    )]
    pub s3_region: Option<String>,
    /// S3 access key id [default: AWS_ACCESS_KEY_ID, when an endpoint is set].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_S3_ACCESS_KEY", value_name = "KEY")
    )]
    pub s3_access_key: Option<String>,
    /// S3 secret access key; prefer the environment to the command line, which
    /// other users can see [default: AWS_SECRET_ACCESS_KEY, when an endpoint is set].
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            env = "PAPPUS_S3_SECRET_KEY",
            value_name = "SECRET",
            hide_env_values = true
        )
    )]
    pub s3_secret_key: Option<String>,
    /// Redis server for `kv_get` and `kv_put`, e.g. redis://127.0.0.1:6379/0
    /// [default: none, the kv calls fail].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_REDIS_URL", value_name = "URL")
    )]
    pub redis_url: Option<String>,
    /// Most I/O calls submitted and not finished, over all I/O threads;
    /// further builtin shards fail at once with `overloaded` [default: 4096].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_MAX_QUEUED_CALLS", value_name = "N")
    )]
    pub io_max_queued_calls: Option<usize>,
    /// Most files and sockets the I/O runtime keeps open at once for
    /// transfers; further transfers wait within their deadline [default: 1024].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_MAX_OPEN_FILES", value_name = "N")
    )]
    pub io_max_open_files: Option<usize>,
    /// Most host name lookups running at once (each uses a helper thread);
    /// further lookups wait [default: 16].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_MAX_DNS_LOOKUPS", value_name = "N")
    )]
    pub io_max_dns_lookups: Option<usize>,

    // Bounds on fetched bytes and the fetch cache (docs/io.md, "Budgets";
    // docs/dataplane.md, "The fetch cache").
    /// Most MiB of fetched objects held in memory at once, all invocations;
    /// objects beyond it are spilled to disk [default: 256].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_FETCH_MEMORY_MIB", value_name = "MIB")
    )]
    pub io_fetch_memory_mib: Option<u64>,
    /// Most MiB of fetched objects one invocation holds in memory; its
    /// objects beyond it are spilled to disk [default: 128].
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            env = "PAPPUS_IO_INVOCATION_FETCH_MEMORY_MIB",
            value_name = "MIB"
        )
    )]
    pub io_invocation_fetch_memory_mib: Option<u64>,
    /// Most MiB of spill files alive at once; a fetch needing more fails with
    /// `overloaded` [default: 16384].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_SPILL_MIB", value_name = "MIB")
    )]
    pub io_spill_mib: Option<u64>,
    /// Most MiB one tenant's fetch cache holds [default: 1024].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_FETCH_CACHE_TENANT_MIB", value_name = "MIB")
    )]
    pub fetch_cache_tenant_mib: Option<u64>,
    /// Most MiB the fetch cache holds over all tenants; 0 turns it off
    /// [default: 8192; the cache needs a data directory].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_FETCH_CACHE_NODE_MIB", value_name = "MIB")
    )]
    pub fetch_cache_node_mib: Option<u64>,
}

impl fmt::Debug for IoSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be forgotten here.
        let IoSettings {
            io_timeout_ms,
            io_max_object_mib,
            io_retries,
            s3_endpoint,
            s3_region,
            s3_access_key,
            s3_secret_key,
            redis_url,
            io_max_queued_calls,
            io_max_open_files,
            io_max_dns_lookups,
            io_fetch_memory_mib,
            io_invocation_fetch_memory_mib,
            io_spill_mib,
            fetch_cache_tenant_mib,
            fetch_cache_node_mib,
        } = self;
        f.debug_struct("IoSettings")
            .field("io_timeout_ms", io_timeout_ms)
            .field("io_max_object_mib", io_max_object_mib)
            .field("io_retries", io_retries)
            .field("s3_endpoint", s3_endpoint)
            .field("s3_region", s3_region)
            .field("s3_access_key", s3_access_key)
            .field(
                "s3_secret_key",
                &s3_secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("redis_url", &redis_url.as_deref().map(redact_password))
            .field("io_max_queued_calls", io_max_queued_calls)
            .field("io_max_open_files", io_max_open_files)
            .field("io_max_dns_lookups", io_max_dns_lookups)
            .field("io_fetch_memory_mib", io_fetch_memory_mib)
            .field(
                "io_invocation_fetch_memory_mib",
                io_invocation_fetch_memory_mib,
            )
            .field("io_spill_mib", io_spill_mib)
            .field("fetch_cache_tenant_mib", fetch_cache_tenant_mib)
            .field("fetch_cache_node_mib", fetch_cache_node_mib)
            .finish()
    }
}

/// `redis://user:password@host/0` → `redis://<redacted>@host/0`; a URL without
/// credentials is returned as is.
fn redact_password(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://<redacted>@{host}"),
            None => url.to_string(),
        },
        None if url.contains('@') => "<redacted>".to_string(),
        None => url.to_string(),
    }
}

/// A string setting, with an empty value treated as unset (`PAPPUS_S3_ENDPOINT=`
/// in a shell or an env file means "none").
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// A setting in MiB as bytes, or its default (already in bytes).
fn mib_bytes(value: Option<u64>, default: u64, key: &str, env_name: &str) -> Result<u64> {
    match value {
        None => Ok(default),
        Some(mib) => match mib.checked_mul(MIB) {
            Some(bytes) => Ok(bytes),
            None => bail!(
                "{key} = {mib} is too large (at most {}) (--{}, {env_name}, {key} in [io])",
                u64::MAX / MIB,
                key.replace('_', "-")
            ),
        },
    }
}

impl IoSettings {
    /// Applies the bounds on fetched bytes and the fetch cache's sizes (the
    /// cache's directory is the daemon's to give: [`Self::fetch_cache_on`]).
    fn fetch_bounds(&self, config: &mut RingConfig) -> Result<()> {
        config
            .fetch_memory_bytes(mib_bytes(
                self.io_fetch_memory_mib,
                pappus_io::DEFAULT_FETCH_MEMORY_BYTES,
                "io_fetch_memory_mib",
                "PAPPUS_IO_FETCH_MEMORY_MIB",
            )?)
            .invocation_fetch_memory_bytes(mib_bytes(
                self.io_invocation_fetch_memory_mib,
                pappus_io::DEFAULT_INVOCATION_FETCH_MEMORY_BYTES,
                "io_invocation_fetch_memory_mib",
                "PAPPUS_IO_INVOCATION_FETCH_MEMORY_MIB",
            )?)
            .spill_bytes(mib_bytes(
                self.io_spill_mib,
                pappus_io::DEFAULT_SPILL_BYTES,
                "io_spill_mib",
                "PAPPUS_IO_SPILL_MIB",
            )?)
            .fetch_cache_tenant_bytes(mib_bytes(
                self.fetch_cache_tenant_mib,
                pappus_io::DEFAULT_FETCH_CACHE_TENANT_BYTES,
                "fetch_cache_tenant_mib",
                "PAPPUS_FETCH_CACHE_TENANT_MIB",
            )?)
            .fetch_cache_node_bytes(mib_bytes(
                self.fetch_cache_node_mib,
                pappus_io::DEFAULT_FETCH_CACHE_NODE_BYTES,
                "fetch_cache_node_mib",
                "PAPPUS_FETCH_CACHE_NODE_MIB",
            )?);
        Ok(())
    }

    /// Whether the fetch cache is on (`fetch_cache_node_mib` is not 0).
    pub fn fetch_cache_on(&self) -> bool {
        self.fetch_cache_node_mib != Some(0)
    }

    /// Fills every setting missing here from `lower` (a lower-priority source).
    pub fn or(self, lower: IoSettings) -> IoSettings {
        IoSettings {
            io_timeout_ms: self.io_timeout_ms.or(lower.io_timeout_ms),
            io_max_object_mib: self.io_max_object_mib.or(lower.io_max_object_mib),
            io_retries: self.io_retries.or(lower.io_retries),
            s3_endpoint: self.s3_endpoint.or(lower.s3_endpoint),
            s3_region: self.s3_region.or(lower.s3_region),
            s3_access_key: self.s3_access_key.or(lower.s3_access_key),
            s3_secret_key: self.s3_secret_key.or(lower.s3_secret_key),
            redis_url: self.redis_url.or(lower.redis_url),
            io_max_queued_calls: self.io_max_queued_calls.or(lower.io_max_queued_calls),
            io_max_open_files: self.io_max_open_files.or(lower.io_max_open_files),
            io_max_dns_lookups: self.io_max_dns_lookups.or(lower.io_max_dns_lookups),
            io_fetch_memory_mib: self.io_fetch_memory_mib.or(lower.io_fetch_memory_mib),
            io_invocation_fetch_memory_mib: self
                .io_invocation_fetch_memory_mib
                .or(lower.io_invocation_fetch_memory_mib),
            io_spill_mib: self.io_spill_mib.or(lower.io_spill_mib),
            fetch_cache_tenant_mib: self.fetch_cache_tenant_mib.or(lower.fetch_cache_tenant_mib),
            fetch_cache_node_mib: self.fetch_cache_node_mib.or(lower.fetch_cache_node_mib),
        }
    }

    /// Applies the defaults, validates the settings and builds the I/O runtime
    /// configuration.
    ///
    /// With an S3 endpoint, a missing access key or secret key is taken from
    /// `AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY`, the variables every S3
    /// tool reads; without an endpoint those are ignored, so that AWS
    /// credentials in the environment do not turn S3 on by accident.
    ///
    /// # Errors
    /// A zero `io_timeout_ms`; an `io_max_object_mib` whose bytes overflow
    /// `u64`; an S3 endpoint that is not `http://`, or without both keys; an S3
    /// key or region without an endpoint; a Redis URL that is not `redis://`.
    /// Each message names the setting's flag, environment variable and file key.
    pub fn ring_config(&self) -> Result<RingConfig> {
        self.ring_config_with_env(|name| std::env::var(name).ok())
    }

    /// [`ring_config`](Self::ring_config) with the environment as a function,
    /// so that tests do not depend on (or change) the process environment.
    fn ring_config_with_env(&self, env: impl Fn(&str) -> Option<String>) -> Result<RingConfig> {
        let mut config = RingConfig::new();

        let timeout_ms = self.io_timeout_ms.unwrap_or(DEFAULT_IO_TIMEOUT_MS);
        if timeout_ms == 0 {
            bail!(
                "io_timeout_ms must be greater than zero \
                 (--io-timeout-ms, PAPPUS_IO_TIMEOUT_MS, io_timeout_ms in [io])"
            );
        }
        config.timeout(Duration::from_millis(timeout_ms));

        let mib = self.io_max_object_mib.unwrap_or(DEFAULT_IO_MAX_OBJECT_MIB);
        let Some(bytes) = mib.checked_mul(MIB) else {
            bail!(
                "io_max_object_mib = {mib} is too large (at most {}) \
                 (--io-max-object-mib, PAPPUS_IO_MAX_OBJECT_MIB, io_max_object_mib in [io])",
                u64::MAX / MIB
            );
        };
        config.max_object_bytes(bytes);
        config.retries(self.io_retries.unwrap_or(DEFAULT_IO_RETRIES));
        let bounds = [
            (
                self.io_max_queued_calls,
                "io_max_queued_calls",
                "--io-max-queued-calls",
                "PAPPUS_IO_MAX_QUEUED_CALLS",
            ),
            (
                self.io_max_open_files,
                "io_max_open_files",
                "--io-max-open-files",
                "PAPPUS_IO_MAX_OPEN_FILES",
            ),
            (
                self.io_max_dns_lookups,
                "io_max_dns_lookups",
                "--io-max-dns-lookups",
                "PAPPUS_IO_MAX_DNS_LOOKUPS",
            ),
        ];
        for (value, key, flag, env_name) in bounds {
            if value == Some(0) {
                bail!("{key} must be at least 1 ({flag}, {env_name}, {key} in [io])");
            }
        }
        if let Some(n) = self.io_max_queued_calls {
            config.max_queued_calls(n);
        }
        if let Some(n) = self.io_max_open_files {
            config.max_open_files(n);
        }
        if let Some(n) = self.io_max_dns_lookups {
            config.max_dns_lookups(n);
        }

        self.fetch_bounds(&mut config)?;

        if let Some(s3) = self.s3_config(env)? {
            config.s3(s3);
        }

        if let Some(url) = given(&self.redis_url) {
            if !has_scheme(url, "redis") {
                bail!(
                    "redis_url {:?} must be redis://[[user]:password@]host[:port][/db] \
                     (TLS is not supported) (--redis-url, PAPPUS_REDIS_URL, redis_url in [io])",
                    redact_password(url)
                );
            }
            config.redis(url);
        }
        Ok(config)
    }

    /// The S3 store, if an endpoint is set (see [`ring_config`](Self::ring_config)).
    fn s3_config(&self, env: impl Fn(&str) -> Option<String>) -> Result<Option<S3Config>> {
        let Some(endpoint) = given(&self.s3_endpoint) else {
            let stray = [
                (&self.s3_access_key, "s3_access_key"),
                (&self.s3_secret_key, "s3_secret_key"),
                (&self.s3_region, "s3_region"),
            ]
            .into_iter()
            .filter(|(value, _)| given(value).is_some())
            .map(|(_, name)| name)
            .collect::<Vec<_>>();
            if !stray.is_empty() {
                bail!(
                    "{} set but s3_endpoint is not: set the S3 store with --s3-endpoint, \
                     PAPPUS_S3_ENDPOINT or s3_endpoint in [io], or remove {}",
                    stray.join(" and "),
                    if stray.len() == 1 { "it" } else { "them" }
                );
            }
            return Ok(None);
        };
        if !has_scheme(endpoint, "http") {
            bail!(
                "s3_endpoint {:?} must be an http:// URL (TLS is not supported) \
                 (--s3-endpoint, PAPPUS_S3_ENDPOINT, s3_endpoint in [io])",
                redact_password(endpoint)
            );
        }
        let from_env = |name: &str| env(name).filter(|v| !v.is_empty());
        let access_key = given(&self.s3_access_key)
            .map(str::to_string)
            .or_else(|| from_env("AWS_ACCESS_KEY_ID"));
        let secret_key = given(&self.s3_secret_key)
            .map(str::to_string)
            .or_else(|| from_env("AWS_SECRET_ACCESS_KEY"));
        let (access_key, secret_key) = match (access_key, secret_key) {
            (Some(access), Some(secret)) => (access, secret),
            (access, secret) => {
                let mut missing = Vec::new();
                if access.is_none() {
                    missing.push(
                        "the access key (--s3-access-key, PAPPUS_S3_ACCESS_KEY or \
                         AWS_ACCESS_KEY_ID, s3_access_key in [io])",
                    );
                }
                if secret.is_none() {
                    missing.push(
                        "the secret key (--s3-secret-key, PAPPUS_S3_SECRET_KEY or \
                         AWS_SECRET_ACCESS_KEY, s3_secret_key in [io])",
                    );
                }
                bail!(
                    "s3_endpoint is {} but {} missing",
                    redact_password(endpoint),
                    if missing.len() == 1 {
                        format!("{} is", missing.join(""))
                    } else {
                        format!("{} are", missing.join(" and "))
                    }
                );
            }
        };
        Ok(Some(S3Config {
            endpoint: endpoint.to_string(),
            region: given(&self.s3_region)
                .unwrap_or(DEFAULT_S3_REGION)
                .to_string(),
            access_key,
            secret_key,
        }))
    }
}

/// Whether `url` starts with `scheme://` (scheme compared case-insensitively).
fn has_scheme(url: &str, scheme: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(s, rest)| s.eq_ignore_ascii_case(scheme) && !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn s3(endpoint: &str) -> IoSettings {
        IoSettings {
            s3_endpoint: Some(endpoint.into()),
            ..IoSettings::default()
        }
    }

    #[test]
    fn defaults_are_the_runtimes() {
        let config = IoSettings::default()
            .ring_config_with_env(no_env)
            .expect("defaults are valid");
        assert_eq!(
            config.get_timeout(),
            Duration::from_millis(DEFAULT_IO_TIMEOUT_MS)
        );
        assert_eq!(
            config.get_max_object_bytes(),
            DEFAULT_IO_MAX_OBJECT_MIB * MIB
        );
        let debug = format!("{config:?}");
        assert!(debug.contains("retries: 3"), "{debug}");
        assert!(debug.contains("s3: None"), "{debug}");
        assert!(debug.contains("redis: None"), "{debug}");
    }

    #[test]
    fn higher_source_wins() {
        let high = IoSettings {
            io_timeout_ms: Some(5),
            ..IoSettings::default()
        };
        let low = IoSettings {
            io_timeout_ms: Some(7),
            io_retries: Some(9),
            ..IoSettings::default()
        };
        let merged = high.or(low);
        assert_eq!(
            (merged.io_timeout_ms, merged.io_retries),
            (Some(5), Some(9))
        );
    }

    #[test]
    fn zero_timeout_and_overflow_are_refused() {
        let zero = IoSettings {
            io_timeout_ms: Some(0),
            ..IoSettings::default()
        };
        let e = zero
            .ring_config_with_env(no_env)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("PAPPUS_IO_TIMEOUT_MS")));
        let huge = IoSettings {
            io_max_object_mib: Some(u64::MAX / MIB + 1),
            ..IoSettings::default()
        };
        assert!(huge.ring_config_with_env(no_env).is_err());
        let largest = IoSettings {
            io_max_object_mib: Some(u64::MAX / MIB),
            ..IoSettings::default()
        };
        assert!(largest.ring_config_with_env(no_env).is_ok());
    }

    #[test]
    fn s3_needs_both_keys_and_names_what_is_missing() {
        let e = s3("http://127.0.0.1:3900")
            .ring_config_with_env(no_env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("--s3-access-key") && e.contains("--s3-secret-key"),
            "{e}"
        );
        let only_access = IoSettings {
            s3_access_key: Some("GK1".into()),
            ..s3("http://127.0.0.1:3900")
        };
        let e = only_access
            .ring_config_with_env(no_env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("PAPPUS_S3_SECRET_KEY"), "{e}");
        assert!(!e.contains("PAPPUS_S3_ACCESS_KEY"), "{e}");
    }

    #[test]
    fn aws_variables_fill_in_only_with_an_endpoint() {
        let aws = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("GKaws".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("s3cr3t".to_string()),
            _ => None,
        };
        let config = s3("http://127.0.0.1:3900")
            .ring_config_with_env(aws)
            .expect("keys from AWS_*");
        let debug = format!("{config:?}");
        assert!(
            debug.contains("GKaws") && debug.contains("us-east-1"),
            "{debug}"
        );
        assert!(!debug.contains("s3cr3t"), "{debug}");
        // No endpoint: AWS credentials in the environment change nothing.
        let config = IoSettings::default()
            .ring_config_with_env(aws)
            .expect("no S3");
        assert!(format!("{config:?}").contains("s3: None"));
    }

    #[test]
    fn s3_settings_without_endpoint_and_bad_schemes_are_refused() {
        let key_only = IoSettings {
            s3_access_key: Some("GK1".into()),
            ..IoSettings::default()
        };
        let e = key_only
            .ring_config_with_env(no_env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("s3_access_key") && e.contains("--s3-endpoint"),
            "{e}"
        );
        let keys = IoSettings {
            s3_access_key: Some("GK1".into()),
            s3_secret_key: Some("secret".into()),
            ..IoSettings::default()
        };
        assert!(s3("https://s3.example")
            .or(keys.clone())
            .ring_config_with_env(no_env)
            .is_err());
        assert!(s3("http://s3.example")
            .or(keys)
            .ring_config_with_env(no_env)
            .is_ok());
        let redis = IoSettings {
            redis_url: Some("rediss://:pw@host".into()),
            ..IoSettings::default()
        };
        let e = redis
            .ring_config_with_env(no_env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("redis_url") && !e.contains("pw"), "{e}");
    }

    #[test]
    fn debug_hides_secrets() {
        let settings = IoSettings {
            s3_endpoint: Some("http://127.0.0.1:3900".into()),
            s3_access_key: Some("GK1".into()),
            s3_secret_key: Some("hunter2".into()),
            redis_url: Some("redis://:swordfish@127.0.0.1:6379/0".into()),
            ..IoSettings::default()
        };
        let debug = format!("{settings:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("swordfish"),
            "{debug}"
        );
        assert!(
            debug.contains("GK1") && debug.contains("127.0.0.1:6379/0"),
            "{debug}"
        );
    }

    #[test]
    fn empty_strings_are_unset() {
        let empty = IoSettings {
            s3_endpoint: Some(String::new()),
            redis_url: Some(String::new()),
            ..IoSettings::default()
        };
        let config = empty.ring_config_with_env(no_env).expect("nothing set");
        let debug = format!("{config:?}");
        assert!(
            debug.contains("s3: None") && debug.contains("redis: None"),
            "{debug}"
        );
    }
}
