//! Power-flow benchmarks: Ybus build, symbolic analysis, one Newton solve.
//!
//! Run with `cargo bench --bench powerflow`. Cases come from
//! tests/data/matpower/cases.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gridsim::math::MathModel;
use gridsim::network::matpower::read_case;
use gridsim::solver::{NewtonOptions, NewtonSolver};
use std::hint::black_box;
use std::path::Path;

const CASES: [&str; 3] = ["case33bw", "case1354pegase", "case_ACTIVSg2000"];

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/matpower/cases");
    for name in CASES {
        let net = read_case(&dir.join(format!("{name}.m"))).expect("case");
        let math = MathModel::build(&net).expect("model");
        let mut group = c.benchmark_group(name);
        group.bench_function(BenchmarkId::new("ybus_build", name), |b| {
            b.iter(|| MathModel::build(black_box(&net)).expect("model"))
        });
        group.bench_function(BenchmarkId::new("symbolic_analysis", name), |b| {
            b.iter(|| NewtonSolver::new(black_box(&math.ybus), &math.bus_type).expect("analysis"))
        });
        let mut solver = NewtonSolver::new(&math.ybus, &math.bus_type).expect("analysis");
        let opts = NewtonOptions {
            tol: 1e-8,
            max_iter: 20,
        };
        group.bench_function(BenchmarkId::new("newton_solve", name), |b| {
            b.iter(|| {
                let mut v = math.v_init.clone();
                let r = solver
                    .solve(&math.ybus, &math.s_spec, &mut v, opts)
                    .expect("solve");
                assert!(r.converged);
                black_box(v)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
