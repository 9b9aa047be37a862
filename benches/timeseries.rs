//! A year of 15-minute steps (35,136) on the shipped SimBench MV urban grid:
//! solver only (results computed, then discarded), and the full run with
//! the HDF5 writer on 1 and 2 threads (default f32 and f64 series).
//!
//! Run with `cargo bench --bench timeseries`. The side-by-side comparison
//! with power-grid-model is `tools/bench/compare_pgm.sh`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gridsim::cli::run::{quick_scenario, run_scenarios, RunArgs};
use gridsim::results::hdf5::Precision;
use gridsim::timeseries::rows::RowPrecision;
use gridsim::timeseries::runner::run_scenario;
use std::hint::black_box;
use std::path::PathBuf;

fn args(out: PathBuf) -> RunArgs {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../networks/simbench-mv-urban");
    RunArgs {
        scenario: None,
        network: Some(dir.join("network.m")),
        elements: Some(dir.join("elements.csv")),
        profiles: Some(dir.join("profiles.csv.gz")),
        steps: None,
        out,
        threads: 1,
        quiet: true,
        force: true,
        tol: None,
        max_iter: None,
        command_line: "bench".into(),
        storage: Default::default(),
        summary_json: None,
        shard: None,
    }
}

fn bench(c: &mut Criterion) {
    let out = std::env::temp_dir().join(format!("gridsim-bench-{}.h5", std::process::id()));
    let a = args(out.clone());
    let sc = quick_scenario(&a).expect("scenario");
    let mut g = c.benchmark_group("year_mv_urban");
    g.sample_size(10);
    g.bench_function("solve_only", |b| {
        b.iter(|| {
            let mut steps = 0usize;
            let s = run_scenario(&sc, RowPrecision::F32, |blk| {
                steps += blk.n;
                black_box(&blk.vm_pu);
                Ok(())
            })
            .expect("run");
            assert_eq!(s.not_converged, 0);
            steps
        })
    });
    for (name, threads, precision) in [
        ("with_hdf5", 1, Precision::F32),
        ("with_hdf5_2_threads", 2, Precision::F32),
        ("with_hdf5_f64", 1, Precision::F64),
    ] {
        let mut a = args(out.clone());
        a.threads = threads;
        a.storage.precision = precision;
        g.bench_function(name, |b| {
            // Deleting the previous year's file is setup, not timed.
            b.iter_batched(
                || {
                    let _ = std::fs::remove_file(&out);
                },
                |_| run_scenarios(std::slice::from_ref(&sc), &a, &Default::default()).expect("run"),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
    let _ = std::fs::remove_file(&out);
}

criterion_group!(benches, bench);
criterion_main!(benches);
