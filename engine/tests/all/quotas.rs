//! Per-tenant registration quotas: functions, compositions and module bytes
//! are bounded per tenant; replacing is not adding, deleting frees a place,
//! other tenants are unaffected and persisted records load over a lowered
//! quota.

use pappus_engine::{Engine, EngineBuilder, Error, Limits, Tenant};

use crate::support::*;

const SHOUT: &str = "function upper (in) => (out);
composition Shout (A) => (B) { upper (in = each A) => (B = out); }";
const WHISPER: &str = "function upper (in) => (out);
composition Whisper (A) => (B) { upper (in = all A) => (B = out); }";

fn build(configure: impl FnOnce(EngineBuilder) -> EngineBuilder) -> Engine {
    configure(Engine::builder().compute_threads(1))
        .build()
        .unwrap()
}

fn register(tenant: &Tenant, name: &str) -> pappus_engine::Result<()> {
    tenant.register_function(name, &wasm("upper"), Limits::default())
}

/// Asserts `result` is the quota error for `tenant`'s quota `what` of `limit`.
fn assert_quota<T: std::fmt::Debug>(
    result: pappus_engine::Result<T>,
    tenant: &str,
    what: &str,
    limit: u64,
) {
    match result {
        Err(e @ Error::QuotaExceeded { .. }) => {
            assert_eq!(e.kind(), "quota_exceeded");
            let Error::QuotaExceeded {
                tenant: t,
                what: w,
                limit: l,
            } = e
            else {
                unreachable!()
            };
            assert_eq!((t.as_str(), w, l), (tenant, what, limit));
        }
        other => panic!("expected quota_exceeded for {tenant}/{what}, got {other:?}"),
    }
}

fn function_names(tenant: &Tenant) -> Vec<String> {
    tenant
        .list_functions()
        .into_iter()
        .map(|f| f.name)
        .collect()
}

#[test]
fn function_quota_refuses_one_more_but_allows_replacing_and_frees_on_delete() {
    let engine = build(|b| b.max_functions_per_tenant(2));
    let alpha = engine.tenant("alpha");
    register(&alpha, "one").unwrap();
    register(&alpha, "two").unwrap();
    assert_quota(register(&alpha, "three"), "alpha", "functions", 2);
    assert_eq!(function_names(&alpha), ["one", "two"]);
    // Replacing is not adding.
    register(&alpha, "two").unwrap();
    // Deleting frees a place.
    alpha.delete_function("one").unwrap();
    register(&alpha, "three").unwrap();
    assert_eq!(function_names(&alpha), ["three", "two"]);
    // Another tenant has its own quota.
    let beta = engine.tenant("beta");
    register(&beta, "one").unwrap();
    register(&beta, "two").unwrap();
    assert_quota(register(&beta, "four"), "beta", "functions", 2);
}

#[test]
fn composition_quota_counts_new_names_only() {
    let engine = build(|b| b.max_compositions_per_tenant(1));
    let alpha = engine.tenant("alpha");
    register(&alpha, "upper").unwrap();
    alpha.register_compositions(SHOUT).unwrap();
    assert_quota(
        alpha.register_compositions(WHISPER),
        "alpha",
        "compositions",
        1,
    );
    // A text with one replacement and one new composition registers neither.
    assert_quota(
        alpha.register_compositions(&format!(
            "{SHOUT}\ncomposition Whisper (A) => (B) {{ upper (in = all A) => (B = out); }}"
        )),
        "alpha",
        "compositions",
        1,
    );
    let names: Vec<String> = alpha
        .list_compositions()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["Shout"]);
    alpha.register_compositions(SHOUT).unwrap();
    alpha.delete_composition("Shout").unwrap();
    alpha.register_compositions(WHISPER).unwrap();
    let beta = engine.tenant("beta");
    register(&beta, "upper").unwrap();
    beta.register_compositions(SHOUT).unwrap();
}

#[test]
fn module_bytes_quota_bounds_the_sum_of_modules_before_compiling() {
    let size = wasm("upper").len() as u64;
    let limit = 2 * size + size / 2;
    let engine = build(|b| b.max_module_bytes_per_tenant(limit));
    let alpha = engine.tenant("alpha");
    register(&alpha, "one").unwrap();
    register(&alpha, "two").unwrap();
    assert_quota(register(&alpha, "three"), "alpha", "module_bytes", limit);
    // A replaced module's size no longer counts.
    register(&alpha, "two").unwrap();
    alpha.delete_function("two").unwrap();
    // Refused before compiling: bytes that are no module at all, over the
    // quota, get the quota error rather than `invalid_module`.
    let junk = vec![0u8; usize::try_from(limit).unwrap()];
    assert_quota(
        alpha.register_function("junk", &junk, Limits::default()),
        "alpha",
        "module_bytes",
        limit,
    );
    register(&alpha, "three").unwrap();
    assert_eq!(function_names(&alpha), ["one", "three"]);
    register(&engine.tenant("beta"), "one").unwrap();
}

#[test]
fn records_over_a_lowered_quota_still_load_but_nothing_new_registers() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = build(|b| b.data_dir(dir.path()));
        let alpha = engine.tenant("alpha");
        for name in ["upper", "two", "three"] {
            register(&alpha, name).unwrap();
        }
        alpha.register_compositions(SHOUT).unwrap();
        alpha.register_compositions(WHISPER).unwrap();
    }
    let engine = build(|b| {
        b.data_dir(dir.path())
            .max_functions_per_tenant(1)
            .max_compositions_per_tenant(1)
            .max_module_bytes_per_tenant(1)
    });
    assert_eq!(engine.metrics().registry_records_skipped, 0);
    let alpha = engine.tenant("alpha");
    assert_eq!(function_names(&alpha), ["three", "two", "upper"]);
    assert_eq!(alpha.list_compositions().len(), 2);
    let out = alpha
        .invoke("Shout", sets(&[("A", vec![item("a", 1, "hi")])]))
        .unwrap();
    assert_eq!(show_set(&out.outputs, "B"), ["a@1=HI"]);
    assert_quota(register(&alpha, "four"), "alpha", "functions", 1);
    let third = "function upper (in) => (out);
composition Third (A) => (B) { upper (in = all A) => (B = out); }";
    assert_quota(
        alpha.register_compositions(third),
        "alpha",
        "compositions",
        1,
    );
}
