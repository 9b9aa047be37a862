//! Quasi-static time series: one scenario's steps in order, many scenarios in parallel.
//!
//! Per scenario the math model and the Newton solver (Jacobian pattern,
//! symbolic LU) are built once; each step only writes injections into
//! preallocated buffers and warm-starts Newton from the previous step's
//! voltages. A step that does not converge is recorded (flag, mismatch,
//! NaN electrical values), the next step restarts from the initial point,
//! and the run goes on. Results leave the solver thread in blocks of
//! steps, so memory does not grow with the number of steps.

use super::accounting::{HeatSite, HeatSupply, UnitAccounting};
use super::controllers::{pu_fraction, qu_fraction, ControllerSpec, OltcState};
use super::der::{StepContext, Technology, Unit, UnitOutput};
use super::elements::{Element, ElementKind};
use super::kpi::Kpis;
use super::loads::LoadColumns;
use super::profiles::ProfileTable;
use super::record::{LaneResults, ResultKernel};
use super::rows::{Rows, RowsKept, COLUMN_TILE};
use super::time::Timestamp;
use crate::error::{Error, Result};
use crate::math::{BusType, MathModel};
use crate::network::{BranchKind, Network};
use crate::solver::current_injection::LaneVec;
use crate::solver::current_injection::{larger, smaller, LANES, PREFETCH_AHEAD};
use crate::solver::{HybridSolver, NewtonOptions, SolveReport};
use num_complex::Complex64;
use std::collections::HashMap;
use std::sync::Arc;

/// Grid and fuel emission factors of a scenario.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Emissions {
    /// Constant grid factor, t CO2 / MWh imported.
    pub grid_t_per_mwh: f64,
    /// Profile column with a per-step grid factor (overrides the constant).
    pub grid_profile: Option<usize>,
    /// Marginal grid factor, t CO2 / MWh (None: the average factor).
    pub grid_marginal_t_per_mwh: Option<f64>,
    /// Profile column with a per-step marginal grid factor.
    pub grid_marginal_profile: Option<usize>,
    /// Whether exports earn their grid factor back (net exchange counted).
    pub credit_exports: bool,
    /// Whether the scenario states its emission factors (`[emissions]`);
    /// without, every CO2 figure is 0 and `compare` says so.
    pub given: bool,
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
    /// How each unit's fuels are accounted (CO2, primary energy, PES).
    pub unit_accounting: Vec<UnitAccounting>,
    /// The study's heat demands as this scenario serves them.
    pub heat_sites: Vec<HeatSite>,
    /// The study's cooling sites as this scenario serves them.
    pub cooling_sites: Vec<super::accounting::CoolingSite>,
    /// Primary energy factor of grid electricity.
    pub primary_energy_grid: f64,
    /// Whether this is the scenario the others are compared with.
    pub is_reference: bool,
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
    /// What the scenario is (the variant's description, else the study's).
    pub description: String,
    /// The time zone of the time axis, hours east of UTC (None: unknown).
    pub utc_offset_h: Option<f64>,
    /// Where the model is simpler than the inputs ask, in words for the
    /// user (`gridsim run` prints each as a warning).
    pub notes: Vec<String>,
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
        let notes = Scenario::replaced_zip_loads_note(&network, &elements)
            .into_iter()
            .collect();
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
            unit_accounting: Vec::new(),
            heat_sites: Vec::new(),
            cooling_sites: Vec::new(),
            primary_energy_grid: 0.0,
            is_reference: true,
            synthetic_loads: Vec::new(),
            controllers: Vec::new(),
            emissions: Emissions::default(),
            v_limits: (0.95, 1.05),
            bus_v_limits: None,
            description: String::new(),
            utc_offset_h: None,
            notes,
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
    /// Branch ids (the file's ids; `branch K` for MATPOWER rows).
    pub branch_id: Vec<String>,
    /// Branch kinds: "line", "transformer" or "regulator".
    pub branch_kind: Vec<String>,
    /// Line lengths, km (0 where unknown: transformers, per-unit branches).
    pub branch_length_km: Vec<f64>,
    /// 1 if the branch is in service.
    pub branch_in_service: Vec<u8>,
    /// Branch from/to bus ids.
    pub branch_from: Vec<u64>,
    /// Branch to bus ids.
    pub branch_to: Vec<u64>,
    /// Branch rating, MVA (0 = none).
    pub branch_rating_mva: Vec<f64>,
    /// The load columns (see [`super::loads`]).
    pub loads: LoadColumns,
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
        l.loads = sc.load_columns();
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
            branch_id: net.branches.iter().map(|b| b.id.clone()).collect(),
            branch_kind: net
                .branches
                .iter()
                .map(|b| b.kind.name().to_string())
                .collect(),
            branch_length_km: net
                .branches
                .iter()
                .map(|b| b.line().map_or(0.0, |l| l.length_km))
                .collect(),
            branch_from: net.branches.iter().map(|b| net.buses[b.from].id).collect(),
            branch_to: net.branches.iter().map(|b| net.buses[b.to].id).collect(),
            branch_rating_mva: net.branches.iter().map(|b| b.rate_a_mva).collect(),
            loads: LoadColumns::default(),
        }
    }
}

/// Results of consecutive steps, row-major (`step × element`); the
/// per-element series the run keeps ([`RowsKept`]) in its precision, grid totals in f64.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    /// First step of the block.
    pub start_step: usize,
    /// Steps in the block.
    pub n: usize,
    /// Bus voltage magnitude, p.u.
    pub vm_pu: Rows,
    /// Bus voltage angle, degrees.
    pub va_degree: Rows,
    /// Net active power injected into the grid at each bus, MW.
    pub bus_p_mw: Rows,
    /// Net reactive power injected into the grid at each bus, Mvar.
    pub bus_q_mvar: Rows,
    /// Branch flows into the branch at the from end, MW.
    pub p_from_mw: Rows,
    /// Mvar at the from end.
    pub q_from_mvar: Rows,
    /// MW at the to end.
    pub p_to_mw: Rows,
    /// Mvar at the to end.
    pub q_to_mvar: Rows,
    /// Larger of the two terminal currents, kA (NaN where the base kV is 0).
    pub i_ka: Rows,
    /// Larger terminal apparent power over the rating, % (NaN without rating).
    pub loading_percent: Rows,
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
    pub unit_p_mw: Rows,
    /// Unit reactive power injected, Mvar.
    pub unit_q_mvar: Rows,
    /// Unit useful heat, MW_th (CHP).
    pub unit_heat_mw: Rows,
    /// Unit fuel input (CHP), MW.
    pub unit_fuel_mw: Rows,
    /// Heat of the unit's backup boiler, MW_th.
    pub unit_boiler_heat_mw: Rows,
    /// Fuel of the unit's backup boiler, MW.
    pub unit_boiler_fuel_mw: Rows,
    /// Unit CO2, t per step.
    pub unit_co2_t: Rows,
    /// Unit curtailed power, MW.
    pub unit_curtailed_mw: Rows,
    /// Unit state of charge / buffer level, %.
    pub unit_soc_percent: Rows,
    /// Cooling made by the unit's absorption chiller (CCHP), MW.
    pub unit_cooling_mw: Rows,
    /// Electricity of the unit's backup electric chillers (CCHP), MW.
    pub unit_chiller_p_mw: Rows,
    /// Tap position of every transformer and regulator (branches that are
    /// not lines, in branch order), `step × transformer`.
    pub tap_pos: Vec<f64>,
    /// Power drawn by each load column (load convention), MW, `step × load`.
    pub load_p_mw: Rows,
    /// Reactive power drawn by each load column, Mvar.
    pub load_q_mvar: Rows,
    /// |V| at each network load's bus per step (`step × network load`),
    /// p.u., when they draw voltage-dependent power; else empty.
    pub load_vm_pu: Vec<f64>,
}

impl Block {
    /// The per-element series, each with its width class (bus, branch or
    /// unit).
    fn rows_mut(&mut self) -> [(&mut Rows, Width); 21] {
        use Width::{Branch, Bus, Unit};
        [
            (&mut self.vm_pu, Bus),
            (&mut self.va_degree, Bus),
            (&mut self.bus_p_mw, Bus),
            (&mut self.bus_q_mvar, Bus),
            (&mut self.p_from_mw, Branch),
            (&mut self.q_from_mvar, Branch),
            (&mut self.p_to_mw, Branch),
            (&mut self.q_to_mvar, Branch),
            (&mut self.i_ka, Branch),
            (&mut self.loading_percent, Branch),
            (&mut self.unit_p_mw, Unit),
            (&mut self.unit_q_mvar, Unit),
            (&mut self.unit_heat_mw, Unit),
            (&mut self.unit_fuel_mw, Unit),
            (&mut self.unit_boiler_heat_mw, Unit),
            (&mut self.unit_boiler_fuel_mw, Unit),
            (&mut self.unit_co2_t, Unit),
            (&mut self.unit_curtailed_mw, Unit),
            (&mut self.unit_soc_percent, Unit),
            (&mut self.unit_cooling_mw, Unit),
            (&mut self.unit_chiller_p_mw, Unit),
        ]
    }

    /// The per-step grid totals.
    fn totals_mut(&mut self) -> [&mut Vec<f64>; 8] {
        [
            &mut self.p_slack_mw,
            &mut self.q_slack_mvar,
            &mut self.p_loss_mw,
            &mut self.max_mismatch_pu,
            &mut self.p_load_mw,
            &mut self.p_gen_mw,
            &mut self.p_storage_mw,
            &mut self.co2_t,
        ]
    }

    /// Makes room for `steps` steps of `nb` buses, `nbr` branches and `nu`
    /// units, so that recording never reallocates.
    fn reserve(&mut self, steps: usize, nb: usize, nbr: usize, nu: usize) {
        for (v, w) in self.rows_mut() {
            let width = match w {
                Width::Bus => nb,
                Width::Branch => nbr,
                Width::Unit => nu,
            };
            v.reserve_total(steps * width);
        }
        for v in self.totals_mut() {
            v.reserve_exact(steps.saturating_sub(v.len()));
        }
        self.converged
            .reserve_exact(steps.saturating_sub(self.converged.len()));
        self.iterations
            .reserve_exact(steps.saturating_sub(self.iterations.len()));
    }

    fn clear(&mut self, start_step: usize, kept: RowsKept) {
        self.start_step = start_step;
        self.n = 0;
        for (v, w) in self.rows_mut() {
            v.clear(kept.precision_if(match w {
                Width::Bus => kept.bus,
                Width::Branch => kept.branch,
                Width::Unit => kept.unit,
            }));
        }
        for v in self.totals_mut() {
            v.clear();
        }
        self.converged.clear();
        self.iterations.clear();
        self.tap_pos.clear();
        self.load_p_mw.clear(kept.precision_if(kept.load));
        self.load_q_mvar.clear(kept.precision_if(kept.load));
        self.load_vm_pu.clear();
    }

    /// Fills the load columns of the block's steps (they depend on the
    /// scenario only, not on the power flow); nothing where the run does
    /// not keep them (the rows discard).
    fn fill_loads(&mut self, sc: &Scenario) {
        sc.fill_load_rows(
            self.start_step,
            self.n,
            &self.load_vm_pu,
            &mut self.load_p_mw,
            &mut self.load_q_mvar,
        );
    }
}

/// Which dimension a per-element series runs over.
#[derive(Debug, Clone, Copy)]
enum Width {
    Bus,
    Branch,
    Unit,
}

/// Counts over a whole run of one scenario (or over one block of it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// Steps run.
    pub steps: usize,
    /// Steps that did not converge.
    pub not_converged: usize,
    /// Total solver iterations (fixed-point or Newton).
    pub iterations: u64,
    /// Power flows that fell back from the fixed point to Newton.
    pub newton_fallbacks: u64,
    /// Tap moves of all tap changers.
    pub tap_changes: u64,
    /// Steps where Q(U)/P(U) had not settled after the loop limit.
    pub control_not_settled: u64,
    /// KPIs.
    pub kpis: Kpis,
}

impl RunSummary {
    /// An empty summary (KPI extremes at their identities).
    pub fn new() -> RunSummary {
        RunSummary {
            kpis: Kpis::new(),
            ..Default::default()
        }
    }

    /// Adds the counts and KPI sums of a later block.
    fn add(&mut self, b: &RunSummary) {
        self.steps += b.steps;
        self.not_converged += b.not_converged;
        self.iterations += b.iterations;
        self.newton_fallbacks += b.newton_fallbacks;
        self.tap_changes += b.tap_changes;
        self.control_not_settled += b.control_not_settled;
        self.kpis.merge(&b.kpis);
    }
}

/// Most steps per result block handed to the writer (one week of 15-minute
/// steps); large grids get fewer ([`Scenario::block_steps`]).
pub const MAX_BLOCK_STEPS: usize = 336;

/// Values (of the per-element series) one result block may hold: 4 Mi, i.e.
/// 32 MiB in f64 (16 MiB in f32). The blocks in flight — 4 lanes per worker
/// thread, the writer's queue and its spare pool — are counted in blocks,
/// so this bounds a run's result memory whatever the grid size.
pub const BLOCK_VALUES: usize = 4 << 20;

/// A scenario in lanes is cut into at least this many blocks (two groups of
/// 4 lanes: one per thread on two cores) where its blocks keep at least
/// [`MIN_SPLIT_STEPS`] steps, so that a short run (a week) keeps both
/// threads busy.
pub const MIN_BLOCKS: usize = 8;

/// Blocks are not cut shorter than this for [`MIN_BLOCKS`] (each block
/// starts from the initial voltages, which costs its first step a few
/// iterations).
pub const MIN_SPLIT_STEPS: usize = 24;

/// Maximum power flows per step while controllers settle.
const MAX_CONTROL_LOOPS: usize = 50;

/// Q(U)/P(U) have settled when every set-point is within this fraction of
/// the unit's rating of its target.
const CONTROL_TOL: f64 = 1e-4;

impl Scenario {
    /// Whether the steps are independent of each other (no unit with
    /// storage or heat state, no tap changer: Q(U) and P(U) settle within
    /// their step), so that blocks can run in any order on any thread. Each
    /// block of such a scenario starts from the initial voltages, so results
    /// do not depend on the thread count.
    pub fn steps_independent(&self) -> bool {
        self.units.iter().all(Unit::is_stateless)
            && self.controllers.iter().all(|c| c.oltc.is_none())
    }

    /// Whether the steps' power flows can be solved side by side in lanes
    /// and in any order: no unit's dispatch reads the network (units with
    /// state are then dispatched in order first, see [`Dispatch`]: a unit
    /// dispatches from its own state and the step's loads and availabilities,
    /// before the curves move anything), and no tap changer (Q(U)/P(U)
    /// curves settle inside each lane's solve). Voltage-dependent network
    /// loads are in: constant impedance is part of Ybus, constant current
    /// a term of the fixed point's right-hand side.
    pub fn runs_in_lanes(&self) -> bool {
        self.controllers.iter().all(|c| c.spec.is_inverter_curve())
            && !self.units.iter().any(Unit::reads_network)
    }

    /// Whether tap changers keep the scenario from the lanes but its steps
    /// can still be solved ahead, [`LANES`] consecutive steps of a block in
    /// one batched solve from the step before: no unit reading the network
    /// (units with state are dispatched in order first, see [`Dispatch`]),
    /// every controller a tap changer or a Q(U)/P(U) curve. The tap changers then check the lanes' voltages in
    /// step order; a move solves that step again with the new ratio and the
    /// lanes after it are solved anew.
    pub fn runs_ahead(&self) -> bool {
        let controllers_ok =
            (self.controllers.iter()).all(|c| c.oltc.is_some() || c.spec.is_inverter_curve());
        self.controllers.iter().any(|c| c.oltc.is_some())
            && controllers_ok
            && !self.units.iter().any(Unit::reads_network)
    }

    /// The unit dispatch that solving in lanes or ahead needs: none where
    /// every unit is stateless (its availability is its output) or the
    /// steps run in order, computed in step order where units have state.
    fn lane_dispatch(&self, kept: RowsKept) -> Result<Option<Dispatch>> {
        let batched = self.runs_in_lanes() || self.runs_ahead();
        if !batched || self.units.iter().all(Unit::is_stateless) {
            return Ok(None);
        }
        Dispatch::compute(self, kept).map(Some)
    }

    /// Whether the network's own loads are booked and some draw
    /// voltage-dependent (constant-impedance or constant-current) power.
    pub fn books_voltage_dependent_loads(&self) -> bool {
        self.elements.is_empty() && self.network.has_voltage_dependent_loads()
    }

    /// The note for an element table that replaces network loads with
    /// constant-impedance or constant-current shares (the table has no
    /// such shares: its loads draw constant power); None otherwise.
    pub fn replaced_zip_loads_note(network: &Network, elements: &[Element]) -> Option<String> {
        let zip = network.loads.iter().filter(|l| l.is_voltage_dependent());
        let (n, p_mw) = zip.fold((0, 0.0), |(n, p), l| (n + 1, p + l.p_mw));
        (!elements.is_empty() && n > 0).then(|| {
            format!(
                "elements: the element table replaces the network's loads, {n} of which \
                 ({p_mw:.3} MW) have constant-impedance or constant-current shares (ZIP); \
                 the table's loads draw constant power"
            )
        })
    }

    /// Steps per result block: [`MAX_BLOCK_STEPS`], fewer for a short run
    /// (at least [`MIN_BLOCKS`] blocks of at least [`MIN_SPLIT_STEPS`]
    /// steps: a week of 15-minute steps gets 8 blocks of 84), and no more
    /// than keep a block's per-element rows — the series of the buses,
    /// branches and units and the load columns recorded — within
    /// [`BLOCK_VALUES`] on a large grid (the synthetic 10,000-bus feeder
    /// with its element table: 32 steps; 100,000 buses: 3); then evened out
    /// so that the blocks fill whole groups of [`LANES`] where that keeps
    /// them at least [`MIN_SPLIT_STEPS`] long (or as long as memory
    /// allows): the last group of a scenario in lanes otherwise runs as
    /// long as the others with lanes idle (that feeder's week: 24 blocks of
    /// 28 steps, six full groups, three per thread on two). Depends on the
    /// scenario only, so results (each block of a scenario in lanes starts
    /// from the initial voltages) do not depend on threads or precision.
    pub fn block_steps(&self) -> usize {
        let net = &self.network;
        // The load columns recorded (an element table replaces the
        // network's own loads).
        let loads = self.load_count();
        let per_step =
            4 * net.buses.len() + 7 * net.branches.len() + 11 * self.units.len() + 2 * loads + 16;
        let by_memory = (BLOCK_VALUES / per_step).max(1);
        let by_threads = self.n_steps.div_ceil(MIN_BLOCKS).max(MIN_SPLIT_STEPS);
        let steps = by_memory.min(by_threads).min(MAX_BLOCK_STEPS);
        let whole_groups = self.n_steps.div_ceil(steps).next_multiple_of(LANES);
        let even = self.n_steps.div_ceil(whole_groups).max(1);
        match even >= MIN_SPLIT_STEPS.min(steps) {
            true => even,
            false => steps,
        }
    }

    /// Number of result blocks.
    pub fn n_blocks(&self) -> usize {
        self.n_steps.div_ceil(self.block_steps())
    }

    fn validate(&self) -> Result<()> {
        if self.n_steps == 0 {
            return Err(Error::Usage(format!(
                "scenario '{}': the number of steps must be at least 1",
                self.name
            )));
        }
        if self.n_steps > self.profiles.n_steps && !self.elements.is_empty() {
            return Err(Error::Usage(format!(
                "scenario '{}': {} steps requested but the profiles have only {} rows",
                self.name, self.n_steps, self.profiles.n_steps
            )));
        }
        Ok(())
    }
}

/// Runs `sc`, handing each block of results (the per-element rows
/// `rows` keeps) to `emit` in step order: in lanes where the scenario
/// [`Scenario::runs_in_lanes`], solved ahead where it
/// [`Scenario::runs_ahead`], else step by step.
pub fn run_scenario(
    sc: &Scenario,
    rows: impl Into<RowsKept>,
    emit: impl FnMut(&Block) -> Result<()>,
) -> Result<RunSummary> {
    run_scenario_as(sc, rows.into(), true, &|_| false, emit)
}

/// [`run_scenario`] that stops after the first block (or group of blocks
/// in lanes) at whose end `stop` holds for the summary so far: a run that
/// only asks whether something ever happens (a hosting-capacity probe)
/// ends at the first group where it does. The summary covers the steps
/// run (`steps` says how many); the KPIs are finished over them.
pub fn run_scenario_until(
    sc: &Scenario,
    rows: impl Into<RowsKept>,
    stop: &dyn Fn(&RunSummary) -> bool,
    emit: impl FnMut(&Block) -> Result<()>,
) -> Result<RunSummary> {
    run_scenario_as(sc, rows.into(), true, stop, emit)
}

/// [`run_scenario`] with every step in order, each power flow warm-started
/// from the step before and the units dispatched as the steps go: the path
/// of scenarios that cannot run in lanes, and the reference the lanes are
/// tested against.
pub fn run_scenario_in_order(
    sc: &Scenario,
    rows: impl Into<RowsKept>,
    emit: impl FnMut(&Block) -> Result<()>,
) -> Result<RunSummary> {
    run_scenario_as(sc, rows.into(), false, &|_| false, emit)
}

fn run_scenario_as(
    sc: &Scenario,
    kept: RowsKept,
    fast: bool,
    stop: &dyn Fn(&RunSummary) -> bool,
    mut emit: impl FnMut(&Block) -> Result<()>,
) -> Result<RunSummary> {
    sc.validate()?;
    let lanes = fast && sc.runs_in_lanes();
    let dispatch = match fast {
        true => sc.lane_dispatch(kept)?,
        false => None,
    };
    let mut engine = Engine::new(sc, kept, dispatch.as_ref())?;
    let mut total = RunSummary::new();
    let mut blocks: Vec<Block> = (0..LANES).map(|_| Block::default()).collect();
    if lanes {
        let all: Vec<usize> = (0..sc.n_blocks()).collect();
        for group in all.chunks(LANES) {
            let sums = engine.run_blocks_lanes(group, &mut blocks)?;
            for (l, s) in sums.iter().enumerate() {
                emit(&blocks[l])?;
                total.add(s);
            }
            if stop(&total) {
                break;
            }
        }
    } else {
        for b in 0..sc.n_blocks() {
            let s = engine.run_block(b, &mut blocks[0], fast)?;
            emit(&blocks[0])?;
            total.add(&s);
            if stop(&total) {
                break;
            }
        }
    }
    total.kpis.finish();
    Ok(total)
}

/// One scenario's per-step machinery, built once and reused for every
/// step: the math model, the solver, and all work buffers.
struct Engine<'a> {
    sc: &'a Scenario,
    /// The units' outputs of every step, computed in order, where the
    /// lanes run a scenario whose units have state.
    dispatch: Option<&'a Dispatch>,
    /// Steps per result block ([`Scenario::block_steps`]).
    block_steps: usize,
    /// The per-element rows recorded, and their precision.
    kept: RowsKept,
    net: std::borrow::Cow<'a, Network>,
    /// Tap positions, and the network copy whose ratios the OLTCs change.
    taps: Taps,
    math: MathModel,
    solver: HybridSolver,
    units: Vec<Unit>,
    controllers: Vec<Controller>,
    /// Fixed network generators (bus, MW, Mvar).
    gens_fixed: Vec<(usize, f64, f64)>,
    /// File P of the first in-service generator at each REF bus, file Q of all there.
    slack_file: Complex64,
    /// Non-slack network generation, MW.
    p_gen_network: f64,
    /// Network loads (used when the scenario has no elements).
    fixed_loads: Vec<(usize, f64, f64)>,
    /// Whether the network's voltage-dependent loads are booked
    /// ([`Scenario::books_voltage_dependent_loads`], which scans the loads).
    zip_loads: bool,
    loads: Vec<(usize, f64, f64)>,
    gens: Vec<(usize, f64, f64)>,
    bus_net: Vec<f64>,
    outputs: Vec<UnitOutput>,
    avail: Vec<f64>,
    v0: Vec<Complex64>,
    v: Vec<Complex64>,
    /// Voltage-derived results of a step (|V|, angles, branch flows).
    results: ResultKernel,
    limits: Vec<(f64, f64)>,
    /// Profile columns the elements use (stateless scenarios), and the
    /// values of the lanes' blocks, step-major and lane-interleaved:
    /// `lane_rows[k·(columns + 1) + j][l]`, the last column 1.0 (for values
    /// without a profile).
    elem_cols: Vec<usize>,
    lane_rows: Vec<[f64; LANES]>,
    /// Per element, the positions of its P and Q factors in a row.
    elem_pos: Vec<(usize, usize)>,
    /// Voltages and specified injections of the lanes of a batched solve.
    lane_v: LaneVec,
    lane_s: LaneVec,
    /// Voltage-derived results of all lanes of a batched step.
    lane_results: LaneResults,
    /// Bus booking of all lanes of a batched step.
    lane_booking: LaneBooking,
    /// Per lane, the units' state under Q(U)/P(U) curves of a batched step.
    lane_units: Vec<LaneUnits>,
    /// Injections of the fixed network loads and generators, p.u. (steps
    /// without units start from these).
    s_fixed: Vec<Complex64>,
    /// Per unit, the previous P(U) iterate of this step (P, mismatch).
    pu_prev: Vec<Option<(f64, f64)>>,
}

/// Bus booking of the lanes of a batched step (what `record` computes bus
/// by bus for one step, for all lanes at once, in the same order).
#[derive(Debug, Clone, Default)]
struct LaneBooking {
    /// Booked injection per bus, MW and Mvar.
    p: Vec<[f64; LANES]>,
    q: Vec<[f64; LANES]>,
    /// Σ booked P (losses), MW.
    loss: [f64; LANES],
    /// Slack power, MW + j Mvar.
    slack: [Complex64; LANES],
    /// Extremes of |V| over the connected buses (from +inf / −inf).
    vm_min: [f64; LANES],
    vm_max: [f64; LANES],
    /// Connected buses outside their voltage band.
    n_viol: [u32; LANES],
    /// Connected buses above their voltage band.
    n_over: [u32; LANES],
    /// MW the network's voltage-dependent loads draw (where booked).
    zip_load_mw: [f64; LANES],
}

/// One lane's units under Q(U)/P(U) curves in a batched step: what
/// [`InverterCurves`] moves (outputs, generator entries, the P(U) secant)
/// and the availability it moves from.
#[derive(Debug, Clone, Default)]
struct LaneUnits {
    outputs: Vec<UnitOutput>,
    avail: Vec<f64>,
    gens: Vec<(usize, f64, f64)>,
    pu_prev: Vec<Option<(f64, f64)>>,
}

/// The profile columns the element table uses, in first-use order, and
/// per element the positions of its P and Q columns among them (a
/// constant points one past the last). A map, not a search: with one
/// profile per customer the columns are as many as the elements.
fn element_columns(elements: &[Element]) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut cols: Vec<usize> = Vec::new();
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut pos_of = |c: Option<usize>| {
        c.map(|c| {
            *seen.entry(c).or_insert_with(|| {
                cols.push(c);
                cols.len() - 1
            })
        })
    };
    let raw: Vec<(Option<usize>, Option<usize>)> = elements
        .iter()
        .map(|e| (pos_of(e.p_col), pos_of(e.q_col)))
        .collect();
    let ones = cols.len();
    let pos = raw
        .into_iter()
        .map(|(p, q)| (p.unwrap_or(ones), q.unwrap_or(ones)))
        .collect();
    (cols, pos)
}

/// Injection totals of a step, MW.
#[derive(Debug, Clone, Copy)]
struct StepTotals {
    p_load: f64,
    p_gen: f64,
    p_renewable: f64,
    p_storage: f64,
    /// Index in `gens` of the first unit.
    unit_gen_start: usize,
}

impl<'a> Engine<'a> {
    fn new(sc: &'a Scenario, kept: RowsKept, dispatch: Option<&'a Dispatch>) -> Result<Engine<'a>> {
        // The network's own loads keep their ZIP shares when the scenario
        // books them (constant impedance in Ybus, constant current in the
        // solve, both booked at the solved voltage); an element table
        // replaces them, so their shares must not reach Ybus.
        let net: std::borrow::Cow<'a, Network> =
            if !sc.elements.is_empty() && sc.network.has_voltage_dependent_loads() {
                let mut n = (*sc.network).clone();
                for l in &mut n.loads {
                    l.z_share = 0.0;
                    l.i_share = 0.0;
                }
                std::borrow::Cow::Owned(n)
            } else {
                std::borrow::Cow::Borrowed(&*sc.network)
            };
        // A private copy only when a tap changer will modify branch ratios.
        let net_local = if sc.controllers.iter().any(|c| c.oltc.is_some()) {
            Some((*net).clone())
        } else {
            None
        };
        let math = MathModel::build(&net)?;
        let solver = HybridSolver::new(&math.ybus, &math.bus_type)?;
        let nb = net.buses.len();
        let nu = sc.units.len();
        let gens_fixed: Vec<(usize, f64, f64)> = net
            .generators
            .iter()
            .filter(|g| g.in_service && math.bus_type[g.bus] != BusType::Isolated)
            .map(|g| (g.bus, g.p_mw, g.q_mvar))
            .collect();
        let mut slack_file = Complex64::new(0.0, 0.0);
        let mut p_gen_network = 0.0;
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
        // Their constant-power part (the rest is voltage-dependent).
        let fixed_loads: Vec<(usize, f64, f64)> = if sc.elements.is_empty() {
            net.loads
                .iter()
                .map(|l| {
                    let share = 1.0 - l.z_share - l.i_share;
                    (l.bus, l.p_mw * share, l.q_mvar * share)
                })
                .collect()
        } else {
            Vec::new()
        };
        let loads =
            Vec::with_capacity(fixed_loads.len() + sc.elements.len() + sc.synthetic_loads.len());
        let gens = Vec::with_capacity(gens_fixed.len() + sc.elements.len() + nu);
        let v0 = math.v_init.clone();
        let results = ResultKernel::new(&math, &net, &v0);
        let mut s_fixed = vec![Complex64::new(0.0, 0.0); nb];
        let inv_base = 1.0 / math.base_mva;
        for &(bus, p, q) in &gens_fixed {
            s_fixed[bus] += Complex64::new(p, q) * inv_base;
        }
        for &(bus, p, q) in &fixed_loads {
            if math.bus_type[bus] != BusType::Isolated {
                s_fixed[bus] -= Complex64::new(p, q) * inv_base;
            }
        }
        let (elem_cols, elem_pos) = element_columns(&sc.elements);
        let limits = match &sc.bus_v_limits {
            Some(l) => l.clone(),
            None => vec![sc.v_limits; nb],
        };
        Ok(Engine {
            sc,
            dispatch,
            block_steps: sc.block_steps(),
            kept,
            taps: Taps {
                net_local,
                col: tap_columns(&net),
                pos: initial_taps(&net, &sc.controllers),
            },
            solver,
            units: sc.units.clone(),
            controllers: sc.controllers.clone(),
            gens_fixed,
            slack_file,
            zip_loads: sc.books_voltage_dependent_loads(),
            p_gen_network,
            fixed_loads,
            loads,
            gens,
            bus_net: vec![0.0; nb],
            outputs: vec![UnitOutput::default(); nu],
            avail: vec![0.0; nu],
            v: v0.clone(),
            v0,
            results,
            limits,
            elem_cols,
            lane_rows: Vec::new(),
            elem_pos,
            lane_v: LaneVec::default(),
            lane_s: LaneVec::default(),
            lane_results: LaneResults::default(),
            lane_booking: LaneBooking::default(),
            lane_units: vec![LaneUnits::default(); LANES],
            s_fixed,
            pu_prev: vec![None; nu],
            math,
            net,
        })
    }

    /// Runs block `b` into `block` (solving ahead where the scenario
    /// [`Scenario::runs_ahead`] and `ahead`, else step by step); returns its
    /// counts and KPI sums.
    fn run_block(&mut self, b: usize, block: &mut Block, ahead: bool) -> Result<RunSummary> {
        if ahead && self.sc.runs_ahead() {
            return self.run_block_ahead(b, block);
        }
        let t0 = b * self.block_steps;
        let t1 = (t0 + self.block_steps).min(self.sc.n_steps);
        block.clear(t0, self.kept);
        block.reserve(
            t1 - t0,
            self.v0.len(),
            self.math.branches.len(),
            self.units.len(),
        );
        if self.sc.steps_independent() {
            self.v.copy_from_slice(&self.v0);
        }
        let fallbacks = self.solver.newton_fallbacks;
        let mut summary = RunSummary::new();
        for t in t0..t1 {
            self.step(t, block, &mut summary)?;
        }
        block.fill_loads(self.sc);
        summary.newton_fallbacks = self.solver.newton_fallbacks - fallbacks;
        Ok(summary)
    }

    /// Runs block `b` of a scenario that [`Scenario::runs_ahead`]: groups
    /// of [`LANES`] consecutive steps solved in one batched solve from the
    /// voltages of the step before, then taken in step order; where a tap
    /// changer moves on a lane's voltages, that step is solved again with
    /// the new ratio (as a step-by-step run does after a move) and the next
    /// group starts after it.
    fn run_block_ahead(&mut self, b: usize, block: &mut Block) -> Result<RunSummary> {
        let t0 = b * self.block_steps;
        let t1 = (t0 + self.block_steps).min(self.sc.n_steps);
        let (nb, nbr) = (self.v0.len(), self.math.branches.len());
        block.clear(t0, self.kept);
        block.reserve(t1 - t0, nb, nbr, self.units.len());
        self.lane_s = LaneVec::splat(&self.s_fixed);
        self.lane_results.resize(nb, nbr, self.kept.branch);
        let fallbacks = self.solver.newton_fallbacks;
        let mut summary = RunSummary::new();
        let mut t = t0;
        while t < t1 {
            t = self.solve_ahead(t, t1, block, &mut summary)?;
        }
        block.fill_loads(self.sc);
        summary.newton_fallbacks = self.solver.newton_fallbacks - fallbacks;
        Ok(summary)
    }

    /// Steps `t..` (at most [`LANES`], before `t1`) solved side by side from
    /// the voltages of step `t - 1` and taken in order up to the first tap
    /// move; returns the next step to solve.
    fn solve_ahead(
        &mut self,
        t: usize,
        t1: usize,
        block: &mut Block,
        summary: &mut RunSummary,
    ) -> Result<usize> {
        let a = LANES.min(t1 - t);
        let ts: [usize; LANES] = std::array::from_fn(|l| t + l.min(a - 1));
        let m = self.elem_cols.len() + 1;
        self.lane_rows.clear();
        self.lane_rows.resize(m, [1.0; LANES]);
        for (j, &c) in self.elem_cols.iter().enumerate() {
            self.lane_rows[j] = ts.map(|t| self.sc.profiles.value(c, t));
        }
        self.lane_v = LaneVec::splat(&self.v);
        let tots = self.stateless_injections(&ts, 0);
        let curves = self.controllers.iter().any(|c| c.spec.is_inverter_curve());
        let mut lane_sums = vec![RunSummary::new(); a];
        let results = match curves {
            true => self.solve_lanes_with_curves(&ts, a, &mut lane_sums)?,
            false => self.solver.solve_interleaved(
                &self.math.ybus,
                &self.lane_s,
                current_loads(self.zip_loads, &self.math),
                &mut self.lane_v,
                a,
                self.sc.newton,
            ),
        };
        self.results
            .lanes(self.math.base_mva, &self.lane_v, &mut self.lane_results);
        self.book_lanes();
        // (Newton fallbacks are counted by the solver; see `run_block_ahead`.)
        for (l, (res, _)) in results.into_iter().enumerate().take(a) {
            let report = step_report(res, self.sc.newton.max_iter)?;
            summary.iterations += report.iterations as u64;
            summary.control_not_settled += lane_sums[l].control_not_settled;
            self.lane_outputs(l, ts[l], curves);
            // The tap changers see the settled voltages, as in `power_flow`.
            let moves = match report.converged && lane_sums[l].control_not_settled == 0 {
                true => {
                    let lane_v = &self.lane_v;
                    let vm = |i: usize| lane_v.get(i, l).norm();
                    (self.taps).check(
                        &mut self.controllers,
                        &vm,
                        &mut self.math,
                        &mut self.solver,
                        &mut self.results,
                    )
                }
                false => 0,
            };
            if moves > 0 {
                summary.tap_changes += moves;
                (0..self.v.len()).for_each(|i| self.v[i] = self.lane_v.get(i, l));
                let tot = self.prepare(ts[l]);
                let report = self.power_flow(&tot, summary, false)?;
                self.record(ts[l], report, tot, None, block, summary)?;
                return Ok(ts[l] + 1);
            }
            append_lane_row(block, l, &self.lane_results, &self.lane_booking);
            self.record(ts[l], report, tots[l], Some(l), block, summary)?;
            (0..self.v.len()).for_each(|i| self.v[i] = self.lane_v.get(i, l));
        }
        Ok(t + a)
    }

    /// Runs up to [`LANES`] blocks of a scenario whose steps are
    /// independent side by side: step k of every block is solved in one
    /// batched fixed-point solve. Each block's results equal those of
    /// [`Self::run_block`] bit for bit.
    fn run_blocks_lanes(&mut self, blocks: &[usize], out: &mut [Block]) -> Result<Vec<RunSummary>> {
        debug_assert!(self.sc.runs_in_lanes() && blocks.len() <= LANES);
        let a = blocks.len();
        let nb = self.v0.len();
        // Every lane starts from the initial voltages.
        self.lane_v = LaneVec::splat(&self.v0);
        self.lane_s = LaneVec::splat(&self.s_fixed);
        let nbr = self.math.branches.len();
        self.lane_results.resize(nb, nbr, self.kept.branch);
        let bs = self.block_steps;
        self.fill_lane_rows(blocks);
        for l in 0..a {
            let t0 = blocks[l] * bs;
            out[l].clear(t0, self.kept);
            out[l].reserve((self.sc.n_steps - t0).min(bs), nb, nbr, 0);
        }
        let mut summaries = vec![RunSummary::new(); a];
        for k in 0..bs {
            // Active lanes are a prefix: every block but the last is full.
            let n_act = blocks
                .iter()
                .take_while(|&&b| b * bs + k < self.sc.n_steps)
                .count();
            if n_act == 0 {
                break;
            }
            let ts: [usize; LANES] = std::array::from_fn(|l| blocks[l.min(n_act - 1)] * bs + k);
            let tots = self.stateless_injections(&ts, k);
            let results = match self.controllers.is_empty() {
                true => self.solver.solve_interleaved(
                    &self.math.ybus,
                    &self.lane_s,
                    current_loads(self.zip_loads, &self.math),
                    &mut self.lane_v,
                    n_act,
                    self.sc.newton,
                ),
                false => self.solve_lanes_with_curves(&ts, n_act, &mut summaries)?,
            };
            // Voltage-derived results of all lanes in one pass.
            self.results
                .lanes(self.math.base_mva, &self.lane_v, &mut self.lane_results);
            self.book_lanes();
            append_lane_rows(out, n_act, &self.lane_results, &self.lane_booking);
            for (l, (res, fell_back)) in results.into_iter().enumerate().take(n_act) {
                let report = step_report(res, self.sc.newton.max_iter)?;
                let t = blocks[l] * bs + k;
                self.lane_outputs(l, t, !self.controllers.is_empty());
                let sm = &mut summaries[l];
                sm.iterations += report.iterations as u64;
                sm.newton_fallbacks += fell_back as u64;
                self.record(t, report, tots[l], Some(l), &mut out[l], sm)?;
            }
        }
        for block in out.iter_mut().take(a) {
            block.fill_loads(self.sc);
        }
        Ok(summaries)
    }

    /// The element table's profile values of `blocks` (one per lane) into
    /// `lane_rows`, step by step. Lanes and steps without a block keep 1.0
    /// (finite, never used). Columns go in tiles of [`COLUMN_TILE`]: step k of
    /// a tile's columns is one stretch of `lane_rows` while each column is
    /// read in order — column by column, every value would land in another
    /// page (a row is 20,000 columns with a profile per customer).
    fn fill_lane_rows(&mut self, blocks: &[usize]) {
        let m = self.elem_cols.len() + 1;
        let bs = self.block_steps;
        self.lane_rows.clear();
        self.lane_rows.resize(bs * m, [1.0; LANES]);
        for j0 in (0..m - 1).step_by(COLUMN_TILE) {
            let tile = &self.elem_cols[j0..(j0 + COLUMN_TILE).min(m - 1)];
            for (l, &b) in blocks.iter().enumerate() {
                let t0 = b * bs;
                let t1 = (t0 + bs).min(self.sc.n_steps);
                let cols: Vec<&[f64]> = tile
                    .iter()
                    .map(|&c| &self.sc.profiles.series(c)[t0..t1])
                    .collect();
                for k in 0..t1 - t0 {
                    let row = &mut self.lane_rows[k * m + j0..k * m + j0 + tile.len()];
                    for (r, col) in row.iter_mut().zip(&cols) {
                        r[l] = col[k];
                    }
                }
            }
        }
    }

    /// The units' outputs of lane `l` (step `t`) for `record`: as the
    /// lane's Q(U)/P(U) curves left them (`curves`), else their dispatch.
    fn lane_outputs(&mut self, l: usize, t: usize, curves: bool) {
        if curves {
            self.outputs.copy_from_slice(&self.lane_units[l].outputs);
            return;
        }
        for (ku, o) in self.outputs.iter_mut().enumerate() {
            *o = unit_output(self.dispatch, &self.sc.units[ku], ku, t);
        }
    }

    /// The batched solve of steps `ts` (the first `a` lanes) whose PV units
    /// follow Q(U)/P(U) curves: each lane's units start at their dispatch
    /// (PV: its availability) and settle inside the fixed point; a lane that stalls
    /// is solved like a step by step run (`prepare`, then `power_flow`: the
    /// plain fixed point or Newton with the controllers' own loop) from its
    /// voltages. Each lane's outputs are left in `lane_units`, its solved
    /// injections in `lane_s`.
    fn solve_lanes_with_curves(
        &mut self,
        ts: &[usize; LANES],
        a: usize,
        summaries: &mut [RunSummary],
    ) -> Result<[(Option<Result<SolveReport>>, bool); LANES]> {
        for (l, lu) in self.lane_units.iter_mut().enumerate().take(a) {
            lu.outputs.clear();
            lu.outputs.extend(
                (self.sc.units.iter().enumerate())
                    .map(|(k, u)| unit_output(self.dispatch, u, k, ts[l])),
            );
            lu.avail.clear();
            lu.avail.extend(lu.outputs.iter().map(|o| o.p_mw));
            lu.gens.clear();
            lu.gens.extend(
                (self.units.iter().zip(&lu.outputs)).map(|(u, o)| (u.bus, o.p_mw, o.q_mvar)),
            );
            lu.pu_prev.clear();
            lu.pu_prev.resize(self.units.len(), None);
        }
        let base_mva = self.math.base_mva;
        let (controllers, units) = (&self.controllers, &self.units);
        let mut curves: Vec<InverterCurves> = (self.lane_units.iter_mut().take(a))
            .map(|lu| InverterCurves {
                controllers,
                units,
                outputs: &mut lu.outputs,
                avail: &lu.avail,
                unit_gens: &mut lu.gens,
                pu_prev: &mut lu.pu_prev,
                base_mva,
            })
            .collect();
        let mut responses: Vec<&mut dyn crate::solver::VoltageResponse> = curves
            .iter_mut()
            .map(|c| c as &mut dyn crate::solver::VoltageResponse)
            .collect();
        let settled = self.solver.solve_interleaved_responsive(
            &mut self.lane_s,
            current_loads(self.zip_loads, &self.math),
            &mut self.lane_v,
            a,
            self.sc.newton,
            &mut responses,
        );
        drop(responses);
        drop(curves);
        let mut out: [(Option<Result<SolveReport>>, bool); LANES] = Default::default();
        for l in 0..a {
            if let Some(r) = settled[l] {
                out[l] = (Some(Ok(r)), false);
                continue;
            }
            // This lane step by step, from its own voltages.
            let nb = self.v.len();
            (0..nb).for_each(|i| self.v[i] = self.lane_v.get(i, l));
            let tot = self.prepare(ts[l]);
            let mut sm = RunSummary::new();
            let newton_before = self.solver.newton_fallbacks;
            // The tap changers check in step order (see `run_block_ahead`).
            let r = self.power_flow(&tot, &mut sm, false)?;
            summaries[l].control_not_settled += sm.control_not_settled;
            let report = SolveReport {
                iterations: sm.iterations as usize,
                ..r
            };
            self.lane_v.set_lane(l, &self.v);
            self.lane_s.set_lane(l, &self.math.s_spec);
            self.lane_units[l].outputs.copy_from_slice(&self.outputs);
            out[l] = (
                Some(Ok(report)),
                self.solver.newton_fallbacks > newton_before,
            );
        }
        Ok(out)
    }

    /// The bus part of `record` for every lane at once: booked injections
    /// (specified at PQ buses, solved elsewhere), losses, slack, |V|
    /// extremes and band violations, each lane in `record`'s order.
    /// Where the network's voltage-dependent loads are booked, what they
    /// draw at the solved voltage is taken off each bus's injection and
    /// summed per lane, in [`book_buses`]' arithmetic.
    fn book_lanes(&mut self) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                return unsafe { self.book_lanes_avx2() };
            }
        }
        self.book_lanes_impl()
    }

    /// [`Self::book_lanes`] compiled for AVX2 (no FMA: the same results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn book_lanes_avx2(&mut self) {
        self.book_lanes_impl()
    }

    #[inline(always)]
    fn book_lanes_impl(&mut self) {
        let zip = self.zip_loads;
        let (s_i, s_z) = (&self.math.s_load_i, &self.math.s_load_z);
        let nb = self.v0.len();
        let base = self.math.base_mva;
        let (s, v) = (&self.lane_s, &self.lane_v);
        let vm = &self.lane_results.vm;
        let bk = &mut self.lane_booking;
        bk.p.resize(nb, [0.0; LANES]);
        bk.q.resize(nb, [0.0; LANES]);
        bk.loss = [0.0; LANES];
        bk.slack = [self.slack_file; LANES];
        bk.vm_min = [f64::INFINITY; LANES];
        bk.vm_max = [f64::NEG_INFINITY; LANES];
        bk.n_viol = [0; LANES];
        bk.n_over = [0; LANES];
        bk.zip_load_mw = [0.0; LANES];
        let ybus = &self.math.ybus;
        let indptr = ybus.indptr();
        let indptr = indptr.raw_storage();
        let (idx, data) = (ybus.indices(), ybus.data());
        for i in 0..nb {
            let bt = self.math.bus_type[i];
            if bt == BusType::Pq && !zip {
                for q in 0..LANES {
                    bk.p[i][q] = s[i].re[q] * base;
                    bk.q[i][q] = s[i].im[q] * base;
                }
            } else {
                for l in 0..LANES {
                    let spec = s.get(i, l) * base;
                    let x = vm[i][l];
                    let (drawn_i, drawn_z) = (s_i[i] * (x * base), s_z[i] * (x * x * base));
                    bk.zip_load_mw[l] += drawn_i.re + drawn_z.re;
                    let booked = if bt == BusType::Pq {
                        spec - drawn_i - drawn_z
                    } else {
                        let mut acc = Complex64::new(0.0, 0.0);
                        for e in indptr[i]..indptr[i + 1] {
                            acc += data[e] * v.get(idx[e], l);
                        }
                        // Ybus holds the constant-impedance loads (as in `book_buses`).
                        let solved = v.get(i, l) * acc.conj() * base;
                        if bt == BusType::Ref {
                            bk.slack[l] += solved - spec + drawn_i;
                        }
                        match bt {
                            BusType::Pv => Complex64::new(
                                spec.re - drawn_i.re - drawn_z.re,
                                solved.im - drawn_z.im,
                            ),
                            _ => solved - drawn_z,
                        }
                    };
                    (bk.p[i][l], bk.q[i][l]) = (booked.re, booked.im);
                }
            }
            for q in 0..LANES {
                bk.loss[q] += bk.p[i][q];
            }
            if bt != BusType::Isolated {
                let (lo, hi) = self.limits[i];
                for q in 0..LANES {
                    let x = vm[i][q];
                    // Vector code (f64::min and max's NaN rule is not).
                    bk.vm_min[q] = smaller(bk.vm_min[q], x);
                    bk.vm_max[q] = larger(bk.vm_max[q], x);
                    bk.n_viol[q] += ((x < lo) | (x > hi)) as u32;
                    bk.n_over[q] += (x > hi) as u32;
                }
            }
        }
    }

    /// The specified injections (p.u.) of steps `ts` (step `k` of each
    /// lane's block; lanes without a step repeat the last active one) of a
    /// scenario without units into `lane_s`, and each step's totals: fixed
    /// network loads and generators, then profile elements, then synthetic
    /// loads, straight into the injection vectors (what `prepare` +
    /// `set_injections` do for the general case, without the intermediate
    /// lists), every lane with a single step's arithmetic.
    fn stateless_injections(&mut self, ts: &[usize; LANES], k: usize) -> [StepTotals; LANES] {
        let sc = self.sc;
        let bt = &self.math.bus_type;
        let inv_base = 1.0 / self.math.base_mva;
        let s = &mut self.lane_s;
        for (i, x) in self.s_fixed.iter().enumerate() {
            s[i].re = [x.re; LANES];
            s[i].im = [x.im; LANES];
        }
        let mut p_load = [self.fixed_loads.iter().map(|l| l.1).sum::<f64>(); LANES];
        let mut p_gen = [self.p_gen_network; LANES];
        let mut p_renewable = [0.0; LANES];
        let mut p_storage = [0.0; LANES];
        // Step k of each lane's block: the same products as `p_at`/`q_at`
        // (a constant is multiplied by 1.0, exactly).
        let m = self.elem_cols.len() + 1;
        let row = &self.lane_rows[k * m..(k + 1) * m];
        for (ie, (e, &(jp, jq))) in sc.elements.iter().zip(&self.elem_pos).enumerate() {
            // Elements lie anywhere among the buses: fetch ahead.
            if let Some(ahead) = sc.elements.get(ie + PREFETCH_AHEAD) {
                s.prefetch(ahead.bus);
            }
            let (fp, fq) = (row[jp], row[jq]);
            let p: [f64; LANES] = std::array::from_fn(|l| e.p_mw * fp[l]);
            let q: [f64; LANES] = std::array::from_fn(|l| e.q_mvar * fq[l]);
            // The injection −(p + jq) for loads and storage (which follows
            // the load convention, p > 0 charging), p + jq for generators.
            let sign = match e.kind {
                ElementKind::Load => {
                    (0..LANES).for_each(|l| p_load[l] += p[l]);
                    -1.0
                }
                ElementKind::Storage => {
                    (0..LANES).for_each(|l| p_storage[l] -= p[l]);
                    -1.0
                }
                ElementKind::Sgen => {
                    for l in 0..LANES {
                        p_gen[l] += p[l];
                        p_renewable[l] += p[l];
                    }
                    1.0
                }
            };
            if bt[e.bus] != BusType::Isolated {
                for l in 0..LANES {
                    // (±p)·(1/base): the sign flip is exact, as in `-Complex`.
                    s[e.bus].re[l] += (sign * p[l]) * inv_base;
                    s[e.bus].im[l] += (sign * q[l]) * inv_base;
                }
            }
        }
        for sl in &sc.synthetic_loads {
            for l in 0..LANES {
                let p = sl.p_mw[ts[l]];
                p_load[l] += p;
                if bt[sl.bus] != BusType::Isolated {
                    let x = Complex64::new(p, p * sl.tan_phi) * inv_base;
                    s[sl.bus].re[l] -= x.re;
                    s[sl.bus].im[l] -= x.im;
                }
            }
        }
        // Units inject their output (stateless ones: their availability;
        // their totals are added with their outputs in `record`, as in the
        // general case); a CCHP's backup chillers draw as a load.
        for (ku, u) in sc.units.iter().enumerate() {
            for l in 0..LANES {
                let o = unit_output(self.dispatch, u, ku, ts[l]);
                if bt[u.bus] != BusType::Isolated {
                    s[u.bus].re[l] += o.p_mw * inv_base;
                    s[u.bus].im[l] += o.q_mvar * inv_base;
                }
                if o.chiller_p_mw > 0.0 {
                    p_load[l] += o.chiller_p_mw;
                    if bt[o.chiller_bus] != BusType::Isolated {
                        let x = Complex64::new(o.chiller_p_mw, o.chiller_q_mvar) * inv_base;
                        s[o.chiller_bus].re[l] -= x.re;
                        s[o.chiller_bus].im[l] -= x.im;
                    }
                }
            }
        }
        std::array::from_fn(|l| StepTotals {
            p_load: p_load[l],
            p_gen: p_gen[l],
            p_renewable: p_renewable[l],
            p_storage: p_storage[l],
            unit_gen_start: 0,
        })
    }

    /// Step `t`: injections, power flow with controllers, results.
    fn step(&mut self, t: usize, block: &mut Block, summary: &mut RunSummary) -> Result<()> {
        let tot = self.prepare(t);
        let report = self.power_flow(&tot, summary, true)?;
        self.record(t, report, tot, None, block, summary)
    }

    /// Parts 1 and 2 of a step: loads, profile elements and unit dispatch
    /// (the engine's [`Dispatch`] where it has one) into `loads` and `gens`.
    fn prepare(&mut self, t: usize) -> StepTotals {
        let Engine {
            sc,
            units,
            gens_fixed,
            p_gen_network,
            fixed_loads,
            loads,
            gens,
            bus_net,
            outputs,
            avail,
            v,
            dispatch,
            ..
        } = self;
        let sc: &Scenario = sc;
        let dispatch: Option<&Dispatch> = *dispatch;
        let dt_h = sc.step_s as f64 / 3600.0;
        // 1. Loads and profile-driven elements.
        loads.clear();
        gens.clear();
        loads.extend_from_slice(fixed_loads);
        gens.extend_from_slice(gens_fixed);
        let mut p_load = fixed_loads.iter().map(|l| l.1).sum::<f64>();
        let mut p_gen = *p_gen_network;
        let mut p_renewable = 0.0;
        let mut p_storage = 0.0;
        bus_net.iter_mut().for_each(|x| *x = 0.0);
        for l in fixed_loads.iter() {
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
        // 2. Units: computed in order before (see `Dispatch`), else
        // generators first, then storage (which sees their output).
        let grid_net_pre: f64 = bus_net.iter().sum();
        if let Some(d) = dispatch {
            outputs.copy_from_slice(d.step(t));
            avail
                .iter_mut()
                .zip(outputs.iter())
                .for_each(|(a, o)| *a = o.p_mw);
        } else {
            for pass in 0..2 {
                for (k, u) in units.iter_mut().enumerate() {
                    let is_storage = u.technology == Technology::Storage;
                    if (pass == 0) == is_storage {
                        continue;
                    }
                    let grid_net = grid_net_pre - outputs_sum_gen(outputs, &sc.units, pass);
                    let ctx = StepContext {
                        grid_net_load_mw: grid_net,
                        dt_h,
                        bus_vm_pu: v[u.bus].norm(),
                    };
                    let o = u.dispatch(t, bus_net[u.bus], &ctx);
                    bus_net[u.bus] -= o.p_mw;
                    bus_net[o.chiller_bus] += o.chiller_p_mw;
                    outputs[k] = o;
                    avail[k] = o.p_mw;
                }
            }
        }
        let unit_gen_start = gens.len();
        for (k, u) in units.iter().enumerate() {
            gens.push((u.bus, outputs[k].p_mw, outputs[k].q_mvar));
        }
        // A CCHP unit's backup electric chillers draw at their site's bus.
        for o in outputs.iter().filter(|o| o.chiller_p_mw > 0.0) {
            loads.push((o.chiller_bus, o.chiller_p_mw, o.chiller_q_mvar));
            p_load += o.chiller_p_mw;
        }

        StepTotals {
            p_load,
            p_gen,
            p_renewable,
            p_storage,
            unit_gen_start,
        }
    }

    /// Part 3: power flow from `v` with the controllers settling; the tap
    /// changers check the settled voltages once if `check_taps` (a move
    /// solves again).
    fn power_flow(
        &mut self,
        tot: &StepTotals,
        summary: &mut RunSummary,
        check_taps: bool,
    ) -> Result<SolveReport> {
        let unit_gen_start = tot.unit_gen_start;
        let Engine {
            sc,
            taps,
            math,
            solver,
            units,
            controllers,
            loads,
            gens,
            outputs,
            avail,
            v,
            results,
            pu_prev,
            ..
        } = self;
        let sc: &Scenario = sc;
        let nu = units.len();
        // Q(U) and P(U) settle inside the fixed point where it applies (one
        // power flow instead of one per move); the loop below then only
        // confirms them, or moves them itself after a stall.
        let mut joint = controllers.iter().any(|c| c.spec.is_inverter_curve());
        // 3. Power flow with the controllers settling.
        let mut report;
        let mut oltc_done = !check_taps;
        let mut loops = 0;
        pu_prev.iter_mut().for_each(|x| *x = None);
        loop {
            loops += 1;
            math.set_injections(loads, gens);
            let mut curves = InverterCurves {
                controllers,
                units,
                outputs,
                avail,
                unit_gens: &mut gens[unit_gen_start..unit_gen_start + nu],
                pu_prev,
                base_mva: math.base_mva,
            };
            let settled = match joint {
                true => {
                    solver.solve_responsive(&math.s_spec, &math.s_load_i, v, sc.newton, &mut curves)
                }
                false => None,
            };
            if joint {
                // The secant of P(U) starts again from the moves made; the
                // injections as the curves left them (booked by `record`).
                pu_prev.iter_mut().for_each(|x| *x = None);
                math.set_injections(loads, gens);
                joint = settled.is_some();
            }
            let solved = match settled {
                Some(r) => Ok(r),
                None => solver.solve_with_current_loads(
                    &math.ybus,
                    &math.s_spec,
                    &math.s_load_i,
                    v,
                    sc.newton,
                ),
            };
            report = step_report(Some(solved), sc.newton.max_iter)?;
            summary.iterations += report.iterations as u64;
            if !report.converged || controllers.is_empty() {
                break;
            }
            if loops >= MAX_CONTROL_LOOPS {
                summary.control_not_settled += 1;
                break;
            }
            let mut curves = InverterCurves {
                controllers,
                units,
                outputs,
                avail,
                unit_gens: &mut gens[unit_gen_start..unit_gen_start + nu],
                pu_prev,
                base_mva: math.base_mva,
            };
            let mut changed = curves.step(&|b| v[b].norm(), &mut |_, _| {});
            if !changed && !oltc_done {
                oltc_done = true;
                let moves = taps.check(controllers, &|b| v[b].norm(), math, solver, results);
                summary.tap_changes += moves;
                changed = moves > 0;
            }
            if !changed {
                break;
            }
        }

        Ok(report)
    }

    /// Part 4: results of step `t` into `block` and KPIs into `summary`;
    /// `lane` selects a lane's voltages and injections instead of the
    /// engine's own.
    fn record(
        &mut self,
        t: usize,
        report: SolveReport,
        tot: StepTotals,
        lane: Option<usize>,
        block: &mut Block,
        summary: &mut RunSummary,
    ) -> Result<()> {
        let Engine {
            sc,
            net,
            math,
            units,
            slack_file,
            zip_loads,
            outputs,
            v0,
            v,
            results,
            limits,
            lane_v,
            lane_results,
            lane_booking,
            taps,
            ..
        } = self;
        let lr: &LaneResults = lane_results;
        let sc: &Scenario = sc;
        let net: &Network = net;
        let base = net.base_mva;
        let dt_h = sc.step_s as f64 / 3600.0;
        summary.steps += 1;
        block.n += 1;
        block.tap_pos.extend_from_slice(&taps.pos);
        block.converged.push(report.converged as u8);
        block.iterations.push(report.iterations as u32);
        block.max_mismatch_pu.push(report.max_mismatch_pu);
        let mut tot = unit_totals(units, outputs, tot);
        block.p_load_mw.push(tot.p_load);
        block.p_gen_mw.push(tot.p_gen);
        block.p_storage_mw.push(tot.p_storage);
        let co2_units = unit_rows(block, outputs, &sc.unit_accounting, dt_h);
        if !report.converged {
            summary.not_converged += 1;
            summary.kpis.steps_not_converged += 1.0;
            nan_rows(block, lane, net.buses.len(), net.branches.len());
            if *zip_loads {
                let n = net.loads.len();
                block.load_vm_pu.extend(std::iter::repeat_n(f64::NAN, n));
            }
            match lane {
                Some(l) => lane_v.set_lane(l, v0),
                None => v.copy_from_slice(v0),
            }
            return Ok(());
        }
        let k = &mut summary.kpis;
        let mut b = Booking {
            loss: 0.0,
            zip_load_mw: 0.0,
            slack: *slack_file,
            vm_min: k.min_vm_pu,
            vm_max: k.max_vm_pu,
            any_v_bad: false,
            any_v_high: false,
        };
        match lane {
            Some(l) => {
                // A lane's results and rows were computed and appended for
                // all lanes at once (`append_lane_rows`).
                let bk = &*lane_booking;
                b.loss = bk.loss[l];
                b.slack = bk.slack[l];
                b.vm_min = b.vm_min.min(bk.vm_min[l]);
                b.vm_max = b.vm_max.max(bk.vm_max[l]);
                b.any_v_bad = bk.n_viol[l] > 0;
                b.any_v_high = bk.n_over[l] > 0;
                for _ in 0..bk.n_viol[l] {
                    k.bus_hours_voltage_violation += dt_h;
                }
                if *zip_loads {
                    let vm = &lr.vm;
                    block
                        .load_vm_pu
                        .extend(net.loads.iter().map(|x| vm[x.bus][l]));
                    tot.p_load += bk.zip_load_mw[l];
                    if let Some(p) = block.p_load_mw.last_mut() {
                        *p += bk.zip_load_mw[l];
                    }
                }
            }
            None => {
                results.buses(v);
                block.vm_pu.extend_from_slice(&results.vm);
                block.va_degree.extend_from_slice(&results.va_deg);
                book_buses(math, v, &results.vm, limits, base, dt_h, block, k, &mut b);
                if *zip_loads {
                    let vm = &results.vm;
                    block.load_vm_pu.extend(net.loads.iter().map(|l| vm[l.bus]));
                    tot.p_load += b.zip_load_mw;
                    if let Some(p) = block.p_load_mw.last_mut() {
                        *p += b.zip_load_mw;
                    }
                }
            }
        }
        (k.min_vm_pu, k.max_vm_pu) = (b.vm_min, b.vm_max);
        block.p_slack_mw.push(b.slack.re);
        block.q_slack_mvar.push(b.slack.im);
        block.p_loss_mw.push(b.loss);
        let (max_loading, any_overload) = match lane {
            Some(l) => max_and_overload(lr.loading.iter().map(|x| x[l]), k.max_loading_percent),
            None => {
                results.branches(base);
                let o = &results.out;
                block.p_from_mw.extend_from_slice(&o.p_from);
                block.q_from_mvar.extend_from_slice(&o.q_from);
                block.p_to_mw.extend_from_slice(&o.p_to);
                block.q_to_mvar.extend_from_slice(&o.q_to);
                block.i_ka.extend_from_slice(&o.i_ka);
                block.loading_percent.extend_from_slice(&o.loading);
                max_and_overload(o.loading.iter().copied(), k.max_loading_percent)
            }
        };
        k.max_loading_percent = max_loading;
        let co2_grid = book_grid_exchange(k, sc, t, b.slack.re, dt_h);
        let co2_heat = book_heat_sites(k, &sc.heat_sites, &sc.synthetic_loads, t, dt_h);
        book_cooling_sites(k, &sc.cooling_sites, &sc.synthetic_loads, t, dt_h);
        block.co2_t.push(co2_grid + co2_units + co2_heat);
        add_step_kpis(k, &tot, &b, any_overload, dt_h);
        add_unit_kpis(k, sc, units, outputs, dt_h);
        Ok(())
    }
}

/// The outputs of a scenario's units at every step, dispatched in step
/// order without power flows: what the lanes and the steps solved ahead
/// inject where units have state (CHP heat buffers, storage) but none reads
/// the network ([`Scenario::runs_in_lanes`], [`Scenario::runs_ahead`]).
/// Step-major, `units` per step.
#[derive(Debug, Clone)]
pub struct Dispatch {
    units: usize,
    outputs: Vec<UnitOutput>,
}

impl Dispatch {
    /// Runs every step's loads and unit dispatch (parts 1 and 2 of a step)
    /// in order.
    fn compute(sc: &Scenario, kept: RowsKept) -> Result<Dispatch> {
        let mut engine = Engine::new(sc, kept, None)?;
        let units = sc.units.len();
        let mut outputs = Vec::with_capacity(sc.n_steps * units);
        for t in 0..sc.n_steps {
            engine.prepare(t);
            outputs.extend_from_slice(&engine.outputs);
        }
        Ok(Dispatch { units, outputs })
    }

    /// The outputs of every unit at step `t`.
    fn step(&self, t: usize) -> &[UnitOutput] {
        &self.outputs[t * self.units..(t + 1) * self.units]
    }
}

/// Unit `k`'s output at step `t`: from the dispatch where there is one,
/// else its availability (stateless units inject all of it).
fn unit_output(dispatch: Option<&Dispatch>, u: &Unit, k: usize, t: usize) -> UnitOutput {
    match dispatch {
        Some(d) => d.step(t)[k],
        None => UnitOutput {
            p_mw: u.available_mw(t),
            ..Default::default()
        },
    }
}

/// One P(U) update of a unit at output `p` (of `avail`) whose bus is at
/// `v`: a secant step on g(P) = P − curve(V(P)) = 0, the unit's previous
/// iterate of this step giving the slope (at least 1: g rises with P, since
/// the voltage rises with P and the curve falls with the voltage), a
/// damped fixed-point step on the first iterate. None when the unit is
/// within 5e-5 of its available power of the curve (settled).
fn pu_step(
    p: f64,
    v: f64,
    avail: f64,
    curve: impl Fn(f64) -> f64,
    prev: &mut Option<(f64, f64)>,
) -> Option<f64> {
    let g = p - curve(v);
    if g.abs() <= PU_TOL * avail + 1e-12 {
        return None;
    }
    let slope = match *prev {
        Some((p0, g0)) if (p - p0).abs() > 1e-15 => ((g - g0) / (p - p0)).max(1.0),
        _ => 1.0 / 0.7,
    };
    *prev = Some((p, g));
    Some((p - g / slope).clamp(0.0, avail))
}

/// P(U) is settled when each unit is this close to its curve, as a share of
/// its available power.
const PU_TOL: f64 = 5e-5;

/// The Q(U) and P(U) controllers of a step with the set-points they move:
/// the units' outputs and their entries in the step's generator list.
struct InverterCurves<'e> {
    controllers: &'e [Controller],
    units: &'e [Unit],
    outputs: &'e mut [UnitOutput],
    /// Available power per unit, MW.
    avail: &'e [f64],
    /// The units' (bus, MW, Mvar) generator entries, unit order.
    unit_gens: &'e mut [(usize, f64, f64)],
    /// Per unit, the previous P(U) iterate of this step.
    pu_prev: &'e mut [Option<(f64, f64)>],
    base_mva: f64,
}

impl InverterCurves<'_> {
    /// One move of every controlled unit outside its tolerance toward its
    /// curve at the bus voltages `vm`: Q(U) a damped step, P(U) a secant
    /// step ([`pu_step`]); each change goes to `shift` in p.u. Whether any
    /// unit moved.
    fn step(&mut self, vm: &dyn Fn(usize) -> f64, shift: &mut dyn FnMut(usize, Complex64)) -> bool {
        let mut changed = false;
        for c in self.controllers {
            match &c.spec {
                ControllerSpec::PvQu {
                    v1_pu,
                    v2_pu,
                    v3_pu,
                    v4_pu,
                    q_max_fraction,
                    at_night,
                    ..
                } => {
                    for &k in &c.units {
                        let s = self.units[k].inverter_mva().unwrap_or(0.0);
                        let (p, q) = (self.outputs[k].p_mw, self.outputs[k].q_mvar);
                        let q_lim = match p <= 0.0 && !*at_night {
                            true => 0.0,
                            false => (q_max_fraction * s).min((s * s - p * p).max(0.0).sqrt()),
                        };
                        let bus = self.units[k].bus;
                        let target = qu_fraction(vm(bus), *v1_pu, *v2_pu, *v3_pu, *v4_pu) * q_lim;
                        if (target - q).abs() <= CONTROL_TOL * s.max(1e-9) {
                            continue;
                        }
                        changed = true;
                        let q_new = q + 0.7 * (target - q);
                        self.outputs[k].q_mvar = q_new;
                        self.unit_gens[k].2 = q_new;
                        shift(bus, Complex64::new(0.0, (q_new - q) / self.base_mva));
                    }
                }
                ControllerSpec::PvPu {
                    v_start_pu,
                    v_end_pu,
                    ..
                } => {
                    for &k in &c.units {
                        let (bus, avail, p) =
                            (self.units[k].bus, self.avail[k], self.outputs[k].p_mw);
                        let curve = |v: f64| avail * pu_fraction(v, *v_start_pu, *v_end_pu);
                        let Some(p_new) = pu_step(p, vm(bus), avail, curve, &mut self.pu_prev[k])
                        else {
                            continue;
                        };
                        changed = true;
                        self.outputs[k].p_mw = p_new;
                        self.outputs[k].curtailed_mw = avail - p_new;
                        self.unit_gens[k].1 = p_new;
                        shift(bus, Complex64::new((p_new - p) / self.base_mva, 0.0));
                    }
                }
                ControllerSpec::Oltc { .. } => {}
            }
        }
        changed
    }
}

impl crate::solver::VoltageResponse for InverterCurves<'_> {
    fn respond(
        &mut self,
        vm: &dyn Fn(usize) -> f64,
        shift: &mut dyn FnMut(usize, Complex64),
    ) -> bool {
        self.step(vm, shift)
    }
}

/// The tap positions of a scenario's transformers and regulators, and
/// the private network copy whose ratios its tap changers move.
struct Taps {
    /// A copy of the network (only where a tap changer acts).
    net_local: Option<Network>,
    /// Current position of every transformer and regulator.
    pos: Vec<f64>,
    /// Per branch, its index in `pos` (None for lines).
    col: Vec<Option<usize>>,
}

impl Taps {
    /// One check of every tap changer at the solved |V| of `vm` (their
    /// delay counters advance): the moved ones set their new ratio in the
    /// copy, the math model, the solver's factors and the branch results.
    /// Returns the number of moves.
    fn check(
        &mut self,
        controllers: &mut [Controller],
        vm: &dyn Fn(usize) -> f64,
        math: &mut MathModel,
        solver: &mut HybridSolver,
        results: &mut ResultKernel,
    ) -> u64 {
        let mut moves = 0;
        for c in controllers.iter_mut() {
            let (Some(st), ControllerSpec::Oltc { .. }) = (c.oltc.as_mut(), &c.spec) else {
                continue;
            };
            if !st.check(vm(st.bus), &c.spec) {
                continue;
            }
            for &b in &st.branches {
                if let Some(k) = self.col[b] {
                    self.pos[k] = st.tap;
                }
            }
            if let Some(nl) = self.net_local.as_mut() {
                for &b in &st.branches {
                    let pu = st.branch_per_unit(&nl.branches[b], nl);
                    math.set_branch_per_unit(nl, b, pu);
                }
                solver.ybus_changed(&math.ybus);
                results.refresh_branches(math);
            }
            moves += 1;
        }
        moves
    }
}

/// Per branch, its column among the transformers and regulators (the
/// branches that are not lines, in branch order; None for lines).
fn tap_columns(net: &Network) -> Vec<Option<usize>> {
    let mut k = 0;
    net.branches
        .iter()
        .map(|b| match b.kind {
            BranchKind::Line(_) => None,
            _ => {
                k += 1;
                Some(k - 1)
            }
        })
        .collect()
}

/// The tap position of every transformer and regulator at the start: the
/// file's, or the tap changer's controller's where one acts on it (0 for a
/// transformer given only in per unit).
fn initial_taps(net: &Network, controllers: &[Controller]) -> Vec<f64> {
    let cols = tap_columns(net);
    let mut taps: Vec<f64> = net
        .branches
        .iter()
        .filter_map(|b| match &b.kind {
            BranchKind::Transformer(Some(t)) => Some(t.tap.pos),
            BranchKind::Regulator { equivalent, .. } => Some(equivalent.tap.pos),
            BranchKind::Transformer(None) => Some(0.0),
            BranchKind::Line(_) => None,
        })
        .collect();
    for st in controllers.iter().filter_map(|c| c.oltc.as_ref()) {
        for k in st.branches.iter().filter_map(|&b| cols[b]) {
            taps[k] = st.tap;
        }
    }
    taps
}

/// What a converged step books at the buses.
struct Booking {
    /// Σ of the bus injections: every loss, MW.
    loss: f64,
    /// What the voltage-dependent loads draw, MW.
    zip_load_mw: f64,
    /// Power from the slack, MVA.
    slack: Complex64,
    /// Lowest and highest |V| so far (solved buses).
    vm_min: f64,
    vm_max: f64,
    /// Whether any bus is outside its band.
    any_v_bad: bool,
    /// Whether any bus is above its band.
    any_v_high: bool,
}

/// Step totals with the units' outputs added (storage apart, renewables counted).
fn unit_totals(units: &[Unit], outputs: &[UnitOutput], mut tot: StepTotals) -> StepTotals {
    for (u, o) in units.iter().zip(outputs) {
        if u.technology == Technology::Storage {
            tot.p_storage += o.p_mw;
        } else {
            tot.p_gen += o.p_mw;
            if u.technology.renewable() {
                tot.p_renewable += o.p_mw;
            }
        }
    }
    tot
}

/// The units' rows of the step; returns their CO2 (fuel × factor), t.
fn unit_rows(
    block: &mut Block,
    outputs: &[UnitOutput],
    accounting: &[UnitAccounting],
    dt_h: f64,
) -> f64 {
    let mut co2_units = 0.0;
    for (k, o) in outputs.iter().enumerate() {
        let a = &accounting[k];
        let co2 = (o.fuel_mw * a.fuel.co2_t_per_mwh
            + o.boiler_fuel_mw * a.boiler_fuel.co2_t_per_mwh)
            * dt_h;
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
        block.unit_cooling_mw.push(o.absorption_cooling_mw);
        block.unit_chiller_p_mw.push(o.chiller_p_mw);
    }
    co2_units
}

/// A step that did not converge: its electrical rows are NaN (units keep
/// their dispatch); a lane's row, appended with all lanes', is overwritten.
fn nan_rows(block: &mut Block, lane: Option<usize>, nb: usize, nbr: usize) {
    for (s, w) in block.rows_mut() {
        let n = match w {
            Width::Bus => nb,
            Width::Branch => nbr,
            Width::Unit => continue,
        };
        match lane {
            Some(_) => s.set_last_nan(n),
            None => s.push_nan(n),
        }
    }
    block.p_slack_mw.push(f64::NAN);
    block.q_slack_mvar.push(f64::NAN);
    block.p_loss_mw.push(f64::NAN);
    block.co2_t.push(f64::NAN);
}

/// Books the bus injections of a solved step (the engine's own voltages):
/// the specified injection where it is specified (P at PQ and PV buses, Q
/// at PQ buses), so that the balance closes exactly (the solved value
/// differs by less than the tolerance); the slack's import; |V| extremes
/// and band violations.
#[allow(clippy::too_many_arguments)]
fn book_buses(
    math: &MathModel,
    v: &[Complex64],
    vm: &[f64],
    limits: &[(f64, f64)],
    base: f64,
    dt_h: f64,
    block: &mut Block,
    k: &mut Kpis,
    b: &mut Booking,
) {
    let ybus = &math.ybus;
    let indptr = ybus.indptr();
    let indptr = indptr.raw_storage();
    let (idx, data) = (ybus.indices(), ybus.data());
    for i in 0..vm.len() {
        let spec = math.s_spec[i] * base;
        let bt = math.bus_type[i];
        // What the bus's voltage-dependent loads draw at this voltage.
        let (drawn_i, drawn_z) = (
            math.s_load_i[i] * (vm[i] * base),
            math.s_load_z[i] * (vm[i] * vm[i] * base),
        );
        b.zip_load_mw += drawn_i.re + drawn_z.re;
        let s = if bt == BusType::Pq {
            spec - drawn_i - drawn_z
        } else {
            let mut acc = Complex64::new(0.0, 0.0);
            for e in indptr[i]..indptr[i + 1] {
                acc += data[e] * v[idx[e]];
            }
            // Ybus holds the constant-impedance loads: the injection into
            // the branches is the solved one less what they draw.
            let solved = v[i] * acc.conj() * base;
            if bt == BusType::Ref {
                b.slack += solved - spec + drawn_i;
            }
            match bt {
                BusType::Pv => {
                    Complex64::new(spec.re - drawn_i.re - drawn_z.re, solved.im - drawn_z.im)
                }
                _ => solved - drawn_z,
            }
        };
        b.loss += s.re;
        block.bus_p_mw.push(s.re);
        block.bus_q_mvar.push(s.im);
        if bt != BusType::Isolated {
            b.vm_min = b.vm_min.min(vm[i]);
            b.vm_max = b.vm_max.max(vm[i]);
            if vm[i] < limits[i].0 || vm[i] > limits[i].1 {
                b.any_v_bad = true;
                b.any_v_high |= vm[i] > limits[i].1;
                k.bus_hours_voltage_violation += dt_h;
            }
        }
    }
}

/// Energies, peaks and hours of a converged step.
fn add_step_kpis(k: &mut Kpis, tot: &StepTotals, b: &Booking, any_overload: bool, dt_h: f64) {
    let slack = b.slack;
    k.steps += 1.0;
    k.energy_served_mwh += tot.p_load * dt_h;
    k.import_mwh += slack.re.max(0.0) * dt_h;
    k.export_mwh += (-slack.re).max(0.0) * dt_h;
    k.peak_import_mw = k.peak_import_mw.max(slack.re);
    k.generation_mwh += tot.p_gen * dt_h;
    k.renewable_mwh += tot.p_renewable * dt_h;
    k.storage_charge_mwh += (-tot.p_storage).max(0.0) * dt_h;
    k.storage_discharge_mwh += tot.p_storage.max(0.0) * dt_h;
    k.loss_mwh += b.loss * dt_h;
    if b.any_v_bad {
        k.hours_voltage_violation += dt_h;
    }
    if b.any_v_high {
        k.hours_overvoltage += dt_h;
    }
    if any_overload {
        k.hours_overload += dt_h;
    }
}

/// The grid exchange of a converged step at the boundary: gross and net
/// energy, CO2 at the average factor (exports credited or not, as the
/// scenario says) and at the marginal factor (net), primary energy (same
/// export convention). Returns the step's grid CO2, t.
fn book_grid_exchange(k: &mut Kpis, sc: &Scenario, t: usize, p_slack_mw: f64, dt_h: f64) -> f64 {
    let em = &sc.emissions;
    let average = match em.grid_profile {
        Some(c) => sc.profiles.value(c, t),
        None => em.grid_t_per_mwh,
    };
    let marginal = match (em.grid_marginal_profile, em.grid_marginal_t_per_mwh) {
        (Some(c), _) => sc.profiles.value(c, t),
        (None, Some(f)) => f,
        (None, None) => average,
    };
    let import = p_slack_mw.max(0.0) * dt_h;
    let export = (-p_slack_mw).max(0.0) * dt_h;
    let counted = if em.credit_exports {
        import - export
    } else {
        import
    };
    k.net_import_mwh += import - export;
    k.co2_export_t += export * average;
    k.co2_grid_t += counted * average;
    k.co2_grid_marginal_t += (import - export) * marginal;
    k.primary_energy_mwh += counted * sc.primary_energy_grid;
    counted * average
}

/// The heat sites no CHP unit serves, in a converged step: demand, boiler
/// heat, fuel, CO2 and primary energy, heat pump heat and electricity.
/// Returns the boilers' CO2, t.
fn book_heat_sites(
    k: &mut Kpis,
    sites: &[HeatSite],
    loads: &[SyntheticLoad],
    t: usize,
    dt_h: f64,
) -> f64 {
    let mut co2 = 0.0;
    for site in sites {
        let q = site.demand_mw[t] * dt_h;
        match &site.supply {
            // A CHP's site is booked with its unit.
            HeatSupply::Chp { .. } => {}
            HeatSupply::Boiler { efficiency, fuel } => {
                let f = q / efficiency;
                k.heat_demand_mwh += q;
                k.boiler_heat_mwh += q;
                k.boiler_fuel_mwh += f;
                k.co2_boiler_t += f * fuel.co2_t_per_mwh;
                k.primary_energy_mwh += f * fuel.primary_energy_factor;
                co2 += f * fuel.co2_t_per_mwh;
            }
            HeatSupply::HeatPump { load } => {
                k.heat_demand_mwh += q;
                k.heat_pump_heat_mwh += q;
                k.heat_pump_electricity_mwh += loads[*load].p_mw[t] * dt_h;
            }
        }
    }
    co2
}

/// The cooling sites electric chillers serve, in a converged step (a CCHP's
/// site is booked with its unit).
fn book_cooling_sites(
    k: &mut Kpis,
    sites: &[super::accounting::CoolingSite],
    loads: &[SyntheticLoad],
    t: usize,
    dt_h: f64,
) {
    for site in sites {
        if let super::accounting::CoolingSupply::Electric { load } = site.supply {
            let q = site.demand_mw[t] * dt_h;
            k.cooling_demand_mwh += q;
            k.electric_cooling_mwh += q;
            k.chiller_electricity_mwh += loads[load].p_mw[t] * dt_h;
        }
    }
}

/// Curtailment and the CHP energies, fuel, CO2, primary energy and PES
/// reference of a converged step.
fn add_unit_kpis(k: &mut Kpis, sc: &Scenario, units: &[Unit], outputs: &[UnitOutput], dt_h: f64) {
    for (ku, o) in outputs.iter().enumerate() {
        k.curtailed_mwh += o.curtailed_mw * dt_h;
        if let Technology::Chp(_) = units[ku].technology {
            let a = &sc.unit_accounting[ku];
            let (fuel, boiler_fuel) = (o.fuel_mw * dt_h, o.boiler_fuel_mw * dt_h);
            k.heat_demand_mwh += o.heat_demand_mw * dt_h;
            k.chp_electricity_mwh += o.p_mw * dt_h;
            k.chp_heat_mwh += o.heat_mw * dt_h;
            k.chp_fuel_mwh += fuel;
            k.boiler_heat_mwh += o.boiler_heat_mw * dt_h;
            k.boiler_fuel_mwh += boiler_fuel;
            k.co2_chp_t += fuel * a.fuel.co2_t_per_mwh;
            k.co2_boiler_t += boiler_fuel * a.boiler_fuel.co2_t_per_mwh;
            k.primary_energy_mwh += fuel * a.fuel.primary_energy_factor
                + boiler_fuel * a.boiler_fuel.primary_energy_factor;
            k.chp_primary_energy_mwh += fuel * a.fuel.primary_energy_factor;
            k.chp_heating_mwh += (o.heat_demand_mw - o.boiler_heat_mw) * dt_h;
            k.cooling_demand_mwh += o.cooling_demand_mw * dt_h;
            k.absorption_cooling_mwh += o.absorption_cooling_mw * dt_h;
            k.absorption_heat_mwh += o.absorption_heat_mw * dt_h;
            k.electric_cooling_mwh += o.electric_cooling_mw * dt_h;
            k.chiller_electricity_mwh += o.chiller_p_mw * dt_h;
            if let Some(p) = &a.pes {
                k.pes_reference_fuel_mwh +=
                    p.reference_fuel_mw(o.heat_mw, o.p_mw, o.own_use_mw) * dt_h;
            }
        }
    }
}

/// Appends step k's row of every per-element series computed for the lanes
/// (|V|, angle, bus P/Q, branch flows, currents, loading) to the first
/// `n_act` blocks of `out`, all lanes in one pass per series.
fn append_lane_rows(out: &mut [Block], n_act: usize, lr: &LaneResults, bk: &LaneBooking) {
    // Lanes past n_act get a row nobody reads.
    let mut unused: [Rows; LANES] = Default::default();
    for (field, xs) in lane_series(lr, bk) {
        let mut blocks = out.iter_mut().take(n_act);
        let mut spare = unused.iter_mut();
        let mut rows: [&mut Rows; LANES] = std::array::from_fn(|_| match blocks.next() {
            Some(b) => field(b),
            None => spare.next().expect("LANES spare rows"),
        });
        Rows::extend_lanes(&mut rows, n_act, xs);
    }
}

/// The network loads' constant-current part (consumption at 1 p.u.) where
/// the scenario books them (`zip_loads`), else nothing.
fn current_loads(zip_loads: bool, math: &MathModel) -> &[Complex64] {
    match zip_loads {
        true => &math.s_load_i,
        false => &[],
    }
}

/// A step's (or a lane's) solve as its report: not converged where the
/// solver gave up on it (a numerical failure or no result).
fn step_report(res: Option<Result<SolveReport>>, max_iter: usize) -> Result<SolveReport> {
    match res {
        Some(Ok(r)) => Ok(r),
        Some(Err(Error::Numerical(_))) | None => Ok(SolveReport {
            converged: false,
            iterations: max_iter,
            max_mismatch_pu: f64::NAN,
        }),
        Some(Err(e)) => Err(e),
    }
}

/// Lane `l`'s per-bus and per-branch rows of a batched step, appended to
/// `block` (the lanes are consecutive steps of one block).
fn append_lane_row(block: &mut Block, l: usize, lr: &LaneResults, bk: &LaneBooking) {
    for (field, xs) in lane_series(lr, bk) {
        field(block).extend_lane(l, xs);
    }
}

/// A block's per-bus and per-branch series and their lane-interleaved
/// values in a batched step.
type LaneSeries<'a> = [(fn(&mut Block) -> &mut Rows, &'a [[f64; LANES]]); 10];

fn lane_series<'a>(lr: &'a LaneResults, bk: &'a LaneBooking) -> LaneSeries<'a> {
    [
        (|b| &mut b.vm_pu, &lr.vm),
        (|b| &mut b.va_degree, &lr.va_deg),
        (|b| &mut b.bus_p_mw, &bk.p),
        (|b| &mut b.bus_q_mvar, &bk.q),
        (|b| &mut b.p_from_mw, &lr.p_from),
        (|b| &mut b.q_from_mvar, &lr.q_from),
        (|b| &mut b.p_to_mw, &lr.p_to),
        (|b| &mut b.q_to_mvar, &lr.q_to),
        (|b| &mut b.i_ka, &lr.i_ka),
        (|b| &mut b.loading_percent, &lr.loading),
    ]
}

/// The largest loading (starting from `max`; NaN, a branch without a
/// rating, is ignored) and whether any branch is above 100 %.
fn max_and_overload(loading: impl Iterator<Item = f64>, max: f64) -> (f64, bool) {
    loading.fold((max, false), |(m, o), x| (m.max(x), o || x > 100.0))
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

/// The tasks of a run: a whole scenario whose blocks run in order (step by
/// step or solved ahead), or one group of up to [`LANES`] blocks of a
/// scenario in lanes (small tasks balance the threads; each worker keeps
/// one engine per scenario). Every scenario whose steps are independent
/// runs in lanes (stateless units read no voltage, and without tap changers
/// every controller is a Q(U)/P(U) curve). Whole scenarios first, then the
/// groups (longest first on the workers' shared queue; the results do not
/// depend on the order).
fn plan_tasks(scenarios: &[Scenario]) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut tasks: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    for (i, sc) in scenarios.iter().enumerate() {
        let nb = sc.n_blocks();
        debug_assert!(sc.runs_in_lanes() || !sc.steps_independent());
        if sc.runs_in_lanes() {
            for g in (0..nb).step_by(LANES) {
                tasks.push((i, g..(g + LANES).min(nb)));
            }
        } else {
            tasks.push((i, 0..nb));
        }
    }
    tasks.sort_by_key(|(_, r)| std::cmp::Reverse(r.len()));
    tasks
}

/// One task's block summaries (a whole scenario, or a group of blocks).
type TaskResult = Result<Vec<(usize, RunSummary)>>;

/// What the workers of [`run_parallel_with`] share.
struct TaskShared<'a, 's> {
    scenarios: &'a [Scenario],
    dispatch: &'a [Option<Dispatch>],
    /// One engine per scenario and worker thread, kept for all the tasks
    /// the thread runs.
    engines: &'s [std::sync::Mutex<Vec<Option<Engine<'a>>>>],
    /// Written blocks back for reuse.
    spare: &'s std::sync::Mutex<Vec<Block>>,
    kept: RowsKept,
}

impl<'a> TaskShared<'a, '_> {
    /// Runs task `(i, blocks)` of scenario `i` on this worker's engine,
    /// sending each block to the writer.
    fn run(
        &self,
        (i, range): &(usize, std::ops::Range<usize>),
        tx: &std::sync::mpsc::SyncSender<(usize, Block)>,
    ) -> TaskResult {
        let sc = &self.scenarios[*i];
        // This worker's engines (only it locks this slot; tasks never nest,
        // so the lock is free).
        let slot = rayon::current_thread_index().unwrap_or(0) % self.engines.len();
        let mut mine = self.engines[slot]
            .lock()
            .map_err(|_| Error::Numerical("a scenario worker panicked".into()))?;
        let engine = match &mut mine[*i] {
            Some(e) => e,
            slot => slot.insert(Engine::new(sc, self.kept, self.dispatch[*i].as_ref())?),
        };
        let take = || {
            self.spare
                .lock()
                .ok()
                .and_then(|mut s| s.pop())
                .unwrap_or_default()
        };
        let send = |b| {
            tx.send((*i, b))
                .map_err(|_| Error::Usage("results writer stopped".into()))
        };
        let mut out = Vec::with_capacity(range.len());
        if sc.runs_in_lanes() {
            let group: Vec<usize> = range.clone().collect();
            let mut blocks: Vec<Block> = group.iter().map(|_| take()).collect();
            let sums = engine.run_blocks_lanes(&group, &mut blocks)?;
            for ((&b, s), blk) in group.iter().zip(sums).zip(blocks) {
                out.push((b, s));
                send(blk)?;
            }
        } else {
            for b in range.clone() {
                let mut block = take();
                out.push((b, engine.run_block(b, &mut block, true)?));
                send(block)?;
            }
        }
        Ok(out)
    }
}

/// Runs `scenarios` on `threads` worker threads (rayon); results (the
/// per-element rows `rows` keeps) go to
/// `sink` on the calling thread. Blocks of one scenario may arrive in any
/// order (each carries its first step). A scenario whose steps carry state
/// from one to the next (a tap changer, a unit reading the network) runs on
/// one thread from start to end; one in lanes is split into groups of
/// [`LANES`] blocks (one batched solve each), one whose steps are
/// independent otherwise into single blocks; each block starts from the
/// initial voltages, and every worker keeps one engine per scenario.
/// Results and KPIs do not depend on the thread count.
pub fn run_parallel(
    scenarios: &[Scenario],
    threads: usize,
    rows: impl Into<RowsKept>,
    mut sink: impl FnMut(usize, &Block) -> Result<()>,
) -> Result<Vec<RunSummary>> {
    run_parallel_with(
        scenarios,
        threads,
        rows.into(),
        || Ok(()),
        |_, i, b| sink(i, b),
    )
    .map(|(_, s)| s)
}

/// [`run_parallel`] with a sink `W` made by `start` on the calling thread
/// while the workers already compute (e.g. creating the results file
/// overlaps the first steps); returns the sink with the summaries. If
/// `start` fails, the workers stop at their next block and its error is
/// returned.
pub fn run_parallel_with<W>(
    scenarios: &[Scenario],
    threads: usize,
    rows: impl Into<RowsKept>,
    start: impl FnOnce() -> Result<W>,
    mut sink: impl FnMut(&mut W, usize, &Block) -> Result<()>,
) -> Result<(W, Vec<RunSummary>)> {
    let kept: RowsKept = rows.into();
    for sc in scenarios {
        sc.validate()?;
    }
    let threads = threads.max(1);
    let tasks = plan_tasks(scenarios);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))?;
    // Units with state are dispatched in step order first (scenarios side
    // by side), so that their power flows can run in lanes like the rest.
    let dispatch: Vec<Option<Dispatch>> = pool.install(|| {
        use rayon::prelude::*;
        scenarios
            .par_iter()
            .map(|sc| sc.lane_dispatch(kept))
            .collect::<Result<_>>()
    })?;
    let dispatch = &dispatch;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Block)>(2 * threads + 2);
    // Written blocks come back for reuse, so that no block is allocated per step range.
    let spare: std::sync::Mutex<Vec<Block>> = std::sync::Mutex::new(Vec::new());
    let spare = &spare;
    let tasks = &tasks;
    // One engine per scenario and worker thread, kept for all the tasks the
    // thread runs (rayon's `map_init` state lives only as long as one split
    // of the work, which rebuilt engines several times per run).
    let engines: Vec<std::sync::Mutex<Vec<Option<Engine>>>> = (0..threads)
        .map(|_| std::sync::Mutex::new(scenarios.iter().map(|_| None).collect()))
        .collect();
    let engines = &engines;
    let results = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            // A shared queue in task order (longest first): each worker takes
            // the next task when it is free, so a long task never waits
            // behind short ones or ends the run alone.
            let next = std::sync::atomic::AtomicUsize::new(0);
            let done: Vec<std::sync::Mutex<Option<TaskResult>>> =
                tasks.iter().map(|_| std::sync::Mutex::new(None)).collect();
            let (next, done) = (&next, &done);
            let shared = TaskShared {
                scenarios,
                dispatch,
                engines,
                spare,
                kept,
            };
            let shared = &shared;
            pool.install(|| {
                rayon::scope(|s| {
                    for _ in 0..threads {
                        let tx = tx.clone();
                        s.spawn(move |_| loop {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(task) = tasks.get(k) else { break };
                            let r = shared.run(task, &tx);
                            if let Ok(mut d) = done[k].lock() {
                                *d = Some(r);
                            }
                        });
                    }
                })
            });
            drop(tx);
            done.iter()
                .map(|d| {
                    d.lock().ok().and_then(|mut d| d.take()).unwrap_or_else(|| {
                        Err(Error::Numerical("a scenario worker panicked".into()))
                    })
                })
                .collect::<Vec<TaskResult>>()
        });
        // The sink is made while the workers run; a failure stops them.
        let mut state = match start() {
            Ok(w) => Some(w),
            Err(e) => {
                drop(rx);
                let _ = worker.join();
                return Err(e);
            }
        };
        let mut sink_err = None;
        for (i, b) in rx.iter() {
            let Some(w) = state.as_mut() else { break };
            if let Err(e) = sink(w, i, &b) {
                sink_err = Some(e);
                break;
            }
            if let Ok(mut s) = spare.lock() {
                s.push(b);
            }
        }
        drop(rx);
        let results = worker
            .join()
            .map_err(|_| Error::Numerical("a scenario worker panicked".into()))?;
        if let Some(e) = sink_err {
            return Err(e);
        }
        Ok((state, results))
    })?;
    let (state, results) = results;
    let state = state.ok_or_else(|| Error::Usage("results sink missing".into()))?;
    let mut parts: Vec<Vec<(usize, RunSummary)>> = vec![Vec::new(); scenarios.len()];
    for ((i, _), r) in tasks.iter().zip(results) {
        parts[*i].extend(r?);
    }
    let mut summaries: Vec<RunSummary> = parts
        .into_iter()
        .map(|mut p| {
            p.sort_by_key(|x| x.0);
            let mut total = RunSummary::new();
            for (_, s) in &p {
                total.add(s);
            }
            total.kpis.finish();
            total
        })
        .collect();
    // Avoided CO2 and saved primary energy: against the study's reference.
    // (A shard without the reference leaves them to `gridsim merge`.)
    let reference = scenarios.iter().position(|s| s.is_reference);
    if let Some(r) = reference
        .and_then(|r| summaries.get(r))
        .map(|s| s.kpis.clone())
    {
        summaries.iter_mut().for_each(|s| s.kpis.compare_with(&r));
    }
    Ok((state, summaries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(p_col: Option<usize>, q_col: Option<usize>) -> Element {
        Element {
            kind: ElementKind::Load,
            name: String::new(),
            bus: 0,
            p_mw: 1.0,
            q_mvar: 0.1,
            p_col,
            q_col,
        }
    }

    /// Shared columns map to one position, in first-use order; constants
    /// point one past the last; with a column of its own per element (as
    /// many columns as elements) every element keeps its own pair.
    #[test]
    fn element_columns_in_first_use_order() {
        let els = [
            element(Some(7), Some(8)),
            element(Some(3), None),
            element(Some(7), Some(8)),
            element(None, Some(3)),
        ];
        let (cols, pos) = element_columns(&els);
        assert_eq!(cols, vec![7, 8, 3]);
        assert_eq!(pos, vec![(0, 1), (2, 3), (0, 1), (3, 2)]);
        let n = 20_000;
        let own: Vec<Element> = (0..n)
            .map(|k| element(Some(2 * (n - k)), Some(2 * (n - k) + 1)))
            .collect();
        let (cols, pos) = element_columns(&own);
        assert_eq!(cols.len(), 2 * n);
        for (k, &(p, q)) in pos.iter().enumerate() {
            assert_eq!((cols[p], cols[q]), (2 * (n - k), 2 * (n - k) + 1));
        }
    }
}
