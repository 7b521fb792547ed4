// The body of the parse+check fuzz target, shared by the cargo-fuzz target
// (`fuzz/fuzz_targets/parse.rs`) and the stable fuzz harness in `tests/all/fuzz.rs`.
// Properties: parse and check never panic; rendering never panics; a parse failure
// has at least one error; printing a parsed file round-trips; plans are well formed.

/// Runs parse + check on `data` and asserts the invariants.
pub fn fuzz_one(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let file = match pappus_dsl::parse(source) {
        Ok(file) => file,
        Err(diags) => {
            assert!(!diags.is_empty() && diags.iter().all(|d| d.is_error()));
            // Rendering scans the source, so only a bounded number are rendered.
            for d in diags.iter().take(64) {
                let _ = d.render("fuzz.pap", source);
            }
            return;
        }
    };
    let printed = pappus_dsl::print(&file);
    match pappus_dsl::parse(&printed) {
        Ok(again) => assert!(again.same_as(&file), "round trip changed:\n{printed}"),
        Err(d) => panic!("printed file does not parse: {d:?}\n{printed}"),
    }
    let checked = pappus_dsl::check(&file, &pappus_dsl::Env::new());
    for d in checked.diagnostics.iter().take(64) {
        let _ = d.render("fuzz.pap", source);
        let _ = d.line_col(source);
    }
    if checked.has_errors() {
        assert!(checked.plans.is_empty());
    }
    for plan in &checked.plans {
        let _ = plan.to_string();
        let mut position = vec![usize::MAX; plan.nodes.len()];
        for (k, id) in plan.order.iter().enumerate() {
            assert_eq!(position[id.0], usize::MAX, "node twice in order");
            position[id.0] = k;
        }
        assert!(position.iter().all(|&p| p != usize::MAX), "node missing from order");
        for (n, node) in plan.nodes.iter().enumerate() {
            for input in &node.inputs {
                if let pappus_dsl::Producer::Node { node: p, .. } | pappus_dsl::Producer::Catch(p) =
                    plan.sets[input.set.0].producer
                {
                    assert!(position[p.0] < position[n], "producer after consumer");
                }
            }
        }
    }
}
