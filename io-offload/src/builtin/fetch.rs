//! `fetch (uris) => (objects)`.

use bytes::Bytes;

use crate::context::{Ctx, Deadline};
use crate::http::{self, Request};
use crate::uri::{self, HttpUrl, Target};
use crate::{file, retry, Error, Item, Result};

pub(crate) async fn run(ctx: &Ctx, uris: Vec<Item>) -> Result<Vec<Item>> {
    let deadline = ctx.deadline();
    super::for_each(uris, ctx.config().max_in_flight, |item| async move {
        let uri = uri::text(&item.data)?;
        let data = fetch(ctx, &uri, deadline).await?;
        Ok(Item {
            name: item.name,
            key: item.key,
            data,
        })
    })
    .await
}

/// Reads the object at `uri`.
pub(crate) async fn fetch(ctx: &Ctx, uri: &str, deadline: Deadline) -> Result<Bytes> {
    match uri::parse_object(uri)? {
        Target::File(path) => file::read(ctx, uri, &path, deadline).await,
        Target::Http(url) => get(ctx, &url, deadline).await,
        Target::S3 { bucket, key } => {
            let s3 = ctx.shared.s3.as_ref().ok_or(Error::NotConfigured {
                uri: uri.to_owned(),
                what: "s3 (RingConfig::s3)",
            })?;
            let url = s3.get_url(uri, &bucket, &key)?;
            get(ctx, &url, deadline).await
        }
    }
}

/// `GET`, retried on connection errors and 5xx; a non-2xx answer is an error.
async fn get(ctx: &Ctx, url: &HttpUrl, deadline: Deadline) -> Result<Bytes> {
    let request = Request {
        method: "GET",
        url,
        headers: &[],
        body: Bytes::new(),
    };
    let response = retry::retry(
        ctx,
        deadline,
        true,
        || http::send(ctx, &request, deadline),
        |r| r.status >= 500,
    )
    .await?;
    if !response.is_success() {
        return Err(Error::Status {
            uri: url.full.clone(),
            status: response.status,
            reason: response.describe(),
        });
    }
    Ok(response.body)
}
