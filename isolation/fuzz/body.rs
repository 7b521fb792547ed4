// The body of the output-reader fuzz target, shared by the cargo-fuzz target
// (`fuzz/fuzz_targets/read_outputs.rs`) and the stable fuzz harness in
// `tests/all/fuzz.rs`. Properties: reading outputs from arbitrary guest memory
// never panics, and never answers more sets or items than the limit allows.

/// Reads outputs from `data` taken as a guest memory: the first 8 bytes pick
/// the input region's base and the output limit, the rest is the memory.
pub fn fuzz_read_outputs(data: &[u8]) {
    let Some((head, memory)) = data.split_first_chunk::<8>() else {
        return;
    };
    let base = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let limit = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]) >> 8);
    let status = u32::from(head[7] & 1);
    if let Ok((sets, items)) = pappus_isolation::fuzzing::read_outputs(memory, base, status, limit) {
        // Each set and item is charged at least its descriptor's size.
        let charged = (sets as u64) * 16 + (items as u64) * 24;
        assert!(charged <= limit, "{sets} sets and {items} items within a limit of {limit}");
    }
}
