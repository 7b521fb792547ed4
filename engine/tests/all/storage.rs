//! Real storage behind the builtins: the URI in the data picks the store at call
//! time (local file, nginx over HTTP, Garage over S3), `store` writes where its
//! URIs say, and Redis keeps state between invocations.

use pappus_engine::Engine;

use crate::support::*;

fn s3_config(garage: &pappus_testkit::Garage) -> pappus_io::S3Config {
    pappus_io::S3Config {
        endpoint: garage.endpoint.clone(),
        region: garage.region.clone(),
        access_key: garage.access_key.clone(),
        secret_key: garage.secret_key.clone(),
    }
}

const SAVE: &str = "composition Save (Objects, Uris) => (Receipts) {
    store (objects = all Objects, uris = all Uris) => (Receipts = receipts);
}";

fn engine_with_stores(garage: &pappus_testkit::Garage) -> Engine {
    let engine = io_engine(|io| {
        io.s3(s3_config(garage));
    });
    engine
        .register_compositions(&format!("{DECLS}\n{LOAD}\n{SAVE}"))
        .unwrap();
    engine
}

/// Writes `data` to `uri` through the `store` builtin; returns the receipt.
fn save(engine: &Engine, uri: &str, data: &str) -> String {
    let answer = engine
        .invoke(
            "Save",
            sets(&[
                ("Objects", vec![item("o", 1, data)]),
                ("Uris", vec![item("u", 1, uri)]),
            ]),
        )
        .unwrap();
    String::from_utf8_lossy(&answer.outputs["Receipts"][0].data).into_owned()
}

#[test]
fn the_same_composition_reads_whichever_store_the_uri_names() {
    let garage = pappus_testkit::garage();
    let nginx = pappus_testkit::nginx();
    let engine = engine_with_stores(&garage);

    let dir = tempfile::tempdir().unwrap();
    let file = pappus_testkit::file_uri(&dir.path().join("doc.txt"));
    let http = format!("{}/doc.txt", nginx.url());
    let s3 = format!("s3://{}/docs/doc.txt", garage.bucket);
    for (uri, text) in [
        (&file, "from a file"),
        (&http, "from nginx"),
        (&s3, "from garage"),
    ] {
        let receipt = save(&engine, uri, text);
        assert!(receipt.contains(&format!("\"uri\":\"{uri}\"")), "{receipt}");
        assert!(
            receipt.contains(&format!("\"size\":{}", text.len())),
            "{receipt}"
        );
    }

    // One call after another, nothing changed but the URI.
    assert_eq!(load(&engine, &file).unwrap(), ["u@7=FROM A FILE"]);
    assert_eq!(load(&engine, &s3).unwrap(), ["u@7=FROM GARAGE"]);
    assert_eq!(load(&engine, &http).unwrap(), ["u@7=FROM NGINX"]);

    // And all three in one call, each shard from its own store.
    let answer = engine
        .invoke(
            "Load",
            sets(&[(
                "Uris",
                vec![item("f", 1, &file), item("h", 2, &http), item("s", 3, &s3)],
            )]),
        )
        .unwrap();
    assert_eq!(
        show_set(&answer.outputs, "Loud"),
        ["f@1=FROM A FILE", "h@2=FROM NGINX", "s@3=FROM GARAGE"]
    );
    assert_eq!(answer.outputs["Loud"].len(), 3);
}

#[test]
fn a_missing_s3_object_names_its_uri() {
    let garage = pappus_testkit::garage();
    let engine = engine_with_stores(&garage);
    let uri = format!("s3://{}/no/such/object", garage.bucket);
    let err = load(&engine, &uri).unwrap_err();
    assert!(err.to_string().contains(&uri), "{err}");
    assert!(err.to_string().contains("404"), "{err}");
}

#[test]
fn state_outlives_an_invocation_in_redis() {
    let redis = pappus_testkit::redis();
    let engine = io_engine(|io| {
        io.redis(format!("redis://127.0.0.1:{}/0", redis.port));
    });
    let text = "composition Put (Pairs) => (Receipts) {
        kv_put (pairs = all Pairs) => (Receipts = receipts);
    }
    composition Get (Keys) => (Loud) {
        kv_get (keys = each Keys) => (Values = values);
        upper (in = each Values) => (Loud = out);
    }";
    engine
        .register_compositions(&format!("{DECLS}\n{text}"))
        .unwrap();
    let put = engine
        .invoke(
            "Put",
            sets(&[(
                "Pairs",
                vec![item("user:1", 0, "ada"), item("user:2", 0, "grace")],
            )]),
        )
        .unwrap();
    assert_eq!(put.outputs["Receipts"].len(), 2);
    let got = engine
        .invoke(
            "Get",
            sets(&[(
                "Keys",
                vec![
                    item("a", 1, "user:1"),
                    item("b", 2, "user:2"),
                    item("c", 3, "user:3"),
                ],
            )]),
        )
        .unwrap();
    // A missing key answers no item.
    assert_eq!(show_set(&got.outputs, "Loud"), ["a@1=ADA", "b@2=GRACE"]);
}

#[test]
fn a_store_runs_even_when_nothing_reads_its_receipts() {
    let engine = io_engine(|_| {});
    let text = "composition Archive (Objects, Uris) => (Echo) {
        store (objects = all Objects, uris = all Uris) => (Receipts = receipts);
        identity (in = each Objects) => (Echo = out);
    }";
    engine
        .register_compositions(&format!("{DECLS}\n{text}"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("archive/a.txt");
    let answer = engine
        .invoke(
            "Archive",
            sets(&[
                ("Objects", vec![item("a", 1, "kept")]),
                (
                    "Uris",
                    vec![item("a", 1, &pappus_testkit::file_uri(&target))],
                ),
            ]),
        )
        .unwrap();
    assert_eq!(show_set(&answer.outputs, "Echo"), ["a@1=kept"]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept");
}
