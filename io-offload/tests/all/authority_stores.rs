//! `s3://` and Redis under a tenant's authority: granted buckets and prefixes
//! only, each with its own credentials; one key namespace per tenant.

use std::sync::Arc;

use pappus_io::{Authority, Call, IoPolicy, Item, RedisGrant, S3Grant};

use crate::support::*;

fn grant(bucket: &str, prefixes: &[&str]) -> S3Grant {
    S3Grant {
        bucket: bucket.into(),
        prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
        // Nothing listens on port 9: a permitted request fails to connect.
        endpoint: Some("http://127.0.0.1:9".into()),
        region: Some("garage".into()),
        access_key: Some("GKtenant".into()),
        secret_key: Some("tenant-secret".into()),
        node_credentials: false,
    }
}

#[test]
fn s3_buckets_and_prefixes_outside_the_grants_are_refused() {
    let policy = IoPolicy {
        s3: vec![grant("tenant-a", &["in/", "shared/"])],
        ..IoPolicy::default()
    };
    let auth = Arc::new(Authority::new(&policy).unwrap());
    let rt = runtime_with(|c| {
        c.retries(0);
        // A node store that must never be used for this tenant.
        c.s3(pappus_io::S3Config {
            endpoint: "http://127.0.0.1:9".into(),
            region: "garage".into(),
            access_key: "GKnode".into(),
            secret_key: "node-secret".into(),
        });
    });
    let fetch = |uri: &str| {
        rt.call_as(
            &auth,
            Call::Fetch {
                uris: vec![Item::new("u", 0, uri.to_owned())],
            },
        )
    };
    for uri in [
        "s3://tenant-b/in/x",
        "s3://tenant-a/out/x",
        "s3://tenant-a/inx",
        "s3://tenant-a/%69n/../out/x",
    ] {
        let e = assert_error(fetch(uri), "forbidden", uri);
        assert!(!e.to_string().contains("secret"), "{e}");
    }
    // Granted: the request goes out (and fails to connect, not `forbidden`).
    let uri = "s3://tenant-a/in/x";
    assert_error(fetch(uri), "connect", uri);
    let store = rt.call_as(
        &auth,
        Call::Store {
            objects: vec![Item::new("o", 0, "x")],
            uris: vec![Item::new("u", 0, "s3://tenant-a/elsewhere/x")],
        },
    );
    assert_error(store, "forbidden", "s3://tenant-a/elsewhere/x");
}

#[test]
fn s3_grants_must_name_credentials_or_opt_into_the_nodes() {
    let mut g = grant("b", &[""]);
    g.secret_key = None;
    let policy = IoPolicy {
        s3: vec![g.clone()],
        ..IoPolicy::default()
    };
    let e = Authority::new(&policy).unwrap_err();
    assert!(e.to_string().contains("node_credentials"), "{e}");
    // Opting in without a node store: not configured, never someone else's.
    g.node_credentials = true;
    let policy = IoPolicy {
        s3: vec![g],
        ..IoPolicy::default()
    };
    let auth = Arc::new(Authority::new(&policy).unwrap());
    let rt = runtime();
    let res = rt.call_as(
        &auth,
        Call::Fetch {
            uris: vec![Item::new("u", 0, "s3://b/k")],
        },
    );
    assert_error(res, "not_configured", "s3://b/k");
    // Grant secrets are not printed.
    let printed = format!("{:?}", grant("b", &[""]));
    assert!(!printed.contains("tenant-secret"), "{printed}");
}

fn tenant(prefix: Option<&str>) -> Arc<Authority> {
    let policy = IoPolicy {
        redis: prefix.map(|p| RedisGrant { prefix: p.into() }),
        ..IoPolicy::default()
    };
    Arc::new(Authority::new(&policy).unwrap())
}

#[test]
fn redis_keys_live_in_each_tenants_namespace() {
    let redis = redis();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let rt = runtime_with(|c| {
        c.redis(url.clone());
    });
    let a = tenant(Some("tenant/a/"));
    let b = tenant(Some("tenant/b/"));
    let put = |auth: &Arc<Authority>, key: &str, value: &'static str| {
        rt.call_as(
            auth,
            Call::KvPut {
                pairs: vec![Item::new(key, 0, value)],
            },
        )
        .unwrap()
    };
    let get = |auth: &Arc<Authority>, key: &str| -> Option<Vec<u8>> {
        rt.call_as(
            auth,
            Call::KvGet {
                keys: vec![Item::new("k", 0, key.to_owned())],
            },
        )
        .unwrap()
        .first()
        .map(|i| i.data.to_vec())
    };
    let receipt = put(&a, "user", "alice");
    let r: serde_json::Value = serde_json::from_slice(&receipt[0].data).unwrap();
    assert_eq!(r["key"], "user", "receipts name the key as the tenant did");
    assert_eq!(get(&b, "user"), None, "b sees a's key");
    put(&b, "user", "bob");
    assert_eq!(get(&a, "user").as_deref(), Some(&b"alice"[..]));
    assert_eq!(get(&b, "user").as_deref(), Some(&b"bob"[..]));
    // b cannot climb out of its namespace by naming a's full key.
    assert_eq!(get(&b, "tenant/a/user"), None);
    assert_eq!(get(&b, "../a/user"), None);
    // Nor by smuggling a command into a key: keys travel as counted strings.
    put(&b, "k\r\nSET tenant/a/user evil\r\n", "v");
    put(
        &b,
        "*3\r\n$3\r\nSET\r\n$11\r\ntenant/a/user\r\n$4\r\nevil",
        "v",
    );
    assert_eq!(get(&a, "user").as_deref(), Some(&b"alice"[..]));
    // On the server, each key carries its tenant's prefix.
    let local = Arc::new(Authority::local());
    assert_eq!(get(&local, "tenant/a/user").as_deref(), Some(&b"alice"[..]));
    assert_eq!(get(&local, "tenant/b/user").as_deref(), Some(&b"bob"[..]));
    assert_eq!(get(&local, "user"), None);
    // No grant: refused, and nothing is sent.
    let none = tenant(None);
    let res = rt.call_as(
        &none,
        Call::KvGet {
            keys: vec![Item::new("k", 0, "tenant/a/user")],
        },
    );
    let e = res.unwrap_err();
    assert_eq!(e.kind(), "forbidden", "{e}");
    let res = rt.call_as(
        &none,
        Call::KvPut {
            pairs: vec![Item::new("x", 0, "y")],
        },
    );
    assert_eq!(res.unwrap_err().kind(), "forbidden");
}

#[test]
fn policies_are_read_from_toml() {
    let text = r#"
        [file]
        read = ["/srv/a/in"]
        write = ["/srv/a/out"]
        deny = ["/srv/a/in/keys"]

        [http]
        public = false
        allow = ["10.1.2.0/24", "minio.internal:9000", "[fd00::1]:8080"]

        [[s3]]
        bucket = "tenant-a"
        prefixes = ["in/"]
        endpoint = "http://127.0.0.1:3900"
        region = "garage"
        access_key = "GK1"
        secret_key = "s"

        [redis]
        prefix = "tenant/a/"
    "#;
    let policy: IoPolicy = toml::from_str(text).unwrap();
    assert!(!policy.http.public);
    assert_eq!(policy.s3[0].prefixes, ["in/"]);
    Authority::new(&policy).unwrap();
    // Unknown fields are refused, so a typo does not silently grant or deny.
    let typo: Result<IoPolicy, _> = toml::from_str("[file]\nreads = [\"/srv\"]\n");
    assert!(typo.is_err());
    // An empty file is the default: nothing but public HTTP.
    let empty: IoPolicy = toml::from_str("").unwrap();
    assert_eq!(empty, IoPolicy::default());
    assert!(empty.http.public && empty.file.read.is_empty() && empty.redis.is_none());
}
