//! S3 with per-tenant credentials against a real Garage: each tenant's grant
//! carries its own key, which the daemon uses for that tenant's calls and for
//! nothing else; buckets and prefixes outside a grant are refused before any
//! request (the same answer whether the object exists or not), and no tenant
//! ever falls back to the node's own credentials.

use crate::support::{refused, Daemon, Response, LOAD_SAVE};

struct Node {
    daemon: Daemon,
    _dir: tempfile::TempDir,
}

impl Node {
    fn load(&self, tenant: &str, uri: &str) -> Response {
        self.daemon.load_as(tenant, uri)
    }

    fn save(&self, tenant: &str, uri: &str, data: &str) -> Response {
        self.daemon.save_as(tenant, uri, data)
    }

    fn loaded(&self, tenant: &str, uri: &str) -> String {
        let answer = self.load(tenant, uri);
        answer.expect(200);
        answer.json()["Objects"][0]["data"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

#[test]
fn each_tenant_uses_its_own_s3_key_on_its_own_bucket_and_prefixes() {
    let garage = pappus_testkit::garage();
    // Each tenant's bucket has a key of its own; the node's key may use both,
    // so that a fallback to it would show.
    let alpha_b = garage.bucket_with_key("alpha-b", true);
    let beta_b = garage.bucket_with_key("beta-b", true);
    let dir = tempfile::tempdir().expect("tempdir");
    let grant = |bucket: &str, prefixes: &[&str], key: &pappus_testkit::BucketKey| {
        format!(
            "bucket = {bucket:?}\nprefixes = {prefixes:?}\nendpoint = {:?}\nregion = {:?}\n\
             access_key = {:?}\nsecret_key = {:?}\n",
            garage.endpoint, garage.region, key.access_key, key.secret_key
        )
    };
    // Alpha also holds a grant on beta's bucket, but with alpha's own key,
    // which the store refuses there: only the node's key would succeed.
    let tokens = format!(
        "[tenants.alpha]\ntokens = [\"alpha-secret\"]\n\
         [[tenants.alpha.io.s3]]\n{}\
         [[tenants.alpha.io.s3]]\n{}\
         [tenants.beta]\ntokens = [\"beta-secret\"]\n\
         [[tenants.beta.io.s3]]\n{}",
        grant("alpha-b", &["out/"], &alpha_b),
        grant("beta-b", &["shared/"], &alpha_b),
        grant("beta-b", &["in/", "shared/"], &beta_b),
    );
    std::fs::write(dir.path().join("tokens.toml"), tokens).expect("tokens file");
    let tokens_path = dir.path().join("tokens.toml").display().to_string();
    let daemon = Daemon::start_with_garage(dir.path(), &garage, &["--tokens", &tokens_path]);
    let node = Node { daemon, _dir: dir };
    for tenant in ["alpha", "beta"] {
        node.daemon
            .request(
                "PUT",
                "/v1/compositions",
                &[("authorization", &format!("Bearer {tenant}-secret"))],
                LOAD_SAVE.as_bytes(),
            )
            .expect(201);
    }

    // Each reads and writes its own bucket within its prefixes.
    node.save("alpha", "s3://alpha-b/out/x", "alpha's data")
        .expect(200);
    assert_eq!(node.loaded("alpha", "s3://alpha-b/out/x"), "alpha's data");
    node.save("beta", "s3://beta-b/in/y", "beta's data")
        .expect(200);
    node.save("beta", "s3://beta-b/shared/z", "beta's shared data")
        .expect(200);
    assert_eq!(node.loaded("beta", "s3://beta-b/in/y"), "beta's data");

    // Beta's objects outside alpha's grants: refused, the same whether the
    // object exists or not.
    let present = "s3://beta-b/in/y";
    let missing = "s3://beta-b/in/nothing";
    assert_eq!(
        refused(&node.load("alpha", present), present).replace("in/y", "KEY"),
        refused(&node.load("alpha", missing), missing).replace("in/nothing", "KEY")
    );
    refused(&node.save("alpha", present, "overwritten"), present);
    // Outside alpha's prefixes in its own bucket, with dot segments too.
    for uri in [
        "s3://alpha-b/in/x",
        "s3://alpha-b/out/../in/x",
        "s3://alpha-b/out/%2e%2e/in/x",
        "s3://alpha-b/out/..%2Fin/x",
        "s3://alpha-b/out/.%2Fx",
        "s3://alpha-b/outside",
    ] {
        let answer = node.load("alpha", uri);
        answer.expect(403);
        assert_eq!(answer.error_kind(), "forbidden", "{uri}: {}", answer.text());
    }
    // The node's bucket, which no grant names: refused, never served with the
    // node's credentials.
    let node_bucket = format!("s3://{}/anything", garage.bucket);
    refused(&node.load("alpha", &node_bucket), &node_bucket);

    // Alpha's grant on beta's bucket carries alpha's key, which the store
    // refuses: the call fails rather than succeeding with the node's key.
    let shared = node.load("alpha", "s3://beta-b/shared/z");
    let overwrite = node.save("alpha", "s3://beta-b/shared/z", "alpha was here");
    for answer in [&shared, &overwrite] {
        answer.expect(422);
        let detail = &answer.json()["error"]["detail"];
        assert_eq!(detail["failure"], "status", "{}", answer.text());
        let cause = detail["cause"].as_str().unwrap_or_default();
        assert!(cause.contains("403"), "{}", answer.text());
    }
    assert!(
        !shared.text().contains("beta's shared data"),
        "{}",
        shared.text()
    );
    assert_eq!(
        node.loaded("beta", "s3://beta-b/shared/z"),
        "beta's shared data"
    );

    // Beta is unaffected and its data intact.
    assert_eq!(node.loaded("beta", "s3://beta-b/in/y"), "beta's data");
    node.daemon.get("/healthz").expect(200);
}
