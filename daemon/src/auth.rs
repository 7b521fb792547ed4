//! Bearer-token authentication: a tokens file maps each token to a tenant, and
//! gives each tenant the I/O policy its invocations run with.
//!
//! File format (TOML): tokens in a `[tokens]` table (token = tenant), or in
//! `[tenants.NAME]` tables with the tenant's I/O policy (`pappus_io::IoPolicy`,
//! `docs/io.md`) in `[tenants.NAME.io]`; both may be used in one file:
//!
//! ```toml
//! [tokens]
//! "3f9a-long-random-secret" = "tenant-a"
//!
//! [tenants.tenant-b]
//! tokens = ["77c1-another-secret"]
//! [tenants.tenant-b.io.file]
//! read = ["/srv/b/in"]
//! [tenants.tenant-b.io.redis]   # prefix defaults to "tenant/tenant-b/"
//! ```
//!
//! A tenant without an `io` table gets the least authority
//! (`IoPolicy::default()`: no files, public HTTP only, no S3, no Redis).
//! Several tokens may name the same tenant (rotation). With a tokens file every
//! `/v1` request needs `Authorization: Bearer TOKEN`: a missing or malformed header
//! is `401`, a token not in the file is `403`. Without a tokens file authentication
//! is off and every request acts for the default tenant.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use axum::extract::Request;
use axum::http::header::AUTHORIZATION;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::errors::ApiError;
use pappus_engine::DEFAULT_TENANT;
use pappus_io::IoPolicy;

/// Longest tenant name accepted; tenant names become directory names.
const MAX_TENANT_LEN: usize = 64;

/// The tenant a request acts for (see [`tenant`]), put in the request's
/// extensions by the `/v1` middleware.
#[derive(Clone, Debug)]
pub struct TenantName(pub Arc<str>);

/// Tokens loaded from a tokens file.
///
/// Only SHA-256 digests of the tokens are kept, and lookups go by digest, so the
/// time a lookup takes says nothing about how much of a guessed token was right.
#[derive(Clone, Debug)]
pub struct Tokens {
    by_digest: HashMap<[u8; 32], Arc<str>>,
    /// Every tenant the file names, with its I/O policy.
    policies: BTreeMap<String, IoPolicy>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    tokens: BTreeMap<String, String>,
    #[serde(default)]
    tenants: BTreeMap<String, TenantEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantEntry {
    #[serde(default)]
    tokens: Vec<String>,
    /// Kept as TOML until the tenant's defaults are filled in, so that errors
    /// name the tenant.
    io: Option<toml::Table>,
}

/// The Redis prefix of a tenant whose `[tenants.NAME.io.redis]` table names
/// none: distinct for distinct names, and never a prefix of another's.
pub fn default_redis_prefix(tenant: &str) -> String {
    format!("tenant/{tenant}/")
}

impl Tokens {
    /// Reads and validates a tokens file (format in the module docs).
    ///
    /// # Errors
    /// The file cannot be read or parsed, defines no token, has an empty token or
    /// one with whitespace, or a tenant name that is not 1-64 characters of
    /// `A-Z a-z 0-9 _ -`.
    pub fn load(path: &Path) -> anyhow::Result<Tokens> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading tokens file {}", path.display()))?;
        Tokens::parse(&text).with_context(|| format!("in tokens file {}", path.display()))
    }

    /// Parses the text of a tokens file (see [`Tokens::load`]).
    ///
    /// # Errors
    /// As [`Tokens::load`], minus reading.
    pub fn parse(text: &str) -> anyhow::Result<Tokens> {
        let file: TokensFile = toml::from_str(text).context("parsing TOML")?;
        let mut pairs: Vec<(String, String)> = file.tokens.into_iter().collect();
        let mut policies = BTreeMap::new();
        for (tenant, entry) in file.tenants {
            if !valid_tenant(&tenant) {
                bail!(
                    "tenant name {tenant:?} must be 1-{MAX_TENANT_LEN} characters of \
                     A-Z, a-z, 0-9, '_' and '-'"
                );
            }
            let policy = tenant_policy(&tenant, entry.io)?;
            pairs.extend(entry.tokens.into_iter().map(|t| (t, tenant.clone())));
            policies.insert(tenant, policy);
        }
        if pairs.is_empty() {
            bail!("the file defines no token ([tokens] or [tenants.NAME] tokens)");
        }
        let mut by_digest: HashMap<[u8; 32], Arc<str>> = HashMap::new();
        for (token, tenant) in pairs {
            if token.is_empty() || token.chars().any(char::is_whitespace) {
                bail!("token for tenant {tenant:?} is empty or contains whitespace");
            }
            if !valid_tenant(&tenant) {
                bail!(
                    "tenant name {tenant:?} must be 1-{MAX_TENANT_LEN} characters of \
                     A-Z, a-z, 0-9, '_' and '-'"
                );
            }
            if let Some(other) = by_digest.get(&digest(&token)) {
                if **other != *tenant {
                    bail!("one token is given to both {other:?} and {tenant:?}");
                }
            }
            policies.entry(tenant.clone()).or_default();
            by_digest.insert(digest(&token), Arc::from(tenant));
        }
        if let Some(tenant) = policies
            .keys()
            .find(|t| !by_digest.values().any(|v| **v == ***t))
        {
            bail!("tenant {tenant:?} has no token");
        }
        check_redis_prefixes(&policies)?;
        Ok(Tokens {
            by_digest,
            policies,
        })
    }

    /// Every tenant the file names, with its I/O policy (as written, before
    /// the daemon adds its own files to the deny list).
    pub fn policies(&self) -> &BTreeMap<String, IoPolicy> {
        &self.policies
    }

    /// The tenant `token` belongs to, if any.
    pub fn tenant(&self, token: &str) -> Option<Arc<str>> {
        self.by_digest.get(&digest(token)).cloned()
    }

    /// How many distinct tenants the file names.
    pub fn tenant_count(&self) -> usize {
        let mut names: Vec<&str> = self.by_digest.values().map(|t| &**t).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    }
}

/// Parses a tenant's `io` table, filling in its default Redis prefix.
fn tenant_policy(tenant: &str, io: Option<toml::Table>) -> anyhow::Result<IoPolicy> {
    let Some(mut io) = io else {
        return Ok(IoPolicy::default());
    };
    if let Some(toml::Value::Table(redis)) = io.get_mut("redis") {
        redis
            .entry("prefix")
            .or_insert_with(|| toml::Value::String(default_redis_prefix(tenant)));
    }
    io.try_into()
        .with_context(|| format!("in the I/O policy of tenant {tenant:?} ([tenants.{tenant}.io])"))
}

/// Refuses Redis prefixes with which one tenant could name another's keys:
/// an empty one, or one that starts another.
pub fn check_redis_prefixes(policies: &BTreeMap<String, IoPolicy>) -> anyhow::Result<()> {
    let prefixes: Vec<(&str, &str)> = policies
        .iter()
        .filter_map(|(t, p)| p.redis.as_ref().map(|r| (t.as_str(), r.prefix.as_str())))
        .collect();
    for (tenant, prefix) in &prefixes {
        if prefix.is_empty() && policies.len() > 1 {
            bail!(
                "tenant {tenant:?}: io.redis.prefix is empty, which names every tenant's keys \
                 (suggested: {:?})",
                default_redis_prefix(tenant)
            );
        }
        for (other, other_prefix) in &prefixes {
            if tenant != other && other_prefix.starts_with(prefix) {
                bail!(
                    "tenant {tenant:?}: io.redis.prefix {prefix:?} is a prefix of tenant \
                     {other:?}'s {other_prefix:?}, so it could name its keys \
                     (suggested: {:?})",
                    default_redis_prefix(tenant)
                );
            }
        }
    }
    Ok(())
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn valid_tenant(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TENANT_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The tenant `request` acts for: the default tenant when authentication is
/// off (`tokens` is `None`), otherwise the one its bearer token names.
///
/// # Errors
/// `401` for a missing or malformed `Authorization` header, `403` for a token
/// not in the file.
pub fn tenant(tokens: Option<&Tokens>, request: &Request) -> Result<TenantName, ApiError> {
    let tenant = match tokens {
        None => Arc::from(DEFAULT_TENANT),
        Some(tokens) => {
            let token = bearer_token(request)?;
            tokens.tenant(token).ok_or_else(|| {
                ApiError::forbidden("the bearer token is not valid for any tenant")
            })?
        }
    };
    Ok(TenantName(tenant))
}

/// The token of an `Authorization: Bearer TOKEN` header (scheme case-insensitive).
fn bearer_token(request: &Request) -> Result<&str, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer header"))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("Authorization header is not ASCII"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("Authorization header is not `Bearer TOKEN`"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::unauthorized(
            "Authorization header is not `Bearer TOKEN`",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_map_to_tenants() {
        let tokens = Tokens::parse("[tokens]\n\"a-secret\" = \"tenant-a\"\n\"b\" = \"tenant-b\"\n");
        let tokens = tokens.ok();
        let lookup = |t: &str| tokens.as_ref().and_then(|k| k.tenant(t));
        assert_eq!(lookup("a-secret").as_deref(), Some("tenant-a"));
        assert_eq!(lookup("b").as_deref(), Some("tenant-b"));
        assert_eq!(lookup("a-secre"), None);
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(Tokens::parse("[tokens]\n").is_err());
        assert!(Tokens::parse("[tokens]\n\"x\" = \"../etc\"\n").is_err());
        assert!(Tokens::parse("[tokens]\n\"a b\" = \"t\"\n").is_err());
        assert!(Tokens::parse("tokens = 3\n").is_err());
    }

    #[test]
    fn tenant_tables_carry_policies_and_default_redis_prefixes() {
        let tokens = Tokens::parse(
            "[tokens]\n\"a\" = \"ta\"\n\
             [tenants.tb]\ntokens = [\"b\"]\n\
             [tenants.tb.io.file]\nread = [\"/srv/b\"]\n\
             [tenants.tb.io.redis]\n",
        )
        .expect("valid tokens file");
        assert_eq!(tokens.tenant("b").as_deref(), Some("tb"));
        assert_eq!(tokens.tenant("a").as_deref(), Some("ta"));
        let b = &tokens.policies()["tb"];
        assert_eq!(
            b.redis.as_ref().map(|r| r.prefix.as_str()),
            Some("tenant/tb/")
        );
        assert_eq!(tokens.policies()["ta"], IoPolicy::default());
    }

    #[test]
    fn bad_policies_name_the_tenant_and_field() {
        let message = |text: &str| {
            Tokens::parse(text)
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default()
        };
        let unknown = message("[tenants.ta]\ntokens = [\"a\"]\n[tenants.ta.io.file]\nreed = []\n");
        assert!(
            unknown.contains("ta") && unknown.contains("reed"),
            "{unknown}"
        );
        let overlap = message(
            "[tenants.ta]\ntokens = [\"a\"]\n[tenants.ta.io.redis]\nprefix = \"x\"\n\
             [tenants.tb]\ntokens = [\"b\"]\n[tenants.tb.io.redis]\nprefix = \"xy\"\n",
        );
        assert!(
            overlap.contains("\"ta\"") && overlap.contains("prefix"),
            "{overlap}"
        );
        let shared = message("[tokens]\n\"a\" = \"ta\"\n[tenants.tb]\ntokens = [\"a\"]\n");
        assert!(shared.contains("both"), "{shared}");
        assert!(message("[tenants.tb]\n").contains("no token"));
    }
}
