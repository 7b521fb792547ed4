//! `pappus deploy [DIR]`: register a project's functions (modules and limits
//! from `pappus.toml`) and then its compositions (`compositions` of
//! `pappus.toml`, else every `*.pap` of DIR) on a daemon.
//!
//! Idempotent: the daemon replaces a function or composition registered again
//! under the same name, so deploying twice leaves the same registry. A limit
//! not given in `pappus.toml` takes the daemon's default.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use serde_json::Value;

use crate::client::{segment, Client, Remote};
use crate::manifest::Manifest;

/// Arguments of `pappus deploy`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The project folder (holding pappus.toml).
    #[arg(default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    remote: Remote,
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::load(&args.dir)?;
    let client = Client::new(&args.remote)?;
    let files = manifest.composition_files()?;
    if manifest.functions.is_empty() && files.is_empty() {
        bail!(
            "{} has no function and no composition file",
            args.dir.display()
        );
    }
    for (name, function) in &manifest.functions {
        let module = std::fs::read(&function.wasm).with_context(|| {
            let hint = if function.build.is_some() {
                " (run `pappus build` first)"
            } else {
                ""
            };
            format!(
                "cannot read module {} of function `{name}`{hint}",
                function.wasm.display()
            )
        })?;
        let mut query = Vec::new();
        for (key, value) in [
            ("memory_mib", function.memory_mib),
            ("timeout_ms", function.timeout_ms),
            ("max_output_mib", function.max_output_mib),
        ] {
            if let Some(value) = value {
                query.push(format!("{key}={value}"));
            }
        }
        // argv[1..] and the environment of a WASI function (docs/daemon.md).
        let mut settings = form_urlencoded::Serializer::new(String::new());
        for arg in &function.args {
            settings.append_pair("arg", arg);
        }
        for (key, value) in &function.env {
            settings.append_pair("env", &format!("{key}={value}"));
        }
        let settings = settings.finish();
        if !settings.is_empty() {
            query.push(settings);
        }
        let mut path = format!("/v1/functions/{}", segment(name)?);
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        // With static sets, the module and its sets travel as one bundle.
        let (body, content_type) = if function.static_sets.is_empty() {
            (module, "application/wasm")
        } else {
            let statics = crate::statics::load(name, &function.static_sets)?;
            (
                pappus_daemon::bundle::encode(&module, &statics),
                pappus_daemon::bundle::CONTENT_TYPE,
            )
        };
        let answer = client
            .put(&path, body, content_type)
            .with_context(|| format!("cannot register function `{name}` at {}", client.url()))?
            .json()?;
        println!("function {name}: {}", describe_function(&answer));
    }
    for file in &files {
        let source =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let answer = client
            .put("/v1/compositions", source, "text/plain")
            .with_context(|| {
                format!(
                    "cannot register the compositions of {} at {}",
                    file.display(),
                    client.url()
                )
            })?
            .json()?;
        let names: Vec<&str> = answer
            .get("compositions")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let file_name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        println!("compositions from {file_name}: {}", names.join(", "));
    }
    println!("deployed to {}", client.url());
    Ok(ExitCode::SUCCESS)
}

/// "module 12345 bytes, memory 64 MiB, timeout 5000 ms, output 16 MiB" from
/// a function's JSON description (`GET /v1/functions/{name}`), then a WASI
/// program's arguments and environment when it has any (`, args ["--top",
/// "3"], env {"LANG": "C"}`): what the function will run with, so a wrong
/// setting shows where it is deployed.
pub(crate) fn describe_function(info: &Value) -> String {
    let number = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let limits = info.get("limits");
    let field = |name: &str| number(limits.and_then(|l| l.get(name)));
    let mut text = format!(
        "module {} bytes, memory {} MiB, timeout {} ms, output {} MiB",
        number(info.get("module_bytes")),
        field("memory_bytes") >> 20,
        field("timeout_ms"),
        field("max_output_bytes") >> 20,
    );
    if let Some(args) = info
        .get("args")
        .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
    {
        text.push_str(&format!(", args {args}"));
    }
    if let Some(env) = info
        .get("env")
        .filter(|e| e.as_object().is_some_and(|e| !e.is_empty()))
    {
        text.push_str(&format!(", env {env}"));
    }
    text
}
