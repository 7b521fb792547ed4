//! `access (request) => (auth)`: the first step of the log-rendering
//! application. The request item holds `server: http://host:port` and
//! `token: <token>` lines; the output is one raw HTTP request (item `auth`,
//! key 0) asking the auth service `GET <server>/auth/<token>` which log shards
//! the token may read. The function only describes the request: the platform's
//! `http` builtin sends it.
#![no_std]

use pappus_example_functions::input;
use pappus_example_functions::text::{field, get_request, is_visible_ascii, Text};
use pappus_guest::{entry, Error, Inputs, Outputs, Result};

fn access(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let request = input(inputs, "request", 0)
        .next()
        .ok_or(Error::bad_input("access: no request item"))?;
    let server = field(request.data, "server").ok_or(Error::bad_input(
        "access: the request has no `server:` line",
    ))?;
    let token = field(request.data, "token")
        .ok_or(Error::bad_input("access: the request has no `token:` line"))?;
    if !server.starts_with(b"http://") || !is_visible_ascii(server) {
        return Err(Error::bad_input("access: `server:` must be an http:// URL"));
    }
    // Letters, digits, `-` and `_` only: the token becomes a path segment.
    if token.is_empty()
        || !token
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    {
        return Err(Error::bad_input(
            "access: the token may hold only letters, digits, `-` and `_`",
        ));
    }
    let server = server.strip_suffix(b"/").unwrap_or(server);
    let mut path = Text::with_capacity(token.len() + 8);
    path.push(b"/auth/")
        .map_err(|_| Error::failed("access: out of memory"))?;
    path.push(token)
        .map_err(|_| Error::failed("access: out of memory"))?;
    let request =
        get_request(server, path.as_bytes()).ok_or(Error::failed("access: out of memory"))?;
    let set = out.set("auth");
    out.push(set, "auth", 0, request.as_bytes());
    Ok(())
}

entry!(access);
