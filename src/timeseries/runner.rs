//! Quasi-static time series: one scenario's steps in order, many scenarios in parallel.
//!
//! Per scenario the math model and the Newton solver (Jacobian pattern,
//! symbolic LU) are built once; each step only writes injections into
//! preallocated buffers and warm-starts Newton from the previous step's
//! voltages. A step that does not converge is recorded (flag, mismatch,
//! NaN electrical values), the next step restarts from the initial point,
//! and the run goes on. Results leave the solver thread in blocks of
//! steps, so memory does not grow with the number of steps.

use super::elements::Element;
use super::profiles::ProfileTable;
use super::time::Timestamp;
use crate::error::{Error, Result};
use crate::math::{BusType, MathModel};
use crate::network::Network;
use crate::solver::{NewtonOptions, NewtonSolver};
use num_complex::Complex64;
use std::sync::Arc;

/// Everything one scenario needs to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name (HDF5 group name).
    pub name: String,
    /// The network (its own loads are replaced by `elements` when any are given).
    pub network: Arc<Network>,
    /// Profile-driven loads, generators and storage.
    pub elements: Arc<Vec<Element>>,
    /// Profiles the elements refer to.
    pub profiles: Arc<ProfileTable>,
    /// Time of step 0.
    pub start: Timestamp,
    /// Step length, seconds.
    pub step_s: i64,
    /// Number of steps.
    pub n_steps: usize,
    /// Newton settings.
    pub newton: NewtonOptions,
}

/// Static description of a scenario's result columns.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Bus ids.
    pub bus_id: Vec<u64>,
    /// Bus nominal voltage, kV.
    pub bus_base_kv: Vec<f64>,
    /// Branch from/to bus ids.
    pub branch_from: Vec<u64>,
    /// Branch to bus ids.
    pub branch_to: Vec<u64>,
    /// Branch rating, MVA (0 = none).
    pub branch_rating_mva: Vec<f64>,
}

impl Layout {
    /// The layout of `net`.
    pub fn of(net: &Network) -> Layout {
        Layout {
            bus_id: net.buses.iter().map(|b| b.id).collect(),
            bus_base_kv: net.buses.iter().map(|b| b.base_kv).collect(),
            branch_from: net.branches.iter().map(|b| net.buses[b.from].id).collect(),
            branch_to: net.branches.iter().map(|b| net.buses[b.to].id).collect(),
            branch_rating_mva: net.branches.iter().map(|b| b.rate_a_mva).collect(),
        }
    }
}

/// Results of consecutive steps, row-major (`step × element`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    /// First step of the block.
    pub start_step: usize,
    /// Steps in the block.
    pub n: usize,
    /// Bus voltage magnitude, p.u.
    pub vm_pu: Vec<f64>,
    /// Bus voltage angle, degrees.
    pub va_degree: Vec<f64>,
    /// Net active power injected into the grid at each bus, MW.
    pub bus_p_mw: Vec<f64>,
    /// Net reactive power injected into the grid at each bus, Mvar.
    pub bus_q_mvar: Vec<f64>,
    /// Branch flows into the branch at the from end, MW.
    pub p_from_mw: Vec<f64>,
    /// Mvar at the from end.
    pub q_from_mvar: Vec<f64>,
    /// MW at the to end.
    pub p_to_mw: Vec<f64>,
    /// Mvar at the to end.
    pub q_to_mvar: Vec<f64>,
    /// Larger of the two terminal currents, kA (NaN where the base kV is 0).
    pub i_ka: Vec<f64>,
    /// Larger terminal apparent power over the rating, % (NaN without rating).
    pub loading_percent: Vec<f64>,
    /// Slack active power (generator convention), MW.
    pub p_slack_mw: Vec<f64>,
    /// Slack reactive power, Mvar.
    pub q_slack_mvar: Vec<f64>,
    /// Total losses (Σ bus injections), MW.
    pub p_loss_mw: Vec<f64>,
    /// 1 if the step converged.
    pub converged: Vec<u8>,
    /// Newton iterations.
    pub iterations: Vec<u32>,
    /// Final mismatch, p.u.
    pub max_mismatch_pu: Vec<f64>,
}

impl Block {
    fn clear(&mut self, start_step: usize) {
        self.start_step = start_step;
        self.n = 0;
        for v in [
            &mut self.vm_pu,
            &mut self.va_degree,
            &mut self.bus_p_mw,
            &mut self.bus_q_mvar,
            &mut self.p_from_mw,
            &mut self.q_from_mvar,
            &mut self.p_to_mw,
            &mut self.q_to_mvar,
            &mut self.i_ka,
            &mut self.loading_percent,
            &mut self.p_slack_mw,
            &mut self.q_slack_mvar,
            &mut self.p_loss_mw,
            &mut self.max_mismatch_pu,
        ] {
            v.clear();
        }
        self.converged.clear();
        self.iterations.clear();
    }
}

/// Counts over a whole run of one scenario.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunSummary {
    /// Steps run.
    pub steps: usize,
    /// Steps that did not converge.
    pub not_converged: usize,
    /// Total Newton iterations.
    pub iterations: u64,
}

/// Steps per result block handed to the writer.
pub const BLOCK_STEPS: usize = 672;

/// Runs `sc`, handing each full block of results to `emit` in step order.
pub fn run_scenario(
    sc: &Scenario,
    mut emit: impl FnMut(&Block) -> Result<()>,
) -> Result<RunSummary> {
    let net = &*sc.network;
    if sc.n_steps == 0 {
        return Err(Error::Usage(format!(
            "scenario '{}': the number of steps must be at least 1",
            sc.name
        )));
    }
    if sc.n_steps > sc.profiles.n_steps && !sc.elements.is_empty() {
        return Err(Error::Usage(format!(
            "scenario '{}': {} steps requested but the profiles have only {} rows",
            sc.name, sc.n_steps, sc.profiles.n_steps
        )));
    }
    let mut math = MathModel::build(net)?;
    let mut solver = NewtonSolver::new(&math.ybus, &math.bus_type)?;
    let nb = net.buses.len();
    let base = net.base_mva;

    // Fixed injections: network generators always; network loads only
    // when no element table replaces them.
    let gens: Vec<(usize, f64, f64)> = net
        .generators
        .iter()
        .filter(|g| g.in_service)
        .map(|g| (g.bus, g.p_mw, g.q_mvar))
        .collect();
    let n_fixed_loads = if sc.elements.is_empty() {
        net.loads.len()
    } else {
        0
    };
    let mut loads: Vec<(usize, f64, f64)> = net
        .loads
        .iter()
        .take(n_fixed_loads)
        .map(|l| (l.bus, l.p_mw, l.q_mvar))
        .collect();
    loads.extend(sc.elements.iter().map(|e| (e.bus, 0.0, 0.0)));
    // Element generators are kept in `loads` with the sign flipped, so one
    // preallocated vector carries every variable injection.

    // Slack bookkeeping: file P/Q of the slack generator(s) at each REF bus.
    let mut slack_file = Complex64::new(0.0, 0.0);
    {
        let mut seen = vec![false; nb];
        for g in net.generators.iter().filter(|g| g.in_service) {
            if math.bus_type[g.bus] == BusType::Ref {
                if !seen[g.bus] {
                    slack_file += Complex64::new(g.p_mw, 0.0);
                    seen[g.bus] = true;
                }
                slack_file += Complex64::new(0.0, g.q_mvar);
            }
        }
    }
    let refs = math.refs.clone();

    let v0 = math.v_init.clone();
    let mut v = v0.clone();
    let mut block = Block::default();
    block.clear(0);
    let mut summary = RunSummary::default();
    let nan = f64::NAN;
    let nbr = net.branches.len();
    let bus_kv: Vec<f64> = net.buses.iter().map(|b| b.base_kv).collect();
    let mut s_calc = vec![Complex64::new(0.0, 0.0); nb];

    for t in 0..sc.n_steps {
        for (k, e) in sc.elements.iter().enumerate() {
            let sign = if e.consumes() { 1.0 } else { -1.0 };
            loads[n_fixed_loads + k] = (
                e.bus,
                sign * e.p_at(&sc.profiles, t),
                sign * e.q_at(&sc.profiles, t),
            );
        }
        math.set_injections(&loads, &gens);
        let report = match solver.solve(&math.ybus, &math.s_spec, &mut v, sc.newton) {
            Ok(r) => r,
            Err(Error::Numerical(_)) => crate::solver::SolveReport {
                converged: false,
                iterations: sc.newton.max_iter,
                max_mismatch_pu: nan,
            },
            Err(e) => return Err(e),
        };
        summary.steps += 1;
        summary.iterations += report.iterations as u64;
        block.n += 1;
        block.converged.push(report.converged as u8);
        block.iterations.push(report.iterations as u32);
        block.max_mismatch_pu.push(report.max_mismatch_pu);
        if report.converged {
            // Bus injections from the network side.
            let ybus = &math.ybus;
            let indptr = ybus.indptr();
            let indptr = indptr.raw_storage();
            let (idx, data) = (ybus.indices(), ybus.data());
            let mut loss = 0.0;
            for i in 0..nb {
                let mut acc = Complex64::new(0.0, 0.0);
                for e in indptr[i]..indptr[i + 1] {
                    acc += data[e] * v[idx[e]];
                }
                let s = v[i] * acc.conj() * base;
                s_calc[i] = s;
                loss += s.re;
                block.vm_pu.push(v[i].norm());
                block.va_degree.push(v[i].arg().to_degrees());
                block.bus_p_mw.push(s.re);
                block.bus_q_mvar.push(s.im);
            }
            let mut slack = slack_file;
            for &r in &refs {
                slack += s_calc[r] - math.s_spec[r] * base;
            }
            block.p_slack_mw.push(slack.re);
            block.q_slack_mvar.push(slack.im);
            block.p_loss_mw.push(loss);
            for (k, ba) in math.branches.iter().enumerate() {
                let (sf, st) = ba.flows(&v);
                let (sf, st) = (sf * base, st * base);
                block.p_from_mw.push(sf.re);
                block.q_from_mvar.push(sf.im);
                block.p_to_mw.push(st.re);
                block.q_to_mvar.push(st.im);
                let br = &net.branches[k];
                let kv_f = bus_kv[br.from];
                let kv_t = bus_kv[br.to];
                let i_f = if kv_f > 0.0 {
                    sf.norm() / (3f64.sqrt() * v[br.from].norm() * kv_f)
                } else {
                    nan
                };
                let i_t = if kv_t > 0.0 {
                    st.norm() / (3f64.sqrt() * v[br.to].norm() * kv_t)
                } else {
                    nan
                };
                block.i_ka.push(if ba.active { i_f.max(i_t) } else { 0.0 });
                let rating = br.rate_a_mva;
                block.loading_percent.push(if rating > 0.0 {
                    100.0 * sf.norm().max(st.norm()) / rating
                } else {
                    nan
                });
            }
        } else {
            summary.not_converged += 1;
            for _ in 0..nb {
                block.vm_pu.push(nan);
                block.va_degree.push(nan);
                block.bus_p_mw.push(nan);
                block.bus_q_mvar.push(nan);
            }
            for _ in 0..nbr {
                block.p_from_mw.push(nan);
                block.q_from_mvar.push(nan);
                block.p_to_mw.push(nan);
                block.q_to_mvar.push(nan);
                block.i_ka.push(nan);
                block.loading_percent.push(nan);
            }
            block.p_slack_mw.push(nan);
            block.q_slack_mvar.push(nan);
            block.p_loss_mw.push(nan);
            v.copy_from_slice(&v0);
        }
        if block.n == BLOCK_STEPS || t + 1 == sc.n_steps {
            emit(&block)?;
            block.clear(t + 1);
        }
    }
    Ok(summary)
}

/// Runs `scenarios` on `threads` worker threads (rayon); results go to
/// `sink` on the calling thread, in step order within each scenario.
/// Each scenario is computed by one thread from start to end, so the
/// results do not depend on the thread count.
pub fn run_parallel(
    scenarios: &[Scenario],
    threads: usize,
    mut sink: impl FnMut(usize, &Block) -> Result<()>,
) -> Result<Vec<RunSummary>> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Block)>(2 * threads.max(1) + 2);
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            pool.install(|| {
                scenarios
                    .par_iter()
                    .enumerate()
                    .map_with(tx, |tx, (i, sc)| {
                        run_scenario(sc, |b| {
                            tx.send((i, b.clone()))
                                .map_err(|_| Error::Usage("results writer stopped".into()))
                        })
                    })
                    .collect::<Vec<Result<RunSummary>>>()
            })
        });
        let mut sink_err = None;
        for (i, b) in rx.iter() {
            if let Err(e) = sink(i, &b) {
                sink_err = Some(e);
                break;
            }
        }
        drop(rx);
        let results = worker
            .join()
            .map_err(|_| Error::Numerical("a scenario worker panicked".into()))?;
        if let Some(e) = sink_err {
            return Err(e);
        }
        results.into_iter().collect()
    })
}
