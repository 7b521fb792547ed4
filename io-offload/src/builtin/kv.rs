//! `kv_get (keys) => (values)` and `kv_put (pairs) => (receipts)`.

use bytes::Bytes;

use crate::context::Ctx;
use crate::{redis, retry, Authority, Item, Result};

/// `key` in the namespace of the caller's authority.
fn namespaced(prefix: &str, key: &[u8]) -> Bytes {
    let mut full = Vec::with_capacity(prefix.len().saturating_add(key.len()));
    full.extend_from_slice(prefix.as_bytes());
    full.extend_from_slice(key);
    Bytes::from(full)
}

/// Each key item's data is a Redis key; present keys answer an item with the
/// key item's name and key and the value as data; missing keys answer none.
/// Keys are taken in the authority's namespace.
pub(crate) async fn get(ctx: &Ctx, auth: &Authority, keys: Vec<Item>) -> Result<Vec<Item>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let prefix = auth.redis_prefix(&redis::uri(ctx))?;
    let deadline = ctx.deadline();
    let names: Vec<Bytes> = keys.iter().map(|k| namespaced(prefix, &k.data)).collect();
    let values = retry::retry(
        ctx,
        deadline,
        true,
        || redis::get(ctx, &names, deadline),
        |_| false,
    )
    .await?;
    Ok(keys
        .into_iter()
        .zip(values)
        .filter_map(|(item, value)| {
            value.map(|data| Item {
                name: item.name,
                key: item.key,
                data,
            })
        })
        .collect())
}

/// Each pair item's name is the Redis key and its data the value; each
/// answers a JSON receipt `{"key", "size"}` with the pair's name and key.
/// The key is taken in the authority's namespace; the receipt names it as the
/// caller did.
pub(crate) async fn put(ctx: &Ctx, auth: &Authority, pairs: Vec<Item>) -> Result<Vec<Item>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let prefix = auth.redis_prefix(&redis::uri(ctx))?;
    let deadline = ctx.deadline();
    let kv: Vec<(Bytes, Bytes)> = pairs
        .iter()
        .map(|p| (namespaced(prefix, p.name.as_bytes()), p.data.clone()))
        .collect();
    retry::retry(
        ctx,
        deadline,
        true,
        || redis::put(ctx, &kv, deadline),
        |_| false,
    )
    .await?;
    let uri = redis::uri(ctx);
    Ok(pairs
        .into_iter()
        .map(|p| {
            let receipt = serde_json::json!({ "uri": uri, "key": p.name, "size": p.data.len() });
            Item {
                name: p.name,
                key: p.key,
                data: Bytes::from(receipt.to_string()),
            }
        })
        .collect())
}
