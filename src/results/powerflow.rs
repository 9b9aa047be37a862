//! A single power-flow result: bus voltages, branch flows, generator outputs.

use crate::math::{BusType, MathModel};
use crate::network::Network;
use crate::results::elements::{self, LineResults, LoadResults, TransformerResults};
use crate::solver::SolveReport;
use num_complex::Complex64;
use serde::Serialize;

/// Bus results, in network bus order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BusResults {
    /// External bus numbers.
    pub id: Vec<u64>,
    /// Voltage magnitude, p.u.
    pub vm_pu: Vec<f64>,
    /// Voltage angle, degrees.
    pub va_degree: Vec<f64>,
}

/// Branch results, in network branch order (out of service: zeros).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BranchResults {
    /// Branch ids (`branch K` by row for MATPOWER files).
    pub id: Vec<String>,
    /// From bus numbers.
    pub from: Vec<u64>,
    /// To bus numbers.
    pub to: Vec<u64>,
    /// Active power into the branch at the from end, MW.
    pub p_from_mw: Vec<f64>,
    /// Reactive power into the branch at the from end, Mvar.
    pub q_from_mvar: Vec<f64>,
    /// Active power into the branch at the to end, MW.
    pub p_to_mw: Vec<f64>,
    /// Reactive power into the branch at the to end, Mvar.
    pub q_to_mvar: Vec<f64>,
}

/// Generator results, in network generator order (out of service: zeros).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GenResults {
    /// Generator ids (`gen K` by row for MATPOWER files).
    pub id: Vec<String>,
    /// Bus numbers.
    pub bus: Vec<u64>,
    /// Active power output, MW.
    pub p_mw: Vec<f64>,
    /// Reactive power output, Mvar.
    pub q_mvar: Vec<f64>,
}

/// A complete power-flow result (the JSON output of `gridsim pf`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PowerFlowResult {
    /// Whether the solution met the tolerance.
    pub converged: bool,
    /// Newton iterations.
    pub iterations: usize,
    /// Final max mismatch, p.u.
    pub max_mismatch_pu: f64,
    /// Sum over in-service branches of p_from + p_to, MW (line losses and
    /// transformer copper and iron losses; MATPOWER's and pandapower's losses).
    pub total_loss_mw: f64,
    /// Active power consumed by bus shunts at the solved voltages, MW.
    /// Generation = load + shunt_p_mw + total_loss_mw.
    pub shunt_p_mw: f64,
    /// Buses.
    pub bus: BusResults,
    /// Branches (lines and transformers together, in file order).
    pub branch: BranchResults,
    /// Generators.
    pub gen: GenResults,
    /// Lines, by id.
    pub line: LineResults,
    /// Transformers, by id.
    pub transformer: TransformerResults,
    /// Loads at the solved voltages, by id.
    pub load: LoadResults,
}

impl PowerFlowResult {
    /// Derives all results from the solved voltages `v`.
    ///
    /// Generator rules follow MATPOWER's `pfsoln`: the first in-service
    /// generator at each reference bus takes the slack P; at PV and REF buses
    /// the bus's Q is shared among its in-service generators equally and then
    /// in proportion to their Q ranges; generators at PQ buses keep their
    /// setpoints.
    pub fn from_solution(
        net: &Network,
        math: &MathModel,
        v: &[Complex64],
        report: SolveReport,
    ) -> Self {
        let base = net.base_mva;
        let nb = net.buses.len();
        // Injected power at each bus from the network side, MVA.
        let ybus = &math.ybus;
        let indptr = ybus.indptr();
        let indptr = indptr.raw_storage();
        let s_calc: Vec<Complex64> = (0..nb)
            .map(|i| {
                let mut acc = Complex64::new(0.0, 0.0);
                for e in indptr[i]..indptr[i + 1] {
                    acc += ybus.data()[e] * v[ybus.indices()[e]];
                }
                v[i] * acc.conj() * base
            })
            .collect();
        // Load at the solved voltage (constant-impedance shares are in Ybus).
        let s_load: Vec<Complex64> = (0..nb)
            .map(|i| (math.s_load[i] + math.s_load_i[i] * v[i].norm()) * base)
            .collect();

        let bus = BusResults {
            id: net.buses.iter().map(|b| b.id).collect(),
            vm_pu: v.iter().map(|x| x.norm()).collect(),
            va_degree: v.iter().map(|x| x.arg().to_degrees()).collect(),
        };

        let mut branch = BranchResults {
            id: net.branches.iter().map(|b| b.id.clone()).collect(),
            from: Vec::new(),
            to: Vec::new(),
            p_from_mw: Vec::new(),
            q_from_mvar: Vec::new(),
            p_to_mw: Vec::new(),
            q_to_mvar: Vec::new(),
        };
        let mut total_loss_mw = 0.0;
        for (br, ba) in net.branches.iter().zip(&math.branches) {
            let (sf, st) = ba.flows(v);
            let (sf, st) = (sf * base, st * base);
            branch.from.push(net.buses[br.from].id);
            branch.to.push(net.buses[br.to].id);
            branch.p_from_mw.push(sf.re);
            branch.q_from_mvar.push(sf.im);
            branch.p_to_mw.push(st.re);
            branch.q_to_mvar.push(st.im);
            if ba.active {
                total_loss_mw += sf.re + st.re;
            }
        }

        let ng = net.generators.len();
        let mut p = vec![0.0; ng];
        let mut q = vec![0.0; ng];
        let mut at_bus: Vec<Vec<usize>> = vec![Vec::new(); nb];
        for (k, g) in net.generators.iter().enumerate() {
            if !g.in_service || math.bus_type[g.bus] == BusType::Isolated {
                continue;
            }
            p[k] = g.p_mw;
            q[k] = g.q_mvar;
            at_bus[g.bus].push(k);
        }
        for (i, gens) in at_bus.iter().enumerate() {
            if gens.is_empty() {
                continue;
            }
            let t = math.bus_type[i];
            if t == BusType::Ref {
                let others: f64 = gens[1..].iter().map(|&k| p[k]).sum();
                p[gens[0]] = s_calc[i].re + s_load[i].re - others;
            }
            if t == BusType::Ref || t == BusType::Pv {
                let q_tot = s_calc[i].im + s_load[i].im;
                share_q(net, gens, q_tot, &mut q);
            }
        }
        let gen = GenResults {
            id: net.generators.iter().map(|g| g.id.clone()).collect(),
            bus: net.generators.iter().map(|g| net.buses[g.bus].id).collect(),
            p_mw: p,
            q_mvar: q,
        };
        let (line, transformer) = elements::branch_results(net, math, v);
        PowerFlowResult {
            converged: report.converged,
            iterations: report.iterations,
            max_mismatch_pu: report.max_mismatch_pu,
            total_loss_mw,
            shunt_p_mw: elements::shunt_p_mw(net, math, v),
            bus,
            branch,
            gen,
            line,
            transformer,
            load: elements::load_results(net, math, v),
        }
    }

    /// Lowest bus voltage magnitude and the bus id where it occurs.
    pub fn min_vm(&self) -> Option<(u64, f64)> {
        self.bus
            .id
            .iter()
            .zip(&self.bus.vm_pu)
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(id, v)| (*id, *v))
    }
}

/// MATPOWER's Q sharing among the in-service generators `gens` at one bus.
fn share_q(net: &Network, gens: &[usize], q_tot: f64, q: &mut [f64]) {
    let n = gens.len() as f64;
    if gens.len() == 1 {
        q[gens[0]] = q_tot;
        return;
    }
    let qmin: f64 = gens.iter().map(|&k| net.generators[k].qmin_mvar).sum();
    let qmax: f64 = gens.iter().map(|&k| net.generators[k].qmax_mvar).sum();
    let finite = gens.iter().all(|&k| {
        net.generators[k].qmin_mvar.is_finite() && net.generators[k].qmax_mvar.is_finite()
    });
    if !finite || qmin == qmax {
        for &k in gens {
            q[k] = q_tot / n;
        }
        return;
    }
    let ratio = (q_tot - qmin) / (qmax - qmin + f64::EPSILON);
    for &k in gens {
        let g = &net.generators[k];
        q[k] = g.qmin_mvar + ratio * (g.qmax_mvar - g.qmin_mvar);
    }
}
