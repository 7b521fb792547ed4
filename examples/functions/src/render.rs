//! `render (logs, grant) => (page)`: the last step of the log-rendering
//! application. `grant` is `fan_out`'s verdict; `logs` holds the `http`
//! builtin's raw responses, one per shard (item name = the shard's path, key =
//! its position). The output is one HTML page (item `index.html`, key 0): a
//! summary, then per shard a table of its lines (`<time> <LEVEL> <message>`),
//! errors and warnings marked. A shard whose answer is not 200 is listed as
//! unavailable; a refused token gives an "access denied" page. Every byte that
//! came from outside is HTML-escaped.
#![no_std]

use core::fmt::Write;

use pappus_example_functions::text::{field, first_item, response, Text};
use pappus_example_functions::{input, sorted};
use pappus_guest::{entry, Error, Inputs, Item, Outputs, Result};

const OOM: Error = Error::failed("render: the page outgrew its buffer");

/// Room for the page: escaping grows a byte to at most 6, each line gets about
/// 100 bytes of markup, each shard a heading and a table.
fn capacity(logs: &[Item], grant: &[u8]) -> usize {
    let data: usize = logs.iter().map(|l| l.data.len() + l.name.len()).sum();
    let lines: usize = logs
        .iter()
        .map(|l| l.data.iter().filter(|&&b| b == b'\n').count() + 1)
        .sum();
    4096 + 6 * (data + grant.len()) + 128 * lines + 512 * logs.len()
}

/// `(time, level, message)` of a log line; a line that does not look like
/// `<time> <LEVEL> <message>` is all message.
fn parse_line(line: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let mut parts = line.splitn(3, |&b| b == b' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(time), Some(level), Some(message))
            if !level.is_empty() && level.iter().all(|b| b.is_ascii_uppercase()) =>
        {
            (time, level, message)
        }
        _ => (b"", b"", line),
    }
}

fn level_class(level: &[u8]) -> &'static str {
    match level {
        b"ERROR" | b"FATAL" => "error",
        b"WARN" | b"WARNING" => "warn",
        _ => "info",
    }
}

fn page(logs: &[Item], grant: &[u8], page: &mut Text) -> core::fmt::Result {
    let status = field(grant, "status").unwrap_or(b"?");
    page.push(b"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")?;
    page.push(b"<style>body{font-family:sans-serif}td{padding:0 .5em}.error{background:#fdd}.warn{background:#ffd}.missing{color:#a00}</style>\n")?;
    if status != b"200" {
        page.push(b"<title>Access denied</title>\n</head>\n<body>\n<h1>Access denied</h1>\n<p>The auth service answered HTTP ")?;
        page.push_html(status)?;
        return page.push(b".</p>\n</body>\n</html>\n");
    }
    let user = field(grant, "user").unwrap_or(b"anonymous");
    page.push(b"<title>Logs for ")?;
    page.push_html(user)?;
    page.push(b"</title>\n</head>\n<body>\n<h1>Logs for ")?;
    page.push_html(user)?;
    page.push(b"</h1>\n")?;

    let (mut lines, mut errors, mut warnings) = (0usize, 0usize, 0usize);
    let mut shards = Text::with_capacity(capacity(logs, grant));
    for log in logs {
        shards.push(b"<h2>")?;
        shards.push_html(log.name.as_bytes())?;
        shards.push(b"</h2>\n")?;
        let body = match response(log.data) {
            Some((200, body)) => body,
            Some((code, _)) => {
                write!(
                    shards,
                    "<p class=\"missing\">unavailable: HTTP {code}</p>\n"
                )?;
                continue;
            }
            None => {
                shards.push(b"<p class=\"missing\">unavailable: not an HTTP response</p>\n")?;
                continue;
            }
        };
        shards
            .push(b"<table>\n<tr><th>#</th><th>time</th><th>level</th><th>message</th></tr>\n")?;
        for (n, line) in body
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let (time, level, message) = parse_line(line);
            let class = level_class(level);
            lines += 1;
            errors += usize::from(class == "error");
            warnings += usize::from(class == "warn");
            write!(shards, "<tr class=\"{class}\"><td>{}</td><td>", n + 1)?;
            shards.push_html(time)?;
            shards.push(b"</td><td>")?;
            shards.push_html(level)?;
            shards.push(b"</td><td>")?;
            shards.push_html(message)?;
            shards.push(b"</td></tr>\n")?;
        }
        shards.push(b"</table>\n")?;
    }
    write!(
        page,
        "<p>{} shards, {lines} lines, {errors} errors, {warnings} warnings.</p>\n",
        logs.len()
    )?;
    page.push(shards.as_bytes())?;
    page.push(b"</body>\n</html>\n")
}

fn render(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let grant = first_item(inputs, "grant", 1, "render: no grant item")?;
    // Shards in the order the auth service listed them.
    let logs = sorted(input(inputs, "logs", 0));
    let mut text = Text::with_capacity(capacity(logs, grant.data));
    page(logs, grant.data, &mut text).map_err(|_| OOM)?;
    let set = out.set("page");
    out.push(set, "index.html", 0, text.as_bytes());
    Ok(())
}

entry!(render, inputs = ["logs", "grant"], outputs = ["page"]);
