//! Checking a `function` declaration against the set names its module embeds
//! (the `pappus.signature` section, `docs/abi.md`). Registration applies it to
//! every registered function a text declares; `pappus check` applies it to the
//! modules of a `pappus.toml` without compiling them.

use pappus_dsl::Signature;
use pappus_isolation::Signature as ModuleSignature;

use crate::{Error, Result};

/// The set names `module` embeds, read without compiling it: `Ok(None)` for a
/// module without them (or `.wat` text).
///
/// # Errors
/// [`Error::InvalidModule`] naming `function` if the section is malformed.
pub fn module_signature(function: &str, module: &[u8]) -> Result<Option<ModuleSignature>> {
    pappus_isolation::read_signature(module).map_err(|reason| Error::InvalidModule {
        function: function.to_string(),
        reason,
    })
}

/// Checks the declaration `declared` of `function` against the signature its
/// module embeds. Answers a warning for a module without one (the declaration
/// cannot be checked), `None` when they agree.
///
/// # Errors
/// [`Error::SignatureMismatch`] naming both lists when the declaration's input
/// or output names differ from the module's (order does not matter).
pub fn check_declaration(
    function: &str,
    declared: &Signature,
    module: Option<&ModuleSignature>,
) -> Result<Option<String>> {
    let shown = format!(
        "({}) => ({})",
        declared.inputs.join(", "),
        declared.outputs.join(", ")
    );
    match module {
        Some(module) if module.matches(&declared.inputs, &declared.outputs) => Ok(None),
        Some(module) => Err(Error::SignatureMismatch {
            function: function.to_string(),
            declared: shown,
            module: module.to_string(),
        }),
        None => Ok(Some(format!(
            "function `{function}`: its module embeds no signature, so the declaration {shown} is not checked (build it with the SDK's `entry!(f, inputs = [..], outputs = [..])`)"
        ))),
    }
}
