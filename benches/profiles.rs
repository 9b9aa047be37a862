//! Reading a year of 15-minute profiles (35,136 rows): the shipped SimBench
//! MV urban table (26 columns, 2.5 MB of gzip, 8.2 MB of text) from its
//! gzip file (inflating and parsing, a piece at a time) and from its text
//! (parsing alone), on rayon's pool of one thread and of two.
//!
//! Run with `cargo bench -p gridsim-benches --bench profiles`.

use criterion::{criterion_group, criterion_main, Criterion};
use gridsim::timeseries::profiles::{parse_profiles, read_profiles, read_text};
use std::hint::black_box;
use std::path::PathBuf;

fn bench(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../networks/simbench-mv-urban/profiles.csv.gz");
    let text = read_text(&path).expect("profiles");
    let mut g = c.benchmark_group("profiles_mv_urban");
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        g.bench_function(format!("read_gzip_{threads}thr"), |b| {
            b.iter(|| pool.install(|| black_box(read_profiles(&path).expect("read"))))
        });
        g.bench_function(format!("parse_text_{threads}thr"), |b| {
            b.iter(|| pool.install(|| black_box(parse_profiles(&path, &text).expect("parse"))))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
