//! `http (request) => (response)`.

use crate::context::Ctx;
use crate::http::message::{encode_response, parse_request};
use crate::http::{self, is_idempotent, BodyPlan, Limit, Request};
use crate::{retry, Authority, Item, Result};

pub(crate) async fn run(ctx: &Ctx, auth: &Authority, requests: Vec<Item>) -> Result<Vec<Item>> {
    let deadline = ctx.deadline();
    let limit = &Limit::object(ctx);
    super::for_each(requests, ctx.config().max_in_flight, |item| async move {
        let parsed = parse_request(&item)?;
        let request = Request {
            method: &parsed.method,
            url: &parsed.url,
            headers: &parsed.headers,
            body: parsed.body.clone(),
            authority: Some(auth),
            limit,
            plan: &BodyPlan::Memory,
        };
        // A 5xx after the last retry is still an answer: it is returned as data.
        let response = retry::retry(
            ctx,
            deadline,
            is_idempotent(&parsed.method),
            || http::send(ctx, &request, deadline),
            |r| r.status >= 500,
        )
        .await?;
        Ok(Item {
            name: item.name,
            key: item.key,
            data: encode_response(parsed.format, &response),
        })
    })
    .await
}
