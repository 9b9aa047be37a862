//! The physical model: a network as its components, in engineering units.
//!
//! Powers are in MW / Mvar, voltages in p.u. of the bus's nominal voltage,
//! angles in degrees. Branch impedances are stored in p.u. on the network's
//! `base_mva` and the from-bus nominal voltage, as MATPOWER defines them
//! (the common denominator of every input format; file readers convert ohms
//! to this). Nothing here knows about matrices or solvers: that is
//! [`crate::math`].

pub mod components;
pub mod edit;
pub mod matpower;
pub mod native;
pub mod pandapower;
pub mod topology;

pub use components::chp::ChpTechnology;
pub use components::line::LineData;
pub use components::regulator::RegulatorData;
pub use components::transformer::{TapChanger, TapKind, TapSide, TransformerData};
pub use components::PerUnit;

use crate::error::{Error, Result};
use std::path::Path;

/// Accepted system base power, MVA (outside it per-unit values overflow or
/// lose all precision).
pub const BASE_MVA_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e6;

/// Accepted off-nominal ratios of a per-unit transformer.
pub const TAP_RATIO_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e3;

/// Smallest series impedance |r| + |x| of a branch, p.u.: below it the
/// admittance swamps every other in the Ybus (use a bus-bus switch).
pub const MIN_IMPEDANCE_PU: f64 = 1e-9;

/// Network file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkFormat {
    /// MATPOWER `.m`.
    Matpower,
    /// gridsim native `.toml`.
    Native,
    /// pandapower `.json` (as `pandapower.to_json` writes it).
    Pandapower,
}

/// The format of a network file, by extension.
pub fn network_format(path: &Path) -> Result<NetworkFormat> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase());
    if name.is_some_and(|n| n.ends_with(".json.gz")) {
        return Ok(NetworkFormat::Pandapower);
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
    {
        Some(ext) if ext == "m" => Ok(NetworkFormat::Matpower),
        Some(ext) if ext == "toml" => Ok(NetworkFormat::Native),
        Some(ext) if ext == "json" => Ok(NetworkFormat::Pandapower),
        _ => Err(Error::Usage(format!(
            "{}: unknown network file type (expected a MATPOWER .m, a gridsim .toml or a pandapower .json file)",
            path.display()
        ))),
    }
}

/// Reads a network file, choosing the reader by extension.
pub fn read_network(path: &Path) -> Result<Network> {
    match network_format(path)? {
        NetworkFormat::Matpower => matpower::read_case(path),
        NetworkFormat::Native => native::read_network(path),
        NetworkFormat::Pandapower => pandapower::read_network(path),
    }
}

/// How a bus is meant to be controlled, as the input file declares it.
///
/// The effective type used by the solver is decided in [`topology`]
/// (e.g. a PV bus without an in-service generator is solved as PQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusKind {
    /// Load bus: P and Q given.
    Pq,
    /// Voltage-controlled bus: P and |V| given.
    Pv,
    /// Reference (slack) bus: |V| and angle given.
    Ref,
    /// Isolated bus, not part of the solved network.
    Isolated,
}

impl BusKind {
    /// MATPOWER's numeric code (1 PQ, 2 PV, 3 REF, 4 NONE).
    pub fn code(self) -> u8 {
        match self {
            BusKind::Pq => 1,
            BusKind::Pv => 2,
            BusKind::Ref => 3,
            BusKind::Isolated => 4,
        }
    }
}

/// A node of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Bus {
    /// External bus number (unique, positive).
    pub id: u64,
    /// Optional human-readable name.
    pub name: Option<String>,
    /// Declared bus type.
    pub kind: BusKind,
    /// Voltage magnitude from the file (initial point), p.u.
    pub vm_pu: f64,
    /// Voltage angle from the file (initial point; fixed at the reference), degrees.
    pub va_degree: f64,
    /// Nominal voltage, kV (0 where unknown).
    pub base_kv: f64,
    /// Upper voltage limit, p.u.
    pub vmax_pu: f64,
    /// Lower voltage limit, p.u.
    pub vmin_pu: f64,
    /// Area number.
    pub area: f64,
    /// Loss zone.
    pub zone: f64,
}

/// Customer class of a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerClass {
    /// Households: morning and evening peaks, winter-heavy.
    Residential,
    /// Shops and offices: weekday daytime.
    Commercial,
    /// Two-shift industry: weekday 6–22 h.
    Industrial,
    /// Farms: daytime, summer-heavy (irrigation, cooling).
    Agricultural,
}

/// A load at a bus: constant power by default, or a ZIP mix.
///
/// `p_mw`/`q_mvar` are drawn at 1 p.u. voltage; the shares `z_share` and
/// `i_share` of it vary with |V|² and |V|, the rest is constant power.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// Id, unique among loads: the file's id (native), `load N` by bus number (MATPOWER).
    pub id: String,
    /// Index into [`Network::buses`].
    pub bus: usize,
    /// Active power drawn at 1 p.u., MW.
    pub p_mw: f64,
    /// Reactive power drawn at 1 p.u., Mvar.
    pub q_mvar: f64,
    /// Constant-impedance share.
    pub z_share: f64,
    /// Constant-current share.
    pub i_share: f64,
    /// Customer class, where known (shapes its demand in time series).
    pub class: Option<CustomerClass>,
}

impl Load {
    /// Whether part of the load depends on the voltage (constant-impedance
    /// or constant-current shares).
    pub fn is_voltage_dependent(&self) -> bool {
        self.z_share != 0.0 || self.i_share != 0.0
    }

    /// A constant-power load.
    pub fn constant_power(id: String, bus: usize, p_mw: f64, q_mvar: f64) -> Load {
        Load {
            id,
            bus,
            p_mw,
            q_mvar,
            z_share: 0.0,
            i_share: 0.0,
            class: None,
        }
    }
}

/// A constant-admittance shunt at a bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Shunt {
    /// Id, unique among shunts: the file's id (native), `shunt N` by bus number (MATPOWER).
    pub id: String,
    /// Index into [`Network::buses`].
    pub bus: usize,
    /// Active power consumed at 1 p.u. voltage, MW.
    pub g_mw: f64,
    /// Reactive power injected at 1 p.u. voltage, Mvar.
    pub b_mvar: f64,
}

/// What a branch is physically, with its nameplate where the file gives one.
#[derive(Debug, Clone, PartialEq)]
pub enum BranchKind {
    /// A line or cable (`None`: per-unit data only, e.g. MATPOWER).
    Line(Option<LineData>),
    /// A two-winding transformer, HV side at the from end (`None`: per-unit
    /// data only).
    Transformer(Option<TransformerData>),
    /// A line voltage regulator, with the transformer it is electrically
    /// (see [`RegulatorData::transformer`]).
    Regulator {
        /// Its nameplate.
        nameplate: RegulatorData,
        /// The equivalent transformer (1:1, taps on the regulated side).
        equivalent: TransformerData,
    },
}

impl BranchKind {
    /// A regulator branch kind from its nameplate.
    pub fn regulator(nameplate: RegulatorData) -> BranchKind {
        let equivalent = nameplate.transformer();
        BranchKind::Regulator {
            nameplate,
            equivalent,
        }
    }

    /// "line", "transformer" or "regulator".
    pub fn name(&self) -> &'static str {
        match self {
            BranchKind::Line(_) => "line",
            BranchKind::Transformer(_) => "transformer",
            BranchKind::Regulator { .. } => "regulator",
        }
    }
}

/// A line or transformer, as a π model with an ideal transformer at the from end.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// Id, unique among branches: the file's id (native), `branch K` by row (MATPOWER).
    pub id: String,
    /// Line or transformer, and its nameplate.
    pub kind: BranchKind,
    /// Index of the from bus into [`Network::buses`].
    pub from: usize,
    /// Index of the to bus into [`Network::buses`].
    pub to: usize,
    /// Series resistance, p.u.
    pub r_pu: f64,
    /// Series reactance, p.u.
    pub x_pu: f64,
    /// Total shunt (line charging, magnetizing) susceptance, p.u.
    pub b_pu: f64,
    /// Total shunt conductance (transformer iron losses), p.u.; half at each
    /// end like `b_pu`.
    pub g_pu: f64,
    /// Long-term rating, MVA (0 = unlimited).
    pub rate_a_mva: f64,
    /// Short-term rating, MVA.
    pub rate_b_mva: f64,
    /// Emergency rating, MVA.
    pub rate_c_mva: f64,
    /// Off-nominal turns ratio (from side); 1 for lines.
    pub tap_ratio: f64,
    /// Phase shift, degrees (positive: from-bus voltage leads).
    pub shift_degree: f64,
    /// Whether the branch is in service.
    pub in_service: bool,
    /// Minimum angle difference, degrees.
    pub angmin_degree: f64,
    /// Maximum angle difference, degrees.
    pub angmax_degree: f64,
}

impl Branch {
    /// A branch with the per-unit parameters `pu` between `from` and `to`
    /// (no ratings, in service, no angle limits).
    pub fn new(id: String, kind: BranchKind, from: usize, to: usize, pu: PerUnit) -> Branch {
        Branch {
            id,
            kind,
            from,
            to,
            r_pu: pu.r_pu,
            x_pu: pu.x_pu,
            b_pu: pu.b_pu,
            g_pu: pu.g_pu,
            rate_a_mva: 0.0,
            rate_b_mva: 0.0,
            rate_c_mva: 0.0,
            tap_ratio: pu.tap_ratio,
            shift_degree: pu.shift_degree,
            in_service: true,
            angmin_degree: -360.0,
            angmax_degree: 360.0,
        }
    }

    /// Replaces the per-unit parameters (e.g. after a tap move).
    pub fn set_per_unit(&mut self, pu: PerUnit) {
        self.r_pu = pu.r_pu;
        self.x_pu = pu.x_pu;
        self.b_pu = pu.b_pu;
        self.g_pu = pu.g_pu;
        self.tap_ratio = pu.tap_ratio;
        self.shift_degree = pu.shift_degree;
    }

    /// The per-unit parameters.
    pub fn per_unit(&self) -> PerUnit {
        PerUnit {
            r_pu: self.r_pu,
            x_pu: self.x_pu,
            b_pu: self.b_pu,
            g_pu: self.g_pu,
            tap_ratio: self.tap_ratio,
            shift_degree: self.shift_degree,
        }
    }

    /// Whether the branch is a transformer (a line voltage regulator is one).
    pub fn is_transformer(&self) -> bool {
        !matches!(self.kind, BranchKind::Line(_))
    }

    /// The transformer nameplate, if the branch is a transformer that has
    /// one (for a regulator: its equivalent transformer).
    pub fn transformer(&self) -> Option<&TransformerData> {
        match &self.kind {
            BranchKind::Transformer(t) => t.as_ref(),
            BranchKind::Regulator { equivalent, .. } => Some(equivalent),
            BranchKind::Line(_) => None,
        }
    }

    /// The line nameplate, if the branch is a line that has one.
    pub fn line(&self) -> Option<&LineData> {
        match &self.kind {
            BranchKind::Line(l) => l.as_ref(),
            _ => None,
        }
    }

    /// Loading per end, in percent per (MVA / p.u. of voltage) at that end:
    /// `loading_percent = max over ends of |S| / |V| · factor`. This is the
    /// current against the rated current as pandapower defines it: a line's
    /// ampacity × parallel systems, a transformer's rated winding currents
    /// (`sn_mva / (√3 · vn_kv)`), otherwise `rate_a_mva` at nominal
    /// voltage. NaN where the branch has no rating.
    pub fn loading_factors(&self, buses: &[Bus]) -> [f64; 2] {
        let s3 = 3f64.sqrt();
        let (kv_f, kv_t) = (buses[self.from].base_kv, buses[self.to].base_kv);
        let per_ka = |i_rated_ka: f64, kv: f64| {
            if i_rated_ka > 0.0 && kv > 0.0 {
                100.0 / (s3 * kv * i_rated_ka)
            } else {
                f64::NAN
            }
        };
        match &self.kind {
            BranchKind::Line(Some(l)) if l.max_i_ka > 0.0 => {
                [per_ka(l.rated_i_ka(), kv_f), per_ka(l.rated_i_ka(), kv_t)]
            }
            BranchKind::Transformer(Some(t)) | BranchKind::Regulator { equivalent: t, .. } => {
                let [ih, il] = t.rated_i_ka();
                [per_ka(ih, kv_f), per_ka(il, kv_t)]
            }
            _ if self.rate_a_mva > 0.0 => [100.0 / self.rate_a_mva; 2],
            _ => [f64::NAN; 2],
        }
    }
}

/// IEC wind turbine class (sets the rated wind speed of the power curve).
#[derive(Debug, Clone, Copy, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
pub enum TurbineClass {
    /// High-wind sites: rated at 13 m/s.
    I,
    /// Medium-wind sites: rated at 12 m/s.
    II,
    /// Low-wind sites: rated at 11 m/s.
    III,
}

/// What a renewable generator is, so that time series can drive it by weather.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DerSource {
    /// Photovoltaics.
    Pv {
        /// Peak power, kWp.
        kwp: f64,
        /// Inverter rating, MVA.
        inverter_mva: f64,
    },
    /// Wind turbine.
    Wind {
        /// Rated power, MW.
        rated_mw: f64,
        /// IEC class.
        turbine_class: TurbineClass,
    },
}

/// A generating unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Generator {
    /// Index into [`Network::buses`].
    pub bus: usize,
    /// Active power output setpoint, MW.
    pub p_mw: f64,
    /// Reactive power output, Mvar (setpoint at PQ buses).
    pub q_mvar: f64,
    /// Reactive power upper limit, Mvar.
    pub qmax_mvar: f64,
    /// Reactive power lower limit, Mvar.
    pub qmin_mvar: f64,
    /// Voltage setpoint, p.u.
    pub vg_pu: f64,
    /// Machine base, MVA.
    pub mbase_mva: f64,
    /// Whether the unit is in service.
    pub in_service: bool,
    /// Active power upper limit, MW.
    pub pmax_mw: f64,
    /// Active power lower limit, MW.
    pub pmin_mw: f64,
    /// MATPOWER gen columns 11–21 (capability curve, ramp rates, APF), kept for export.
    pub extra: Vec<f64>,
    /// Id, unique among generators: the file's id (native ext_grid, generator,
    /// CHP, PV, wind), `gen K` by row (MATPOWER).
    pub id: String,
    /// Renewable source data (native PV and wind units).
    pub der: Option<DerSource>,
}

/// A whole network.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Name (the case name).
    pub name: String,
    /// System MVA base for per-unit quantities.
    pub base_mva: f64,
    /// Buses in file order.
    pub buses: Vec<Bus>,
    /// Loads in file order.
    pub loads: Vec<Load>,
    /// Shunts in file order.
    pub shunts: Vec<Shunt>,
    /// Branches in file order.
    pub branches: Vec<Branch>,
    /// Generators in file order.
    pub generators: Vec<Generator>,
    /// Ids of file buses that a closed bus-bus switch fused into another,
    /// with the index of the bus they became: element tables and scenarios
    /// may still name them (a pandapower grid's loads sit on such buses).
    pub bus_aliases: Vec<(String, usize)>,
}

/// A reference to a bus in a scenario or element table: a bus number
/// (MATPOWER) or a bus id string (native files).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum BusRef {
    /// External bus number.
    Number(u64),
    /// Bus id (name) of a native network file.
    Name(String),
}

impl std::fmt::Display for BusRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BusRef::Number(n) => write!(f, "{n}"),
            BusRef::Name(s) => write!(f, "'{s}'"),
        }
    }
}

/// Bus lookups by reference in constant time, for callers that look up
/// many (an element table): the same answers as [`Network::find_bus`].
pub struct BusLookup<'a> {
    by_name: std::collections::HashMap<&'a str, usize>,
    by_alias: std::collections::HashMap<&'a str, usize>,
    by_id: std::collections::HashMap<u64, usize>,
}

impl BusLookup<'_> {
    /// The bus `r` names: by name (native id) first, then by number.
    pub fn find(&self, r: &BusRef) -> Option<usize> {
        match r {
            BusRef::Number(n) => self
                .by_name
                .get(n.to_string().as_str())
                .or_else(|| self.by_id.get(n))
                .copied(),
            BusRef::Name(s) => self
                .by_name
                .get(s.as_str())
                .or_else(|| self.by_alias.get(s.as_str()))
                .copied()
                .or_else(|| {
                    s.parse::<u64>()
                        .ok()
                        .and_then(|n| self.by_id.get(&n).copied())
                }),
        }
    }
}

impl Network {
    /// Finds a bus by reference: by name (native id) first, then by number.
    pub fn find_bus(&self, r: &BusRef) -> Option<usize> {
        match r {
            BusRef::Number(n) => {
                let key = n.to_string();
                self.buses
                    .iter()
                    .position(|b| b.name.as_deref() == Some(key.as_str()))
                    .or_else(|| self.bus_index(*n))
            }
            BusRef::Name(s) => self
                .buses
                .iter()
                .position(|b| b.name.as_deref() == Some(s.as_str()))
                .or_else(|| {
                    let alias = self.bus_aliases.iter().find(|(a, _)| a == s);
                    alias.map(|&(_, i)| i)
                })
                .or_else(|| s.parse::<u64>().ok().and_then(|n| self.bus_index(n))),
        }
    }

    /// A [`BusLookup`] of this network (the first bus wins where names or
    /// numbers repeat, as in [`Self::find_bus`]).
    pub fn bus_lookup(&self) -> BusLookup<'_> {
        let mut l = BusLookup {
            by_name: std::collections::HashMap::with_capacity(self.buses.len()),
            by_id: std::collections::HashMap::with_capacity(self.buses.len()),
            by_alias: self
                .bus_aliases
                .iter()
                .map(|(a, i)| (a.as_str(), *i))
                .collect(),
        };
        for (i, b) in self.buses.iter().enumerate() {
            if let Some(n) = b.name.as_deref() {
                l.by_name.entry(n).or_insert(i);
            }
            l.by_id.entry(b.id).or_insert(i);
        }
        l
    }

    /// Whether any load depends on the voltage.
    pub fn has_voltage_dependent_loads(&self) -> bool {
        self.loads.iter().any(Load::is_voltage_dependent)
    }

    /// Index of the bus with external number `id`.
    pub fn bus_index(&self, id: u64) -> Option<usize> {
        self.buses.iter().position(|b| b.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookup answers as `find_bus` does: names first (a name that is
    /// another bus's number wins), then numbers; unknown references none.
    #[test]
    fn bus_lookup_agrees_with_find_bus() {
        let bus = |id: u64, name: Option<&str>| Bus {
            id,
            name: name.map(str::to_string),
            kind: BusKind::Pq,
            vm_pu: 1.0,
            va_degree: 0.0,
            base_kv: 10.0,
            vmax_pu: 1.1,
            vmin_pu: 0.9,
            area: 1.0,
            zone: 1.0,
        };
        let net = Network {
            name: "lookup".into(),
            base_mva: 1.0,
            buses: vec![
                bus(1, Some("3")),
                bus(2, Some("A")),
                bus(3, None),
                bus(4, Some("A")),
            ],
            loads: Vec::new(),
            shunts: Vec::new(),
            branches: Vec::new(),
            generators: Vec::new(),
            bus_aliases: Vec::new(),
        };
        let l = net.bus_lookup();
        let refs = [
            BusRef::Number(3),
            BusRef::Number(1),
            BusRef::Number(9),
            BusRef::Name("A".into()),
            BusRef::Name("2".into()),
            BusRef::Name("3".into()),
            BusRef::Name("zz".into()),
        ];
        for r in refs {
            assert_eq!(l.find(&r), net.find_bus(&r), "{r}");
        }
        assert_eq!(l.find(&BusRef::Number(3)), Some(0));
        assert_eq!(l.find(&BusRef::Name("A".into())), Some(1));
    }
}
