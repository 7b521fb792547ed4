//! [`S3Config`]: an S3-compatible store and its credentials (the node's, in
//! [`RingConfig::s3`](crate::RingConfig::s3)); kept apart from the runtime
//! configuration so the authority and the signer need nothing else of it.

use std::fmt;

/// Where `s3://bucket/key` URIs go and how requests to it are signed.
///
/// Requests are path-style (`{endpoint}/{bucket}/{key}`) and signed with AWS
/// Signature V4 for `region`, so any S3-compatible store works (AWS S3, Garage,
/// MinIO, Ceph RGW) as long as `endpoint` is `http://` (TLS is not supported).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Base URL of the S3 API, e.g. `http://127.0.0.1:3900`.
    pub endpoint: String,
    /// Region name the store expects in signatures (Garage: `s3_region` in its config).
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key (never printed by `Debug`).
    pub secret_key: String,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}
