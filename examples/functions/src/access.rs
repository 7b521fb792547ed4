//! `access (request) => (auth)`: the first step of the log-rendering
//! application. The request item holds `server: http://host:port` and
//! `token: <token>` lines; the output is one raw HTTP request (item `auth`,
//! key 0) asking the auth service `GET <server>/auth/<token>` which log shards
//! the token may read. The function only describes the request: the platform's
//! `http` builtin sends it.
#![no_std]

use pappus_example_functions::text::{field, first_item, get_request, server, Text};
use pappus_guest::{entry, Error, Inputs, Outputs, Result};

fn access(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let request = first_item(inputs, "request", 0, "access: no request item")?;
    let server = server(request.data)?;
    let token = field(request.data, "token")
        .ok_or(Error::bad_input("access: the request has no `token:` line"))?;
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

entry!(access, inputs = ["request"], outputs = ["auth"]);
