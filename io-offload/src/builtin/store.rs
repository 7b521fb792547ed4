//! `store (objects, uris) => (receipts)`.

use std::collections::HashMap;

use bytes::Bytes;

use crate::context::{Ctx, Deadline};
use crate::http::{self, BodyPlan, Limit, Request};
use crate::uri::{self, HttpUrl, Target};
use crate::{file, Authority, Error, Item, Result};

pub(crate) async fn run(
    ctx: &Ctx,
    auth: &Authority,
    objects: Vec<Item>,
    uris: Vec<Item>,
) -> Result<Vec<Item>> {
    let deadline = ctx.deadline();
    let mut by_key: HashMap<u64, Vec<Bytes>> = HashMap::new();
    for item in uris {
        by_key.entry(item.key).or_default().push(item.data);
    }
    // Inner join by key: every object goes to every URI with its key.
    let mut jobs = Vec::new();
    for object in objects {
        let Some(targets) = by_key.get(&object.key) else {
            return Err(Error::MissingUri {
                name: object.name,
                key: object.key,
            });
        };
        for target in targets {
            jobs.push((object.clone(), target.clone()));
        }
    }
    super::for_each(
        jobs,
        ctx.config().max_in_flight,
        |(object, target)| async move {
            let uri = uri::text(&target)?;
            let size = object.data.len();
            let etag = store(ctx, auth, &uri, object.data, deadline).await?;
            let receipt = serde_json::json!({ "uri": uri, "size": size, "etag": etag });
            Ok(Item {
                name: object.name,
                key: object.key,
                data: Bytes::from(receipt.to_string()),
            })
        },
    )
    .await
}

/// Writes `data` to `uri`, if `auth` allows it; answers the ETag the store
/// gave, if any.
async fn store(
    ctx: &Ctx,
    auth: &Authority,
    uri: &str,
    data: Bytes,
    deadline: Deadline,
) -> Result<Option<String>> {
    let limit = ctx.config().max_object_bytes;
    if data.len() as u64 > limit {
        return Err(Error::TooLarge {
            uri: uri.to_owned(),
            limit_bytes: limit,
            limit_name: crate::http::OBJECT_LIMIT.into(),
            actual_bytes: data.len() as u64,
        });
    }
    match uri::parse_object(uri)? {
        Target::File(path) => {
            let access = auth.file_write(uri, &path)?;
            file::write(ctx, auth, uri, &access, data, deadline).await?;
            Ok(None)
        }
        Target::Http(url) => put(ctx, Some(auth), &url, data, deadline).await,
        Target::S3 { bucket, key } => {
            let store = auth.s3(uri, &bucket, &key, ctx.shared.s3.as_ref())?;
            let url = store.put_url(uri, &bucket, &key)?;
            put(ctx, None, &url, data, deadline).await
        }
    }
}

/// `PUT` of the whole object; answers the ETag, if the store gives one.
async fn put(
    ctx: &Ctx,
    authority: Option<&Authority>,
    url: &HttpUrl,
    data: Bytes,
    deadline: Deadline,
) -> Result<Option<String>> {
    let headers = [(
        "Content-Type".to_owned(),
        "application/octet-stream".to_owned(),
    )];
    let request = Request {
        method: "PUT",
        url,
        headers: &headers,
        body: data,
        authority,
        limit: &Limit::object(ctx),
        plan: &BodyPlan::Memory,
    };
    let response = http::send_for_object(ctx, &request, deadline, false).await?;
    Ok(response
        .header("etag")
        .map(|e| e.trim().trim_matches('"').to_owned()))
}
