//! The configured Redis server (`RingConfig::redis`), parsed once at start.

use url::Url;

use crate::{Error, Result};

/// The configured server.
pub(crate) struct RedisTarget {
    /// The URL without its password, used in messages.
    pub(crate) uri: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) db: Option<u32>,
}

impl RedisTarget {
    /// Parses `redis://[[user]:password@]host[:port][/db]`.
    pub(crate) fn parse(text: &str) -> Result<RedisTarget> {
        let bad = |reason: String| Error::Config {
            reason: format!("redis url: {reason}"),
        };
        let url = Url::parse(text).map_err(|e| bad(e.to_string()))?;
        if url.scheme() != "redis" {
            return Err(bad(format!(
                "scheme must be redis:// (TLS is not supported), not {:?}",
                url.scheme()
            )));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host".into()))?
            .to_owned();
        let port = url.port().unwrap_or(6379);
        let db = match url.path().trim_start_matches('/') {
            "" => None,
            n => Some(
                n.parse()
                    .map_err(|_| bad(format!("invalid database {n:?}")))?,
            ),
        };
        let username = Some(url.username().to_owned()).filter(|u| !u.is_empty());
        let password = url.password().map(str::to_owned);
        Ok(RedisTarget {
            uri: format!("redis://{}:{port}/{}", host, db.unwrap_or(0)),
            host,
            port,
            username,
            password,
            db,
        })
    }
}
