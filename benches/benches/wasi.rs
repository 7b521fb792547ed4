//! The WASI profile against ABI v1 and bare wasmtime, in one run:
//!
//! - `floor/wasmtime_pooling_noop`: bare wasmtime (pooling allocator,
//!   `InstancePre`) instantiating `noop.wasm` and calling it once;
//! - `abi_v1/cold_start_1k`: `Runtime::run` of `noop.wasm` with one 1 KiB item
//!   placed and read back;
//! - `wasi/hello_cold_start_1k`: `Runtime::call` of a C program that copies
//!   stdin to stdout (`benches/guests/hello.c`, wasi-libc): a fresh store and
//!   in-memory file system, one 1 KiB `stdin` item in, the `stdout` item out;
//! - `wordfreq_64k/{wasi,native_process}`: the word-frequency program of
//!   `examples/wordfreq-c` on 64 KiB of text, as a WASI function and as its
//!   native build (`cc -O2`, one process per call, stdin piped in).
//!
//! The C programs are compiled when the bench starts (clang for wasm32-wasi,
//! cc for the native build); the guest toolchain comes from ./setup.sh.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pappus_isolation::{CallOptions, Config, InputSet, Item, Limits, Runtime, WasiContext};
use pappus_testkit::{repo_root, wasm};

/// Compiles `source` with `compiler` and `args` into `out`; panics naming the
/// failure (the bench cannot run without it).
fn compile(compiler: &str, args: &[&str], source: &Path, out: &Path) {
    let status = Command::new(compiler)
        .args(args)
        .arg("-o")
        .arg(out)
        .arg(source)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {compiler} (run ./setup.sh): {e}"));
    assert!(
        status.success(),
        "{compiler} failed on {}",
        source.display()
    );
}

fn wasi_module(source: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("guest.wasm");
    compile(
        "clang",
        &["--target=wasm32-wasi", "--sysroot=/usr", "-O2"],
        source,
        &out,
    );
    std::fs::read(&out).expect("compiled module")
}

/// About `len` bytes of English-like text over a vocabulary of 500 words.
fn text(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let mut state: u32 = 12345;
    while out.len() < len {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let word = (state >> 16) % 500;
        write!(out, "w{word} ").expect("write to a Vec");
        if word.is_multiple_of(13) {
            out.push(b'\n');
        }
    }
    out.truncate(len);
    out
}

fn floor(c: &mut Criterion) {
    use wasmtime::{
        Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig, Store,
    };
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(16)
        .total_memories(16)
        .total_tables(16);
    let mut config = wasmtime::Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config).expect("engine");
    let module = Module::new(&engine, wasm("noop")).expect("module");
    let pre = Linker::<()>::new(&engine)
        .instantiate_pre(&module)
        .expect("pre");
    c.bench_function("floor/wasmtime_pooling_noop", |b| {
        b.iter(|| {
            let mut store = Store::new(&engine, ());
            let instance = pre.instantiate(&mut store).expect("instantiate");
            let entry = instance
                .get_typed_func::<u32, u32>(&mut store, "pappus_entry")
                .expect("entry");
            entry.call(&mut store, 0).expect("call")
        })
    });
}

fn cold_starts(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = Runtime::new(Config::new().pool_size(16)).expect("runtime");
    let noop = rt
        .compile("noop", &wasm("noop"), Limits::default())
        .expect("noop");
    let hello_source = Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/hello.c");
    let hello = rt
        .compile(
            "hello",
            &wasi_module(&hello_source, dir.path()),
            Limits::default(),
        )
        .expect("hello");

    let one_k = [Item::new("item", 1, vec![7u8; 1024])];
    c.bench_function("abi_v1/cold_start_1k", |b| {
        b.iter(|| {
            let out = rt
                .run(
                    &noop,
                    &[InputSet {
                        name: "in",
                        items: &one_k,
                    }],
                    None,
                )
                .expect("run");
            assert_eq!(out[0].items[0].data.len(), 1024);
            out
        })
    });
    let outputs = ["stdout"];
    let options = CallOptions {
        outputs: &outputs,
        shard_key: None,
        context: WasiContext::new(1, 1_700_000_000),
    };
    c.bench_function("wasi/hello_cold_start_1k", |b| {
        b.iter(|| {
            let out = rt
                .call(
                    &hello,
                    &[InputSet {
                        name: "stdin",
                        items: &one_k,
                    }],
                    &options,
                    None,
                )
                .expect("call");
            assert_eq!(out[0].items[0].data.len(), 1024);
            out
        })
    });
}

fn wordfreq(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let source: PathBuf = repo_root().join("examples/wordfreq-c/wordfreq.c");
    let rt = Runtime::new(Config::new().pool_size(16)).expect("runtime");
    let function = rt
        .compile(
            "wordfreq",
            &wasi_module(&source, dir.path()),
            Limits::default(),
        )
        .expect("wordfreq");
    let native = dir.path().join("wordfreq-native");
    compile("cc", &["-O2"], &source, &native);

    let input = text(64 << 10);
    let items = [Item::new("doc", 0, input.clone())];
    let outputs = ["stdout"];
    let options = CallOptions {
        outputs: &outputs,
        shard_key: None,
        context: WasiContext::new(1, 1_700_000_000),
    };
    let run_native = || {
        let mut child = Command::new(&native)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("native wordfreq");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&input)
            .expect("write stdin");
        child.wait_with_output().expect("native output").stdout
    };
    // Same source, same bytes: checked once before measuring.
    let wasi_out = rt
        .call(
            &function,
            &[InputSet {
                name: "stdin",
                items: &items,
            }],
            &options,
            None,
        )
        .expect("call");
    assert_eq!(&wasi_out[0].items[0].data[..], &run_native()[..]);

    let mut group = c.benchmark_group("wordfreq_64k");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("wasi", |b| {
        b.iter(|| {
            rt.call(
                &function,
                &[InputSet {
                    name: "stdin",
                    items: &items,
                }],
                &options,
                None,
            )
            .expect("call")
        })
    });
    group.bench_function("native_process", |b| b.iter(run_native));
    group.finish();
}

criterion_group!(benches, floor, cold_starts, wordfreq);
criterion_main!(benches);
