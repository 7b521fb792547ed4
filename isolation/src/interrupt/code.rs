//! Where a compiled module's wasm functions lie in memory, for the signal
//! handler to tell guest code from host code.

use wasmtime::Module;

/// The address ranges of a module's compiled wasm functions and the address of
/// its stop function (the last one, appended by [`rewrite`](super::rewrite)).
///
/// Only these ranges are safe to redirect: wasmtime's entry and exit
/// trampolines and its host routines share the code image but run with the
/// call's bookkeeping half set up, so a trap raised there could not be unwound.
#[derive(Debug)]
pub(crate) struct CodeMap {
    /// Sorted, non-overlapping `[start, end)` ranges.
    ranges: Box<[(usize, usize)]>,
    stop: usize,
}

impl CodeMap {
    /// The map of `module`, which must have been rewritten (its last defined
    /// function is the stop function).
    pub(crate) fn of(module: &Module) -> Result<CodeMap, String> {
        let base = module.text().as_ptr() as usize;
        let mut ranges = Vec::with_capacity(module.functions().len());
        let mut stop = None;
        for function in module.functions() {
            let start = base
                .checked_add(function.offset)
                .ok_or("a compiled function lies outside the address space")?;
            let end = start
                .checked_add(function.len)
                .ok_or("a compiled function lies outside the address space")?;
            ranges.push((start, end));
            stop = Some(start);
        }
        let stop = stop.ok_or("the module has no stop function")?;
        ranges.sort_unstable();
        Ok(CodeMap {
            ranges: ranges.into_boxed_slice(),
            stop,
        })
    }

    /// Whether `pc` is inside one of the module's wasm functions. Called from
    /// the signal handler: no allocation, no locks.
    pub(crate) fn contains(&self, pc: usize) -> bool {
        let after = self.ranges.partition_point(|&(start, _)| start <= pc);
        after > 0 && pc < self.ranges[after - 1].1
    }

    /// The stop function's first instruction.
    pub(crate) fn stop(&self) -> usize {
        self.stop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_is_true_inside_the_ranges_only() {
        let map = CodeMap {
            ranges: vec![(100, 110), (120, 130)].into_boxed_slice(),
            stop: 120,
        };
        for pc in [100, 109, 120, 129] {
            assert!(map.contains(pc), "{pc}");
        }
        for pc in [0, 99, 110, 115, 130, usize::MAX] {
            assert!(!map.contains(pc), "{pc}");
        }
    }
}
