//! `pappus rm NAME... | --all`: delete functions and compositions from a daemon.
//!
//! A NAME may be a composition, a function, or both (they are separate
//! namespaces): compositions go first, since a function cannot be deleted while
//! a composition uses it, so `pappus rm Hello hello` works in any order.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use serde_json::Value;

use crate::client::{segment, Client, Remote};

/// Arguments of `pappus rm`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Names of compositions or functions to delete.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    names: Vec<String>,
    /// Delete every composition, then every function, of this tenant.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    remote: Remote,
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.remote)?;
    if args.all {
        for what in ["compositions", "functions"] {
            let answer = client
                .delete(&format!("/v1/{what}"))
                .with_context(|| format!("cannot delete the {what}"))?
                .json()?;
            let deleted = listed(&answer, "deleted");
            println!(
                "deleted {} {what}: {}",
                deleted.len(),
                deleted.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let compositions = listed_names(&client, "compositions")?;
    let functions = listed_names(&client, "functions")?;
    for name in &args.names {
        if !compositions.contains(name) && !functions.contains(name) {
            bail!(
                "no function or composition named `{name}` at {}",
                client.url()
            );
        }
    }
    for (what, present) in [("composition", &compositions), ("function", &functions)] {
        for name in args.names.iter().filter(|n| present.contains(*n)) {
            client
                .delete(&format!("/v1/{what}s/{}", segment(name)?))
                .with_context(|| format!("cannot delete {what} `{name}`"))?;
            println!("deleted {what} {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The names the tenant has, from `GET /v1/{what}`.
fn listed_names(client: &Client, what: &str) -> anyhow::Result<BTreeSet<String>> {
    let answer = client.get(&format!("/v1/{what}"))?.json()?;
    Ok(answer
        .get(what)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

fn listed(answer: &Value, field: &str) -> BTreeSet<String> {
    answer
        .get(field)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
