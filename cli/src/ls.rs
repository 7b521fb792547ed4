//! `pappus ls [functions|compositions]`: what the calling tenant has on a daemon.

use std::process::ExitCode;

use serde_json::Value;

use crate::client::{Client, Remote};
use crate::deploy::describe_function;

/// What to list.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum What {
    /// Functions only.
    Functions,
    /// Compositions only.
    Compositions,
}

/// Arguments of `pappus ls`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// List only functions or only compositions (default: both).
    #[arg(value_enum)]
    what: Option<What>,
    /// Print the daemon's JSON instead of a listing.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: Remote,
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.remote)?;
    let mut answer = serde_json::Map::new();
    if !matches!(args.what, Some(What::Compositions)) {
        let list = client.get("/v1/functions")?.json()?;
        answer.insert("functions".into(), field(&list, "functions"));
    }
    if !matches!(args.what, Some(What::Functions)) {
        let list = client.get("/v1/compositions")?.json()?;
        answer.insert("compositions".into(), field(&list, "compositions"));
    }
    if args.json {
        println!("{}", Value::Object(answer));
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(functions) = answer.get("functions").and_then(Value::as_array) {
        println!("functions ({}):", functions.len());
        for f in functions {
            let name = f.get("name").and_then(Value::as_str).unwrap_or("?");
            println!("  {name}  {}", describe_function(f));
        }
    }
    if let Some(compositions) = answer.get("compositions").and_then(Value::as_array) {
        println!("compositions ({}):", compositions.len());
        for c in compositions {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            println!(
                "  {name} ({}) => ({})",
                names(c, "inputs"),
                names(c, "outputs")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn field(value: &Value, name: &str) -> Value {
    value.get(name).cloned().unwrap_or(Value::Array(Vec::new()))
}

fn names(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
