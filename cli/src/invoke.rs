//! `pappus invoke COMPOSITION`: run a composition on a daemon, with the input
//! flags of `pappus run`, printing the same JSON (and writing `--out-dir` the
//! same way): both use [`crate::sets`].

use std::process::ExitCode;

use anyhow::Context as _;
use pappus_engine::json;

use crate::client::{segment, Client, Remote};
use crate::sets::{InputArgs, OutputArgs};

/// Arguments of `pappus invoke`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The registered composition to run.
    composition: String,
    #[command(flatten)]
    inputs: InputArgs,
    #[command(flatten)]
    outputs: OutputArgs,
    #[command(flatten)]
    remote: Remote,
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.remote)?;
    let inputs = args.inputs.sets()?;
    let path = format!("/v1/compositions/{}/invoke", segment(&args.composition)?);
    let answer = client
        .post(
            &path,
            json::render_sets(&inputs).into_bytes(),
            "application/json",
        )
        .with_context(|| format!("composition `{}` failed", args.composition))?;
    let outputs =
        json::parse_sets(&answer.body).context("the daemon's answer is not the JSON set form")?;
    args.outputs.emit(&outputs)?;
    Ok(ExitCode::SUCCESS)
}
