//! Parsing the URIs found in item data.

use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use url::Url;

use crate::{Error, Result};

/// Schemes `fetch` and `store` accept, for error messages.
pub(crate) const OBJECT_SCHEMES: &str = "file://, http://, s3://";

/// Where an object lives.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// A local file (absolute path).
    File(PathBuf),
    /// An object served over plain HTTP.
    Http(HttpUrl),
    /// An object in the configured S3-compatible store.
    S3 { bucket: String, key: String },
}

/// A parsed `http://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    /// The URL as given (for messages).
    pub(crate) full: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `host[:port]` as sent in the `Host` header and used as the pool key.
    pub(crate) authority: String,
    /// Path and query, e.g. `/logs/1.txt?x=1`.
    pub(crate) target: String,
}

impl HttpUrl {
    /// Parses an absolute `http://` URL; `https://` and others are refused.
    pub(crate) fn parse(text: &str) -> Result<HttpUrl> {
        let url = Url::parse(text).map_err(|e| Error::InvalidUri {
            uri: text.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_url(text, &url, "http://")
    }

    pub(crate) fn from_url(text: &str, url: &Url, supported: &'static str) -> Result<HttpUrl> {
        if url.scheme() != "http" {
            return Err(unsupported(text, url.scheme(), supported));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => {
                return Err(Error::InvalidUri {
                    uri: text.to_owned(),
                    reason: "no host".into(),
                })
            }
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let authority = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => host.clone(),
        };
        let mut target = url.path().to_owned();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        Ok(HttpUrl {
            full: text.to_owned(),
            host,
            port,
            authority,
            target,
        })
    }
}

fn unsupported(uri: &str, scheme: &str, supported: &'static str) -> Error {
    Error::UnsupportedScheme {
        uri: uri.to_owned(),
        scheme: scheme.to_owned(),
        supported: if scheme == "https" {
            "plain http:// only, https is not supported"
        } else {
            supported
        },
    }
}

/// Item data as a URI string (lossy for messages if it is not UTF-8).
pub(crate) fn text(data: &[u8]) -> Result<String> {
    match std::str::from_utf8(data) {
        Ok(s) => Ok(s.trim().to_owned()),
        Err(_) => Err(Error::InvalidUri {
            uri: String::from_utf8_lossy(data).into_owned(),
            reason: "not valid UTF-8".into(),
        }),
    }
}

/// Parses an object URI (`file://`, `http://`, `s3://bucket/key`).
pub(crate) fn parse_object(uri: &str) -> Result<Target> {
    let url = Url::parse(uri).map_err(|e| Error::InvalidUri {
        uri: uri.to_owned(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "file" => {
            if let Some(host) = url.host_str() {
                if !host.is_empty() && host != "localhost" {
                    return Err(Error::InvalidUri {
                        uri: uri.to_owned(),
                        reason: format!("file uris must be local, not on host {host:?}"),
                    });
                }
            }
            let path = url.to_file_path().map_err(|()| Error::InvalidUri {
                uri: uri.to_owned(),
                reason: "not an absolute local path".into(),
            })?;
            Ok(Target::File(path))
        }
        "http" => Ok(Target::Http(HttpUrl::from_url(uri, &url, OBJECT_SCHEMES)?)),
        "s3" => {
            let bucket = url.host_str().unwrap_or_default().to_owned();
            let key_encoded = url.path().trim_start_matches('/');
            let key = percent_decode_str(key_encoded)
                .decode_utf8()
                .map_err(|_| Error::InvalidUri {
                    uri: uri.to_owned(),
                    reason: "object key is not valid UTF-8".into(),
                })?
                .into_owned();
            if bucket.is_empty() || key.is_empty() {
                return Err(Error::InvalidUri {
                    uri: uri.to_owned(),
                    reason: "expected s3://bucket/key".into(),
                });
            }
            Ok(Target::S3 { bucket, key })
        }
        other => Err(unsupported(uri, other, OBJECT_SCHEMES)),
    }
}
