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

pub mod export;
pub mod info;
pub mod line_types;

use crate::error::{Error, Result};
use crate::network::components::per_unit_transformer;
use crate::network::CustomerClass;
use crate::network::TurbineClass;
use crate::network::{
    Branch, BranchKind, Bus, BusKind, Generator, LineData, Load, Network, PerUnit, Shunt,
    TapChanger, TapSide, TransformerData,
};
use crate::timeseries::der::ChpTechnology;
use line_types::{LineType, LineTypeLibrary};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
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
    /// Current tap position.
    #[serde(default)]
    pub tap_pos: i32,
    /// Neutral tap position.
    #[serde(default)]
    pub tap_neutral: i32,
    /// Lowest tap position.
    #[serde(default)]
    pub tap_min: i32,
    /// Highest tap position.
    #[serde(default)]
    pub tap_max: i32,
    /// Voltage change per tap step, %.
    #[serde(default)]
    pub tap_step_percent: f64,
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

/// Reads and parses a native network file (no conversion).
pub fn read_file(path: &Path) -> Result<(NetworkFile, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let f: NetworkFile = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        Error::parse(path, line, e.message().to_string())
    })?;
    Ok((f, text))
}

/// Reads a native network file and converts it to the physical model.
pub fn read_network(path: &Path) -> Result<Network> {
    let (f, text) = read_file(path)?;
    let mut lib = LineTypeLibrary::builtin()?;
    if let Some(extra) = &f.network.line_types {
        let p = path.parent().unwrap_or(Path::new(".")).join(extra);
        lib.extend_from_file(&p)?;
    }
    for (name, t) in &f.line_types {
        lib.insert(name.clone(), t.clone());
    }
    to_network(&f, &lib, path, &text)
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

/// Converts a parsed file to a [`Network`]; collects all problems.
pub fn to_network(
    f: &NetworkFile,
    lib: &LineTypeLibrary,
    path: &Path,
    text: &str,
) -> Result<Network> {
    let mut pr: Vec<String> = Vec::new();
    let line_of =
        |span: std::ops::Range<usize>| text[..span.start.min(text.len())].matches('\n').count() + 1;
    let at = |id: &Spanned<String>, kind: &str, field: &str, msg: String| {
        format!(
            "{}:{}: {kind} '{}': {field}: {msg}",
            path.display(),
            line_of(id.span()),
            id.get_ref()
        )
    };
    let h = &f.network;
    if !(h.base_mva > 0.0 && h.base_mva.is_finite()) {
        pr.push(format!(
            "{}: network: base_mva must be positive, found {}",
            path.display(),
            h.base_mva
        ));
    }
    if !(h.frequency_hz > 0.0) {
        pr.push(format!(
            "{}: network: frequency_hz must be positive",
            path.display()
        ));
    }
    let base = h.base_mva;
    let w = 2.0 * std::f64::consts::PI * h.frequency_hz;

    // --- buses, with closed bus-bus switches fused
    let mut bus_idx: HashMap<&str, usize> = HashMap::new();
    for (i, b) in f.bus.iter().enumerate() {
        if bus_idx.insert(b.id.get_ref().as_str(), i).is_some() {
            pr.push(at(&b.id, "bus", "id", "duplicate bus id".into()));
        }
        if !(b.vn_kv >= 0.0 && b.vn_kv.is_finite()) {
            pr.push(at(
                &b.id,
                "bus",
                "vn_kv",
                format!("must be a non-negative number, found {}", b.vn_kv),
            ));
        }
    }
    let mut ids_seen: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut check_id = |kind: &'static str, id: &Spanned<String>, pr: &mut Vec<String>| {
        if !ids_seen
            .entry(kind)
            .or_default()
            .insert(id.get_ref().clone())
        {
            pr.push(at(id, kind, "id", format!("duplicate {kind} id")));
        }
    };
    let bus_ref = |id: &Spanned<String>,
                   kind: &str,
                   field: &str,
                   bus: &str,
                   pr: &mut Vec<String>|
     -> Option<usize> {
        let r = bus_idx.get(bus).copied();
        if r.is_none() {
            pr.push(at(id, kind, field, format!("unknown bus '{bus}'")));
        }
        r
    };
    let nb0 = f.bus.len();
    let mut parent: Vec<usize> = (0..nb0).collect();
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let line_idx: HashMap<&str, usize> = f
        .line
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.get_ref().as_str(), i))
        .collect();
    let trafo_idx: HashMap<&str, usize> = f
        .transformer
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.get_ref().as_str(), i))
        .collect();
    // (line, end) open: end 0 = from, 1 = to
    let mut line_open: HashSet<(usize, usize)> = HashSet::new();
    let mut trafo_open: HashSet<usize> = HashSet::new();
    for s in &f.switch {
        check_id("switch", &s.id, &mut pr);
        let Some(b) = bus_ref(&s.id, "switch", "bus", &s.bus, &mut pr) else {
            continue;
        };
        let targets = [
            s.line.is_some(),
            s.transformer.is_some(),
            s.to_bus.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if targets != 1 {
            pr.push(at(
                &s.id,
                "switch",
                "line/transformer/to_bus",
                "give exactly one of them".into(),
            ));
            continue;
        }
        if let Some(l) = &s.line {
            match line_idx.get(l.as_str()) {
                None => pr.push(at(&s.id, "switch", "line", format!("unknown line '{l}'"))),
                Some(&li) => {
                    let ln = &f.line[li];
                    let end = if ln.from == s.bus {
                        0
                    } else if ln.to == s.bus {
                        1
                    } else {
                        pr.push(at(
                            &s.id,
                            "switch",
                            "bus",
                            format!("line '{l}' does not end at bus '{}'", s.bus),
                        ));
                        continue;
                    };
                    if !s.closed {
                        line_open.insert((li, end));
                    }
                }
            }
        } else if let Some(t) = &s.transformer {
            match trafo_idx.get(t.as_str()) {
                None => pr.push(at(
                    &s.id,
                    "switch",
                    "transformer",
                    format!("unknown transformer '{t}'"),
                )),
                Some(&ti) => {
                    if !s.closed {
                        trafo_open.insert(ti);
                    }
                }
            }
        } else if let Some(tb) = &s.to_bus {
            if let Some(b2) = bus_ref(&s.id, "switch", "to_bus", tb, &mut pr) {
                if s.closed {
                    let (ra, rb) = (root(&mut parent, b), root(&mut parent, b2));
                    if ra != rb {
                        parent[ra.max(rb)] = ra.min(rb);
                    }
                    if (f.bus[b].vn_kv - f.bus[b2].vn_kv).abs() > 1e-9 * f.bus[b].vn_kv.max(1.0) {
                        pr.push(at(
                            &s.id,
                            "switch",
                            "to_bus",
                            "couples buses of different nominal voltage".into(),
                        ));
                    }
                }
            }
        }
    }
    // Representatives in file order; network bus index per file bus.
    let mut rep_index = vec![usize::MAX; nb0];
    let mut buses: Vec<Bus> = Vec::new();
    for i in 0..nb0 {
        let r = root(&mut parent, i);
        if r == i {
            rep_index[i] = buses.len();
            let b = &f.bus[i];
            buses.push(Bus {
                id: buses.len() as u64 + 1,
                name: Some(b.id.get_ref().clone()),
                kind: if b.in_service {
                    BusKind::Pq
                } else {
                    BusKind::Isolated
                },
                vm_pu: 1.0,
                va_degree: 0.0,
                base_kv: b.vn_kv,
                vmax_pu: b.vmax_pu.unwrap_or(1.1),
                vmin_pu: b.vmin_pu.unwrap_or(0.9),
                area: 1.0,
                zone: 1.0,
            });
        }
    }
    for i in 0..nb0 {
        let r = root(&mut parent, i);
        rep_index[i] = rep_index[r];
    }
    let nbus = |s: &str| bus_idx.get(s).map(|&i| rep_index[i]);

    let mut branches: Vec<Branch> = Vec::new();
    let mut shunts: Vec<Shunt> = Vec::new();
    let mut loads: Vec<Load> = Vec::new();
    let mut gens: Vec<Generator> = Vec::new();
    let zero_gen = |id: &Spanned<String>, bus: usize, p: f64, q: f64, in_service: bool| Generator {
        id: id.get_ref().clone(),
        bus,
        p_mw: p,
        q_mvar: q,
        qmax_mvar: 0.0,
        qmin_mvar: 0.0,
        vg_pu: 1.0,
        mbase_mva: base,
        in_service,
        pmax_mw: p.max(0.0),
        pmin_mw: 0.0,
        extra: vec![0.0; 11],
        der: None,
    };

    // --- lines
    for l in &f.line {
        check_id("line", &l.id, &mut pr);
        let fb = bus_ref(&l.id, "line", "from", &l.from, &mut pr);
        let tb = bus_ref(&l.id, "line", "to", &l.to, &mut pr);
        if !(l.length_km > 0.0 && l.length_km.is_finite()) {
            pr.push(at(
                &l.id,
                "line",
                "length_km",
                format!("must be positive, found {}", l.length_km),
            ));
        }
        if l.parallel == 0 {
            pr.push(at(&l.id, "line", "parallel", "must be at least 1".into()));
        }
        let explicit = l.r_ohm_per_km.is_some() || l.x_ohm_per_km.is_some();
        let t: Option<LineType> = match (&l.line_type, explicit) {
            (Some(_), true) => {
                pr.push(at(
                    &l.id,
                    "line",
                    "type",
                    "give a line type or r/x/c per km, not both".into(),
                ));
                None
            }
            (Some(name), false) => match lib.get(name) {
                Some(t) => Some(t.clone()),
                None => {
                    pr.push(at(
                        &l.id,
                        "line",
                        "type",
                        format!("unknown line type '{name}'{}", lib.suggest(name)),
                    ));
                    None
                }
            },
            (None, true) => match (l.r_ohm_per_km, l.x_ohm_per_km) {
                (Some(r), Some(x)) => Some(LineType {
                    r_ohm_per_km: r,
                    x_ohm_per_km: x,
                    c_nf_per_km: l.c_nf_per_km.unwrap_or(0.0),
                    max_i_ka: l.max_i_ka.unwrap_or(0.0),
                    kind: "unknown".into(),
                    source: None,
                }),
                _ => {
                    pr.push(at(
                        &l.id,
                        "line",
                        "r_ohm_per_km/x_ohm_per_km",
                        "both are needed".into(),
                    ));
                    None
                }
            },
            (None, false) => {
                pr.push(at(
                    &l.id,
                    "line",
                    "type",
                    "a line needs a type or r_ohm_per_km and x_ohm_per_km".into(),
                ));
                None
            }
        };
        let (Some(fb_i), Some(tb_i), Some(t)) =
            (fb.map(|i| rep_index[i]), tb.map(|i| rep_index[i]), t)
        else {
            continue;
        };
        let (fi, ti) = (bus_idx[l.from.as_str()], bus_idx[l.to.as_str()]);
        let vn = f.bus[fi].vn_kv;
        if (vn - f.bus[ti].vn_kv).abs() > 1e-9 * vn.max(1.0) {
            pr.push(at(
                &l.id,
                "line",
                "to",
                format!(
                "connects buses of different nominal voltage ({} kV and {} kV); use a transformer",
                vn, f.bus[ti].vn_kv
            ),
            ));
            continue;
        }
        if !(vn > 0.0) {
            pr.push(at(
                &l.id,
                "line",
                "from",
                "bus nominal voltage must be positive for a line in ohms".into(),
            ));
            continue;
        }
        if !(t.r_ohm_per_km >= 0.0 && t.x_ohm_per_km.is_finite() && t.c_nf_per_km >= 0.0) {
            pr.push(at(
                &l.id,
                "line",
                "r/x/c",
                "resistance and capacitance must not be negative".into(),
            ));
        }
        if t.r_ohm_per_km == 0.0 && t.x_ohm_per_km == 0.0 {
            pr.push(at(
                &l.id,
                "line",
                "r/x",
                "zero impedance; use a bus-bus switch".into(),
            ));
            continue;
        }
        let data = LineData {
            length_km: l.length_km,
            parallel: l.parallel.max(1),
            max_i_ka: t.max_i_ka,
            r_ohm_per_km: t.r_ohm_per_km,
            x_ohm_per_km: t.x_ohm_per_km,
            c_nf_per_km: t.c_nf_per_km,
            line_type: l.line_type.clone(),
        };
        let pu = data.per_unit(vn, base, w);
        let rate_a_mva = 3f64.sqrt() * vn * data.rated_i_ka();
        let open_from = line_open.contains(&(line_idx[l.id.get_ref().as_str()], 0));
        let open_to = line_open.contains(&(line_idx[l.id.get_ref().as_str()], 1));
        let mut from = fb_i;
        let mut to = tb_i;
        let aux = |buses: &mut Vec<Bus>| {
            buses.push(Bus {
                id: buses.len() as u64 + 1,
                name: Some(format!("{}:open-end", l.id.get_ref())),
                kind: BusKind::Pq,
                vm_pu: 1.0,
                va_degree: 0.0,
                base_kv: vn,
                vmax_pu: 1.1,
                vmin_pu: 0.9,
                area: 1.0,
                zone: 1.0,
            });
            buses.len() - 1
        };
        let in_service = l.in_service && !(open_from && open_to);
        if in_service && open_from {
            from = aux(&mut buses);
        }
        if in_service && open_to {
            to = aux(&mut buses);
        }
        let mut br = Branch::new(
            l.id.get_ref().clone(),
            BranchKind::Line(Some(data)),
            from,
            to,
            pu,
        );
        br.rate_a_mva = rate_a_mva;
        br.in_service = in_service;
        branches.push(br);
    }

    // --- transformers
    for (ti, t) in f.transformer.iter().enumerate() {
        check_id("transformer", &t.id, &mut pr);
        let hb = bus_ref(&t.id, "transformer", "hv_bus", &t.hv_bus, &mut pr);
        let lb = bus_ref(&t.id, "transformer", "lv_bus", &t.lv_bus, &mut pr);
        let mut ok = true;
        for (v, field) in [
            (t.sn_mva, "sn_mva"),
            (t.vn_hv_kv, "vn_hv_kv"),
            (t.vn_lv_kv, "vn_lv_kv"),
            (t.vk_percent, "vk_percent"),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                pr.push(at(
                    &t.id,
                    "transformer",
                    field,
                    format!("must be positive, found {v}"),
                ));
                ok = false;
            }
        }
        if !(t.vkr_percent >= 0.0 && t.vkr_percent <= t.vk_percent) {
            pr.push(at(
                &t.id,
                "transformer",
                "vkr_percent",
                format!("must be between 0 and vk_percent, found {}", t.vkr_percent),
            ));
            ok = false;
        }
        if !(t.pfe_kw >= 0.0) || !(t.i0_percent >= 0.0) {
            pr.push(at(
                &t.id,
                "transformer",
                "pfe_kw/i0_percent",
                "must not be negative".into(),
            ));
            ok = false;
        }
        if t.tap_side != "hv" && t.tap_side != "lv" {
            pr.push(at(
                &t.id,
                "transformer",
                "tap_side",
                format!("'{}' is neither 'hv' nor 'lv'", t.tap_side),
            ));
            ok = false;
        }
        if t.tap_min > t.tap_max
            || (t.tap_min != t.tap_max && !(t.tap_min..=t.tap_max).contains(&t.tap_pos))
        {
            pr.push(at(
                &t.id,
                "transformer",
                "tap_pos",
                format!("{} outside [{}, {}]", t.tap_pos, t.tap_min, t.tap_max),
            ));
        }
        let shift = match (t.shift_degree, &t.vector_group) {
            (Some(s), _) => s,
            (None, Some(vg)) => match vector_group_clock(vg) {
                Some(c) => 30.0 * c as f64,
                None => {
                    pr.push(at(
                        &t.id,
                        "transformer",
                        "vector_group",
                        format!("'{vg}' has no clock number 0–11"),
                    ));
                    0.0
                }
            },
            (None, None) => 0.0,
        };
        let (Some(hb), Some(lb)) = (hb.map(|i| rep_index[i]), lb.map(|i| rep_index[i])) else {
            continue;
        };
        if !ok {
            continue;
        }
        if hb == lb {
            pr.push(at(
                &t.id,
                "transformer",
                "lv_bus",
                "connects a bus to itself".into(),
            ));
            continue;
        }
        let vh = f.bus[bus_idx[t.hv_bus.as_str()]].vn_kv;
        let vl = f.bus[bus_idx[t.lv_bus.as_str()]].vn_kv;
        for (rated, busv, field) in [(t.vn_hv_kv, vh, "vn_hv_kv"), (t.vn_lv_kv, vl, "vn_lv_kv")] {
            if !(busv > 0.0) || (rated / busv - 1.0).abs() > 0.1 {
                pr.push(at(&t.id, "transformer", field, format!(
                    "{rated} kV does not match its bus's nominal voltage {busv} kV (more than 10 % apart)"
                )));
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        let data = TransformerData {
            sn_mva: t.sn_mva,
            vn_hv_kv: t.vn_hv_kv,
            vn_lv_kv: t.vn_lv_kv,
            vk_percent: t.vk_percent,
            vkr_percent: t.vkr_percent,
            pfe_kw: t.pfe_kw,
            i0_percent: t.i0_percent,
            shift_degree: shift,
            tap: TapChanger {
                side: if t.tap_side == "lv" {
                    TapSide::Lv
                } else {
                    TapSide::Hv
                },
                pos: t.tap_pos,
                neutral: t.tap_neutral,
                min: t.tap_min,
                max: t.tap_max,
                step_percent: t.tap_step_percent,
            },
        };
        let pu = data.per_unit(vh, vl, base, t.tap_pos);
        let mut br = Branch::new(
            t.id.get_ref().clone(),
            BranchKind::Transformer(Some(data)),
            hb,
            lb,
            pu,
        );
        br.rate_a_mva = t.sn_mva;
        br.in_service = t.in_service && !trafo_open.contains(&ti);
        branches.push(br);
    }

    // --- per-unit branches
    for b in &f.branch {
        check_id("branch", &b.id, &mut pr);
        let fb = bus_ref(&b.id, "branch", "from", &b.from, &mut pr);
        let tb = bus_ref(&b.id, "branch", "to", &b.to, &mut pr);
        if b.r_pu == 0.0 && b.x_pu == 0.0 && b.in_service {
            pr.push(at(&b.id, "branch", "r_pu/x_pu", "zero impedance".into()));
        }
        if let Some(t) = b.tap {
            if !(t > 0.0) {
                pr.push(at(
                    &b.id,
                    "branch",
                    "tap",
                    format!("must be positive, found {t}"),
                ));
            }
        }
        let (Some(fb), Some(tb)) = (fb, tb) else {
            continue;
        };
        let kind = if b.tap.is_some()
            || b.shift_degree != 0.0
            || per_unit_transformer(f.bus[fb].vn_kv, f.bus[tb].vn_kv)
        {
            BranchKind::Transformer(None)
        } else {
            BranchKind::Line(None)
        };
        let (fb, tb) = (rep_index[fb], rep_index[tb]);
        let pu = PerUnit {
            r_pu: b.r_pu,
            x_pu: b.x_pu,
            b_pu: b.b_pu,
            g_pu: b.g_pu,
            tap_ratio: b.tap.unwrap_or(1.0),
            shift_degree: b.shift_degree,
        };
        let mut br = Branch::new(b.id.get_ref().clone(), kind, fb, tb, pu);
        br.rate_a_mva = b.rate_a_mva;
        br.in_service = b.in_service;
        branches.push(br);
    }

    // --- loads and shunts
    for l in &f.load {
        check_id("load", &l.id, &mut pr);
        let b = bus_ref(&l.id, "load", "bus", &l.bus, &mut pr);
        if !l.p_mw.is_finite() {
            pr.push(at(&l.id, "load", "p_mw", "must be a finite number".into()));
        }
        let q = match (l.q_mvar, l.power_factor) {
            (Some(q), None) => q,
            (None, Some(pf)) => {
                if !(pf > 0.0 && pf <= 1.0) {
                    pr.push(at(
                        &l.id,
                        "load",
                        "power_factor",
                        format!("must be in (0, 1], found {pf}"),
                    ));
                    0.0
                } else {
                    l.p_mw * (1.0 - pf * pf).sqrt() / pf
                }
            }
            (None, None) => 0.0,
            (Some(_), Some(_)) => {
                pr.push(at(
                    &l.id,
                    "load",
                    "q_mvar/power_factor",
                    "give one of them, not both".into(),
                ));
                0.0
            }
        };
        if let Some(z) = l.zip {
            if (z.z + z.i + z.p - 1.0).abs() > 1e-9 || z.z < 0.0 || z.i < 0.0 || z.p < 0.0 {
                pr.push(at(
                    &l.id,
                    "load",
                    "zip",
                    "shares must be non-negative and sum to 1".into(),
                ));
            }
        }
        if let (Some(b), true) = (b, l.in_service) {
            let z = l.zip.unwrap_or(Zip {
                z: 0.0,
                i: 0.0,
                p: 1.0,
            });
            loads.push(Load {
                id: l.id.get_ref().clone(),
                bus: nbus(&l.bus).unwrap_or(b),
                p_mw: l.p_mw,
                q_mvar: q,
                z_share: z.z,
                i_share: z.i,
                class: l.class,
            });
        }
    }
    for s in &f.shunt {
        check_id("shunt", &s.id, &mut pr);
        if let (Some(b), true) = (
            bus_ref(&s.id, "shunt", "bus", &s.bus, &mut pr),
            s.in_service,
        ) {
            shunts.push(Shunt {
                id: s.id.get_ref().clone(),
                bus: nbus(&s.bus).unwrap_or(b),
                g_mw: s.g_mw,
                b_mvar: s.b_mvar,
            });
        }
    }

    // --- sources
    for e in &f.ext_grid {
        check_id("ext_grid", &e.id, &mut pr);
        if !(e.vm_pu > 0.0) {
            pr.push(at(
                &e.id,
                "ext_grid",
                "vm_pu",
                format!("must be positive, found {}", e.vm_pu),
            ));
        }
        if let Some(b) = bus_ref(&e.id, "ext_grid", "bus", &e.bus, &mut pr) {
            let bi = nbus(&e.bus).unwrap_or(b);
            buses[bi].kind = BusKind::Ref;
            buses[bi].vm_pu = e.vm_pu;
            buses[bi].va_degree = e.va_degree;
            let mut g = zero_gen(&e.id, bi, 0.0, 0.0, true);
            g.vg_pu = e.vm_pu;
            g.qmax_mvar = f64::INFINITY;
            g.qmin_mvar = f64::NEG_INFINITY;
            g.pmax_mw = f64::INFINITY;
            gens.push(g);
        }
    }
    for g in &f.generator {
        check_id("generator", &g.id, &mut pr);
        if let Some(b) = bus_ref(&g.id, "generator", "bus", &g.bus, &mut pr) {
            let bi = nbus(&g.bus).unwrap_or(b);
            let mut x = zero_gen(&g.id, bi, g.p_mw, g.q_mvar, g.in_service);
            if let Some(v) = g.vm_pu {
                if !(v > 0.0) {
                    pr.push(at(
                        &g.id,
                        "generator",
                        "vm_pu",
                        format!("must be positive, found {v}"),
                    ));
                }
                x.vg_pu = v;
                if g.in_service && buses[bi].kind == BusKind::Pq {
                    buses[bi].kind = BusKind::Pv;
                    buses[bi].vm_pu = v;
                }
            }
            x.qmax_mvar = g.q_max_mvar.unwrap_or(f64::INFINITY);
            x.qmin_mvar = g.q_min_mvar.unwrap_or(f64::NEG_INFINITY);
            gens.push(x);
        }
    }
    let mut unit = |id: &Spanned<String>,
                    kind: &'static str,
                    bus: &str,
                    p: f64,
                    q: f64,
                    der: Option<crate::network::DerSource>,
                    pr: &mut Vec<String>| {
        if let Some(b) = bus_ref(id, kind, "bus", bus, pr) {
            let mut g = zero_gen(id, nbus(bus).unwrap_or(b), p, q, true);
            g.der = der;
            gens.push(g);
        }
    };
    for c in &f.chp {
        check_id("chp", &c.id, &mut pr);
        if !(c.rated_mw > 0.0) {
            pr.push(at(
                &c.id,
                "chp",
                "rated_mw",
                format!("must be positive, found {}", c.rated_mw),
            ));
        }
        if !(c.eta_el > 0.0 && c.eta_th >= 0.0 && c.eta_el + c.eta_th <= 1.0) {
            pr.push(at(
                &c.id,
                "chp",
                "eta_el/eta_th",
                format!(
                    "need 0 < eta_el, 0 ≤ eta_th, eta_el + eta_th ≤ 1 (found {} + {})",
                    c.eta_el, c.eta_th
                ),
            ));
        }
        unit(
            &c.id,
            "chp",
            &c.bus,
            c.p_mw.unwrap_or(c.rated_mw),
            c.q_mvar,
            None,
            &mut pr,
        );
    }
    for p in &f.pv {
        check_id("pv", &p.id, &mut pr);
        if !(p.kwp > 0.0) {
            pr.push(at(
                &p.id,
                "pv",
                "kwp",
                format!("must be positive, found {}", p.kwp),
            ));
        }
        unit(
            &p.id,
            "pv",
            &p.bus,
            p.p_mw.unwrap_or(p.kwp / 1000.0),
            p.q_mvar,
            Some(crate::network::DerSource::Pv {
                kwp: p.kwp,
                inverter_mva: p.inverter_mva.unwrap_or(p.kwp / 1000.0),
            }),
            &mut pr,
        );
    }
    for w_ in &f.wind {
        check_id("wind", &w_.id, &mut pr);
        if !(w_.rated_mw > 0.0) {
            pr.push(at(
                &w_.id,
                "wind",
                "rated_mw",
                format!("must be positive, found {}", w_.rated_mw),
            ));
        }
        unit(
            &w_.id,
            "wind",
            &w_.bus,
            w_.p_mw.unwrap_or(w_.rated_mw),
            w_.q_mvar,
            Some(crate::network::DerSource::Wind {
                rated_mw: w_.rated_mw,
                turbine_class: w_.turbine_class,
            }),
            &mut pr,
        );
    }
    for s in &f.storage {
        check_id("storage", &s.id, &mut pr);
        if !(s.capacity_mwh > 0.0) || !(s.power_mw > 0.0) {
            pr.push(at(
                &s.id,
                "storage",
                "capacity_mwh/power_mw",
                "must be positive".into(),
            ));
        }
        if s.p_mw.abs() > s.power_mw {
            pr.push(at(
                &s.id,
                "storage",
                "p_mw",
                format!("|{}| exceeds power_mw {}", s.p_mw, s.power_mw),
            ));
        }
        if let Some(b) = bus_ref(&s.id, "storage", "bus", &s.bus, &mut pr) {
            loads.push(Load::constant_power(
                s.id.get_ref().clone(),
                nbus(&s.bus).unwrap_or(b),
                s.p_mw,
                s.q_mvar,
            ));
        }
    }
    if f.ext_grid.is_empty() && !f.generator.iter().any(|g| g.vm_pu.is_some()) {
        pr.push(format!(
            "{}: the network has no source: add an [[ext_grid]] (or a generator with vm_pu)",
            path.display()
        ));
    }
    if f.bus.is_empty() {
        pr.push(format!("{}: the network has no buses", path.display()));
    }
    if !pr.is_empty() {
        return Err(Error::Invalid {
            source_name: path.display().to_string(),
            problems: pr,
        });
    }
    initial_angles(&mut buses, &branches);
    let net = Network {
        name: h.name.clone(),
        base_mva: base,
        buses,
        loads,
        shunts,
        branches,
        generators: gens,
    };
    // Parts of the grid without a source are an error here (named buses).
    if let Err(Error::Invalid { problems, .. }) = crate::math::topology::analyse(&net) {
        return Err(Error::Invalid {
            source_name: path.display().to_string(),
            problems: problems
                .into_iter()
                .map(|p| format!("{}: {p}", path.display()))
                .collect(),
        });
    }
    Ok(net)
}

/// Initial voltage angles that follow the transformer phase shifts from
/// each reference bus (breadth-first over in-service branches), so that a
/// network with e.g. Dyn5 transformers does not start 150° away from its
/// solution.
fn initial_angles(buses: &mut [Bus], branches: &[Branch]) {
    let n = buses.len();
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for b in branches.iter().filter(|b| b.in_service) {
        // Crossing from → to lowers the angle by the shift.
        adj[b.from].push((b.to, -b.shift_degree));
        adj[b.to].push((b.from, b.shift_degree));
    }
    let mut seen = vec![false; n];
    for start in 0..n {
        if buses[start].kind != BusKind::Ref || seen[start] {
            continue;
        }
        seen[start] = true;
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(x) = queue.pop_front() {
            for &(y, d) in &adj[x] {
                if !seen[y] {
                    seen[y] = true;
                    buses[y].va_degree = buses[x].va_degree + d;
                    queue.push_back(y);
                }
            }
        }
    }
}
