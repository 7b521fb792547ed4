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

/// Whether `module` is a WASI program (it imports WASI preview 1 functions),
/// read without compiling it: such a module cannot embed a signature.
pub fn module_is_wasi(module: &[u8]) -> bool {
    pappus_isolation::imports_wasi(module)
}

/// Checks the declaration `declared` of `function` against the signature its
/// module embeds. Answers a warning for an ABI v1 module without one (the
/// declaration cannot be checked), `None` when they agree or the module is a
/// WASI program (`wasi`), which has no `entry!` to embed one: warning about
/// every WASI function would drown the warnings that matter.
///
/// # Errors
/// [`Error::SignatureMismatch`] naming both lists when the declaration's input
/// or output names differ from the module's (order does not matter).
pub fn check_declaration(
    function: &str,
    declared: &Signature,
    module: Option<&ModuleSignature>,
    wasi: bool,
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
        None if wasi => Ok(None),
        None => Ok(Some(format!(
            "function `{function}`: its module embeds no signature, so the declaration {shown} is not checked (build it with the SDK's `entry!(f, inputs = [..], outputs = [..])`)"
        ))),
    }
}
