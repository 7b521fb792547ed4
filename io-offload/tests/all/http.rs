//! The `http` built-in: request and response items in JSON and raw form.

use std::io::{Read, Write};

use pappus_io::{Call, Item};
use serde_json::{json, Value};

use crate::support::*;

fn http_call(
    rt: &pappus_io::IoRuntime,
    data: impl Into<pappus_io::Bytes>,
) -> pappus_io::Result<Vec<Item>> {
    rt.call(Call::Http {
        requests: vec![Item::new("req", 42, data)],
    })
}

fn json_response(items: &[Item]) -> Value {
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].name.as_str(), items[0].key), ("req", 42));
    serde_json::from_slice(&items[0].data).unwrap()
}

#[test]
fn json_get_returns_status_headers_and_body() {
    let nginx = nginx();
    put_file(&nginx.root, "hello.txt", b"hello there");
    let rt = runtime();
    let req = json!({"method": "GET", "url": format!("{}/hello.txt", nginx.url())});
    let resp = json_response(&http_call(&rt, req.to_string()).unwrap());
    assert_eq!(resp["status"], 200);
    assert_eq!(resp["body"], "hello there");
    let headers = resp["headers"].as_array().unwrap();
    assert!(headers.iter().any(|h| h[0]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case("content-length")
        && h[1] == "11"));
}

#[test]
fn non_2xx_statuses_are_data() {
    let nginx = nginx();
    let rt = runtime_with(|c| {
        c.retries(1);
    });
    for (path, status) in [("/nothing", 404), ("/status/500", 500)] {
        let req = json!({"url": format!("{}{path}", nginx.url())});
        let resp = json_response(&http_call(&rt, req.to_string()).unwrap());
        assert_eq!(resp["status"], status);
    }
    // POST to a static file: nginx answers 405, still data.
    put_file(&nginx.root, "static.txt", b"s");
    let req = json!({"method": "POST", "url": format!("{}/static.txt", nginx.url()), "body": "x"});
    let resp = json_response(&http_call(&rt, req.to_string()).unwrap());
    assert_eq!(resp["status"], 405);
}

#[test]
fn put_with_base64_body_then_get_raw() {
    let nginx = nginx();
    let rt = runtime();
    let url = format!("{}/dav/new/file.bin", nginx.url());
    let req =
        json!({"method": "PUT", "url": url, "headers": {"X-Test": "1"}, "body_base64": "AAEC/w=="});
    let resp = json_response(&http_call(&rt, req.to_string()).unwrap());
    assert_eq!(resp["status"], 201, "{resp}");
    assert_eq!(
        std::fs::read(nginx.root.join("dav/new/file.bin")).unwrap(),
        [0, 1, 2, 255]
    );
    // Raw request form; the binary body comes back raw, framed by Content-Length.
    let raw = format!("GET {url} HTTP/1.1\r\nAccept: */*\r\n\r\n");
    let items = http_call(&rt, raw).unwrap();
    let data = &items[0].data;
    assert!(data.starts_with(b"HTTP/1.1 200 OK\r\n"), "{data:?}");
    assert!(
        data.ends_with(b"Content-Length: 4\r\n\r\n\x00\x01\x02\xff"),
        "{data:?}"
    );
}

#[test]
fn request_headers_and_body_reach_the_server() {
    let addr = tcp_server(|mut stream| {
        let head = read_head(&mut stream);
        let text = String::from_utf8_lossy(&head).to_string();
        let len: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        let _ = stream.read_exact(&mut body);
        let echo = format!(
            "{}|{}",
            text.replace("\r\n", "\n"),
            String::from_utf8_lossy(&body)
        );
        let _ = stream.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{echo}",
                echo.len()
            )
            .as_bytes(),
        );
    });
    let rt = runtime();
    let req = json!({
        "method": "post",
        "url": format!("http://{addr}/submit?x=1"),
        "headers": [["X-One", "1"], ["X-Two", "two"]],
        "body": "payload"
    });
    let resp = json_response(&http_call(&rt, req.to_string()).unwrap());
    let echo = resp["body"].as_str().unwrap();
    assert!(echo.starts_with("POST /submit?x=1 HTTP/1.1\n"), "{echo}");
    assert!(
        echo.contains("X-One: 1\n") && echo.contains("X-Two: two\n"),
        "{echo}"
    );
    assert!(echo.contains(&format!("Host: {addr}\n")), "{echo}");
    assert!(echo.ends_with("|payload"), "{echo}");
}

#[test]
fn invalid_request_items_are_refused() {
    let rt = runtime();
    for data in [
        "{\"url\": 5}",
        "{\"url\": \"http://h/\", \"body\": \"a\", \"body_base64\": \"YQ==\"}",
        "{\"url\": \"http://h/\", \"headers\": {\"Bad\\nName\": \"v\"}}",
        "GET http://h/ HTTP/1.1\r\n",
    ] {
        let e = http_call(&rt, data).unwrap_err();
        assert_eq!(e.kind(), "invalid_request", "{data}: {e}");
        assert!(e.to_string().contains("\"req\""), "{e}");
    }
}

#[test]
fn https_is_refused_clearly() {
    let rt = runtime();
    let uri = "https://example.com/";
    let res = http_call(&rt, json!({ "url": uri }).to_string());
    let e = assert_error(res, "unsupported_scheme", uri);
    assert!(e.to_string().contains("https is not supported"), "{e}");
}
