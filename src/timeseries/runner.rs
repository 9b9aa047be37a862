//! Quasi-static time series: one scenario's steps in order, many scenarios in parallel.
//!
//! Per scenario the math model and the Newton solver (Jacobian pattern,
//! symbolic LU) are built once; each step only writes injections into
//! preallocated buffers and warm-starts Newton from the previous step's
//! voltages. A step that does not converge is recorded (flag, mismatch,
//! NaN electrical values), the next step restarts from the initial point,
//! and the run goes on. Results leave the solver thread in blocks of
//! steps, so memory does not grow with the number of steps.

use super::controllers::{pu_fraction, qu_fraction, ControllerSpec, OltcState};
use super::der::{StepContext, Technology, Unit, UnitOutput};
use super::elements::{Element, ElementKind};
use super::profiles::ProfileTable;
use super::time::Timestamp;
use crate::error::{Error, Result};
use crate::math::{BusType, MathModel};
use crate::network::Network;
use crate::results::kpi::{Kpis, PesReference};
use crate::solver::{NewtonOptions, NewtonSolver};
use num_complex::Complex64;
use std::sync::Arc;

/// Grid and fuel emission factors of a scenario.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Emissions {
    /// Constant grid factor, t CO2 / MWh imported.
    pub grid_t_per_mwh: f64,
    /// Profile column with a per-step grid factor (overrides the constant).
    pub grid_profile: Option<usize>,
}

/// A synthetic load with its precomputed series.
#[derive(Debug, Clone)]
pub struct SyntheticLoad {
    /// Name.
    pub name: String,
    /// Bus index.
    pub bus: usize,
    /// Active power per step, MW.
    pub p_mw: Vec<f64>,
    /// Q/P ratio.
    pub tan_phi: f64,
}

/// A controller with its resolved targets.
#[derive(Debug, Clone)]
pub struct Controller {
    /// The specification.
    pub spec: ControllerSpec,
    /// Indices into the scenario's units (PV controllers).
    pub units: Vec<usize>,
    /// Tap changer state (OLTC).
    pub oltc: Option<OltcState>,
}

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
    /// DER units (initial state).
    pub units: Vec<Unit>,
    /// CO2 factor of each unit's fuel (t/MWh), per unit (0 without fuel).
    pub unit_fuel_factor: Vec<f64>,
    /// Synthetic loads.
    pub synthetic_loads: Vec<SyntheticLoad>,
    /// Controllers, run in this order.
    pub controllers: Vec<Controller>,
    /// Emission factors.
    pub emissions: Emissions,
    /// Voltage band for KPIs, p.u.
    pub v_limits: (f64, f64),
    /// Per-bus voltage bands from the network file (overrides `v_limits`).
    pub bus_v_limits: Option<Vec<(f64, f64)>>,
    /// Reference efficiencies for primary energy savings.
    pub pes: PesReference,
}

impl Scenario {
    /// A scenario of `network` with profile-driven `elements` only.
    #[allow(clippy::too_many_arguments)]
    pub fn basic(
        name: &str,
        network: Arc<Network>,
        elements: Arc<Vec<Element>>,
        profiles: Arc<ProfileTable>,
        start: Timestamp,
        step_s: i64,
        n_steps: usize,
        newton: NewtonOptions,
    ) -> Scenario {
        Scenario {
            name: name.to_string(),
            network,
            elements,
            profiles,
            start,
            step_s,
            n_steps,
            newton,
            units: Vec::new(),
            unit_fuel_factor: Vec::new(),
            synthetic_loads: Vec::new(),
            controllers: Vec::new(),
            emissions: Emissions::default(),
            v_limits: (0.95, 1.05),
            bus_v_limits: None,
            pes: PesReference::default(),
        }
    }
}

/// Static description of a scenario's result columns.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Unit names.
    pub unit_name: Vec<String>,
    /// Unit technologies.
    pub unit_technology: Vec<String>,
    /// Unit bus ids.
    pub unit_bus: Vec<u64>,
    /// Bus ids.
    pub bus_id: Vec<u64>,
    /// Bus names ("" where none).
    pub bus_name: Vec<String>,
    /// Bus nominal voltage, kV.
    pub bus_base_kv: Vec<f64>,
    /// Declared bus type (MATPOWER code: 1 PQ, 2 PV, 3 REF, 4 isolated).
    pub bus_type: Vec<u8>,
    /// 1 if the branch is in service.
    pub branch_in_service: Vec<u8>,
    /// Branch from/to bus ids.
    pub branch_from: Vec<u64>,
    /// Branch to bus ids.
    pub branch_to: Vec<u64>,
    /// Branch rating, MVA (0 = none).
    pub branch_rating_mva: Vec<f64>,
}

impl Layout {
    /// The layout of a scenario's results.
    pub fn of_scenario(sc: &Scenario) -> Layout {
        let net = &sc.network;
        let mut l = Layout::of(net);
        l.unit_name = sc.units.iter().map(|u| u.name.clone()).collect();
        l.unit_technology = sc
            .units
            .iter()
            .map(|u| u.technology.label().to_string())
            .collect();
        l.unit_bus = sc.units.iter().map(|u| net.buses[u.bus].id).collect();
        l
    }

    /// The layout of `net` without units.
    pub fn of(net: &Network) -> Layout {
        Layout {
            unit_name: Vec::new(),
            unit_technology: Vec::new(),
            unit_bus: Vec::new(),
            bus_id: net.buses.iter().map(|b| b.id).collect(),
            bus_name: net
                .buses
                .iter()
                .map(|b| b.name.clone().unwrap_or_default())
                .collect(),
            bus_base_kv: net.buses.iter().map(|b| b.base_kv).collect(),
            bus_type: net.buses.iter().map(|b| b.kind.code()).collect(),
            branch_in_service: net.branches.iter().map(|b| b.in_service as u8).collect(),
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
    /// Σ load, MW.
    pub p_load_mw: Vec<f64>,
    /// Σ non-slack, non-storage generation, MW.
    pub p_gen_mw: Vec<f64>,
    /// Σ storage injection (discharge positive), MW.
    pub p_storage_mw: Vec<f64>,
    /// CO2 of the step (grid imports, CHP and boiler fuel), t.
    pub co2_t: Vec<f64>,
    /// Unit active power injected, MW (`step × unit`).
    pub unit_p_mw: Vec<f64>,
    /// Unit reactive power injected, Mvar.
    pub unit_q_mvar: Vec<f64>,
    /// Unit useful heat, MW_th (CHP).
    pub unit_heat_mw: Vec<f64>,
    /// Unit fuel input (CHP), MW.
    pub unit_fuel_mw: Vec<f64>,
    /// Heat of the unit's backup boiler, MW_th.
    pub unit_boiler_heat_mw: Vec<f64>,
    /// Fuel of the unit's backup boiler, MW.
    pub unit_boiler_fuel_mw: Vec<f64>,
    /// Unit CO2, t per step.
    pub unit_co2_t: Vec<f64>,
    /// Unit curtailed power, MW.
    pub unit_curtailed_mw: Vec<f64>,
    /// Unit state of charge / buffer level, %.
    pub unit_soc_percent: Vec<f64>,
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
            &mut self.p_load_mw,
            &mut self.p_gen_mw,
            &mut self.p_storage_mw,
            &mut self.co2_t,
            &mut self.unit_p_mw,
            &mut self.unit_q_mvar,
            &mut self.unit_heat_mw,
            &mut self.unit_fuel_mw,
            &mut self.unit_boiler_heat_mw,
            &mut self.unit_boiler_fuel_mw,
            &mut self.unit_co2_t,
            &mut self.unit_curtailed_mw,
            &mut self.unit_soc_percent,
        ] {
            v.clear();
        }
        self.converged.clear();
        self.iterations.clear();
    }
}

/// Counts over a whole run of one scenario.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// Steps run.
    pub steps: usize,
    /// Steps that did not converge.
    pub not_converged: usize,
    /// Total Newton iterations.
    pub iterations: u64,
    /// Tap moves of all tap changers.
    pub tap_changes: u64,
    /// Steps where Q(U)/P(U) had not settled after the loop limit.
    pub control_not_settled: u64,
    /// KPIs.
    pub kpis: Kpis,
}

/// Steps per result block handed to the writer.
pub const BLOCK_STEPS: usize = 672;

/// Maximum power flows per step while controllers settle.
const MAX_CONTROL_LOOPS: usize = 50;

/// Q(U)/P(U) have settled when every set-point is within this fraction of
/// the unit's rating of its target.
const CONTROL_TOL: f64 = 1e-4;

/// Runs `sc`, handing each full block of results to `emit` in step order.
pub fn run_scenario(
    sc: &Scenario,
    mut emit: impl FnMut(&Block) -> Result<()>,
) -> Result<RunSummary> {
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
    // A private copy only when a tap changer will modify branch ratios.
    // Time series treat every load as constant power (ZIP shares apply to
    // single power flows), so the booked injections balance exactly.
    let cp_net;
    let net: &Network = if sc.network.has_voltage_dependent_loads() {
        let mut n = (*sc.network).clone();
        for l in &mut n.loads {
            l.z_share = 0.0;
            l.i_share = 0.0;
        }
        cp_net = n;
        &cp_net
    } else {
        &sc.network
    };
    let mut net_local: Option<Network> = if sc.controllers.iter().any(|c| c.oltc.is_some()) {
        Some(net.clone())
    } else {
        None
    };
    let mut math = MathModel::build(net)?;
    let mut solver = NewtonSolver::new(&math.ybus, &math.bus_type)?;
    let nb = net.buses.len();
    let nbr = net.branches.len();
    let nu = sc.units.len();
    let base = net.base_mva;
    let dt_h = sc.step_s as f64 / 3600.0;
    let mut units = sc.units.clone();
    let mut controllers = sc.controllers.clone();

    // Fixed network generators; slack bookkeeping (file P of the first
    // in-service generator at each REF bus, file Q of all generators there).
    let gens_fixed: Vec<(usize, f64, f64)> = net
        .generators
        .iter()
        .filter(|g| g.in_service && math.bus_type[g.bus] != BusType::Isolated)
        .map(|g| (g.bus, g.p_mw, g.q_mvar))
        .collect();
    let mut slack_file = Complex64::new(0.0, 0.0);
    let mut p_gen_network = 0.0;
    {
        let mut seen = vec![false; nb];
        for &(bus, p, q) in &gens_fixed {
            if math.bus_type[bus] == BusType::Ref {
                if !seen[bus] {
                    slack_file.re += p;
                    seen[bus] = true;
                } else {
                    p_gen_network += p;
                }
                slack_file.im += q;
            } else {
                p_gen_network += p;
            }
        }
    }
    let refs = math.refs.clone();

    // Variable injections: loads (consumption positive) and generators.
    let fixed_loads: Vec<(usize, f64, f64)> = if sc.elements.is_empty() {
        net.loads
            .iter()
            .map(|l| (l.bus, l.p_mw, l.q_mvar))
            .collect()
    } else {
        Vec::new()
    };
    let mut loads: Vec<(usize, f64, f64)> =
        Vec::with_capacity(fixed_loads.len() + sc.elements.len() + sc.synthetic_loads.len());
    let mut gens: Vec<(usize, f64, f64)> =
        Vec::with_capacity(gens_fixed.len() + sc.elements.len() + nu);
    let mut bus_net = vec![0.0; nb];
    let mut outputs = vec![UnitOutput::default(); nu];
    let mut avail = vec![0.0; nu];

    let v0 = math.v_init.clone();
    let mut v = v0.clone();
    let mut block = Block::default();
    block.clear(0);
    let mut summary = RunSummary {
        kpis: Kpis::new(),
        ..Default::default()
    };
    let nan = f64::NAN;
    let bus_kv: Vec<f64> = net.buses.iter().map(|b| b.base_kv).collect();
    let mut s_calc = vec![Complex64::new(0.0, 0.0); nb];
    let sqrt3 = 3f64.sqrt();
    let limits: Vec<(f64, f64)> = match &sc.bus_v_limits {
        Some(l) => l.clone(),
        None => vec![sc.v_limits; nb],
    };

    for t in 0..sc.n_steps {
        // 1. Loads and profile-driven elements.
        loads.clear();
        gens.clear();
        loads.extend_from_slice(&fixed_loads);
        gens.extend_from_slice(&gens_fixed);
        let mut p_load = fixed_loads.iter().map(|l| l.1).sum::<f64>();
        let mut p_gen = p_gen_network;
        let mut p_renewable = 0.0;
        let mut p_storage = 0.0;
        bus_net.iter_mut().for_each(|x| *x = 0.0);
        for l in &fixed_loads {
            bus_net[l.0] += l.1;
        }
        for e in sc.elements.iter() {
            let (p, q) = (e.p_at(&sc.profiles, t), e.q_at(&sc.profiles, t));
            match e.kind {
                ElementKind::Load => {
                    loads.push((e.bus, p, q));
                    p_load += p;
                    bus_net[e.bus] += p;
                }
                ElementKind::Storage => {
                    // Storage rows follow the load convention (p > 0 charging).
                    loads.push((e.bus, p, q));
                    p_storage -= p;
                    bus_net[e.bus] += p;
                }
                ElementKind::Sgen => {
                    gens.push((e.bus, p, q));
                    p_gen += p;
                    p_renewable += p;
                    bus_net[e.bus] -= p;
                }
            }
        }
        for sl in &sc.synthetic_loads {
            let p = sl.p_mw[t];
            loads.push((sl.bus, p, p * sl.tan_phi));
            p_load += p;
            bus_net[sl.bus] += p;
        }
        // 2. Units: generators first, then storage (which sees their output).
        let grid_net_pre: f64 = bus_net.iter().sum();
        for pass in 0..2 {
            for (k, u) in units.iter_mut().enumerate() {
                let is_storage = u.technology == Technology::Storage;
                if (pass == 0) == is_storage {
                    continue;
                }
                let grid_net = grid_net_pre - outputs_sum_gen(&outputs, &sc.units, pass);
                let ctx = StepContext {
                    grid_net_load_mw: grid_net,
                    dt_h,
                };
                let o = u.dispatch(t, bus_net[u.bus], &ctx);
                bus_net[u.bus] -= o.p_mw;
                outputs[k] = o;
                avail[k] = o.p_mw;
            }
        }
        let unit_gen_start = gens.len();
        for (k, u) in units.iter().enumerate() {
            gens.push((u.bus, outputs[k].p_mw, outputs[k].q_mvar));
        }

        // 3. Power flow with the controllers settling.
        let mut report;
        let mut oltc_done = false;
        let mut loops = 0;
        loop {
            loops += 1;
            math.set_injections(&loads, &gens);
            report = match solver.solve(&math.ybus, &math.s_spec, &mut v, sc.newton) {
                Ok(r) => r,
                Err(Error::Numerical(_)) => crate::solver::SolveReport {
                    converged: false,
                    iterations: sc.newton.max_iter,
                    max_mismatch_pu: nan,
                },
                Err(e) => return Err(e),
            };
            summary.iterations += report.iterations as u64;
            if !report.converged || controllers.is_empty() {
                break;
            }
            if loops >= MAX_CONTROL_LOOPS {
                summary.control_not_settled += 1;
                break;
            }
            let mut changed = false;
            for c in controllers.iter_mut() {
                match &c.spec {
                    ControllerSpec::PvQu {
                        v1_pu,
                        v2_pu,
                        v3_pu,
                        v4_pu,
                        q_max_fraction,
                        ..
                    } => {
                        for &k in &c.units {
                            let s = units[k].inverter_mva().unwrap_or(0.0);
                            let p = outputs[k].p_mw;
                            let q_lim = (q_max_fraction * s).min((s * s - p * p).max(0.0).sqrt());
                            let target =
                                qu_fraction(v[units[k].bus].norm(), *v1_pu, *v2_pu, *v3_pu, *v4_pu)
                                    * q_lim;
                            if (target - outputs[k].q_mvar).abs() > CONTROL_TOL * s.max(1e-9) {
                                changed = true;
                            }
                            let q_new = outputs[k].q_mvar + 0.7 * (target - outputs[k].q_mvar);
                            outputs[k].q_mvar = q_new;
                            gens[unit_gen_start + k].2 = q_new;
                        }
                    }
                    ControllerSpec::PvPu {
                        v_start_pu,
                        v_end_pu,
                        ..
                    } => {
                        for &k in &c.units {
                            let target = avail[k]
                                * pu_fraction(v[units[k].bus].norm(), *v_start_pu, *v_end_pu);
                            let rating = units[k].inverter_mva().unwrap_or(avail[k]).max(1e-9);
                            if (target - outputs[k].p_mw).abs() > CONTROL_TOL * rating {
                                changed = true;
                            }
                            let p_new = outputs[k].p_mw + 0.7 * (target - outputs[k].p_mw);
                            outputs[k].p_mw = p_new;
                            outputs[k].curtailed_mw = avail[k] - p_new;
                            gens[unit_gen_start + k].1 = p_new;
                        }
                    }
                    ControllerSpec::Oltc { .. } => {}
                }
            }
            if !changed && !oltc_done {
                oltc_done = true;
                for c in controllers.iter_mut() {
                    if let (Some(st), ControllerSpec::Oltc { step_percent, .. }) =
                        (c.oltc.as_mut(), &c.spec)
                    {
                        if st.check(v[st.bus].norm(), &c.spec) {
                            let ratio = st.ratio(*step_percent);
                            if let Some(nl) = net_local.as_mut() {
                                for &b in &st.branches {
                                    math.set_branch_ratio(nl, b, ratio);
                                }
                            }
                            summary.tap_changes += 1;
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }

        // 4. Record.
        summary.steps += 1;
        block.n += 1;
        block.converged.push(report.converged as u8);
        block.iterations.push(report.iterations as u32);
        block.max_mismatch_pu.push(report.max_mismatch_pu);
        for (k, u) in units.iter().enumerate() {
            let o = &outputs[k];
            if u.technology == Technology::Storage {
                p_storage += o.p_mw;
            } else {
                p_gen += o.p_mw;
                if u.technology.renewable() {
                    p_renewable += o.p_mw;
                }
            }
        }
        block.p_load_mw.push(p_load);
        block.p_gen_mw.push(p_gen);
        block.p_storage_mw.push(p_storage);
        let grid_factor = match sc.emissions.grid_profile {
            Some(c) => sc.profiles.value(c, t),
            None => sc.emissions.grid_t_per_mwh,
        };
        let mut co2_units = 0.0;
        for (k, o) in outputs.iter().enumerate() {
            let co2 = (o.fuel_mw + o.boiler_fuel_mw) * sc.unit_fuel_factor[k] * dt_h;
            co2_units += co2;
            block.unit_p_mw.push(o.p_mw);
            block.unit_q_mvar.push(o.q_mvar);
            block.unit_heat_mw.push(o.heat_mw);
            block.unit_fuel_mw.push(o.fuel_mw);
            block.unit_boiler_heat_mw.push(o.boiler_heat_mw);
            block.unit_boiler_fuel_mw.push(o.boiler_fuel_mw);
            block.unit_co2_t.push(co2);
            block.unit_curtailed_mw.push(o.curtailed_mw);
            block.unit_soc_percent.push(o.soc_percent);
        }
        if report.converged {
            let ybus = &math.ybus;
            let indptr = ybus.indptr();
            let indptr = indptr.raw_storage();
            let (idx, data) = (ybus.indices(), ybus.data());
            let mut loss = 0.0;
            let mut any_v_bad = false;
            let k = &mut summary.kpis;
            for i in 0..nb {
                let mut acc = Complex64::new(0.0, 0.0);
                for e in indptr[i]..indptr[i + 1] {
                    acc += data[e] * v[idx[e]];
                }
                let solved = v[i] * acc.conj() * base;
                s_calc[i] = solved;
                // Book the specified injection where it is specified (P at PQ
                // and PV buses, Q at PQ buses), so that the balance closes
                // exactly; the solved value differs by less than the tolerance.
                let spec = math.s_spec[i] * base;
                let s = match math.bus_type[i] {
                    BusType::Pq => spec,
                    BusType::Pv => Complex64::new(spec.re, solved.im),
                    _ => solved,
                };
                loss += s.re;
                let vm = v[i].norm();
                block.vm_pu.push(vm);
                block.va_degree.push(v[i].arg().to_degrees());
                block.bus_p_mw.push(s.re);
                block.bus_q_mvar.push(s.im);
                if math.bus_type[i] != BusType::Isolated {
                    k.min_vm_pu = k.min_vm_pu.min(vm);
                    k.max_vm_pu = k.max_vm_pu.max(vm);
                    if vm < limits[i].0 || vm > limits[i].1 {
                        any_v_bad = true;
                        k.bus_hours_voltage_violation += dt_h;
                    }
                }
            }
            let mut slack = slack_file;
            for &r in &refs {
                slack += s_calc[r] - math.s_spec[r] * base;
            }
            block.p_slack_mw.push(slack.re);
            block.q_slack_mvar.push(slack.im);
            block.p_loss_mw.push(loss);
            let mut any_overload = false;
            for (kb, ba) in math.branches.iter().enumerate() {
                let (sf, st) = ba.flows(&v);
                let (sf, st) = (sf * base, st * base);
                block.p_from_mw.push(sf.re);
                block.q_from_mvar.push(sf.im);
                block.p_to_mw.push(st.re);
                block.q_to_mvar.push(st.im);
                let br = &net.branches[kb];
                let (kv_f, kv_t) = (bus_kv[br.from], bus_kv[br.to]);
                let i_f = if kv_f > 0.0 {
                    sf.norm() / (sqrt3 * v[br.from].norm() * kv_f)
                } else {
                    nan
                };
                let i_t = if kv_t > 0.0 {
                    st.norm() / (sqrt3 * v[br.to].norm() * kv_t)
                } else {
                    nan
                };
                block.i_ka.push(if ba.active { i_f.max(i_t) } else { 0.0 });
                let rating = br.rate_a_mva;
                let loading = if rating > 0.0 {
                    100.0 * sf.norm().max(st.norm()) / rating
                } else {
                    nan
                };
                block.loading_percent.push(loading);
                if loading > 100.0 {
                    any_overload = true;
                }
                if loading.is_finite() {
                    k.max_loading_percent = k.max_loading_percent.max(loading);
                }
            }
            let co2_grid = slack.re.max(0.0) * grid_factor * dt_h;
            block.co2_t.push(co2_grid + co2_units);
            // KPIs
            k.steps += 1.0;
            k.energy_served_mwh += p_load * dt_h;
            k.import_mwh += slack.re.max(0.0) * dt_h;
            k.export_mwh += (-slack.re).max(0.0) * dt_h;
            k.peak_import_mw = k.peak_import_mw.max(slack.re);
            k.generation_mwh += p_gen * dt_h;
            k.renewable_mwh += p_renewable * dt_h;
            k.storage_charge_mwh += (-p_storage).max(0.0) * dt_h;
            k.storage_discharge_mwh += p_storage.max(0.0) * dt_h;
            k.loss_mwh += loss * dt_h;
            if any_v_bad {
                k.hours_voltage_violation += dt_h;
            }
            if any_overload {
                k.hours_overload += dt_h;
            }
            k.co2_grid_t += co2_grid;
            for (ku, o) in outputs.iter().enumerate() {
                k.curtailed_mwh += o.curtailed_mw * dt_h;
                if let Technology::Chp(_) = units[ku].technology {
                    let ff = sc.unit_fuel_factor[ku];
                    k.chp_electricity_mwh += o.p_mw * dt_h;
                    k.chp_heat_mwh += o.heat_mw * dt_h;
                    k.chp_fuel_mwh += o.fuel_mw * dt_h;
                    k.boiler_heat_mwh += o.boiler_heat_mw * dt_h;
                    k.boiler_fuel_mwh += o.boiler_fuel_mw * dt_h;
                    k.co2_chp_t += o.fuel_mw * ff * dt_h;
                    k.co2_boiler_t += o.boiler_fuel_mw * ff * dt_h;
                    k.co2_avoided_t += (o.heat_mw / sc.pes.heat_eta * ff + o.p_mw * grid_factor
                        - o.fuel_mw * ff)
                        * dt_h;
                }
            }
        } else {
            summary.not_converged += 1;
            summary.kpis.steps_not_converged += 1.0;
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
            block.co2_t.push(nan);
            v.copy_from_slice(&v0);
        }
        if block.n == BLOCK_STEPS || t + 1 == sc.n_steps {
            emit(&block)?;
            block.clear(t + 1);
        }
    }
    summary.kpis.finish(sc.pes);
    Ok(summary)
}

/// Generation of non-storage units already dispatched this step (for storage's view of the grid).
fn outputs_sum_gen(outputs: &[UnitOutput], units: &[Unit], pass: usize) -> f64 {
    if pass == 0 {
        return 0.0;
    }
    outputs
        .iter()
        .zip(units)
        .filter(|(_, u)| u.technology != Technology::Storage)
        .map(|(o, _)| o.p_mw)
        .sum()
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
