//! `pappus logs`: the calling tenant's last invocations on a daemon
//! (`GET /v1/logs`), oldest first: when, which composition, the outcome, the
//! time taken and, for a failure, the failing application and shard and the
//! error message.

use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use crate::client::{segment, Client, Remote};

/// Arguments of `pappus logs`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Only this composition's invocations.
    #[arg(long, short = 'c')]
    composition: Option<String>,
    /// Only the last N.
    #[arg(long, short = 'n', value_name = "N")]
    limit: Option<usize>,
    /// Print the daemon's JSON instead of lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: Remote,
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.remote)?;
    let mut query = Vec::new();
    if let Some(c) = &args.composition {
        query.push(format!("composition={}", segment(c)?));
    }
    if let Some(n) = args.limit {
        query.push(format!("limit={n}"));
    }
    let mut path = "/v1/logs".to_string();
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let answer = client.get(&path)?.json()?;
    if args.json {
        println!("{answer}");
        return Ok(ExitCode::SUCCESS);
    }
    let entries = answer
        .get("invocations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if entries.is_empty() {
        eprintln!("no invocations recorded");
    }
    for entry in &entries {
        println!("{}", line(entry));
    }
    Ok(ExitCode::SUCCESS)
}

/// One entry as a line: time, composition, outcome, total; then, for a
/// failure, the failing shard and the message.
fn line(entry: &Value) -> String {
    let text = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_string();
    let at_ms = entry.get("at_unix_ms").and_then(Value::as_u64).unwrap_or(0);
    let at = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(at_ms));
    let total_us = entry
        .get("timings_us")
        .and_then(|t| t.get("total"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut line = format!(
        "{at}  {}  {}  {total_us} us",
        text(entry, "composition"),
        text(entry, "outcome")
    );
    if let Some(error) = entry.get("error").filter(|e| !e.is_null()) {
        for (label, field) in [
            ("application", "application"),
            ("shard", "shard"),
            ("failure", "failure"),
        ] {
            let value = text(error, field);
            if !value.is_empty() {
                line.push_str(&format!("  {label}: {value}"));
            }
        }
        line.push_str(&format!(
            "\n    {}",
            text(error, "message").replace('\n', "\n    ")
        ));
    }
    line
}
