//! The benchmark functions compiled natively, for the process, container and
//! microVM baselines: `pappus-native FUNCTION < input > output`.
//!
//! It includes the very kernels the guest functions use
//! (`examples/functions/src/kernels/`), so every baseline runs the same logic as
//! the WebAssembly sandbox. The harness builds it with the host `rustc` as a
//! static binary (`-C target-feature=+crt-static`), so it runs alone in a bare
//! container rootfs or an initramfs.
//!
//! Functions (one input item = all of stdin, one output item = all of stdout):
//! `matmul`, `matmul_aat`, `compress`, `upper`, `identity`, `noop` (reads, writes nothing).

#[path = "../../examples/functions/src/kernels/matmul.rs"]
mod matmul;

#[path = "../../examples/functions/src/kernels/compress.rs"]
mod compress;

use std::io::{Read, Write};
use std::process::ExitCode;

fn run(function: &str, input: &[u8]) -> Result<Vec<u8>, String> {
    match function {
        "matmul" => {
            let n = matmul::dimension(input).ok_or("matmul: not n followed by n*n u64 entries")?;
            let mut a = vec![0u64; n * n];
            matmul::decode(input, &mut a);
            let mut c = vec![0u64; n * n];
            matmul::square(n, &a, &mut c);
            let mut out = vec![0u8; (n * n + 1) * 8];
            matmul::encode(n, &c, &mut out);
            Ok(out)
        }
        "matmul_aat" => {
            let n =
                matmul::dimension(input).ok_or("matmul_aat: not n followed by n*n u64 entries")?;
            let mut a = vec![0u64; n * n];
            matmul::decode(input, &mut a);
            let mut c = vec![0u64; n * n];
            matmul::times_transpose(n, &a, &mut c);
            let mut out = vec![0u8; (n * n + 1) * 8];
            matmul::encode(n, &c, &mut out);
            Ok(out)
        }
        "compress" => {
            let mut table = vec![0u32; compress::TABLE_LEN];
            let mut out = vec![0u8; compress::max_compressed_len(input.len())];
            let len = compress::compress(input, &mut table, &mut out);
            out.truncate(len);
            Ok(out)
        }
        "upper" => Ok(input.to_ascii_uppercase()),
        "identity" => Ok(input.to_vec()),
        "noop" => Ok(Vec::new()),
        other => Err(format!("unknown function {other:?}")),
    }
}

fn main() -> ExitCode {
    let function = std::env::args().nth(1).unwrap_or_default();
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("pappus-native: reading stdin: {e}");
        return ExitCode::from(1);
    }
    match run(&function, &input) {
        Ok(out) => match std::io::stdout().write_all(&out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pappus-native: writing stdout: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            eprintln!("pappus-native: {e}");
            ExitCode::from(2)
        }
    }
}
