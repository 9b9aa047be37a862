//! gridsim's native network format: TOML in engineering units.
//!
//! One file per network. Every table rejects unknown fields; every
//! element has an `id`, unique within its kind, and errors name the file,
//! the line of the element, its id and the field. All problems are
//! collected and reported together. See README "Network files" for the
//! format and `networks/*.toml` for examples.
//!
//! Conversion to the physical model ([`Network`]) follows pandapower's
//! conventions, so results can be checked against it: lines as π models
//! (r, x per km, capacitance split to both ends, parallel systems),
//! transformers from sn/vn/vk/vkr/pfe/i0 with the magnetizing admittance
//! split equally between the terminals (pandapower `trafo_model="pi"`; with
//! pfe = i0 = 0 identical to the T model), taps on the HV or LV side, vector
//! group phase shift; closed bus-bus switches fuse buses; an open line
//! switch disconnects that end and leaves the line energized from the other
//! (an auxiliary bus, as pandapower does); the external grid is the slack.

mod convert;
pub mod export;
pub mod info;
pub mod line_types;

pub use convert::{to_network, Source};

use crate::error::Result;
use crate::network::{ChpTechnology, CustomerClass, Network, TurbineClass};
use line_types::{LineType, LineTypeLibrary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

fn one() -> f64 {
    1.0
}
fn fifty() -> f64 {
    50.0
}
fn yes() -> bool {
    true
}
fn one_u() -> u32 {
    1
}
fn hv() -> String {
    "hv".into()
}
fn rte() -> f64 {
    0.9
}
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}
fn is_one(x: &f64) -> bool {
    *x == 1.0
}
fn is_one_u(x: &u32) -> bool {
    *x == 1
}

/// `[network]` header.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Network name.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the data come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Base power for per-unit quantities, MVA.
    #[serde(default = "one")]
    pub base_mva: f64,
    /// System frequency, Hz.
    #[serde(default = "fifty")]
    pub frequency_hz: f64,
    /// Extra line-type library (TOML, same form as the built-in one), relative to this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_types: Option<String>,
    /// Transformer equivalent circuit: "pi" (default; the magnetizing
    /// admittance split between the terminals) or "t" (in the middle of the
    /// series impedance, pandapower's default).
    #[serde(default = "pi", skip_serializing_if = "is_pi")]
    pub transformer_model: String,
}

fn pi() -> String {
    "pi".into()
}
fn is_pi(s: &String) -> bool {
    s == "pi"
}

/// `[[bus]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BusSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Nominal voltage, kV.
    pub vn_kv: f64,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Coordinates (any projection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<f64>,
    /// Coordinates (any projection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<f64>,
    /// Lower voltage limit, p.u.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vmin_pu: Option<f64>,
    /// Upper voltage limit, p.u.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vmax_pu: Option<f64>,
    /// Out-of-service buses are isolated.
    #[serde(default = "yes")]
    pub in_service: bool,
}

/// `[[line]]`: a line or cable in engineering units.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// From bus id.
    pub from: String,
    /// To bus id.
    pub to: String,
    /// Length, km.
    pub length_km: f64,
    /// Named line type (built-in library or `line_types`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub line_type: Option<String>,
    /// Resistance, Ω/km (instead of a type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r_ohm_per_km: Option<f64>,
    /// Reactance, Ω/km.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_ohm_per_km: Option<f64>,
    /// Capacitance, nF/km.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_nf_per_km: Option<f64>,
    /// Ampacity, kA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_i_ka: Option<f64>,
    /// Parallel systems.
    #[serde(default = "one_u")]
    pub parallel: u32,
    /// Shunt conductance, µS/km.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub g_us_per_km: f64,
    /// Derating factor of the ampacity, in (0, 1].
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub df: f64,
    /// Name of the line's standard type in the file it came from, when its
    /// parameters are given explicitly (information only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std_type: Option<String>,
    /// In service.
    #[serde(default = "yes")]
    pub in_service: bool,
}

/// `[[transformer]]`: a two-winding transformer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// HV bus id.
    pub hv_bus: String,
    /// LV bus id.
    pub lv_bus: String,
    /// Rated power, MVA.
    pub sn_mva: f64,
    /// Rated HV voltage, kV.
    pub vn_hv_kv: f64,
    /// Rated LV voltage, kV.
    pub vn_lv_kv: f64,
    /// Short-circuit voltage, %.
    pub vk_percent: f64,
    /// Resistive part of the short-circuit voltage, %.
    pub vkr_percent: f64,
    /// No-load (iron) losses, kW.
    #[serde(default)]
    pub pfe_kw: f64,
    /// No-load current, %.
    #[serde(default)]
    pub i0_percent: f64,
    /// Phase shift HV → LV, degrees (LV lags); overrides `vector_group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_degree: Option<f64>,
    /// Vector group, e.g. "Dyn5" (clock number × 30° shift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_group: Option<String>,
    /// Tap changer side: "hv" or "lv".
    #[serde(default = "hv")]
    pub tap_side: String,
    /// Current tap position (may lie between steps).
    #[serde(default)]
    pub tap_pos: f64,
    /// Neutral tap position.
    #[serde(default)]
    pub tap_neutral: f64,
    /// Lowest tap position.
    #[serde(default)]
    pub tap_min: f64,
    /// Highest tap position.
    #[serde(default)]
    pub tap_max: f64,
    /// Voltage change per tap step, %.
    #[serde(default)]
    pub tap_step_percent: f64,
    /// Angle of the voltage change per step, degrees (phase-shifting taps).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tap_step_degree: f64,
    /// "ratio" (default; with `tap_step_degree` an asymmetric phase
    /// shifter) or "ideal" (an ideal phase shifter: the phase turns, the
    /// ratio stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tap_changer_type: Option<String>,
    /// Identical units in parallel.
    #[serde(default = "one_u", skip_serializing_if = "is_one_u")]
    pub parallel: u32,
    /// Derating factor of the rating, in (0, 1].
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub df: f64,
    /// In service.
    #[serde(default = "yes")]
    pub in_service: bool,
}

/// `[[switch]]`: at `bus`, to a `line`, a `transformer`, or another bus (`to_bus`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus the switch sits at.
    pub bus: String,
    /// Line switched (at its end at `bus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// Transformer switched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformer: Option<String>,
    /// Other bus (bus-bus switch / coupler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_bus: Option<String>,
    /// Closed?
    #[serde(default = "yes")]
    pub closed: bool,
    /// Impedance of a closed bus-bus switch, Ω (0: the buses fuse). A
    /// positive value makes it a branch of that impedance with R/X = 2, as
    /// pandapower does with its default `switch_rx_ratio`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub z_ohm: f64,
}

/// `[[regulator]]`: a line voltage regulator (tapped 1:1 autotransformer)
/// from a source-side bus to the regulated bus, both of one nominal voltage.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegulatorSpec {
    /// Unique id (among transformers and regulators).
    pub id: Spanned<String>,
    /// Source-side bus id.
    pub from: String,
    /// Regulated bus id.
    pub to: String,
    /// Rated through-power, MVA (e.g. 3 × 0.333 for a bank of three 333 kVA units).
    pub sn_mva: f64,
    /// Series resistance on the rating, %.
    #[serde(default = "reg_r")]
    pub r_percent: f64,
    /// Series reactance on the rating, %.
    #[serde(default = "reg_x")]
    pub x_percent: f64,
    /// Current tap position (positive raises the regulated voltage).
    #[serde(default)]
    pub tap_pos: f64,
    /// Lowest tap position.
    #[serde(default = "reg_tap_min")]
    pub tap_min: f64,
    /// Highest tap position.
    #[serde(default = "reg_tap_max")]
    pub tap_max: f64,
    /// Voltage change per tap step, %.
    #[serde(default = "reg_step")]
    pub tap_step_percent: f64,
    /// In service.
    #[serde(default = "yes")]
    pub in_service: bool,
}

fn reg_r() -> f64 {
    crate::network::components::regulator::R_PERCENT
}
fn reg_x() -> f64 {
    crate::network::components::regulator::X_PERCENT
}
fn reg_tap_min() -> f64 {
    crate::network::components::regulator::TAP_MIN
}
fn reg_tap_max() -> f64 {
    crate::network::components::regulator::TAP_MAX
}
fn reg_step() -> f64 {
    crate::network::components::regulator::TAP_STEP_PERCENT
}

/// `[[branch]]`: a branch given in per unit on `base_mva` (MATPOWER data).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// From bus id.
    pub from: String,
    /// To bus id.
    pub to: String,
    /// Series resistance, p.u.
    pub r_pu: f64,
    /// Series reactance, p.u.
    pub x_pu: f64,
    /// Total charging susceptance, p.u.
    #[serde(default)]
    pub b_pu: f64,
    /// Total shunt conductance (transformer iron losses), p.u., half at each end.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub g_pu: f64,
    /// Rating, MVA.
    #[serde(default)]
    pub rate_a_mva: f64,
    /// Off-nominal ratio at the from end (absent for a line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tap: Option<f64>,
    /// Phase shift, degrees.
    #[serde(default)]
    pub shift_degree: f64,
    /// In service.
    #[serde(default = "yes")]
    pub in_service: bool,
}

/// Voltage dependence of a load: shares of constant impedance, current and power.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Zip {
    /// Constant-impedance share.
    pub z: f64,
    /// Constant-current share.
    pub i: f64,
    /// Constant-power share.
    pub p: f64,
}

/// `[[load]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus id.
    pub bus: String,
    /// Active power, MW.
    pub p_mw: f64,
    /// Reactive power, Mvar (or give `power_factor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q_mvar: Option<f64>,
    /// Inductive power factor (instead of `q_mvar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_factor: Option<f64>,
    /// Customer class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<CustomerClass>,
    /// Voltage dependence (default constant power).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<Zip>,
    /// In service.
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Scales the power (and a PV or wind unit's size), pandapower's
    /// `scaling`; 0 takes the element out of service.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub scaling: f64,
}

/// `[[shunt]]`: constant admittance, MW/Mvar at 1 p.u.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShuntSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus id.
    pub bus: String,
    /// Active power consumed at 1 p.u., MW.
    #[serde(default)]
    pub g_mw: f64,
    /// Reactive power injected at 1 p.u. (capacitor > 0), Mvar.
    #[serde(default)]
    pub b_mvar: f64,
    /// In service.
    #[serde(default = "yes")]
    pub in_service: bool,
}

/// `[[ext_grid]]`: the upstream grid (slack).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtGridSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus id.
    pub bus: String,
    /// Voltage set-point, p.u.
    #[serde(default = "one")]
    pub vm_pu: f64,
    /// Voltage angle, degrees.
    #[serde(default)]
    pub va_degree: f64,
    /// Short-circuit power, MVA (recorded; the power flow treats the grid as ideal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sc_mva: Option<f64>,
}

/// `[[generator]]`: a conventional unit, voltage-controlled when `vm_pu` is given.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus id.
    pub bus: String,
    /// Active power, MW.
    pub p_mw: f64,
    /// Reactive power (when not voltage-controlled), Mvar.
    #[serde(default)]
    pub q_mvar: f64,
    /// Voltage set-point, p.u. (makes the bus a PV bus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_pu: Option<f64>,
    /// Reactive limits, Mvar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q_min_mvar: Option<f64>,
    /// Reactive limits, Mvar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q_max_mvar: Option<f64>,
    /// In service.
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Scales the power (and a PV or wind unit's size), pandapower's
    /// `scaling`; 0 takes the element out of service.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub scaling: f64,
}

/// `[[chp]]`: a combined heat and power unit.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChpUnitSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus id.
    pub bus: String,
    /// Technology.
    pub technology: ChpTechnology,
    /// Rated electric output, MW.
    pub rated_mw: f64,
    /// Electric efficiency.
    pub eta_el: f64,
    /// Thermal efficiency.
    pub eta_th: f64,
    /// Fuel.
    pub fuel: String,
    /// Output in the base case, MW (default: rated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_mw: Option<f64>,
    /// Reactive output, Mvar.
    #[serde(default)]
    pub q_mvar: f64,
    /// In service (an out-of-service unit stays in the file and produces nothing).
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Scales the power (and a PV or wind unit's size), pandapower's
    /// `scaling`; 0 takes the element out of service.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub scaling: f64,
}

/// `[[pv]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PvUnitSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus id.
    pub bus: String,
    /// Peak power, kWp.
    pub kwp: f64,
    /// Inverter rating, MVA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverter_mva: Option<f64>,
    /// Output in the base case, MW (default: kWp/1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_mw: Option<f64>,
    /// Reactive output, Mvar.
    #[serde(default)]
    pub q_mvar: f64,
    /// In service (an out-of-service unit stays in the file and produces nothing).
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Scales the power (and a PV or wind unit's size), pandapower's
    /// `scaling`; 0 takes the element out of service.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub scaling: f64,
}

/// `[[wind]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WindUnitSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus id.
    pub bus: String,
    /// Rated power, MW.
    pub rated_mw: f64,
    /// IEC class.
    pub turbine_class: TurbineClass,
    /// Output in the base case, MW (default: rated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_mw: Option<f64>,
    /// Reactive output, Mvar.
    #[serde(default)]
    pub q_mvar: f64,
    /// In service (an out-of-service unit stays in the file and produces nothing).
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Scales the power (and a PV or wind unit's size), pandapower's
    /// `scaling`; 0 takes the element out of service.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub scaling: f64,
}

/// `[[storage]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageUnitSpec {
    /// Unique id.
    pub id: Spanned<String>,
    /// Bus id.
    pub bus: String,
    /// Energy, MWh.
    pub capacity_mwh: f64,
    /// Power limit, MW.
    pub power_mw: f64,
    /// Round-trip efficiency.
    #[serde(default = "rte")]
    pub round_trip_efficiency: f64,
    /// Power in the base case, MW (> 0 charging, as pandapower).
    #[serde(default)]
    pub p_mw: f64,
    /// Reactive power, Mvar (consumed).
    #[serde(default)]
    pub q_mvar: f64,
    /// In service (an out-of-service unit stays in the file and produces nothing).
    #[serde(default = "yes")]
    pub in_service: bool,
}

/// A whole network file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// Header.
    pub network: Header,
    /// Additional line types defined inline.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub line_types: BTreeMap<String, LineType>,
    /// Buses.
    #[serde(default)]
    pub bus: Vec<BusSpec>,
    /// Lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<LineSpec>,
    /// Transformers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transformer: Vec<TransformerSpec>,
    /// Line voltage regulators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regulator: Vec<RegulatorSpec>,
    /// Switches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub switch: Vec<SwitchSpec>,
    /// Per-unit branches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branch: Vec<BranchSpec>,
    /// Loads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load: Vec<LoadSpec>,
    /// Shunts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shunt: Vec<ShuntSpec>,
    /// External grids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ext_grid: Vec<ExtGridSpec>,
    /// Conventional generators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generator: Vec<GeneratorSpec>,
    /// CHP units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chp: Vec<ChpUnitSpec>,
    /// PV systems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pv: Vec<PvUnitSpec>,
    /// Wind turbines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wind: Vec<WindUnitSpec>,
    /// Batteries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<StorageUnitSpec>,
}

impl NetworkFile {
    /// A file with this header and no elements.
    pub fn new(network: Header) -> NetworkFile {
        NetworkFile {
            network,
            line_types: BTreeMap::new(),
            bus: Vec::new(),
            line: Vec::new(),
            transformer: Vec::new(),
            regulator: Vec::new(),
            switch: Vec::new(),
            branch: Vec::new(),
            load: Vec::new(),
            shunt: Vec::new(),
            ext_grid: Vec::new(),
            generator: Vec::new(),
            chp: Vec::new(),
            pv: Vec::new(),
            wind: Vec::new(),
            storage: Vec::new(),
        }
    }
}

/// Reads and parses a native network file (no conversion).
pub fn read_file(path: &Path) -> Result<(NetworkFile, String)> {
    let text = crate::input::read_text(path)?;
    let f = parse_file(path, &text)?;
    Ok((f, text))
}

/// Parses native network text (no conversion).
pub fn parse_file(path: &Path, text: &str) -> Result<NetworkFile> {
    toml::from_str(text).map_err(|e| crate::input::toml_error(path, text, e))
}

/// Reads a native network file and converts it to the physical model.
pub fn read_network(path: &Path) -> Result<Network> {
    let text = crate::input::read_text(path)?;
    parse_network(path, &text)
}

/// Converts native network text to the physical model; `path` names it in
/// messages and is where a `line_types` file is looked for.
pub fn parse_network(path: &Path, text: &str) -> Result<Network> {
    let f = parse_file(path, text)?;
    let lib = library(&f, path.parent().unwrap_or(Path::new(".")))?;
    to_network(&f, &lib, &Source::file(path, text))
}

/// The line types a file can use: the built-in library, its `line_types`
/// file (relative to `dir`, the file's folder) and its inline types.
pub fn library(f: &NetworkFile, dir: &Path) -> Result<LineTypeLibrary> {
    let mut lib = LineTypeLibrary::builtin()?;
    if let Some(extra) = &f.network.line_types {
        lib.extend_from_file(&dir.join(extra))?;
    }
    for (name, t) in &f.line_types {
        lib.insert(name.clone(), t.clone());
    }
    Ok(lib)
}

/// Clock number of a vector group (e.g. "Dyn5" → 5).
pub fn vector_group_clock(vg: &str) -> Option<u32> {
    let digits: String = vg
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let digits: String = digits.chars().rev().collect();
    let n: u32 = digits.parse().ok()?;
    (n <= 11).then_some(n)
}
