//! [`IoPolicy`]: what one principal (a tenant, or the local user) may reach, in
//! the form an operator writes it. [`Authority::new`](crate::Authority::new)
//! validates it into the form every call is checked against.
//!
//! The format is documented in `docs/io.md` ("Authority"); in TOML:
//!
//! ```toml
//! [file]
//! read = ["/srv/tenants/a/in"]
//! write = ["/srv/tenants/a/out"]
//! deny = ["/srv/tenants/a/in/secrets"]
//!
//! [http]
//! public = true
//! allow = ["10.1.2.0/24", "minio.internal:9000", "[fd00::1]:8080"]
//!
//! [[s3]]
//! bucket = "tenant-a"
//! prefixes = ["in/", "out/"]
//! endpoint = "http://127.0.0.1:3900"
//! region = "garage"
//! access_key = "GK..."
//! secret_key = "..."
//!
//! [redis]
//! prefix = "tenant-a:"
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The I/O a principal may do, as an operator writes it (serde: TOML, JSON).
///
/// Every field is optional. The default (`IoPolicy::default()`, or an empty
/// file) is the least authority that still lets a composition do useful I/O:
/// no files, HTTP to public addresses only, no S3 bucket, no Redis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IoPolicy {
    /// `file://` roots.
    pub file: FilePolicy,
    /// `http://` destinations (the `http` built-in, and `fetch`/`store` of
    /// `http://` URIs).
    pub http: HttpPolicy,
    /// `s3://` buckets, each with its endpoint and credentials.
    pub s3: Vec<S3Grant>,
    /// Redis (`kv_get`, `kv_put`); `None` denies both.
    pub redis: Option<RedisGrant>,
}

/// `file://` roots: absolute directories beneath which paths may be read or
/// written. Default: none.
///
/// `/proc`, `/sys` and `/dev` are always denied, as is everything in
/// [`deny`](Self::deny), even when a root contains them; only regular files can
/// be read or written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilePolicy {
    /// Directories whose files `fetch` may read.
    pub read: Vec<PathBuf>,
    /// Directories whose files `store` may write (and create directories in).
    /// Writing does not imply reading.
    pub write: Vec<PathBuf>,
    /// Paths that can never be named, even inside a root (a daemon puts its
    /// data directory and tokens file here).
    pub deny: Vec<PathBuf>,
}

/// `http://` destinations.
///
/// A connection is allowed when the resolved address is public and
/// [`public`](Self::public) is true, or when an [`allow`](Self::allow) rule
/// matches. Checked on the address actually connected to, after name
/// resolution, so a name that resolves to a private address is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpPolicy {
    /// Allow any public address on any port. Default true.
    pub public: bool,
    /// Extra destinations, each `host`, `host:port`, `ip`, `ip:port`,
    /// `[ipv6]:port`, `cidr` or `cidr:port` (IPv6 CIDRs with a port in
    /// brackets: `[fd00::/8]:80`), or `*` for any address. A host rule matches
    /// the name in the URL, whatever it resolves to. Default none.
    pub allow: Vec<String>,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            public: true,
            allow: Vec::new(),
        }
    }
}

/// One `s3://` bucket a principal may use.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Grant {
    /// The bucket name in `s3://bucket/key`.
    pub bucket: String,
    /// Key prefixes allowed in the bucket; default `[""]` (every key).
    #[serde(default = "every_key")]
    pub prefixes: Vec<String>,
    /// Base URL of the S3 API for this bucket (`http://` only).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Signing region.
    #[serde(default)]
    pub region: Option<String>,
    /// Access key id.
    #[serde(default)]
    pub access_key: Option<String>,
    /// Secret access key (never printed by `Debug`).
    #[serde(default)]
    pub secret_key: Option<String>,
    /// Use the node's store and credentials ([`RingConfig::s3`](crate::RingConfig::s3))
    /// instead of the four fields above. Default false: a grant that names no
    /// credentials is refused when the policy is validated, so the node's
    /// credentials are only used where the operator says so.
    #[serde(default)]
    pub node_credentials: bool,
}

fn every_key() -> Vec<String> {
    vec![String::new()]
}

impl std::fmt::Debug for S3Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Grant")
            .field("bucket", &self.bucket)
            .field("prefixes", &self.prefixes)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("node_credentials", &self.node_credentials)
            .finish()
    }
}

/// Redis access: every key the principal names is prefixed with
/// [`prefix`](Self::prefix) on the server, so principals with distinct,
/// non-overlapping prefixes cannot name each other's keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisGrant {
    /// Prefix of every key, e.g. `"tenant-a:"`. Must not be empty unless the
    /// principal is meant to see the whole keyspace.
    pub prefix: String,
}
