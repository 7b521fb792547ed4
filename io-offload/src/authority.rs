//! [`Authority`]: a validated [`IoPolicy`], the form every call is checked
//! against before it touches a file, a socket, a bucket or a key.

mod addrs;
mod paths;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::s3::S3Target;
use crate::{Error, IoPolicy, Result, S3Config};

use addrs::NetRules;
pub(crate) use paths::Denied;
use paths::Roots;

/// The authority a call runs with: which files, hosts, buckets and keys it may
/// reach. Built from an operator's [`IoPolicy`] with [`Authority::new`], or
/// [`Authority::local`] for the local user.
///
/// Pass it with each call ([`IoRuntime::submit_as`](crate::IoRuntime::submit_as),
/// [`IoRuntime::call_as`](crate::IoRuntime::call_as)); a call outside it fails
/// with [`Error::Forbidden`] naming the URI and the rule, before anything is
/// opened or sent, so the error is the same whether the target exists or not.
/// Build it once per principal and share it (`Arc`): pooled connections are
/// kept per authority.
#[derive(Debug)]
pub struct Authority {
    id: u64,
    name: String,
    read: Roots,
    write: Roots,
    denied: Denied,
    net: NetRules,
    s3: S3Access,
    redis: Option<String>,
    /// Calls this authority refused (each one, not each invocation).
    refused: AtomicU64,
}

#[derive(Debug)]
enum S3Access {
    /// Any bucket, with the node's store and credentials.
    Node,
    Grants(Vec<Grant>),
}

#[derive(Debug)]
struct Grant {
    bucket: String,
    prefixes: Vec<String>,
    /// `None`: the node's store ([`crate::S3Grant::node_credentials`]).
    target: Option<S3Target>,
}

/// Where a permitted file path is opened: beneath `root` (with
/// `RESOLVE_BENEATH`) or, for the local user, anywhere.
#[derive(Debug)]
pub(crate) struct FileAccess {
    pub(crate) root: PathBuf,
    pub(crate) rel: PathBuf,
    pub(crate) beneath: bool,
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn forbidden(uri: &str, rule: impl Into<String>) -> Error {
    Error::Forbidden {
        uri: uri.to_owned(),
        rule: rule.into(),
    }
}

impl Authority {
    /// The local user's authority (what `pappus run` uses): any file the
    /// process can read or write except under `/proc`, `/sys` and `/dev`, any
    /// HTTP destination (loopback included), every bucket of the node's S3
    /// store, and the whole Redis keyspace.
    pub fn local() -> Authority {
        Authority {
            id: next_id(),
            name: "local".into(),
            read: Roots::Anywhere,
            write: Roots::Anywhere,
            denied: Denied::new(&[]).unwrap_or_default(),
            net: NetRules::any(),
            s3: S3Access::Node,
            redis: Some(String::new()),
            refused: AtomicU64::new(0),
        }
    }

    /// Validates `policy`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the offending entry: a relative root or denied
    /// path, or one with `..`; a malformed `http.allow` entry; an S3 grant with
    /// an empty bucket, a non-`http://` endpoint, or neither credentials nor
    /// `node_credentials`.
    pub fn new(policy: &IoPolicy) -> Result<Authority> {
        let bad = |reason: String| Error::Config {
            reason: format!("i/o policy: {reason}"),
        };
        let grants = policy
            .s3
            .iter()
            .map(|g| {
                if g.bucket.is_empty() {
                    return Err(bad("an s3 grant has an empty bucket".into()));
                }
                let target = if g.node_credentials {
                    None
                } else {
                    match (&g.endpoint, &g.region, &g.access_key, &g.secret_key) {
                        (Some(endpoint), Some(region), Some(access_key), Some(secret_key)) => {
                            Some(S3Target::new(&S3Config {
                                endpoint: endpoint.clone(),
                                region: region.clone(),
                                access_key: access_key.clone(),
                                secret_key: secret_key.clone(),
                            })?)
                        }
                        _ => {
                            return Err(bad(format!(
                                "s3 grant for bucket {:?} needs endpoint, region, access_key and secret_key, or node_credentials = true",
                                g.bucket
                            )))
                        }
                    }
                };
                Ok(Grant {
                    bucket: g.bucket.clone(),
                    prefixes: g.prefixes.clone(),
                    target,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Authority {
            id: next_id(),
            name: String::new(),
            read: Roots::new(&policy.file.read).map_err(bad)?,
            write: Roots::new(&policy.file.write).map_err(bad)?,
            denied: Denied::new(&policy.file.deny).map_err(bad)?,
            net: NetRules::new(policy.http.public, &policy.http.allow).map_err(bad)?,
            s3: S3Access::Grants(grants),
            redis: policy.redis.as_ref().map(|r| r.prefix.clone()),
            refused: AtomicU64::new(0),
        })
    }

    /// The same authority, named `name` (a tenant), for hooks and logs.
    pub fn named(mut self, name: impl Into<String>) -> Authority {
        self.name = name.into();
        self
    }

    /// The name given with [`named`](Self::named) (`"local"` for
    /// [`Authority::local`], empty otherwise).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many calls made with this authority were refused with
    /// [`Error::Forbidden`] so far: every refused call counts, however many
    /// one invocation makes (the daemon's per-tenant metric).
    pub fn refused_calls(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Counts one refused call ([`refused_calls`](Self::refused_calls)).
    pub(crate) fn count_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A number unique to this authority in the process (pool keys).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Where `path` may be opened for reading.
    pub(crate) fn file_read(&self, uri: &str, path: &Path) -> Result<FileAccess> {
        self.file(uri, path, &self.read, "read")
    }

    /// Where `path` may be opened for writing.
    pub(crate) fn file_write(&self, uri: &str, path: &Path) -> Result<FileAccess> {
        self.file(uri, path, &self.write, "write")
    }

    fn file(&self, uri: &str, path: &Path, roots: &Roots, what: &str) -> Result<FileAccess> {
        let Some(clean) = paths::absolute_clean(path) else {
            return Err(forbidden(uri, "file paths must be absolute, without `..`"));
        };
        if let Some(denied) = self.denied.covering(&clean) {
            return Err(forbidden(
                uri,
                format!("{} is a denied path", denied.display()),
            ));
        }
        let Some((root, rel)) = roots.locate(&clean) else {
            return Err(forbidden(uri, format!("not beneath any file {what} root")));
        };
        Ok(FileAccess {
            root,
            rel,
            beneath: matches!(roots, Roots::Beneath(_)),
        })
    }

    /// The denied paths, for checking where an opened file really is.
    pub(crate) fn denied(&self) -> &Denied {
        &self.denied
    }

    /// Whether the URL host `host` may be looked up at all: a name for this
    /// machine (`localhost`, `*.localhost`) is judged as the loopback
    /// addresses whatever the resolver would say, so that it is refused the
    /// same way (`forbidden`) where it does not resolve.
    pub(crate) fn check_host(&self, uri: &str, host: &str, port: u16) -> Result<()> {
        if !addrs::is_localhost_name(host) {
            return Ok(());
        }
        let loopback = [
            SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)),
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
        ];
        let mut denial = None;
        for addr in loopback {
            match self.net.check(host, addr) {
                Ok(()) => return Ok(()),
                Err(rule) => {
                    denial.get_or_insert(rule);
                }
            }
        }
        Err(forbidden(
            uri,
            format!("{host} names this machine: {}", denial.unwrap_or_default()),
        ))
    }

    /// Whether `addr`, reached as `host` in `uri`, may be connected to.
    pub(crate) fn check_addr(&self, uri: &str, host: &str, addr: SocketAddr) -> Result<()> {
        self.net
            .check(host, addr)
            .map_err(|rule| forbidden(uri, rule))
    }

    /// The store to use for `s3://bucket/key`, or `forbidden`.
    pub(crate) fn s3<'a>(
        &'a self,
        uri: &str,
        bucket: &str,
        key: &str,
        node: Option<&'a S3Target>,
    ) -> Result<&'a S3Target> {
        let not_configured = || Error::NotConfigured {
            uri: uri.to_owned(),
            what: "s3 (RingConfig::s3)",
        };
        let grants = match &self.s3 {
            S3Access::Node => return node.ok_or_else(not_configured),
            S3Access::Grants(grants) => grants,
        };
        // A `.` or `..` segment could be resolved by a store or a proxy on
        // the way to another key than the one the prefixes were checked on.
        if key
            .split('/')
            .any(|segment| segment == "." || segment == "..")
        {
            return Err(forbidden(
                uri,
                format!("key {key:?} has `.` or `..` segments"),
            ));
        }
        let Some(grant) = grants.iter().find(|g| g.bucket == bucket) else {
            return Err(forbidden(uri, format!("bucket {bucket:?} is not granted")));
        };
        if !grant.prefixes.iter().any(|p| key.starts_with(p.as_str())) {
            return Err(forbidden(
                uri,
                format!(
                    "key {key:?} is outside the granted prefixes {:?} of bucket {bucket:?}",
                    grant.prefixes
                ),
            ));
        }
        match &grant.target {
            Some(target) => Ok(target),
            None => node.ok_or_else(not_configured),
        }
    }

    /// The prefix of every Redis key, or `forbidden` naming `uri`.
    pub(crate) fn redis_prefix(&self, uri: &str) -> Result<&str> {
        self.redis
            .as_deref()
            .ok_or_else(|| forbidden(uri, "redis is not granted"))
    }
}
