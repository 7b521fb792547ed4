//! `s3://bucket/key` objects: path-style requests to the configured
//! S3-compatible endpoint, signed with AWS Signature V4 by `rusty-s3`.
//!
//! Requests are presigned (the signature travels in the query string, with an
//! unsigned payload), so the body is streamed as is and no hashing of large
//! objects is needed before sending.

use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use url::Url;

use crate::uri::HttpUrl;
use crate::{Error, Result, S3Config};

/// How long a presigned request stays valid; it is used at once.
const PRESIGN_FOR: Duration = Duration::from_secs(300);

/// The configured store, ready to sign requests.
pub(crate) struct S3Target {
    endpoint: Url,
    region: String,
    credentials: Credentials,
}

impl std::fmt::Debug for S3Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credentials are never printed.
        f.debug_struct("S3Target")
            .field("endpoint", &self.endpoint.as_str())
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl S3Target {
    pub(crate) fn new(config: &S3Config) -> Result<S3Target> {
        let bad = |reason: String| Error::Config {
            reason: format!("s3 endpoint {:?}: {reason}", config.endpoint),
        };
        let endpoint = Url::parse(&config.endpoint).map_err(|e| bad(e.to_string()))?;
        if endpoint.scheme() != "http" {
            return Err(bad("only http:// endpoints are supported".into()));
        }
        if config.region.is_empty() {
            return Err(Error::Config {
                reason: "s3 region must not be empty".into(),
            });
        }
        Ok(S3Target {
            endpoint,
            region: config.region.clone(),
            credentials: Credentials::new(config.access_key.clone(), config.secret_key.clone()),
        })
    }

    fn bucket(&self, uri: &str, bucket: &str) -> Result<Bucket> {
        Bucket::new(
            self.endpoint.clone(),
            UrlStyle::Path,
            bucket.to_owned(),
            self.region.clone(),
        )
        .map_err(|e| Error::InvalidUri {
            uri: uri.to_owned(),
            reason: format!("invalid bucket name {bucket:?}: {e}"),
        })
    }

    /// A presigned `GET` URL for the object.
    pub(crate) fn get_url(&self, uri: &str, bucket: &str, key: &str) -> Result<HttpUrl> {
        let bucket = self.bucket(uri, bucket)?;
        let url = bucket
            .get_object(Some(&self.credentials), key)
            .sign(PRESIGN_FOR);
        self.http_url(uri, &url)
    }

    /// A presigned `PUT` URL for the object.
    pub(crate) fn put_url(&self, uri: &str, bucket: &str, key: &str) -> Result<HttpUrl> {
        let bucket = self.bucket(uri, bucket)?;
        let url = bucket
            .put_object(Some(&self.credentials), key)
            .sign(PRESIGN_FOR);
        self.http_url(uri, &url)
    }

    fn http_url(&self, uri: &str, url: &Url) -> Result<HttpUrl> {
        // Messages name the s3:// URI, not the presigned URL with its signature.
        let mut http = HttpUrl::from_url(uri, url, "s3://")?;
        http.full = uri.to_owned();
        Ok(http)
    }
}
