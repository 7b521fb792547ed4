//! Entry points for the fuzz targets (`io-offload/fuzz/`) and their stable
//! harness in the tests: the pure parsers the runtime runs on bytes peers send.
//! Not a stable API.

/// Frames one HTTP/1.1 response held whole in `bytes` (the end standing for
/// the peer closing the connection) with a body limit of `limit`: answers the
/// status and body length, or the protocol error. Never panics.
pub fn http_response(bytes: &[u8], limit: u64) -> Result<(u16, usize), String> {
    crate::http::framing::frame_whole(bytes, limit)
        .map(|(status, len, _)| (status, len))
        .map_err(|e| format!("{e:?}"))
}

/// Decodes a chunked body held whole in `bytes`: the body length, or the error.
pub fn chunked_body(bytes: &[u8], limit: u64) -> Result<usize, String> {
    let mut decoder = crate::http::framing::Chunked::default();
    let mut body = Vec::new();
    match decoder.decode(bytes, limit, &mut body) {
        Ok(crate::http::framing::ChunkStep::Done { .. }) => Ok(body.len()),
        Ok(crate::http::framing::ChunkStep::More { .. }) => Err("incomplete".into()),
        Err(e) => Err(format!("{e:?}")),
    }
}

/// Parses one RESP2 reply from the start of `bytes` with a bulk limit of
/// `limit`: `Ok(Some(used))` for a complete reply, `Ok(None)` when more bytes
/// are needed. Never panics.
pub fn resp_reply(bytes: &[u8], limit: u64) -> Result<Option<usize>, String> {
    crate::redis::parse_reply(bytes, limit)
}
