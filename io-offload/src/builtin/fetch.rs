//! `fetch (uris) => (objects)`.

use bytes::Bytes;

use crate::context::{Ctx, Deadline};
use crate::http::{self, Request};
use crate::uri::{self, HttpUrl, Target};
use crate::{file, Authority, Item, Result};

pub(crate) async fn run(ctx: &Ctx, auth: &Authority, uris: Vec<Item>) -> Result<Vec<Item>> {
    let deadline = ctx.deadline();
    super::for_each(uris, ctx.config().max_in_flight, |item| async move {
        let uri = uri::text(&item.data)?;
        let data = fetch(ctx, auth, &uri, deadline).await?;
        Ok(Item {
            name: item.name,
            key: item.key,
            data,
        })
    })
    .await
}

/// Reads the object at `uri`, if `auth` allows it.
pub(crate) async fn fetch(
    ctx: &Ctx,
    auth: &Authority,
    uri: &str,
    deadline: Deadline,
) -> Result<Bytes> {
    match uri::parse_object(uri)? {
        Target::File(path) => {
            let access = auth.file_read(uri, &path)?;
            file::read(ctx, auth, uri, &access, deadline).await
        }
        Target::Http(url) => get(ctx, Some(auth), &url, deadline).await,
        Target::S3 { bucket, key } => {
            let store = auth.s3(uri, &bucket, &key, ctx.shared.s3.as_ref())?;
            let url = store.get_url(uri, &bucket, &key)?;
            get(ctx, None, &url, deadline).await
        }
    }
}

/// `GET` of the whole object.
async fn get(
    ctx: &Ctx,
    authority: Option<&Authority>,
    url: &HttpUrl,
    deadline: Deadline,
) -> Result<Bytes> {
    let request = Request {
        method: "GET",
        url,
        headers: &[],
        body: Bytes::new(),
        authority,
    };
    let response = http::send_for_object(ctx, &request, deadline).await?;
    Ok(response.body)
}
