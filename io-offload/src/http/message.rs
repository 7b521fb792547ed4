//! The `http` built-in's item formats (see `docs/io.md`).
//!
//! A request item's data is either a JSON object (first non-space byte `{`):
//!
//! ```json
//! {"method": "POST", "url": "http://host:port/path?q",
//!  "headers": {"Content-Type": "text/plain"}, "body": "text"}
//! ```
//!
//! (`headers` may also be a list of `[name, value]` pairs; `body_base64`
//! replaces `body` for binary data), or a raw HTTP/1.1 request whose target is
//! the absolute URL: `GET http://host/path HTTP/1.1\r\nAccept: */*\r\n\r\n`,
//! body after the blank line. The response item uses the request's format.

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;

use super::Response;
use crate::uri::HttpUrl;
use crate::{Error, Item, Result};

/// The format a request came in, which its response uses too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Raw,
}

/// A request decoded from an item.
#[derive(Debug)]
pub(crate) struct ParsedRequest {
    pub(crate) format: Format,
    pub(crate) method: String,
    pub(crate) url: HttpUrl,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRequest {
    #[serde(default = "default_method")]
    method: String,
    url: String,
    #[serde(default)]
    headers: Option<JsonHeaders>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonHeaders {
    Map(serde_json::Map<String, serde_json::Value>),
    List(Vec<(String, String)>),
}

fn default_method() -> String {
    "GET".into()
}

/// Decodes a request item.
pub(crate) fn parse_request(item: &Item) -> Result<ParsedRequest> {
    let bad = |reason: String| Error::InvalidRequest {
        name: item.name.clone(),
        key: item.key,
        reason,
    };
    let first = item.data.iter().find(|b| !b.is_ascii_whitespace());
    let (format, method, url, headers, body) = if first == Some(&b'{') {
        let req: JsonRequest = serde_json::from_slice(&item.data)
            .map_err(|e| bad(format!("invalid json request: {e}")))?;
        let headers = match req.headers {
            None => Vec::new(),
            Some(JsonHeaders::List(list)) => list,
            Some(JsonHeaders::Map(map)) => map
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => Ok((k, s)),
                    other => Err(bad(format!("header {k:?} must be a string, not {other}"))),
                })
                .collect::<Result<_>>()?,
        };
        let body = match (req.body, req.body_base64) {
            (Some(_), Some(_)) => return Err(bad("give body or body_base64, not both".into())),
            (Some(text), None) => Bytes::from(text),
            (None, Some(b64)) => Bytes::from(
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|e| bad(format!("invalid body_base64: {e}")))?,
            ),
            (None, None) => Bytes::new(),
        };
        (Format::Json, req.method, req.url, headers, body)
    } else {
        let mut parsed = [httparse::EMPTY_HEADER; 128];
        let mut req = httparse::Request::new(&mut parsed);
        let len = match req.parse(&item.data) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                return Err(bad(
                    "raw request head is incomplete (missing blank line?)".into()
                ))
            }
            Err(e) => return Err(bad(format!("invalid raw request: {e}"))),
        };
        let method = req.method.unwrap_or("GET").to_owned();
        let url = req.path.unwrap_or("").to_owned();
        let headers = req
            .headers
            .iter()
            .map(|h| match std::str::from_utf8(h.value) {
                Ok(v) => Ok((h.name.to_owned(), v.to_owned())),
                Err(_) => Err(bad(format!("header {:?} is not valid UTF-8", h.name))),
            })
            .collect::<Result<_>>()?;
        (Format::Raw, method, url, headers, item.data.slice(len..))
    };
    let method = method.to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
        return Err(bad(format!("invalid method {method:?}")));
    }
    for (name, value) in &headers {
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
        if !name_ok || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(bad(format!("invalid header {name:?}")));
        }
    }
    let url = HttpUrl::parse(&url)?;
    Ok(ParsedRequest {
        format,
        method,
        url,
        headers,
        body,
    })
}

/// Encodes a response in the request's format.
pub(crate) fn encode_response(format: Format, response: &Response) -> Bytes {
    match format {
        Format::Json => {
            let headers: Vec<(String, String)> = response
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                .collect();
            let mut obj = serde_json::Map::new();
            obj.insert("status".into(), response.status.into());
            obj.insert("reason".into(), response.reason.clone().into());
            obj.insert("headers".into(), serde_json::json!(headers));
            match std::str::from_utf8(&response.body) {
                Ok(text) => obj.insert("body".into(), text.into()),
                Err(_) => obj.insert(
                    "body_base64".into(),
                    base64::engine::general_purpose::STANDARD
                        .encode(&response.body)
                        .into(),
                ),
            };
            Bytes::from(serde_json::Value::Object(obj).to_string())
        }
        Format::Raw => {
            let mut out =
                format!("HTTP/1.1 {} {}\r\n", response.status, response.reason).into_bytes();
            for (name, value) in &response.headers {
                if name.eq_ignore_ascii_case("transfer-encoding")
                    || name.eq_ignore_ascii_case("content-length")
                {
                    continue;
                }
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(value);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(
                format!("Content-Length: {}\r\n\r\n", response.body.len()).as_bytes(),
            );
            out.extend_from_slice(&response.body);
            Bytes::from(out)
        }
    }
}
