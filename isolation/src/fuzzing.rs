//! Entry points for the fuzz targets (`isolation/fuzz/`) and their stable
//! harness in the tests: the host's reader of guest outputs over arbitrary
//! memory, and the rewrite every guest module goes through before it is
//! compiled. Not a stable API.

/// Reads the outputs a guest left in `memory` (its whole linear memory) for a
/// call whose input region starts at `base`, with an output limit of
/// `max_output_bytes`: answers the number of sets and items read, or the error.
/// `base` is moved down so that the input header lies in `memory`, as it always
/// does for a real call. Never panics.
pub fn read_outputs(
    memory: &[u8],
    base: usize,
    status: u32,
    max_output_bytes: u64,
) -> Result<(usize, usize), String> {
    // The host places the header itself; a real call never has it out of bounds.
    let Some(last) = memory.len().checked_sub(32) else {
        return Err("memory smaller than the input header".into());
    };
    let base = base.min(last);
    match crate::abi::read_outputs(memory, base, status, max_output_bytes) {
        Ok(sets) => {
            let items = sets.iter().map(|s| s.items.len()).sum();
            Ok((sets.len(), items))
        }
        Err(e) => Err(format!("{e:?}")),
    }
}

/// Entry point for fuzzing the module rewrite: rewrites `bytes` as every guest
/// module is rewritten before compiling, and answers the rewritten length, or
/// why the module cannot be rewritten. Never panics.
pub fn rewrite_module(bytes: &[u8]) -> Result<usize, String> {
    rewritten_module(bytes).map(|module| module.len())
}

/// Like [`rewrite_module`], but answers the rewritten module itself, for
/// targets that validate it.
pub fn rewritten_module(bytes: &[u8]) -> Result<Vec<u8>, String> {
    crate::interrupt::rewrite::rewrite(bytes)
}
