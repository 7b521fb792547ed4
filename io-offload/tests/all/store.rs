//! `store` to http:// (WebDAV PUT on nginx).

use pappus_io::{Call, Item};

use crate::support::*;

#[test]
fn store_puts_objects_on_nginx_and_fetch_reads_them_back() {
    let nginx = nginx();
    let rt = runtime();
    let objects: Vec<Item> = (0..4)
        .map(|k| Item::new(format!("o{k}"), k, pattern(1000 * (k as usize + 1))))
        .collect();
    let uris: Vec<Item> = (0..4)
        .map(|k| Item::new("u", k, format!("{}/up/dir{k}/obj.bin", nginx.url())))
        .collect();
    let receipts = rt
        .call(Call::Store {
            objects: objects.clone(),
            uris: uris.clone(),
        })
        .unwrap();
    assert_eq!(receipts.len(), 4);
    for (r, o) in receipts.iter().zip(&objects) {
        let v: serde_json::Value = serde_json::from_slice(&r.data).unwrap();
        assert_eq!(v["size"], o.data.len());
        assert_eq!(r.key, o.key);
    }
    let back = rt.call(Call::Fetch { uris }).unwrap();
    for (b, o) in back.iter().zip(&objects) {
        assert_eq!(b.data, o.data);
    }
}

#[test]
fn store_to_a_refusing_server_reports_the_status() {
    let nginx = nginx();
    let rt = runtime();
    // PUT to a URI ending in '/' is refused by nginx's dav module (409).
    let uri = format!("{}/collection/", nginx.url());
    let res = rt.call(Call::Store {
        objects: vec![Item::new("o", 1, "x")],
        uris: vec![Item::new("u", 1, uri.clone())],
    });
    assert_error(res, "status", &uri);
}
