//! Parse and check throughput of the composition language.
//!
//! Generates a file of `n` applications (a mix of `all`/`each`/`keyed` inputs,
//! builtins, joins and fan-out, spread over compositions of 100 applications that
//! call the previous composition) and measures `parse`, `check`, and both together.
//! The 10,000-application case should take well under 50 ms.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pappus_dsl::{check, parse, Env};

/// A file with `apps` applications in compositions of (at most) 100 each.
fn generate(apps: usize) -> String {
    let mut src = String::from(
        "# generated\nfunction Split (text) => (words);\nfunction Count (words) => (counts);\nfunction Join (lhs, rhs) => (joined, log);\n",
    );
    let per = 100;
    let comps = apps.div_ceil(per);
    for c in 0..comps {
        src.push_str(&format!("\ncomposition C{c} (In) => (Out) {{\n"));
        let n = per.min(apps - c * per);
        let mut last = "In".to_string();
        for i in 0..n {
            let out = format!("S{i}");
            let line = match i % 5 {
                0 if c > 0 => format!("    C{} (In = all {last}) => ({out} = Out);\n", c - 1),
                0 | 1 => format!("    Split (text = each {last}) => ({out} = words);\n"),
                2 => format!("    Count (words = keyed {last}) => ({out} = counts);\n"),
                3 => format!("    http (request = each {last}) => ({out} = response);\n"),
                _ => format!(
                    "    Join (lhs = keyed {last}, rhs = optional keyed In) => ({out} = joined) by {last} left In;\n"
                ),
            };
            src.push_str(&line);
            last = out;
        }
        src.push_str(&format!(
            "    Split (text = all {last}) => (Out = words);\n}}\n"
        ));
    }
    src
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("dsl");
    for apps in [100, 1_000, 10_000] {
        let src = generate(apps);
        let file = parse(&src).expect("generated file parses");
        let checked = check(&file, &Env::new());
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
        group.throughput(Throughput::Bytes(src.len() as u64));
        group.bench_with_input(BenchmarkId::new("parse", apps), &src, |b, src| {
            b.iter(|| parse(src))
        });
        group.bench_with_input(BenchmarkId::new("check", apps), &file, |b, file| {
            b.iter(|| check(file, &Env::new()))
        });
        group.bench_with_input(BenchmarkId::new("parse_check", apps), &src, |b, src| {
            b.iter(|| parse(src).map(|file| check(&file, &Env::new())))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
