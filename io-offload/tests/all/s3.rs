//! `s3://` against a real Garage store, and the same call switching storage.

use pappus_io::{Call, Item};

use crate::support::*;

#[test]
fn store_and_fetch_objects_in_garage() {
    let garage = garage();
    let rt = runtime_with(|c| {
        c.s3(s3_config(&garage));
    });
    let uri = format!("s3://{}/logs/2024/shard 1.txt", garage.bucket);
    let data = pattern(2 << 20);
    let receipts = rt
        .call(Call::Store {
            objects: vec![Item::new("shard", 1, data.clone())],
            uris: vec![Item::new("u", 1, uri.clone())],
        })
        .unwrap();
    let receipt: serde_json::Value = serde_json::from_slice(&receipts[0].data).unwrap();
    assert_eq!(receipt["uri"], uri.as_str());
    assert_eq!(receipt["size"], 2 << 20);
    assert!(
        receipt["etag"].as_str().is_some_and(|e| !e.is_empty()),
        "{receipt}"
    );
    assert_eq!(fetch_one(&rt, &uri), data);
}

#[test]
fn missing_s3_object_is_a_status_error_naming_the_uri() {
    let garage = garage();
    let rt = runtime_with(|c| {
        c.s3(s3_config(&garage));
    });
    let uri = format!("s3://{}/no/such/key", garage.bucket);
    let e = assert_error(fetch(&rt, &[&uri]), "status", &uri);
    assert!(e.to_string().contains("404"), "{e}");
}

#[test]
fn the_same_call_reads_a_file_then_an_s3_object() {
    let garage = garage();
    let rt = runtime_with(|c| {
        c.s3(s3_config(&garage));
    });
    let s3_uri = format!("s3://{}/input.txt", garage.bucket);
    rt.call(Call::Store {
        objects: vec![Item::new("o", 0, "from s3")],
        uris: vec![Item::new("u", 0, s3_uri.clone())],
    })
    .unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"from a file").unwrap();
    // The same function (here: one Call shape) with different input data.
    let run = |uri: &str| {
        let items = rt
            .call(Call::Fetch {
                uris: vec![Item::new("input", 0, uri.to_string())],
            })
            .unwrap();
        items[0].data.clone()
    };
    assert_eq!(run(&file_uri(file.path())).as_ref(), b"from a file");
    assert_eq!(run(&s3_uri).as_ref(), b"from s3");
    // And both in one call.
    let both = fetch(&rt, &[&file_uri(file.path()), &s3_uri]).unwrap();
    assert_eq!(both[0].data.as_ref(), b"from a file");
    assert_eq!(both[1].data.as_ref(), b"from s3");
}

#[test]
fn s3_without_configuration_fails_clearly() {
    let rt = runtime();
    let uri = "s3://bucket/key";
    let e = assert_error(fetch(&rt, &[uri]), "not_configured", uri);
    assert!(e.to_string().contains("s3"), "{e}");
}

#[test]
fn wrong_s3_credentials_are_refused_by_the_store() {
    let garage = garage();
    let mut s3 = s3_config(&garage);
    s3.secret_key = "f".repeat(64);
    let rt = runtime_with(|c| {
        c.s3(s3.clone());
    });
    let uri = format!("s3://{}/any", garage.bucket);
    assert_error(fetch(&rt, &[&uri]), "status", &uri);
}
