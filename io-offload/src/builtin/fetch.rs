//! `fetch (uris) => (objects)`.
//!
//! Every object is read under a size limit (the runtime's, or the call's own
//! when its consumer can take less), checked on the size the peer declares
//! before any byte of the body is kept; its bytes stay in memory only while
//! the node's and the invocation's budgets cover them, and go to a spill file
//! otherwise ([`crate::body`]). `http://` and `s3://` objects go through the
//! tenant's fetch cache when there is one ([`crate::cache`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use crate::cache::{FetchCache, Validators};
use crate::context::{Ctx, Deadline};
use crate::http::{self, BodyPlan, CacheDest, Limit, Request, Response};
use crate::uri::{self, HttpUrl, Target};
use crate::{file, mapped, ops, Authority, CallOptions, Error, Item, Result};

pub(crate) async fn run(
    ctx: &Ctx,
    auth: &Authority,
    uris: Vec<Item>,
    options: &CallOptions,
) -> Result<Vec<Item>> {
    let deadline = ctx.deadline();
    let limit = &limit(ctx, options);
    let mut budgets = vec![Arc::clone(&ctx.shared.fetch_memory)];
    budgets.extend(options.budget.iter().cloned());
    let plan = &BodyPlan::Fetch {
        budgets,
        spill: Arc::clone(&ctx.shared.spill),
        cache: None,
    };
    let hits = options.cache_hits.as_deref();
    super::for_each(uris, ctx.config().max_in_flight, |item| async move {
        let uri = uri::text(&item.data)?;
        let data = fetch(ctx, auth, &uri, deadline, limit, plan).await?;
        if data.hit {
            if let Some(hits) = hits {
                hits.fetch_add(1, Ordering::Relaxed);
            }
        }
        let data = data.bytes;
        Ok(Item {
            name: item.name,
            key: item.key,
            data,
        })
    })
    .await
}

/// The smaller of the runtime's object size limit and the call's own.
fn limit(ctx: &Ctx, options: &CallOptions) -> Limit {
    let object = Limit::object(ctx);
    match &options.max_object {
        Some((bytes, name)) if *bytes < object.bytes => Limit {
            bytes: *bytes,
            name: Arc::from(name.as_str()),
        },
        _ => object,
    }
}

/// A fetched object, and whether the cache answered it.
struct Fetched {
    bytes: Bytes,
    hit: bool,
}

impl Fetched {
    fn transferred(bytes: Bytes) -> Fetched {
        Fetched { bytes, hit: false }
    }
}

/// Reads the object at `uri`, if `auth` allows it.
async fn fetch(
    ctx: &Ctx,
    auth: &Authority,
    uri: &str,
    deadline: Deadline,
    limit: &Limit,
    plan: &BodyPlan,
) -> Result<Fetched> {
    match uri::parse_object(uri)? {
        Target::File(path) => {
            let access = auth.file_read(uri, &path)?;
            let bytes = file::read(ctx, auth, uri, &access, deadline, limit, plan).await?;
            Ok(Fetched::transferred(bytes))
        }
        Target::Http(url) => {
            // The authority is asked before the cache is looked at, so a
            // refused URI is refused the same way whatever the cache holds.
            auth.check_host(uri, &url.host, url.port)?;
            let object = Object {
                uri,
                url: &url,
                authority: Some(auth),
            };
            get(ctx, auth, &object, deadline, limit, plan).await
        }
        Target::S3 { bucket, key } => {
            let store = auth.s3(uri, &bucket, &key, ctx.shared.s3.as_ref())?;
            let url = store.get_url(uri, &bucket, &key)?;
            let object = Object {
                uri,
                url: &url,
                authority: None,
            };
            get(ctx, auth, &object, deadline, limit, plan).await
        }
    }
}

/// One object to `GET`.
struct Object<'a> {
    uri: &'a str,
    url: &'a HttpUrl,
    /// Whose authority the destination is checked against (`None`: the
    /// node's S3 endpoint, already allowed by the grant).
    authority: Option<&'a Authority>,
}

/// `GET` of the whole object, through the tenant's cache when there is one.
async fn get(
    ctx: &Ctx,
    auth: &Authority,
    object: &Object<'_>,
    deadline: Deadline,
    limit: &Limit,
    plan: &BodyPlan,
) -> Result<Fetched> {
    let Some(cache) = ctx.shared.cache.as_ref() else {
        let response = send(ctx, object, &[], deadline, limit, plan).await?;
        return Ok(Fetched::transferred(response.body));
    };
    let tenant: Arc<str> = Arc::from(auth.name());
    let dest = match cache.tenant_dir(&tenant) {
        Ok(dir) => CacheDest {
            dir,
            max_bytes: cache.max_object().min(limit.bytes),
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot create a tenant's fetch cache directory; fetching uncached");
            let response = send(ctx, object, &[], deadline, limit, plan).await?;
            return Ok(Fetched::transferred(response.body));
        }
    };
    let cached_plan = match plan {
        BodyPlan::Fetch { budgets, spill, .. } => BodyPlan::Fetch {
            budgets: budgets.clone(),
            spill: Arc::clone(spill),
            cache: Some(dest),
        },
        BodyPlan::Memory => BodyPlan::Memory,
    };
    let found = cache.lookup(&tenant, object.uri);
    let conditional = found
        .as_ref()
        .map(|f| f.validators.headers())
        .unwrap_or_default();
    let response = match send(ctx, object, &conditional, deadline, limit, &cached_plan).await {
        Ok(response) => response,
        Err(e) => {
            // The origin answered that the object is gone or unreadable: the
            // entry describes nothing any more.
            if found.is_some() && matches!(e, Error::Status { .. }) {
                cache.invalidate(&tenant, object.uri);
            }
            return Err(e);
        }
    };
    if response.status == 304 {
        if let Some(found) = found {
            match open_entry(ctx, object.uri, &found.path, found.size, deadline, limit).await {
                Ok(bytes) => {
                    cache
                        .counters
                        .hits
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    cache
                        .counters
                        .bytes_saved
                        .fetch_add(found.size, std::sync::atomic::Ordering::Relaxed);
                    tracing::debug!(tenant = %tenant, uri = object.uri, bytes = found.size, "fetch cache hit");
                    return Ok(Fetched { bytes, hit: true });
                }
                Err(e @ Error::TooLarge { .. }) => return Err(e),
                Err(e) => {
                    // A damaged or missing file: drop it and fetch the whole object.
                    tracing::warn!(tenant = %tenant, uri = object.uri, error = %e, "a fetch cache entry cannot be read; fetching again");
                    cache.invalidate(&tenant, object.uri);
                }
            }
        }
        // A 304 to a request that was not conditional, or for a file that is
        // gone: ask again without conditions.
        let response = send(ctx, object, &[], deadline, limit, &cached_plan).await?;
        return Ok(Fetched::transferred(keep(
            cache, &tenant, object.uri, response,
        )));
    }
    Ok(Fetched::transferred(keep(
        cache, &tenant, object.uri, response,
    )))
}

/// Counts a miss and keeps a cacheable answer (whose body went to a new
/// cache file), or drops the entry an answer without validators replaces.
fn keep(cache: &FetchCache, tenant: &Arc<str>, uri: &str, mut response: Response) -> Bytes {
    cache
        .counters
        .misses
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match response.cache_file.take() {
        Some(file) => {
            let validators = Validators {
                etag: response.header("etag").map(str::to_owned),
                last_modified: response.header("last-modified").map(str::to_owned),
            };
            let size = response.body.len() as u64;
            cache.insert(tenant, uri, file, size, validators);
        }
        None => cache.invalidate(tenant, uri),
    }
    response.body
}

/// Maps a cache entry's file, checking it still has the size recorded (a
/// file changed behind the cache's back is not used).
async fn open_entry(
    ctx: &Ctx,
    uri: &str,
    path: &std::path::Path,
    size: u64,
    deadline: Deadline,
    limit: &Limit,
) -> Result<Bytes> {
    if size > limit.bytes {
        return Err(limit.too_large(uri, size));
    }
    let uri = uri.to_owned();
    let at = Some(deadline.at);
    let io = |op: &'static str| {
        let uri = uri.clone();
        move |source| Error::Io { uri, op, source }
    };
    let fd = ops::open(
        &ctx.driver,
        libc::AT_FDCWD,
        path,
        libc::O_RDONLY | libc::O_NOFOLLOW,
        0,
        ops::Resolve::NoMagicLinks,
        at,
    )
    .await
    .map_err(io("opening a cached object"))?;
    let actual = ops::file_size(&ctx.driver, &fd, at)
        .await
        .map_err(io("inspecting a cached object"))?;
    if actual != size {
        return Err(Error::Protocol {
            uri,
            reason: format!("cached object has {actual} bytes, {size} were stored"),
        });
    }
    mapped::map(&fd, size, ()).map_err(io("mapping a cached object"))
}

/// Sends the `GET` (with `headers`): a 2xx answer, or a `304` to a
/// conditional request; any other status is an error naming the URI.
async fn send(
    ctx: &Ctx,
    object: &Object<'_>,
    headers: &[(String, String)],
    deadline: Deadline,
    limit: &Limit,
    plan: &BodyPlan,
) -> Result<Response> {
    let request = Request {
        method: "GET",
        url: object.url,
        headers,
        body: Bytes::new(),
        authority: object.authority,
        limit,
        plan,
    };
    let conditional = !headers.is_empty();
    http::send_for_object(ctx, &request, deadline, conditional).await
}
