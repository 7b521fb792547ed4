//! A stable-toolchain stand-in for the cargo-fuzz targets in `fuzz/`: the same
//! bodies (`fuzz/body.rs`) over generated responses and replies, arbitrary
//! bytes, and seeded mutations of valid ones. `fuzz_for_a_while` is ignored by
//! default; run it with
//! `PAPPUS_FUZZ_SECS=300 cargo test -p pappus-io --release --test all -- --ignored fuzz_for_a_while`.

use std::time::{Duration, Instant};

use proptest::prelude::*;

#[allow(dead_code, reason = "shared with the cargo-fuzz targets")]
mod body {
    include!("../../fuzz/body.rs");
}
use body::{fuzz_http_response, fuzz_resp};
use pappus_testkit::fuzz::{mutate, Rng};

/// Valid inputs the mutations start from (the first byte picks the limit).
fn seeds() -> Vec<Vec<u8>> {
    let http: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nbody until close",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\nffffffffffffffff\r\nxx\r\n0\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
    ];
    let resp: &[&[u8]] = &[
        b"*3\r\n$3\r\nabc\r\n$-1\r\n:7\r\n",
        b"+OK\r\n",
        b"-ERR wrong type\r\n",
        b"*2\r\n*1\r\n$1\r\nx\r\n*-1\r\n",
        b"$9223372036854775807\r\nab\r\n",
    ];
    let mut out = Vec::new();
    for limit in 0..4u8 {
        for s in http.iter().chain(resp) {
            let mut v = vec![limit];
            v.extend_from_slice(s);
            out.push(v);
        }
    }
    out
}

/// A chunked response with generated chunk sizes (often huge or off by one).
fn chunked() -> impl Strategy<Value = Vec<u8>> {
    let size = prop_oneof![
        (0u64..64).prop_map(|n| format!("{n:x}")),
        any::<u64>().prop_map(|n| format!("{n:x}")),
        Just("ffffffffffffffff".to_owned()),
        Just("1ffffffffffffffff".to_owned()),
        "[0-9a-fA-F;= x]{0,24}",
    ];
    (
        any::<u8>(),
        prop::collection::vec((size, "[a-z]{0,40}"), 0..6),
        "[a-zA-Z:\r\n ]{0,20}",
    )
        .prop_map(|(limit, chunks, trailer)| {
            let mut out = vec![limit];
            out.extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (size, data) in chunks {
                out.extend_from_slice(format!("{size}\r\n{data}\r\n").as_bytes());
            }
            out.extend_from_slice(format!("0\r\n{trailer}\r\n").as_bytes());
            out
        })
}

/// A RESP reply with generated lengths and counts.
fn resp_reply() -> impl Strategy<Value = Vec<u8>> {
    let len = prop_oneof![
        (-2i64..64).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[0-9-]{0,22}",
    ];
    (
        any::<u8>(),
        prop::collection::vec(
            (
                prop::sample::select(&["*", "$", ":", "+", "-", "%"][..]),
                len,
                "[a-z]{0,12}",
            ),
            1..6,
        ),
    )
        .prop_map(|(limit, parts)| {
            let mut out = vec![limit];
            for (tag, len, data) in parts {
                out.extend_from_slice(format!("{tag}{len}\r\n{data}\r\n").as_bytes());
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_do_not_panic(b in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzz_http_response(&b);
        fuzz_resp(&b);
    }

    #[test]
    fn generated_chunked_responses_do_not_panic(b in chunked()) {
        fuzz_http_response(&b);
    }

    #[test]
    fn generated_resp_replies_do_not_panic(b in resp_reply()) {
        fuzz_resp(&b);
    }
}

/// Bytes the mutations insert: the framing's own vocabulary.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"0\r\n",
    b"ffffffffffffffff",
    b";",
    b"=",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked",
    b"HTTP/1.1 ",
    b"$",
    b"*",
    b"-1",
    b":",
    b"9223372036854775807",
];

/// Runs mutations of the seeds through both bodies: `runs` inputs, or until
/// `time` passes. Answers how many inputs ran.
fn run_mutations(runs: u64, time: Duration, seed: u64) -> u64 {
    let seeds = seeds();
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let mut done = 0u64;
    while done < runs && start.elapsed() < time {
        let mut input = seeds[rng.below(seeds.len())].clone();
        for _ in 0..16 {
            mutate(&mut rng, &mut input, TOKENS, &seeds);
            let result = std::panic::catch_unwind(|| {
                fuzz_http_response(&input);
                fuzz_resp(&input);
            });
            if result.is_err() {
                panic!("a fuzz body panicked (seed {seed}, run {done}) on input {input:?}");
            }
            done += 1;
        }
    }
    done
}

/// A short, fixed mutation run on every test invocation.
#[test]
fn mutated_seeds_do_not_panic() {
    let runs = run_mutations(20_000, Duration::from_secs(3600), 0x5eed);
    assert_eq!(runs, 20_000);
}

/// The long run: `PAPPUS_FUZZ_SECS` seconds (default 60), seed `PAPPUS_FUZZ_SEED`.
#[test]
#[ignore = "long-running; run explicitly"]
fn fuzz_for_a_while() {
    let pappus_testkit::fuzz::LongRun { time, seed } = pappus_testkit::fuzz::long_run();
    let runs = run_mutations(u64::MAX, time, seed);
    println!(
        "fuzz_for_a_while: {runs} inputs in {} s (seed {seed}), no panic",
        time.as_secs()
    );
}
