//! Daemon settings: one [`Settings`] type read from flags, the environment and an
//! optional TOML file, merged (flags > environment > file > defaults) and resolved
//! into a validated [`Config`].
//!
//! Flags and environment variables come from the same clap definition, so clap
//! already applies "flag beats environment"; the file is the layer below that.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

use super::auth::{default_redis_prefix, Tokens};
use pappus_engine::{EngineConfig, Limits, DEFAULT_TENANT};
use pappus_io::{Authority, IoPolicy};

const MIB: u64 = 1024 * 1024;

/// The default listen address, 127.0.0.1:8080: loopback only, so a fresh
/// `pappus serve` is never reachable from the network without an explicit decision.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// Default maximum request body: 16 MiB, enough for large modules and inputs.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 16 * MIB;
/// Default maximum module upload (`PUT /v1/functions/{name}`): 64 MiB, room
/// for a language runtime such as CPython compiled to wasm (about 26 MiB).
pub const DEFAULT_MAX_MODULE_BYTES: u64 = 64 * MIB;
/// Default bound on the time SIGTERM waits for in-flight work: 30 s.
pub const DEFAULT_DRAIN_TIMEOUT_MS: u64 = 30_000;
/// Default time a client may take to send a request's head or body: 30 s.
pub const DEFAULT_CLIENT_TIMEOUT_MS: u64 = 30_000;
/// Default cap on a function's deadline: 60 s. Deadlines hold a compute thread,
/// so an operator bounds them; a registration asking for more is refused.
pub const DEFAULT_MAX_TIMEOUT_MS: u64 = 60_000;
/// Default bound on open client connections: 512, well under the usual
/// 1024-descriptor limit so that the registry and the I/O runtime keep theirs.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default bound on request body bytes being read at once: 256 MiB.
pub const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT: u64 = 256 * MIB;
/// Default number of HTTP worker threads. The HTTP side only parses, routes and
/// awaits; compute runs on the engine's own threads, so two are plenty.
pub const DEFAULT_HTTP_THREADS: usize = 2;

/// One source of settings; every field is optional so that sources can be layered.
///
/// The same struct is the schema of the `--config` TOML file (keys are the flag
/// names with `_` for `-`; the I/O runtime's settings go in an `[io]` table,
/// see [`IoSettings`](pappus_engine::IoSettings)) and, with this crate's `clap` feature, the argument group
/// of `pappus serve` (each flag also read from its `PAPPUS_*` environment
/// variable). The engine's settings are [`EngineConfig`]'s, flattened in:
/// a new engine setting is added there, never here.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[allow(
    clippy::manual_non_exhaustive,
    reason = "the private field refuses stray file keys; it is no marker"
)]
pub struct Settings {
    /// Address to listen on [default: 127.0.0.1:8080]; port 0 picks a free port.
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_LISTEN", value_name = "ADDR:PORT")
    )]
    pub listen: Option<SocketAddr>,
    /// Threads serving HTTP [default: 2].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_HTTP_THREADS", value_name = "N")
    )]
    pub http_threads: Option<usize>,
    /// Largest request body in bytes (module uploads excepted); larger ones
    /// get 413 [default: 16 MiB].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_BODY_BYTES", value_name = "BYTES")
    )]
    pub max_body_bytes: Option<u64>,
    /// Largest module upload (`PUT /v1/functions/{name}`) in bytes; larger
    /// ones get 413 [default: 64 MiB].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_MODULE_BYTES", value_name = "BYTES")
    )]
    pub max_module_bytes: Option<u64>,
    /// Client connections open at once; more are answered 429 and closed
    /// [default: 512].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_CONNECTIONS", value_name = "N")
    )]
    pub max_connections: Option<usize>,
    /// Request body bytes being read at once over all requests; a body that
    /// does not fit gets 429 [default: 256 MiB].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_BODY_BYTES_IN_FLIGHT", value_name = "BYTES")
    )]
    pub max_body_bytes_in_flight: Option<u64>,
    /// How long a client may take to send a request's head (after connecting
    /// or after its previous answer) and, once admitted, its body; an idle
    /// connection is then closed, a late body answered 408 [default: 30000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_CLIENT_TIMEOUT_MS", value_name = "MS")
    )]
    pub client_timeout_ms: Option<u64>,
    /// How long SIGTERM waits for in-flight work before exiting [default: 30000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_DRAIN_TIMEOUT_MS", value_name = "MS")
    )]
    pub drain_timeout_ms: Option<u64>,
    /// Largest deadline a registration may ask for; more is refused with 400
    /// [default: 60000].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_MAX_TIMEOUT_MS", value_name = "MS")
    )]
    pub max_timeout_ms: Option<u64>,
    /// TOML file mapping bearer tokens to tenants, with each tenant's I/O
    /// policy; turns authentication on.
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_TOKENS", value_name = "FILE")
    )]
    pub tokens: Option<PathBuf>,
    /// I/O policy (TOML, `docs/io.md`) of the single tenant when
    /// authentication is off [default: the least authority: no files, public
    /// HTTP only, no S3, no Redis]. With a tokens file, policies go there.
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_IO_POLICY", value_name = "FILE")
    )]
    pub io_policy: Option<PathBuf>,
    /// Allow a non-loopback listen address without a tokens file.
    #[cfg_attr(feature = "clap", arg(
        long,
        env = "PAPPUS_INSECURE_NO_AUTH",
        value_parser = clap::builder::BoolishValueParser::new()
    ))]
    #[serde(default)]
    pub insecure_no_auth: bool,
    /// Invocations kept per tenant for `GET /v1/logs` (0: none) [default: 100].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_LOGS_PER_TENANT", value_name = "N")
    )]
    pub logs_per_tenant: Option<usize>,
    /// Log format: `text` or `json` [default: text].
    #[cfg_attr(
        feature = "clap",
        arg(long, env = "PAPPUS_LOG_FORMAT", value_name = "FORMAT")
    )]
    pub log_format: Option<LogFormat>,
    /// The engine's settings (threads, bounds, limits, quotas, data
    /// directory, and the I/O runtime's in an `[io]` table): see
    /// [`EngineConfig`]; flat flags and top-level file keys.
    #[cfg_attr(feature = "clap", command(flatten))]
    #[serde(flatten)]
    pub engine: EngineConfig,
    /// Refuses keys no setting has (`deny_unknown_fields` does not combine
    /// with `flatten`), so that a typo in the file does not pass silently.
    #[cfg_attr(feature = "clap", arg(skip))]
    #[serde(flatten, deserialize_with = "refuse_unknown_keys")]
    #[allow(
        dead_code,
        reason = "only deserializing it matters: it fails on a stray key"
    )]
    unknown: (),
}

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Settings {
    /// Reads a TOML settings file.
    ///
    /// # Errors
    /// The file cannot be read, is not TOML, or has an unknown key.
    pub fn from_file(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
    }

    /// Fills every setting missing here from `lower` (a lower-priority source).
    /// `insecure_no_auth` is on if either source turns it on.
    pub fn or(self, lower: Settings) -> Settings {
        Settings {
            listen: self.listen.or(lower.listen),
            http_threads: self.http_threads.or(lower.http_threads),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            max_module_bytes: self.max_module_bytes.or(lower.max_module_bytes),
            max_connections: self.max_connections.or(lower.max_connections),
            max_body_bytes_in_flight: self
                .max_body_bytes_in_flight
                .or(lower.max_body_bytes_in_flight),
            drain_timeout_ms: self.drain_timeout_ms.or(lower.drain_timeout_ms),
            client_timeout_ms: self.client_timeout_ms.or(lower.client_timeout_ms),
            max_timeout_ms: self.max_timeout_ms.or(lower.max_timeout_ms),
            tokens: self.tokens.or(lower.tokens),
            io_policy: self.io_policy.or(lower.io_policy),
            insecure_no_auth: self.insecure_no_auth || lower.insecure_no_auth,
            log_format: self.log_format.or(lower.log_format),
            logs_per_tenant: self.logs_per_tenant.or(lower.logs_per_tenant),
            engine: self.engine.or(lower.engine),
            unknown: (),
        }
    }
}

/// Fails on any key left over once every setting took its own (see
/// [`Settings`]'s `unknown`).
fn refuse_unknown_keys<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    let rest = BTreeMap::<String, serde::de::IgnoredAny>::deserialize(deserializer)?;
    match rest.keys().next() {
        None => Ok(()),
        Some(key) => Err(serde::de::Error::custom(format!(
            "unknown setting `{key}` (I/O runtime settings go in the [io] table)"
        ))),
    }
}

/// The resolved, validated daemon configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to bind.
    pub listen: SocketAddr,
    /// HTTP worker threads.
    pub http_threads: usize,
    /// Largest accepted request body (module uploads excepted).
    pub max_body_bytes: usize,
    /// Largest accepted module upload.
    pub max_module_bytes: usize,
    /// Client connections open at once.
    pub max_connections: usize,
    /// Request body bytes being read at once (at least `max_body_bytes` and
    /// `max_module_bytes`).
    pub max_body_bytes_in_flight: u64,
    /// Bound on the drain after SIGTERM/SIGINT.
    pub drain_timeout: Duration,
    /// How long a client may take to send a request's head or body.
    pub client_timeout: Duration,
    /// The engine's settings, validated ([`EngineConfig::builder`] succeeds).
    pub engine: EngineConfig,
    /// Limits of a function registered without explicit ones
    /// ([`EngineConfig::default_limits`]).
    pub default_limits: Limits,
    /// Cap on a function's memory limit; `None` leaves the engine default.
    pub max_memory_bytes: Option<u64>,
    /// Cap on a function's deadline.
    pub max_timeout: Duration,
    /// Bearer tokens; `None` means authentication is off (single default tenant).
    pub tokens: Option<Tokens>,
    /// Log format.
    pub log_format: LogFormat,
    /// Invocations kept per tenant for `GET /v1/logs`.
    pub logs_per_tenant: usize,
    /// Configuration of the I/O runtime that runs the builtins (built from
    /// `engine.io`); its default authority is the least one, so a call that
    /// carries no tenant's authority can reach nothing private.
    pub io: pappus_io::RingConfig,
    /// Each tenant's I/O authority (every tenant of the tokens file, or the
    /// default tenant without one), with the daemon's own files denied.
    pub authorities: BTreeMap<String, Arc<Authority>>,
}

impl Config {
    /// Merges `settings` (flags and environment) over the file at `file`, if any,
    /// over the defaults, loads the tokens file and validates the result.
    ///
    /// # Errors
    /// An unreadable or invalid config or tokens file, invalid engine settings
    /// ([`EngineConfig::builder`], I/O settings included), a zero bound, or a
    /// non-loopback listen address without a tokens file and without
    /// `insecure_no_auth`.
    pub fn load(settings: Settings, file: Option<&Path>) -> anyhow::Result<Config> {
        let settings = match file {
            Some(path) => settings.or(Settings::from_file(path)?),
            None => settings,
        };
        Config::resolve_denying(settings, file)
    }

    /// Applies defaults to `settings` and validates them (see [`Config::load`]).
    ///
    /// # Errors
    /// As [`Config::load`], minus the config file.
    pub fn resolve(settings: Settings) -> anyhow::Result<Config> {
        Config::resolve_denying(settings, None)
    }

    /// [`Config::resolve`], also denying every tenant the config `file`.
    fn resolve_denying(settings: Settings, file: Option<&Path>) -> anyhow::Result<Config> {
        let listen = settings.listen.unwrap_or(DEFAULT_LISTEN);
        let tokens = match &settings.tokens {
            Some(path) => Some(Tokens::load(path)?),
            None => None,
        };
        if tokens.is_none() && !listen.ip().is_loopback() && !settings.insecure_no_auth {
            bail!(
                "refusing to listen on {listen} without authentication: \
                 give a tokens file (--tokens FILE) or pass --insecure-no-auth"
            );
        }
        // Every engine setting is checked here, before anything starts.
        settings.engine.builder().map(drop)?;
        let default_limits = settings.engine.default_limits()?;
        let max_timeout_ms = settings.max_timeout_ms.unwrap_or(DEFAULT_MAX_TIMEOUT_MS);
        if max_timeout_ms == 0 {
            bail!("max_timeout_ms must be at least 1");
        }
        let max_timeout = Duration::from_millis(max_timeout_ms);
        if default_limits.timeout > max_timeout {
            bail!(
                "function_timeout_ms ({} ms) exceeds max_timeout_ms ({max_timeout_ms} ms)",
                default_limits.timeout.as_millis()
            );
        }
        let mut io = settings.engine.io.ring_config()?;
        // Spill files and the fetch cache live in the data directory, when
        // there is one (docs/io.md, docs/dataplane.md).
        if let Some(data) = settings.engine.data_dir.as_deref() {
            io.spill_dir(data.join("spill"));
            if settings.engine.io.fetch_cache_on() {
                io.fetch_cache(data.join("fetch-cache"));
            }
        }
        let least = Authority::new(&IoPolicy::default()).context("the least I/O authority")?;
        io.authority(Arc::new(least.named("none")));
        let own_files: Vec<&Path> = [
            settings.engine.data_dir.as_deref(),
            settings.tokens.as_deref(),
            settings.io_policy.as_deref(),
            file,
        ]
        .into_iter()
        .flatten()
        .collect();
        let authorities =
            tenant_authorities(tokens.as_ref(), settings.io_policy.as_deref(), &own_files)?;
        let config = Config {
            listen,
            http_threads: positive(settings.http_threads, "http_threads")?
                .unwrap_or(DEFAULT_HTTP_THREADS),
            max_body_bytes: usize::try_from(
                settings.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            )
            .context("max_body_bytes does not fit in memory")?,
            max_module_bytes: usize::try_from(
                settings
                    .max_module_bytes
                    .unwrap_or(DEFAULT_MAX_MODULE_BYTES),
            )
            .context("max_module_bytes does not fit in memory")?,
            max_connections: positive(settings.max_connections, "max_connections")?
                .unwrap_or(DEFAULT_MAX_CONNECTIONS),
            max_body_bytes_in_flight: settings
                .max_body_bytes_in_flight
                .unwrap_or(DEFAULT_MAX_BODY_BYTES_IN_FLIGHT),
            client_timeout: Duration::from_millis(match settings.client_timeout_ms {
                Some(0) => bail!("client_timeout_ms must be at least 1"),
                other => other.unwrap_or(DEFAULT_CLIENT_TIMEOUT_MS),
            }),
            drain_timeout: Duration::from_millis(
                settings
                    .drain_timeout_ms
                    .unwrap_or(DEFAULT_DRAIN_TIMEOUT_MS),
            ),
            max_memory_bytes: settings.engine.max_memory_bytes()?,
            default_limits,
            max_timeout,
            engine: settings.engine,
            tokens,
            log_format: settings.log_format.unwrap_or_default(),
            logs_per_tenant: settings
                .logs_per_tenant
                .unwrap_or(crate::invocation_log::DEFAULT_LOGS_PER_TENANT),
            io,
            authorities,
        };
        for (setting, max) in [
            ("max_body_bytes", config.max_body_bytes),
            ("max_module_bytes", config.max_module_bytes),
        ] {
            if config.max_body_bytes_in_flight < max as u64 {
                bail!(
                    "max_body_bytes_in_flight ({}) must be at least {setting} ({max}), \
                     or no body of the largest size could ever be read",
                    config.max_body_bytes_in_flight,
                );
            }
        }
        Ok(config)
    }
}

/// Builds each tenant's authority: its policy from the tokens file (or, with
/// authentication off, `io_policy` or the least authority for the default
/// tenant), with the daemon's `own_files` added to its deny list.
fn tenant_authorities(
    tokens: Option<&Tokens>,
    io_policy: Option<&Path>,
    own_files: &[&Path],
) -> anyhow::Result<BTreeMap<String, Arc<Authority>>> {
    let policies = match (tokens, io_policy) {
        (Some(_), Some(_)) => bail!(
            "io_policy is for a daemon without a tokens file: give each tenant's policy in \
             the tokens file ([tenants.NAME.io])"
        ),
        (Some(tokens), None) => tokens.policies().clone(),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading I/O policy file {}", path.display()))?;
            let mut policy: IoPolicy = toml::from_str(&text)
                .with_context(|| format!("parsing I/O policy file {}", path.display()))?;
            if let Some(redis) = &mut policy.redis {
                if redis.prefix.is_empty() {
                    redis.prefix = default_redis_prefix(DEFAULT_TENANT);
                }
            }
            BTreeMap::from([(DEFAULT_TENANT.to_string(), policy)])
        }
        (None, None) => BTreeMap::from([(DEFAULT_TENANT.to_string(), IoPolicy::default())]),
    };
    let mut denied = Vec::new();
    for path in own_files {
        denied.extend(deny_forms(path)?);
    }
    policies
        .into_iter()
        .map(|(tenant, mut policy)| {
            policy.file.deny.extend(denied.iter().cloned());
            let authority = Authority::new(&policy)
                .with_context(|| format!("in the I/O policy of tenant {tenant:?}"))?;
            Ok((tenant.clone(), Arc::new(authority.named(tenant))))
        })
        .collect()
}

/// The absolute forms under which `path` may be named: as given (made
/// absolute, `.` and `..` folded) and, when it exists, with symlinks resolved.
fn deny_forms(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let absolute =
        std::path::absolute(path).with_context(|| format!("making {} absolute", path.display()))?;
    let mut folded = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                folded.pop();
            }
            Component::CurDir => {}
            other => folded.push(other),
        }
    }
    let mut forms = vec![folded];
    if let Ok(canonical) = std::fs::canonicalize(path) {
        forms.push(canonical);
    }
    Ok(forms)
}

/// Refuses an explicit zero, which would make the daemon unable to do anything.
fn positive(value: Option<usize>, what: &str) -> anyhow::Result<Option<usize>> {
    match value {
        Some(0) => bail!("{what} must be at least 1"),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_source_wins_and_defaults_fill_the_rest() {
        let flags = Settings {
            engine: EngineConfig {
                queue_bound: Some(7),
                ..EngineConfig::default()
            },
            ..Settings::default()
        };
        let file: Settings =
            toml::from_str("queue_bound = 99\nmax_body_bytes = 1000\nlisten = \"127.0.0.1:0\"")
                .unwrap_or_default();
        let config = Config::resolve(flags.or(file)).ok();
        let config = config.as_ref();
        assert_eq!(config.map(|c| c.engine.queue_bound), Some(Some(7)));
        assert_eq!(config.map(|c| c.max_body_bytes), Some(1000));
        assert_eq!(config.map(|c| c.listen.port()), Some(0));
        assert_eq!(config.map(|c| c.http_threads), Some(DEFAULT_HTTP_THREADS));
    }

    #[test]
    fn non_loopback_needs_tokens_or_explicit_opt_out() {
        let open = Settings {
            listen: "0.0.0.0:8080".parse().ok(),
            ..Settings::default()
        };
        assert!(Config::resolve(open.clone()).is_err());
        let opted_out = Settings {
            insecure_no_auth: true,
            ..open
        };
        assert!(Config::resolve(opted_out).is_ok());
    }

    #[test]
    fn default_limits_must_fit_under_the_caps() {
        let resolve = |toml_text: &str| {
            Config::resolve(toml::from_str::<Settings>(toml_text).expect("valid toml"))
                .map_err(|e| format!("{e:#}"))
        };
        let config = resolve("").expect("defaults");
        assert_eq!(
            config.max_timeout,
            Duration::from_millis(DEFAULT_MAX_TIMEOUT_MS)
        );
        let err = resolve("function_timeout_ms = 9000\nmax_timeout_ms = 1000")
            .expect_err("the deadline is above its cap");
        assert!(err.contains("max_timeout_ms"), "{err}");
        let err = resolve("function_memory_mib = 64\nmax_memory_mib = 32")
            .expect_err("the memory is above its cap");
        assert!(err.contains("max_memory_mib"), "{err}");
        assert!(resolve("max_timeout_ms = 0").is_err());
        assert!(resolve("max_shards_per_application = 0").is_err());
        assert!(resolve("max_nesting_depth = 0").is_err());
        let config = resolve("max_shards_per_invocation = 5\nmax_nesting_depth = 3").expect("ok");
        assert_eq!(config.engine.max_shards_per_invocation, Some(5));
        assert_eq!(config.engine.max_nesting_depth, Some(3));
        let config = resolve(
            "max_functions_per_tenant = 7\nmax_compositions_per_tenant = 0\nmax_module_mib_per_tenant = 2",
        )
        .expect("quotas");
        assert_eq!(config.engine.max_functions_per_tenant, Some(7));
        assert_eq!(config.engine.max_compositions_per_tenant, Some(0));
        assert_eq!(config.engine.max_module_mib_per_tenant, Some(2));
        assert!(resolve("max_module_mib_per_tenant = 9223372036854775807").is_err());
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<Settings>("listne = \"127.0.0.1:1\"").is_err());
        assert!(toml::from_str::<Settings>("[io]\nio_timeout = 5").is_err());
        // The I/O settings live in the [io] table, not at the top level.
        assert!(toml::from_str::<Settings>("io_timeout_ms = 5").is_err());
    }

    #[test]
    fn io_table_is_read_and_flags_win() {
        let file: Settings = toml::from_str(
            "queue_bound = 5\n\
             [io]\n\
             io_timeout_ms = 1500\n\
             io_max_object_mib = 8\n\
             io_retries = 1\n\
             s3_endpoint = \"http://127.0.0.1:3900\"\n\
             s3_region = \"garage\"\n\
             s3_access_key = \"GKfile\"\n\
             s3_secret_key = \"file-secret\"\n\
             redis_url = \"redis://127.0.0.1:6379/0\"\n",
        )
        .expect("valid [io] table");
        assert_eq!(file.engine.io.io_timeout_ms, Some(1500));
        let flags = Settings {
            engine: EngineConfig {
                io: pappus_engine::IoSettings {
                    io_timeout_ms: Some(250),
                    s3_access_key: Some("GKflag".into()),
                    ..pappus_engine::IoSettings::default()
                },
                ..EngineConfig::default()
            },
            ..Settings::default()
        };
        let config = Config::resolve(flags.or(file)).expect("valid settings");
        assert_eq!(config.engine.queue_bound, Some(5));
        assert_eq!(config.io.get_timeout(), Duration::from_millis(250));
        assert_eq!(config.io.get_max_object_bytes(), 8 * MIB);
        let debug = format!("{:?}", config.io);
        assert!(debug.contains("retries: 1"), "{debug}");
        assert!(
            debug.contains("GKflag") && !debug.contains("GKfile"),
            "{debug}"
        );
        assert!(debug.contains("\"garage\""), "{debug}");
        assert!(debug.contains("redis://127.0.0.1:6379/0"), "{debug}");
        assert!(!debug.contains("file-secret"), "{debug}");
    }

    #[test]
    fn s3_endpoint_without_secret_key_is_refused() {
        let settings: Settings = toml::from_str(
            "[io]\n\
             s3_endpoint = \"http://127.0.0.1:3900\"\n\
             s3_access_key = \"GK1\"\n",
        )
        .expect("valid [io] table");
        // The AWS_* fallback is read from the environment: only check the
        // message when the test environment does not provide the secret.
        let message = Config::resolve(settings).err().map(|e| format!("{e:#}"));
        if std::env::var_os("AWS_SECRET_ACCESS_KEY").is_none() {
            let message = message.unwrap_or_default();
            assert!(message.contains("PAPPUS_S3_SECRET_KEY"), "{message}");
            assert!(message.contains("--s3-secret-key"), "{message}");
            assert!(message.contains("s3_secret_key"), "{message}");
        }
    }
}
