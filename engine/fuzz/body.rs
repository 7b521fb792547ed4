// The body of the JSON-inputs fuzz target, shared by the cargo-fuzz target
// (`fuzz/fuzz_targets/json_sets.rs`) and the stable fuzz harness in
// `tests/all/json_fuzz.rs`. Properties: parsing never panics; what parses
// renders, and the rendering parses back to the same rendering.

/// Parses `data` as JSON sets and checks the round trip.
pub fn fuzz_json_sets(data: &[u8]) {
    let Ok(sets) = pappus_engine::json::parse_sets(data) else {
        return;
    };
    let rendered = pappus_engine::json::render_sets(&sets);
    match pappus_engine::json::parse_sets(rendered.as_bytes()) {
        Ok(again) => assert_eq!(
            pappus_engine::json::render_sets(&again),
            rendered,
            "rendering is not stable"
        ),
        Err(e) => panic!("rendered sets do not parse: {e}\n{rendered}"),
    }
}
