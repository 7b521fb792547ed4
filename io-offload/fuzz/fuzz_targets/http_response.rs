//! Fuzz target: HTTP/1.1 response framing (head, Content-Length, chunked bodies
//! and trailers) on arbitrary bytes; nothing may panic.
//! Run with `cargo fuzz run http_response` from `io-offload/` (see the crate README).
#![no_main]

include!("../body.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_http_response(data);
});
