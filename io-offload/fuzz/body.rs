// The bodies of the pappus-io fuzz targets, shared by the cargo-fuzz targets
// (`fuzz/fuzz_targets/*.rs`) and the stable fuzz harness in `tests/all/fuzz.rs`.
// Properties: the HTTP/1 response framing and the RESP parser never panic, never
// answer a body over the limit, and never claim more bytes than they were given.

/// The body limit a fuzz input asks for: its first byte picks one of a few
/// sizes (tiny, to reach the limit checks; huge, to reach the arithmetic).
fn limit_of(data: &[u8]) -> (u64, &[u8]) {
    match data.split_first() {
        Some((&b, rest)) => {
            let limit = match b % 4 {
                0 => 16,
                1 => 4096,
                2 => 1 << 30,
                _ => u64::MAX,
            };
            (limit, rest)
        }
        None => (16, data),
    }
}

/// Frames `data` as a whole HTTP/1.1 response and as a chunked body.
pub fn fuzz_http_response(data: &[u8]) {
    let (limit, bytes) = limit_of(data);
    if let Ok((_, len)) = pappus_io::fuzzing::http_response(bytes, limit) {
        assert!(len <= bytes.len(), "body longer than the input");
        assert!(len as u64 <= limit, "body over the limit");
    }
    if let Ok(len) = pappus_io::fuzzing::chunked_body(bytes, limit) {
        assert!(len <= bytes.len(), "chunked body longer than the input");
        assert!(len as u64 <= limit, "chunked body over the limit");
    }
}

/// Parses `data` as one RESP2 reply.
pub fn fuzz_resp(data: &[u8]) {
    let (limit, bytes) = limit_of(data);
    if let Ok(Some(used)) = pappus_io::fuzzing::resp_reply(bytes, limit) {
        assert!(used <= bytes.len(), "reply used more bytes than it had");
    }
}
