//! `fan_out (auth, request) => (requests, grant)`: reads the auth service's
//! answer (a raw HTTP response whose body lists `user: <name>` and one
//! `shard: /path` line per log shard the token may read) and asks for every
//! shard: one raw `GET <server><path>` request per shard (item name = the path,
//! key = its position), which the `http` builtin then fetches in parallel.
//! `grant` (one item) tells the renderer who asked and what the auth service
//! said: `status: <code>`, and on 200 `user:` and `shards:` lines. A refusal
//! (any status but 200) is not a failure: it yields no requests, and the page
//! says access was denied.
#![no_std]

use core::fmt::Write;

use pappus_example_functions::text::{
    field, fields, first_item, get_request, is_visible_ascii, response, server, Text,
};
use pappus_guest::{entry, Error, Inputs, Outputs, Result};

const OOM: Error = Error::failed("fan_out: out of memory");

fn fan_out(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let auth = first_item(inputs, "auth", 0, "fan_out: no auth response")?;
    let request = first_item(inputs, "request", 1, "fan_out: no request item")?;
    let server = server(request.data)?;
    let (status, body) = response(auth.data).ok_or(Error::bad_input(
        "fan_out: the auth answer is not an HTTP response",
    ))?;

    let requests = out.set("requests");
    let grant_set = out.set("grant");
    let mut grant = Text::with_capacity(body.len() + 64);
    write!(grant, "status: {status}\n").map_err(|_| OOM)?;
    if status == 200 {
        let user = field(body, "user").unwrap_or(b"anonymous");
        grant.push(b"user: ").map_err(|_| OOM)?;
        grant.push(user).map_err(|_| OOM)?;
        grant.push(b"\n").map_err(|_| OOM)?;
        let mut shards = 0u64;
        for (name, path) in fields(body) {
            if name != b"shard" {
                continue;
            }
            if !path.starts_with(b"/") || !is_visible_ascii(path) {
                return Err(Error::bad_input(
                    "fan_out: a shard path is not an absolute URL path",
                ));
            }
            let name = core::str::from_utf8(path)
                .map_err(|_| Error::bad_input("fan_out: shard path is not UTF-8"))?;
            let get = get_request(server, path).ok_or(OOM)?;
            out.push(requests, name, shards, get.as_bytes());
            shards += 1;
        }
        write!(grant, "shards: {shards}\n").map_err(|_| OOM)?;
    }
    out.push(grant_set, "grant", 0, grant.as_bytes());
    Ok(())
}

entry!(
    fan_out,
    inputs = ["auth", "request"],
    outputs = ["requests", "grant"]
);
