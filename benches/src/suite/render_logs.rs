//! The render-logs workload: `examples/render-logs/` against nginx on loopback
//! serving its auth answers and log shards; set up, and checked once, before
//! anything is measured.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use pappus_engine::{Engine, Limits};
use pappus_io::{Authority, IoPolicy};
use pappus_testkit::Server;

use super::workload::{inproc_caller, Workload};
use super::Suite;
use crate::daemon::{invoke_path, Daemon};
use crate::http::Connection;

/// The I/O policy (`docs/io.md`) of the in-process engine and of the daemon:
/// render-logs fetches from its nginx on loopback, which the default policy
/// (public addresses only) refuses.
pub(super) const LOOPBACK_POLICY: &str = "[http]\nallow = [\"127.0.0.1\"]\n";

/// [`LOOPBACK_POLICY`] as the authority of an in-process engine's tenant.
///
/// # Errors
/// The policy does not parse or is refused (a bug of this file).
pub(super) fn loopback_authority() -> Result<Arc<Authority>> {
    let policy: IoPolicy =
        toml::from_str(LOOPBACK_POLICY).context("parsing the loopback policy")?;
    Ok(Arc::new(
        Authority::new(&policy).context("the loopback policy")?,
    ))
}

/// What the render-logs page for `alice-7f3a` must say: the heading and the
/// summary of the three shards `www/auth/alice-7f3a` grants.
pub(super) const RENDER_LOGS_PAGE: [&str; 2] = [
    "<h1>Logs for alice</h1>",
    "<p>3 shards, 14 lines, 2 errors, 3 warnings.</p>",
];

/// The render-logs composition (`examples/render-logs/`) against the auth
/// service and log shards served at `server`.
fn render_logs_workload(server: &str) -> Workload {
    Workload {
        id: RENDER_LOGS_ID.into(),
        title: RENDER_LOGS_TITLE.into(),
        function: "render",
        composition: "RenderLogs".into(),
        input_set: "Request",
        output_set: "Page",
        input: format!("server: {server}\ntoken: alice-7f3a\n")
            .into_bytes()
            .into(),
        expected: Vec::new(),
        contains: &RENDER_LOGS_PAGE,
        baselines: false,
        containers: false,
        items: Vec::new(),
    }
}

/// The render-logs workload's id.
pub(super) const RENDER_LOGS_ID: &str = "render-logs";

/// The example the render-logs workload runs, its functions and the directory
/// nginx serves.
const RENDER_LOGS_DIR: &str = "examples/render-logs";
const RENDER_LOGS_FUNCTIONS: [&str; 3] = ["access", "fan_out", "render"];

/// The render-logs row's label when it has no numbers.
pub(super) const RENDER_LOGS_TITLE: &str = "render-logs (auth + 3 shards from nginx)";

/// The render-logs workload with the nginx serving it, or why it cannot run.
pub(super) type RenderLogs = Result<(Server, Workload), String>;

impl Suite {
    /// Starts nginx serving `examples/render-logs/www`, registers the example's
    /// functions and composition in-process and on the daemon, and checks one
    /// answer from each before anything is measured; or says why the workload
    /// cannot run.
    pub(super) fn render_logs(&self, engine: &Engine, daemon: &Daemon) -> RenderLogs {
        let dir = self.opts.repo.join(RENDER_LOGS_DIR);
        let pap = dir.join("render-logs.pap");
        if !pap.exists() {
            return Err(format!(
                "not available: {} is not in this tree",
                pap.display()
            ));
        }
        self.progress("render-logs: starting nginx, registering, checking one answer");
        let nginx = start_nginx(&dir.join("www"))
            .map_err(|e| format!("not run: nginx did not start: {e}"))?;
        let w = render_logs_workload(&nginx.url());
        let register = || -> Result<()> {
            let source = std::fs::read_to_string(&pap)
                .with_context(|| format!("reading {}", pap.display()))?;
            for f in RENDER_LOGS_FUNCTIONS {
                // Default limits: 64 MiB of memory, what pappus.toml gives `render`.
                let wasm = self.wasm(f)?;
                engine.register_function(f, &wasm, Limits::default())?;
                daemon.put_function(f, &wasm)?;
            }
            engine.register_compositions(&source)?;
            daemon.put_compositions(&source)?;
            Ok(())
        };
        register().map_err(|e| format!("not run: {e:#}"))?;
        let mut conn = Connection::new(daemon.addr(), Duration::from_secs(30));
        let r = conn
            .request(
                "POST",
                &invoke_path(&w.composition, w.input_set),
                Some("application/octet-stream"),
                &w.input,
            )
            .map_err(|e| format!("not run: the check request to the daemon failed: {e}"))?;
        if r.status != 200 || w.check(&r.body).is_err() {
            return Err(format!(
                "not run: the daemon's first answer is not the expected page (status {}): {}",
                r.status,
                snippet(&r.body)
            ));
        }
        inproc_caller(engine, &w)()
            .map_err(|e| format!("not run: the in-process check failed: {e}"))?;
        Ok((nginx, w))
    }
}

/// nginx starting on a loopback port and serving `root`, or why it did not.
pub(super) fn start_nginx(root: &Path) -> Result<Server, String> {
    // The testkit panics with a setup hint when nginx is missing: keep that
    // message for the report, without the panic printed on the way.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = std::panic::catch_unwind(|| pappus_testkit::nginx_serving(root));
    std::panic::set_hook(hook);
    started.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "it panicked".into())
    })
}

/// At most 300 bytes of an answer, for a message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loopback_policy_allows_loopback_and_nothing_else_private() {
        let policy: IoPolicy = toml::from_str(LOOPBACK_POLICY).expect("parses");
        assert_eq!(policy.http.allow, ["127.0.0.1"]);
        assert!(policy.file.read.is_empty() && policy.s3.is_empty() && policy.redis.is_none());
        assert!(loopback_authority().is_ok());
    }

    #[test]
    fn render_logs_answers_need_the_heading_and_the_summary() {
        let w = render_logs_workload("http://127.0.0.1:1");
        assert_eq!(
            w.input.as_ref(),
            b"server: http://127.0.0.1:1\ntoken: alice-7f3a\n"
        );
        let page = "<html><h1>Logs for alice</h1>\n<p>3 shards, 14 lines, 2 errors, 3 warnings.</p></html>";
        assert_eq!(w.check(page.as_bytes()), Ok(()));
        let wrong = "<h1>Logs for alice</h1>\n<p>2 shards, 4 lines, 0 errors, 1 warnings.</p>";
        assert_eq!(w.check(wrong.as_bytes()), Err("wrong_output".into()));
        assert_eq!(w.check(b""), Err("wrong_output".into()));
    }
}
