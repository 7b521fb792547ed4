//! Test harness: an I/O runtime with test settings, plus the real servers and
//! misbehaving peers of `pappus-testkit` (a missing server binary fails the test
//! with a hint to run ./setup.sh).

use std::time::Duration;

use pappus_io::{Call, IoRuntime, Item, RingConfig};
pub use pappus_testkit::*;

/// Starts a runtime with a short timeout and fast retries, tuned by `tune`.
pub fn runtime_with(tune: impl FnOnce(&mut RingConfig)) -> IoRuntime {
    let mut config = RingConfig::new();
    config.timeout(Duration::from_secs(10));
    tune(&mut config);
    match IoRuntime::start(&config) {
        Ok(rt) => rt,
        Err(e) => panic!("cannot start the i/o runtime: {e}"),
    }
}

/// A runtime with the default test settings.
pub fn runtime() -> IoRuntime {
    runtime_with(|_| {})
}

/// Runs a fetch of the given URIs (keys 0, 1, ...).
pub fn fetch(rt: &IoRuntime, uris: &[&str]) -> pappus_io::Result<Vec<Item>> {
    let uris = uris
        .iter()
        .enumerate()
        .map(|(i, u)| Item::new(format!("u{i}"), i as u64, u.to_string()))
        .collect();
    rt.call(Call::Fetch { uris })
}

/// Fetches one URI and returns its bytes, panicking with the error.
pub fn fetch_one(rt: &IoRuntime, uri: &str) -> Vec<u8> {
    match fetch(rt, &[uri]) {
        Ok(items) => items[0].data.to_vec(),
        Err(e) => panic!("fetch {uri} failed: {e}"),
    }
}

/// Asserts a call failed with `kind` and that the message names `uri`.
pub fn assert_error(res: pappus_io::Result<Vec<Item>>, kind: &str, uri: &str) -> pappus_io::Error {
    match res {
        Ok(items) => panic!(
            "expected a {kind} error for {uri}, got {} items",
            items.len()
        ),
        Err(e) => {
            assert_eq!(e.kind(), kind, "unexpected error: {e}");
            assert!(
                e.to_string().contains(uri),
                "error {e:?} does not name {uri}"
            );
            e
        }
    }
}

/// The runtime's S3 settings for a running Garage.
pub fn s3_config(garage: &Garage) -> pappus_io::S3Config {
    pappus_io::S3Config {
        endpoint: garage.endpoint.clone(),
        region: garage.region.clone(),
        access_key: garage.access_key.clone(),
        secret_key: garage.secret_key.clone(),
    }
}

/// Runs `call` with `authority` and `options` and waits for it.
pub fn call_with(
    rt: &IoRuntime,
    authority: &std::sync::Arc<pappus_io::Authority>,
    call: Call,
    options: pappus_io::CallOptions,
) -> pappus_io::Result<Vec<Item>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.submit_with(
        authority,
        call,
        options,
        Box::new(move |res| {
            let _ = tx.send(res);
        }),
    );
    rx.recv().unwrap_or(Err(pappus_io::Error::Shutdown))
}

/// A fetch call of the given URIs (keys 0, 1, ...).
pub fn fetch_call(uris: &[&str]) -> Call {
    Call::Fetch {
        uris: uris
            .iter()
            .enumerate()
            .map(|(i, u)| Item::new(format!("u{i}"), i as u64, u.to_string()))
            .collect(),
    }
}

/// The local user's authority under a tenant's name (what the fetch cache
/// keys entries by).
pub fn tenant(name: &str) -> std::sync::Arc<pappus_io::Authority> {
    std::sync::Arc::new(pappus_io::Authority::local().named(name))
}
