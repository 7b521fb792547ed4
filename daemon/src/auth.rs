//! Bearer-token authentication: a tokens file maps each token to a tenant.
//!
//! File format (TOML), one entry per token:
//!
//! ```toml
//! [tokens]
//! "3f9a-long-random-secret" = "tenant-a"
//! "77c1-another-secret" = "tenant-b"
//! ```
//!
//! Several tokens may name the same tenant (rotation). With a tokens file every
//! `/v1` request needs `Authorization: Bearer TOKEN`: a missing or malformed header
//! is `401`, a token not in the file is `403`. Without a tokens file authentication
//! is off and every request acts for the default tenant.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::errors::ApiError;
use super::AppState;
use pappus_engine::DEFAULT_TENANT;

/// Longest tenant name accepted; tenant names become directory names.
const MAX_TENANT_LEN: usize = 64;

/// The tenant a request acts for, put in the request's extensions by [`authenticate`].
#[derive(Clone, Debug)]
pub struct TenantName(pub Arc<str>);

/// Tokens loaded from a tokens file.
///
/// Only SHA-256 digests of the tokens are kept, and lookups go by digest, so the
/// time a lookup takes says nothing about how much of a guessed token was right.
#[derive(Clone, Debug)]
pub struct Tokens {
    by_digest: HashMap<[u8; 32], Arc<str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    tokens: BTreeMap<String, String>,
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
        if file.tokens.is_empty() {
            bail!("the [tokens] table defines no token");
        }
        let mut by_digest = HashMap::new();
        for (token, tenant) in file.tokens {
            if token.is_empty() || token.chars().any(char::is_whitespace) {
                bail!("token for tenant {tenant:?} is empty or contains whitespace");
            }
            if !valid_tenant(&tenant) {
                bail!(
                    "tenant name {tenant:?} must be 1-{MAX_TENANT_LEN} characters of \
                     A-Z, a-z, 0-9, '_' and '-'"
                );
            }
            by_digest.insert(digest(&token), Arc::from(tenant));
        }
        Ok(Tokens { by_digest })
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

/// Middleware on the `/v1` routes: resolves the request's tenant (or refuses it)
/// and stores it as a [`TenantName`] extension for the handlers.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let tenant = match &state.tokens {
        None => Arc::from(DEFAULT_TENANT),
        Some(tokens) => {
            let token = bearer_token(&request)?;
            tokens.tenant(token).ok_or_else(|| {
                ApiError::forbidden("the bearer token is not valid for any tenant")
            })?
        }
    };
    request.extensions_mut().insert(TenantName(tenant));
    Ok(next.run(request).await)
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
}
