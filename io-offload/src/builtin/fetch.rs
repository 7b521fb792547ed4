//! `fetch (uris) => (objects)`.

use bytes::Bytes;

use crate::context::{Ctx, Deadline};
use crate::http::{self, Request};
use crate::uri::{self, HttpUrl, Target};
use crate::{file, Item, Result};

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
            let url = ctx.s3(uri)?.get_url(uri, &bucket, &key)?;
            get(ctx, &url, deadline).await
        }
    }
}

/// `GET` of the whole object.
async fn get(ctx: &Ctx, url: &HttpUrl, deadline: Deadline) -> Result<Bytes> {
    let request = Request {
        method: "GET",
        url,
        headers: &[],
        body: Bytes::new(),
    };
    let response = http::send_for_object(ctx, &request, deadline).await?;
    Ok(response.body)
}
