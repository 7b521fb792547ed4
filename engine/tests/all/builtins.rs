//! Builtins run on the I/O runtime and feed compute shards.

use pappus_engine::Error;

use crate::support::*;

#[test]
fn fetch_then_compute() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    std::fs::write(&a, "alpha").unwrap();
    std::fs::write(&b, "beta").unwrap();
    let engine = engine();
    let text = "composition Load (Uris) => (Loud) {
        fetch (uris = each Uris) => (Objects = objects);
        upper (in = each Objects) => (Loud = out);
    }";
    engine
        .register_compositions(&format!("{DECLS}\n{text}"))
        .unwrap();
    let uris = vec![
        item("a", 1, &format!("file://{}", a.display())),
        item("b", 2, &format!("file://{}", b.display())),
    ];
    let answer = engine.invoke("Load", sets(&[("Uris", uris)])).unwrap();
    assert_eq!(show_set(&answer.outputs, "Loud"), ["a@1=ALPHA", "b@2=BETA"]);
    assert!(answer.timings.fetching > std::time::Duration::ZERO);
    assert_eq!(engine.metrics().bytes_fetched, 9);

    // A missing file fails the shard, naming it.
    let missing = dir.path().join("missing.txt");
    let err = engine
        .invoke(
            "Load",
            sets(&[(
                "Uris",
                vec![item("m", 3, &format!("file://{}", missing.display()))],
            )]),
        )
        .unwrap_err();
    let Error::Failure {
        application,
        shard,
        cause,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(application, "#1 `fetch` => (Objects)");
    assert!(shard.contains("\"m\""), "{shard}");
    assert!(cause.contains("missing.txt"), "{cause}");
}
