//! `http://` under a tenant's authority: public addresses only by default,
//! checked on the address connected to; redirects are not followed.

use std::io::Write;
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use pappus_io::{Authority, Call, HttpPolicy, IoPolicy, IoRuntime, Item};

use crate::support::*;

fn public_only() -> Arc<Authority> {
    Arc::new(Authority::new(&IoPolicy::default()).unwrap())
}

fn allowing(allow: &[String]) -> Arc<Authority> {
    let policy = IoPolicy {
        http: HttpPolicy {
            public: true,
            allow: allow.to_vec(),
        },
        ..IoPolicy::default()
    };
    Arc::new(Authority::new(&policy).unwrap())
}

fn fetch_as(rt: &IoRuntime, auth: &Arc<Authority>, uri: &str) -> pappus_io::Result<Vec<Item>> {
    rt.call_as(
        auth,
        Call::Fetch {
            uris: vec![Item::new("u", 0, uri.to_owned())],
        },
    )
}

/// A server that counts the connections it accepts and answers 200 "hit".
fn counting_server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let addr = tcp_server(move |mut stream| {
        counter.fetch_add(1, Ordering::SeqCst);
        read_head(&mut stream);
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nhit");
    });
    (addr, hits)
}

#[test]
fn loopback_private_and_special_addresses_are_refused_by_default() {
    let (addr, hits) = counting_server();
    let port = addr.port();
    let auth = public_only();
    let rt = runtime();
    for host in [
        "127.0.0.1".to_owned(),
        "127.1.2.3".to_owned(),
        "[::1]".to_owned(),
        "[::ffff:127.0.0.1]".to_owned(),
        "[::ffff:7f00:1]".to_owned(),
        "0.0.0.0".to_owned(),
        "[::]".to_owned(),
        "10.0.0.1".to_owned(),
        "172.16.0.1".to_owned(),
        "192.168.0.1".to_owned(),
        "169.254.169.254".to_owned(),
        "100.64.0.1".to_owned(),
        "[fd00::1]".to_owned(),
        "[fe80::1]".to_owned(),
        "224.0.0.1".to_owned(),
        "255.255.255.255".to_owned(),
        "2130706433".to_owned(),
        "0x7f.1".to_owned(),
        "localhost".to_owned(),
        "LOCALHOST".to_owned(),
        "0177.0.0.1".to_owned(),
        "0x7f000001".to_owned(),
        "127.1".to_owned(),
        "[0:0:0:0:0:ffff:7f00:1]".to_owned(),
        "[::127.0.0.1]".to_owned(),
        "[64:ff9b::7f00:1]".to_owned(),
        "[2002:7f00:1::]".to_owned(),
    ] {
        let uri = format!("http://{host}:{port}/secret");
        assert_error(fetch_as(&rt, &auth, &uri), "forbidden", &uri);
    }
    // A link-local address with a zone is not a URI this runtime accepts.
    let zoned = format!("http://[fe80::1%25lo]:{port}/secret");
    assert_error(fetch_as(&rt, &auth, &zoned), "invalid_uri", &zoned);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused request reached the peer"
    );
    // The same with the `http` built-in and with `store`.
    let uri = format!("http://127.0.0.1:{port}/x");
    let request = serde_json::json!({"method": "POST", "url": uri, "body": "x"}).to_string();
    let res = rt.call_as(
        &auth,
        Call::Http {
            requests: vec![Item::new("r", 0, request)],
        },
    );
    assert_error(res, "forbidden", &uri);
    let res = rt.call_as(
        &auth,
        Call::Store {
            objects: vec![Item::new("o", 0, "x")],
            uris: vec![Item::new("u", 0, uri.clone())],
        },
    );
    assert_error(res, "forbidden", &uri);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    // The local authority still reaches it.
    assert_eq!(
        fetch_one(&rt, &format!("http://127.0.0.1:{port}/x")),
        b"hit"
    );
}

#[test]
fn host_names_are_judged_by_the_address_they_resolve_to() {
    let (addr, hits) = counting_server();
    let port = addr.port();
    let auth = public_only();
    let rt = runtime();
    let own_name = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let mut tried = 0;
    for name in [
        "localhost.",
        "ip6-localhost",
        "ip6-loopback",
        own_name.trim(),
    ] {
        let resolved: Vec<_> = (name, port)
            .to_socket_addrs()
            .map(|a| a.collect())
            .unwrap_or_default();
        if name.is_empty() || resolved.is_empty() || !resolved.iter().all(|a| a.ip().is_loopback())
        {
            continue;
        }
        tried += 1;
        let uri = format!("http://{name}:{port}/x");
        assert_error(fetch_as(&rt, &auth, &uri), "forbidden", &uri);
    }
    eprintln!("{tried} host names resolving to loopback tried");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[test]
fn allow_rules_open_exactly_what_they_name() {
    let (addr, hits) = counting_server();
    let (other, other_hits) = counting_server();
    let rt = runtime();
    let auth = allowing(&[format!("127.0.0.1:{}", addr.port())]);
    let allowed = format!("http://127.0.0.1:{}/x", addr.port());
    assert_eq!(
        fetch_as(&rt, &auth, &allowed).unwrap()[0].data.as_ref(),
        b"hit"
    );
    let refused = format!("http://127.0.0.1:{}/x", other.port());
    assert_error(fetch_as(&rt, &auth, &refused), "forbidden", &refused);
    assert_eq!(other_hits.load(Ordering::SeqCst), 0);
    // A CIDR rule, and a host rule (by the name in the URL).
    let cidr = allowing(&["127.0.0.0/8".to_owned()]);
    assert_eq!(
        fetch_as(&rt, &cidr, &refused).unwrap()[0].data.as_ref(),
        b"hit"
    );
    let by_name = allowing(&["localhost".to_owned()]);
    let named = format!("http://localhost:{}/x", addr.port());
    assert_eq!(
        fetch_as(&rt, &by_name, &named).unwrap()[0].data.as_ref(),
        b"hit"
    );
    assert_error(fetch_as(&rt, &by_name, &allowed), "forbidden", &allowed);
    assert!(hits.load(Ordering::SeqCst) >= 2);
    for bad in ["10.0.0.0/33", "host:99999", "a b", "[::1"] {
        let policy = IoPolicy {
            http: HttpPolicy {
                public: true,
                allow: vec![bad.to_owned()],
            },
            ..IoPolicy::default()
        };
        assert_eq!(
            Authority::new(&policy).unwrap_err().kind(),
            "config",
            "{bad}"
        );
    }
}

#[test]
fn pooled_connections_are_not_shared_across_authorities() {
    let nginx = nginx();
    put_file(&nginx.root, "p.txt", b"pooled");
    let rt = runtime();
    let uri = format!("{}/p.txt", nginx.url());
    // The local authority leaves a kept-alive connection in the pool...
    assert_eq!(fetch_one(&rt, &uri), b"pooled");
    // ...which a tenant that may not reach loopback does not get.
    assert_error(fetch_as(&rt, &public_only(), &uri), "forbidden", &uri);
}

#[test]
fn redirects_to_loopback_are_not_followed() {
    let (target, target_hits) = counting_server();
    let location = format!("http://127.0.0.1:{}/internal", target.port());
    let redirector = tcp_server(move |mut stream| {
        read_head(&mut stream);
        let answer = format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = stream.write_all(answer.as_bytes());
    });
    let rt = runtime();
    let auth = allowing(&[format!("127.0.0.1:{}", redirector.port())]);
    let uri = format!("http://127.0.0.1:{}/go", redirector.port());
    // `fetch` reports the redirect as a status; `http` returns it as data.
    let e = assert_error(fetch_as(&rt, &auth, &uri), "status", &uri);
    assert!(e.to_string().contains("302"), "{e}");
    let request = serde_json::json!({"url": uri}).to_string();
    let answer = rt
        .call_as(
            &auth,
            Call::Http {
                requests: vec![Item::new("r", 0, request)],
            },
        )
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer[0].data).unwrap();
    assert_eq!(answer["status"], 302);
    assert_eq!(target_hits.load(Ordering::SeqCst), 0);
}

#[test]
fn each_refused_call_is_counted_on_its_authority() {
    let (addr, hits) = counting_server();
    let rt = runtime();
    let refusing = public_only();
    let other = public_only();
    for i in 0..3 {
        let uri = format!("http://127.0.0.1:{}/{i}", addr.port());
        assert_error(fetch_as(&rt, &refusing, &uri), "forbidden", &uri);
    }
    // One call naming several refused URIs is one refused call.
    let res = rt.call_as(
        &refusing,
        Call::Fetch {
            uris: vec![
                Item::new("a", 0, format!("http://127.0.0.1:{}/a", addr.port())),
                Item::new("b", 1, format!("http://127.0.0.1:{}/b", addr.port())),
            ],
        },
    );
    assert!(matches!(res, Err(pappus_io::Error::Forbidden { .. })));
    assert_eq!(refusing.refused_calls(), 4);
    assert_eq!(other.refused_calls(), 0);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}
