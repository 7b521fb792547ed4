//! The node daemon behind `pappus serve`: an HTTP/1.1 API around an [`Engine`].
//!
//! Clients register functions (wasm or wat) and compositions (language text) and
//! invoke compositions with JSON or raw bodies; the daemon adds what a shared
//! node needs on top of the engine: tenants behind bearer tokens, a maximum body
//! size, `429` when the engine's admission queue is full, Prometheus metrics,
//! one log line per invocation, the last invocations of each tenant
//! (`GET /v1/logs`), and a bounded drain on SIGTERM/SIGINT.
//! Persistence is the engine's: with a data directory, every acknowledged
//! registration is on disk before the `201` is sent.
//!
//! This crate owns the HTTP server, its tokio runtime, logging and the daemon's
//! own settings ([`Settings`] from a TOML file and, with the `clap` feature,
//! flags and environment, resolved into a [`Config`]). The engine's settings,
//! the I/O runtime's included, are `pappus-engine`'s [`EngineConfig`], which
//! [`Settings`] flattens in and `pappus run` reads too. Running compositions is
//! `pappus-engine`'s job; parsing the command line is the `pappus` command's
//! (`cli/`), which turns the `clap` feature on.
//!
//! The API reference (with curl examples) is `docs/daemon.md`.
//!
//! Invocations go through [`Engine::invoke_async`], which runs a shard on the
//! HTTP thread that received the request only when its function recently took
//! under 100 µs (cheaper than two thread hand-offs); everything else runs on the
//! engine's compute threads. Registrations (which compile and fsync) go through
//! `spawn_blocking`.
//!
//! ```no_run
//! use pappus_daemon::{Config, Settings};
//!
//! // Defaults: 127.0.0.1:8080, registry in memory.
//! let config = Config::resolve(Settings::default())?;
//! pappus_daemon::init_logging(config.log_format);
//! pappus_daemon::run(config)?; // until SIGTERM or SIGINT
//! # Ok::<(), anyhow::Error>(())
//! ```

mod auth;
pub mod bundle;
mod config;
mod drain;
mod errors;
mod invocation_log;
mod logging;
mod metrics;
mod routes;
mod server;

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

pub use auth::Tokens;
pub use config::{Config, LogFormat, Settings, DEFAULT_HTTP_THREADS};
pub use logging::{flush_logs, init_logging};
pub use pappus_engine::{EngineConfig, IoSettings};
pub use server::{serve_router, ConnectionLimits, HttpThreads};

use drain::Drain;
use invocation_log::InvocationLog;
use metrics::Metrics;
use pappus_engine::{Engine, Limits};

/// Registrations being compiled at once (each on a blocking thread; compiling
/// modules, fsync). More wait their turn instead of each starting a thread.
const MAX_REGISTRATIONS: usize = 16;

/// Shared by every request handler, behind one `Arc` (the router's state):
/// axum clones the state for every extractor and middleware of every request,
/// and an `Arc` makes each clone one reference count.
struct AppState {
    engine: Engine,
    /// `None`: authentication off, every request is the default tenant's.
    tokens: Option<Arc<Tokens>>,
    metrics: Arc<Metrics>,
    /// The last invocations of each tenant, for `GET /v1/logs`.
    invocation_log: Arc<InvocationLog>,
    drain: Arc<Drain>,
    bodies: Arc<routes::BodyLimits>,
    /// Registrations being read and compiled at once: one takes a permit
    /// before its body is read, so waiting ones hold no body bytes.
    registrations: Arc<tokio::sync::Semaphore>,
    default_limits: Limits,
    max_memory_bytes: Option<u64>,
    max_timeout: std::time::Duration,
    /// Each tenant's I/O authority, whose refused calls `/metrics` counts.
    authorities: Arc<std::collections::BTreeMap<String, Arc<pappus_io::Authority>>>,
}

/// Builds the engine `config` describes (loading the registry from the data
/// directory, if any).
///
/// # Errors
/// The engine refuses the settings or cannot load the data directory.
pub fn build_engine(config: &Config) -> anyhow::Result<Engine> {
    let mut builder = config.engine.builder()?.io_config(config.io.clone());
    for (tenant, authority) in &config.authorities {
        builder = builder.tenant_authority(tenant, authority.clone());
    }
    match &config.engine.data_dir {
        Some(dir) => builder
            .build()
            .with_context(|| format!("starting the engine on data directory {}", dir.display())),
        None => builder.build().context("starting the engine"),
    }
}

/// Runs the daemon until SIGTERM or SIGINT, then drains and returns.
///
/// Builds the engine, binds `config.listen` on a current-thread runtime that
/// accepts connections, handles signals and drains, prints `listening on ADDR`
/// on stdout (so that callers that asked for port 0 learn the port) and serves
/// on `config.http_threads` threads ([`serve`]). Writes out the buffered log
/// lines ([`flush_logs`]) before returning, whether it succeeded or not.
///
/// # Errors
/// The engine cannot start, the address cannot be bound, or the server fails.
pub fn run(config: Config) -> anyhow::Result<()> {
    let result = run_until_drained(config);
    flush_logs();
    result
}

/// [`run`] without the final flush.
fn run_until_drained(config: Config) -> anyhow::Result<()> {
    if config.engine.data_dir.is_none() {
        tracing::warn!("no data directory: registrations are kept in memory only");
    }
    let engine = build_engine(&config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the accepting runtime")?;
    runtime.block_on(async {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let shutdown = async {
            drain::signal().await;
            // A second signal means "now": give up on the drain.
            tokio::spawn(async {
                drain::signal().await;
                tracing::warn!("second signal: exiting without finishing the drain");
                flush_logs();
                std::process::exit(1);
            });
        };
        serve(engine, config, listener, shutdown).await
    })
}

/// Serves the API on `listener` until `shutdown` completes, then drains: new
/// requests get `503`, the engine stops admitting and finishes in-flight
/// invocations (at most `config.drain_timeout`), the listener closes and open
/// responses are written. Connections are served on `config.http_threads`
/// threads of their own ([`HttpThreads`]); the caller's runtime only accepts
/// them, answers those over the cap and drains. Log lines may still be
/// buffered when it returns: call [`flush_logs`] before exiting ([`run`] does).
///
/// # Errors
/// The listener's address cannot be read, the HTTP threads cannot start, or
/// the server fails.
pub async fn serve(
    engine: Engine,
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let addr: SocketAddr = listener.local_addr().context("reading the bound address")?;
    let drain = Arc::new(Drain::default());
    let state = Arc::new(AppState {
        engine: engine.clone(),
        tokens: config.tokens.clone().map(Arc::new),
        metrics: Arc::new(Metrics::default()),
        invocation_log: Arc::new(InvocationLog::new(config.logs_per_tenant)),
        drain: drain.clone(),
        bodies: Arc::new(routes::BodyLimits::new(
            config.max_body_bytes,
            config.max_module_bytes,
            config.max_body_bytes_in_flight,
            config.client_timeout,
        )),
        registrations: Arc::new(tokio::sync::Semaphore::new(MAX_REGISTRATIONS)),
        default_limits: config.default_limits,
        max_memory_bytes: config.max_memory_bytes,
        max_timeout: config.max_timeout,
        authorities: Arc::new(config.authorities.clone()),
    });
    let app = routes::router(state).layer(axum::middleware::from_fn(server::track_requests));
    let threads =
        Arc::new(HttpThreads::start(config.http_threads).context("starting the HTTP threads")?);
    let stop = drain.clone();
    let limits = ConnectionLimits {
        max_connections: config.max_connections,
        client_timeout: config.client_timeout,
    };
    let mut server = tokio::spawn(serve_router(listener, app, threads, limits, async move {
        stop.finished().await;
    }));

    tracing::info!(
        %addr,
        auth = config.tokens.is_some(),
        tenants = config.tokens.as_ref().map_or(1, Tokens::tenant_count),
        data_dir = %config
            .engine
            .data_dir
            .as_deref()
            .map_or_else(|| "none (in memory)".into(), |d| d.display().to_string()),
        queue_bound = config.engine.queue_bound.unwrap_or(pappus_engine::DEFAULT_QUEUE_BOUND),
        max_body_bytes = config.max_body_bytes,
        max_module_bytes = config.max_module_bytes,
        max_connections = config.max_connections,
        "listening"
    );
    // A plain line on stdout for scripts and tests; logs go to stderr.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {addr}");
    let _ = stdout.flush();

    tokio::select! {
        () = shutdown => {}
        result = &mut server => return drain::server_result(result),
    }
    drain::drain(engine, &drain, server, config.drain_timeout).await
}
