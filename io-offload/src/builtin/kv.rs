//! `kv_get (keys) => (values)` and `kv_put (pairs) => (receipts)`.

use bytes::Bytes;

use crate::context::Ctx;
use crate::{redis, retry, Item, Result};

/// Each key item's data is a Redis key; present keys answer an item with the
/// key item's name and key and the value as data; missing keys answer none.
pub(crate) async fn get(ctx: &Ctx, keys: Vec<Item>) -> Result<Vec<Item>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let deadline = ctx.deadline();
    let names: Vec<Bytes> = keys.iter().map(|k| k.data.clone()).collect();
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
pub(crate) async fn put(ctx: &Ctx, pairs: Vec<Item>) -> Result<Vec<Item>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let deadline = ctx.deadline();
    let kv: Vec<(Bytes, Bytes)> = pairs
        .iter()
        .map(|p| (Bytes::from(p.name.clone()), p.data.clone()))
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
