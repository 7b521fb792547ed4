//! The inputs of each workload and their expected outputs.

/// An `n x n` matrix in the `matmul` encoding (entries `i % 17`).
pub fn matrix(n: u64) -> Vec<u8> {
    std::iter::once(n)
        .chain((0..n * n).map(|i| i % 17))
        .flat_map(u64::to_le_bytes)
        .collect()
}

/// `len` bytes of web-server-log-like text from a fixed pseudo-random sequence:
/// repetitive like real logs, so it compresses by a realistic 3-5x.
pub fn log_text(len: usize) -> Vec<u8> {
    const PATHS: [&str; 6] = [
        "/",
        "/index.html",
        "/api/v1/items",
        "/static/app.js",
        "/login",
        "/api/v1/orders",
    ];
    const AGENTS: [&str; 3] = [
        "curl/8.5.0",
        "Mozilla/5.0 (X11; Linux x86_64)",
        "python-requests/2.31",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(len + 160);
    let mut second = 0u64;
    while out.len() < len {
        let r = next();
        second += r % 3;
        let line = format!(
            "10.0.{}.{} - - [22/Nov/2025:13:{:02}:{:02} +0000] \"GET {} HTTP/1.1\" {} {} \"{}\"\n",
            r % 4,
            (r >> 8) % 250,
            (second / 60) % 60,
            second % 60,
            PATHS[((r >> 16) % 6) as usize],
            if (r >> 24) % 10 == 0 { 404 } else { 200 },
            (r >> 32) % 20_000,
            AGENTS[((r >> 48) % 3) as usize],
        );
        out.extend_from_slice(line.as_bytes());
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_have_the_requested_sizes() {
        assert_eq!(matrix(3).len(), 80);
        assert_eq!(matrix(128).len(), (128 * 128 + 1) * 8);
        assert_eq!(log_text(65_536).len(), 65_536);
        assert_eq!(log_text(1000), log_text(1000));
    }
}
