//! The time-series solver (current-injection fixed point with Newton
//! fallback) against PYPOWER's solutions and against Newton itself.

use gridsim::math::{BusType, MathModel};
use gridsim::network::matpower;
use gridsim::solver::current_injection::{CurrentInjectionSolver, LANES};
use gridsim::solver::{HybridSolver, NewtonOptions, NewtonSolver};
use num_complex::Complex64;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/matpower")
        .join(p)
}

fn model(name: &str) -> MathModel {
    let net = matpower::read_case(&data(&format!("cases/{name}.m"))).unwrap();
    MathModel::build(&net).unwrap()
}

fn reference(name: &str) -> (Vec<f64>, Vec<f64>) {
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(data(&format!("results/{name}.json"))).unwrap(),
    )
    .unwrap();
    let f = |k: &str| -> Vec<f64> {
        r[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    (f("vm_pu"), f("va_deg"))
}

/// The largest |a − b| over the buses, p.u.
fn max_dv(a: &[Complex64], b: &[Complex64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

const OPTS: NewtonOptions = NewtonOptions {
    tol: 1e-10,
    max_iter: 30,
};

/// Radial distribution cases without PV buses: the fixed point solves them
/// from a flat start (no Newton) and lands on PYPOWER's solution.
#[test]
fn radial_cases_match_pypower_without_newton() {
    for (name, tol) in [
        // Both solutions are within 1e-10 p.u. of mismatch of the exact one,
        // not on the same iterate, so they agree to about 1e-10.
        ("case33bw", 1e-9),
        ("case69", 1e-9),
        ("case85", 1e-9),
        // PYPOWER stopped this one at 1e-9 (see the data README).
        ("case141", 1e-8),
    ] {
        let m = model(name);
        let mut hybrid = HybridSolver::new(&m.ybus, &m.bus_type).unwrap();
        assert!(hybrid.uses_fixed_point(), "{name}");
        let mut v = m.flat_start();
        let opts = NewtonOptions {
            tol: if name == "case141" { 1e-9 } else { OPTS.tol },
            ..OPTS
        };
        let r = hybrid.solve(&m.ybus, &m.s_spec, &mut v, opts).unwrap();
        assert!(r.converged && r.max_mismatch_pu < opts.tol, "{name}: {r:?}");
        assert_eq!(hybrid.newton_fallbacks, 0, "{name}");
        let (vm, va) = reference(name);
        let dvm = v
            .iter()
            .zip(&vm)
            .map(|(x, y)| (x.norm() - y).abs())
            .fold(0.0, f64::max);
        let dva = v
            .iter()
            .zip(&va)
            .map(|(x, y)| (x.arg().to_degrees() - y).abs())
            .fold(0.0, f64::max);
        println!(
            "{name}: {} iterations, |dVm| {dvm:.1e}, |dVa| {dva:.1e} deg",
            r.iterations
        );
        assert!(dvm < tol && dva < 100.0 * tol, "{name}: {dvm:e} {dva:e}");
    }
}

/// Lanes give each system exactly what a single solve gives: on a radial
/// feeder (no fill) and on a meshed grid (rows of L with several entries,
/// which the lane kernel gathers row by row while the single solve sweeps
/// column by column).
#[test]
fn lanes_are_bit_identical_to_single_solves() {
    let m = model("case69");
    lanes_match_single_solves(&m, &m.bus_type, &[0.4, 1.0, 1.7]);
    // case118 with its PV buses solved as PQ at the file's Q (meshed).
    let m = model("case118");
    let pq_only: Vec<BusType> = (m.bus_type.iter())
        .map(|t| match t {
            BusType::Pv => BusType::Pq,
            t => *t,
        })
        .collect();
    assert!(m.bus_type.contains(&BusType::Pv));
    lanes_match_single_solves(&m, &pq_only, &[0.1, 0.2, 0.3]);
}

/// Three load levels (fewer lanes than LANES on purpose), warm and flat starts.
fn lanes_match_single_solves(m: &MathModel, bus_type: &[BusType], scales: &[f64; 3]) {
    let mut single = CurrentInjectionSolver::new(&m.ybus, bus_type)
        .unwrap()
        .unwrap();
    let mut batched = single.clone();
    let specs: Vec<Vec<Complex64>> = scales
        .iter()
        .map(|k| m.s_spec.iter().map(|s| s * k).collect())
        .collect();
    let starts: Vec<Vec<Complex64>> = vec![m.flat_start(), m.v_init.clone(), m.flat_start()];
    let mut singles = Vec::new();
    for (s, v0) in specs.iter().zip(&starts) {
        let mut v = v0.clone();
        let r = single.solve(s, &mut v, 1e-10, 30);
        singles.push((v, r));
    }
    let mut vs = starts.clone();
    let s_refs: Vec<&[Complex64]> = specs.iter().map(|x| x.as_slice()).collect();
    let mut v_refs: Vec<&mut [Complex64]> = vs.iter_mut().map(|x| x.as_mut_slice()).collect();
    let out = batched.solve_lanes(&s_refs, &mut v_refs, 1e-10, 30);
    assert!(out[scales.len()..LANES].iter().all(|o| o.is_none()));
    for (l, (v, r)) in singles.iter().enumerate() {
        assert_eq!(out[l], Some(*r), "lane {l}");
        assert_eq!(&vs[l], v, "lane {l}: voltages differ");
    }
    // Converged lanes, with different iteration counts, were exercised.
    let iterations: Vec<usize> = (singles.iter())
        .map(|(_, r)| r.expect("converged").iterations)
        .collect();
    assert!(iterations.iter().any(|&i| i != iterations[0]));
}

/// PV buses leave the method to Newton; a near-collapse load level makes the
/// fixed point stall and Newton finishes the job. Both end on Newton's answer.
#[test]
fn falls_back_to_newton() {
    let m = model("case9");
    let mut hybrid = HybridSolver::new(&m.ybus, &m.bus_type).unwrap();
    assert!(!hybrid.uses_fixed_point());
    let mut v = m.v_init.clone();
    assert!(
        hybrid
            .solve(&m.ybus, &m.s_spec, &mut v, OPTS)
            .unwrap()
            .converged
    );

    let m = model("case33bw");
    let heavy: Vec<Complex64> = m.s_spec.iter().map(|s| s * 3.4).collect();
    let mut hybrid = HybridSolver::new(&m.ybus, &m.bus_type).unwrap();
    let mut v = m.flat_start();
    let r = hybrid.solve(&m.ybus, &heavy, &mut v, OPTS).unwrap();
    assert!(r.converged, "{r:?}");
    assert_eq!(
        hybrid.newton_fallbacks, 1,
        "the fixed point should have stalled"
    );
    let mut newton = NewtonSolver::new(&m.ybus, &m.bus_type).unwrap();
    let mut vn = m.flat_start();
    assert!(
        newton
            .solve(&m.ybus, &heavy, &mut vn, OPTS)
            .unwrap()
            .converged
    );
    let d = max_dv(&v, &vn);
    assert!(d < 1e-9, "hybrid and Newton differ by {d:e}");
}

/// A NaN anywhere in the injections is never a converged solution: neither
/// Newton nor the fixed point (nor the hybrid) reports convergence, however
/// the NaN enters (`f64::max` alone would drop it and report a mismatch of 0).
#[test]
fn nan_injections_never_converge() {
    let m = model("case33bw");
    for bad in [f64::NAN, f64::INFINITY] {
        for bus in [1, 17, 32] {
            let mut s = m.s_spec.clone();
            s[bus] = Complex64::new(bad, 0.0);
            let mut v = m.flat_start();
            let mut newton = NewtonSolver::new(&m.ybus, &m.bus_type).unwrap();
            if let Ok(r) = newton.solve(&m.ybus, &s, &mut v, OPTS) {
                assert!(!r.converged, "Newton converged with {bad} at bus {bus}");
                assert!(!r.max_mismatch_pu.is_finite() || r.max_mismatch_pu >= OPTS.tol);
            }
            let mut v = m.flat_start();
            let mut hybrid = HybridSolver::new(&m.ybus, &m.bus_type).unwrap();
            if let Ok(r) = hybrid.solve(&m.ybus, &s, &mut v, OPTS) {
                assert!(!r.converged, "hybrid converged with {bad} at bus {bus}");
            }
        }
    }
}

/// `max_iter` bounds the fixed point too (1.5× as many iterations): a
/// limit of 1 cannot converge case33bw from a flat start on either path.
#[test]
fn max_iter_bounds_the_fixed_point_as_well() {
    let m = model("case33bw");
    let mut hybrid = HybridSolver::new(&m.ybus, &m.bus_type).unwrap();
    let mut v = m.flat_start();
    let one = NewtonOptions {
        tol: 1e-10,
        max_iter: 1,
    };
    let r = hybrid.solve(&m.ybus, &m.s_spec, &mut v, one).unwrap();
    assert!(!r.converged, "converged in {} iterations", r.iterations);
    let mut v = m.flat_start();
    let r = hybrid.solve(&m.ybus, &m.s_spec, &mut v, OPTS).unwrap();
    assert!(r.converged);
}

/// Property: random finite injections (from tiny to absurd, either sign)
/// and random starting points never give a step reported as converged that
/// holds a non-finite voltage or mismatch.
#[test]
fn random_finite_inputs_never_converge_to_nan() {
    let mut rng = gridsim::timeseries::weather::Rng::new(12345);
    for name in ["case33bw", "case69"] {
        let m = model(name);
        let mut hybrid = HybridSolver::new(&m.ybus, &m.bus_type).unwrap();
        let mut newton = NewtonSolver::new(&m.ybus, &m.bus_type).unwrap();
        for trial in 0..300 {
            let scale = 10f64.powf(rng.uniform() * 12.0 - 6.0);
            let s: Vec<Complex64> = m
                .s_spec
                .iter()
                .map(|x| {
                    let f = scale * (rng.uniform() * 2.0 - 1.0);
                    Complex64::new(x.re * f, x.im * f * (rng.uniform() * 4.0 - 2.0))
                })
                .collect();
            let mut v0 = m.flat_start();
            for x in v0.iter_mut().skip(1) {
                *x *= Complex64::from_polar(0.5 + rng.uniform(), rng.uniform() - 0.5);
            }
            for which in 0..2 {
                let mut v = v0.clone();
                let r = if which == 0 {
                    hybrid.solve(&m.ybus, &s, &mut v, OPTS)
                } else {
                    newton.solve(&m.ybus, &s, &mut v, OPTS)
                };
                if let Ok(r) = r {
                    if r.converged {
                        assert!(
                            r.max_mismatch_pu.is_finite()
                                && v.iter().all(|x| x.re.is_finite() && x.im.is_finite()),
                            "{name} trial {trial}: converged with non-finite values"
                        );
                    }
                }
            }
        }
    }
}

/// A bus whose own admittance is zero (a series capacitor cancelling the
/// line's reactance) has a zero 2 × 2 Jacobian block at flat start: the
/// block LU cannot pivot on it, so Newton goes to the pivoting LU and still
/// solves the power-flow equations, checked here with the admittance matrix
/// written out by hand.
#[test]
fn newton_falls_back_to_the_pivoting_lu_on_a_singular_block() {
    let case = "function mpc = cap\nmpc.version = '2';\nmpc.baseMVA = 100;\n\
        mpc.bus = [1 3 0 0 0 0 1 1 0 110 1 1.1 0.9; 2 1 0 0 0 0 1 1 0 110 1 1.1 0.9;\n\
        3 1 20 5 0 0 1 1 0 110 1 1.1 0.9];\n\
        mpc.gen = [1 0 0 999 -999 1 100 1 999 -999];\n\
        mpc.branch = [1 2 0 0.1 0 0 0 0 0 0 1 -360 360; 2 3 0 -0.1 0 0 0 0 0 0 1 -360 360];\n";
    let dir = std::env::temp_dir().join(format!("gridsim-capcase-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cap.m");
    std::fs::write(&path, case).unwrap();
    let net = matpower::read_case(&path).unwrap();
    let m = MathModel::build(&net).unwrap();
    let mut newton = NewtonSolver::new(&m.ybus, &m.bus_type).unwrap();
    let mut v = m.flat_start();
    let r = newton.solve(&m.ybus, &m.s_spec, &mut v, OPTS).unwrap();
    assert!(r.converged, "{r:?}");
    assert!(newton.uses_pivoting_lu());
    // Y by hand: y12 = 1/(j0.1) = -j10, y23 = 1/(-j0.1) = +j10.
    let j = Complex64::new(0.0, 1.0);
    let y = [
        [-10.0 * j, 10.0 * j, 0.0 * j],
        [10.0 * j, 0.0 * j, -10.0 * j],
        [0.0 * j, -10.0 * j, 10.0 * j],
    ];
    let s_load = [0.0 * j, 0.0 * j, Complex64::new(0.2, 0.05)];
    for i in 1..3 {
        let yv: Complex64 = (0..3).map(|k| y[i][k] * v[k]).sum();
        let mismatch = v[i] * yv.conj() + s_load[i];
        assert!(mismatch.norm() < 1e-9, "bus {}: mismatch {mismatch}", i + 1);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A droop that follows the voltage: bus 18 of case33bw injects reactive
/// power `gain · (v_ref − |V|)` (p.u.) and its own extra active power;
/// settled when within `tol` of its line.
struct Droop {
    bus: usize,
    v_ref: f64,
    gain: f64,
    tol: f64,
    q: f64,
    moves: usize,
}

impl gridsim::solver::VoltageResponse for Droop {
    fn respond(
        &mut self,
        vm: &dyn Fn(usize) -> f64,
        shift: &mut dyn FnMut(usize, Complex64),
    ) -> bool {
        let target = self.gain * (self.v_ref - vm(self.bus));
        if (target - self.q).abs() <= self.tol {
            return false;
        }
        self.moves += 1;
        shift(self.bus, Complex64::new(0.0, target - self.q));
        self.q = target;
        true
    }
}

/// The fixed point settles a voltage-following injection jointly with the
/// power flow: at the end the droop is on its line at the solved voltage,
/// and Newton with the injection it settled on (an independent solve)
/// finds the same voltages.
#[test]
fn a_voltage_response_settles_with_the_power_flow() {
    let m = model("case33bw");
    let bus = 17;
    let mut fixed = CurrentInjectionSolver::new(&m.ybus, &m.bus_type)
        .unwrap()
        .unwrap();
    let mut droop = Droop {
        bus,
        v_ref: 1.0,
        gain: 0.5,
        tol: 1e-9,
        q: 0.0,
        moves: 0,
    };
    let mut v = m.flat_start();
    let r = fixed
        .solve_responsive(&m.s_spec, &mut v, 1e-10, 60, Some(&mut droop))
        .unwrap();
    assert!(r.converged && r.max_mismatch_pu < 1e-10, "{r:?}");
    assert!(droop.moves > 1, "the droop moved {} times", droop.moves);
    let target = droop.gain * (droop.v_ref - v[bus].norm());
    assert!(
        (target - droop.q).abs() <= droop.tol,
        "{target} vs {}",
        droop.q
    );
    assert!(
        droop.q > 0.01,
        "the droop supports the voltage: q = {}",
        droop.q
    );
    let mut s = m.s_spec.clone();
    s[bus] += Complex64::new(0.0, droop.q);
    let mut newton = NewtonSolver::new(&m.ybus, &m.bus_type).unwrap();
    let mut vn = m.flat_start();
    let rn = newton.solve(&m.ybus, &s, &mut vn, OPTS).unwrap();
    assert!(rn.converged);
    let d = max_dv(&v, &vn);
    assert!(d < 1e-9, "max |dV| {d:e}");
}

/// A response that never settles ends in an iteration-limit stall with the
/// voltages untouched, never a hang.
#[test]
fn a_response_that_never_settles_stalls() {
    struct Restless;
    impl gridsim::solver::VoltageResponse for Restless {
        fn respond(
            &mut self,
            _vm: &dyn Fn(usize) -> f64,
            _shift: &mut dyn FnMut(usize, Complex64),
        ) -> bool {
            true
        }
    }
    let m = model("case33bw");
    let mut fixed = CurrentInjectionSolver::new(&m.ybus, &m.bus_type)
        .unwrap()
        .unwrap();
    let mut v = m.flat_start();
    let r = fixed.solve_responsive(&m.s_spec, &mut v, 1e-10, 25, Some(&mut Restless));
    assert_eq!(
        r.unwrap_err().0,
        gridsim::solver::current_injection::Stall::IterationLimit
    );
    assert_eq!(v, m.flat_start());
}

/// Constant-current loads in the fixed point: case33bw with 40 % of every
/// load drawing constant current lands on Newton's solution with the same
/// loads (both to 1e-10 p.u. of mismatch), without falling back, and lanes
/// give exactly what single solves give.
#[test]
fn constant_current_loads_match_newton() {
    let m = model("case33bw");
    // Injections: 60 % constant power; s_i: 40 % drawn at |V| (consumption positive).
    let s_p: Vec<Complex64> = m.s_spec.iter().map(|s| s * 0.6).collect();
    let s_i: Vec<Complex64> = m.s_spec.iter().map(|s| -s * 0.4).collect();
    let mut hybrid = HybridSolver::new(&m.ybus, &m.bus_type).unwrap();
    let mut v = m.flat_start();
    let r = (hybrid.solve_with_current_loads(&m.ybus, &s_p, &s_i, &mut v, OPTS)).unwrap();
    assert!(r.converged && r.max_mismatch_pu < OPTS.tol, "{r:?}");
    assert_eq!(
        hybrid.newton_fallbacks, 0,
        "the fixed point should have solved it"
    );
    let mut newton = NewtonSolver::new(&m.ybus, &m.bus_type).unwrap();
    let mut vn = m.flat_start();
    let rn = newton
        .solve_with_current_loads(&m.ybus, &s_p, &s_i, &mut vn, OPTS)
        .unwrap();
    assert!(rn.converged);
    let d = max_dv(&v, &vn);
    assert!(d < 1e-9, "fixed point and Newton differ by {d:e}");
    // Without the current loads the solution is another one.
    let mut v_p = m.flat_start();
    hybrid.solve(&m.ybus, &s_p, &mut v_p, OPTS).unwrap();
    let moved = max_dv(&v, &v_p);
    assert!(moved > 1e-3, "the current loads hardly matter: {moved:e}");

    // Lanes against single solves, at three load levels.
    let mut single = CurrentInjectionSolver::new(&m.ybus, &m.bus_type)
        .unwrap()
        .unwrap();
    single.set_current_loads(&s_i);
    let mut batched = single.clone();
    let specs: Vec<Vec<Complex64>> = [0.5, 1.0, 1.5]
        .iter()
        .map(|k| s_p.iter().map(|s| s * k).collect())
        .collect();
    let mut singles = Vec::new();
    for s in &specs {
        let mut v = m.flat_start();
        let r = single.solve(s, &mut v, 1e-10, 30);
        singles.push((v, r));
    }
    let mut vs = vec![m.flat_start(); 3];
    let s_refs: Vec<&[Complex64]> = specs.iter().map(|x| x.as_slice()).collect();
    let mut v_refs: Vec<&mut [Complex64]> = vs.iter_mut().map(|x| x.as_mut_slice()).collect();
    let out = batched.solve_lanes(&s_refs, &mut v_refs, 1e-10, 30);
    for (l, (v, r)) in singles.iter().enumerate() {
        assert!(r.is_ok(), "lane {l}: {r:?}");
        assert_eq!(out[l], Some(*r), "lane {l}");
        assert_eq!(&vs[l], v, "lane {l}: voltages differ");
    }
}
