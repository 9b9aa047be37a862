//! Scenario files (TOML): one file describes a base study and its variants.
//!
//! Paths inside a scenario file are relative to the file. Every table
//! rejects unknown fields. A `[[variant]]` has a `name` and may
//! - `set` fields of the base (a table deep-merged over it: tables merge,
//!   values and arrays replace),
//! - `add` units or controllers (`add.pv = [{...}]` appends to `pv`),
//! - `remove` units by name (`remove = ["pv-1"]`),
//! - change single units by name (`[variant.units.chp-1] mode = "power-led"`).
//!
//! Without variants the file gives one scenario named `base`. See
//! README "Scenario files" for every field.

use super::controllers::{ControllerSpec, OltcState};
use super::der::{
    chp_state, load_series, pv_availability, wind_availability, ChpSpec, LoadSpec, PvSpec,
    StorageSpec, Technology, Unit, UnitState, WindSpec,
};
use super::elements::read_elements;
use super::profiles::{read_profiles, ProfileTable};
use super::runner::{Controller, Emissions, Scenario, SyntheticLoad};
use super::time::Timestamp;
use super::weather::TemperatureProcess;
use crate::error::{Error, Result};
use crate::network::edit::GridEdits;
use crate::network::Network;
use crate::results::kpi::PesReference;
use crate::solver::NewtonOptions;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn d_step_min() -> f64 {
    15.0
}
fn d_seed() -> u64 {
    1
}
fn d_tol() -> f64 {
    1e-8
}
fn d_iter() -> usize {
    20
}
fn d_lat() -> f64 {
    51.3
}
fn d_lon() -> f64 {
    9.5
}
fn d_utc() -> f64 {
    1.0
}
fn d_tmean() -> f64 {
    9.5
}
fn d_vmin() -> f64 {
    0.95
}
fn d_vmax() -> f64 {
    1.05
}
fn d_network_der() -> String {
    "weather".into()
}

/// `[period]`: the time axis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodSpec {
    /// ISO-8601 local start time.
    pub start: String,
    /// Step length, minutes.
    #[serde(default = "d_step_min")]
    pub step_minutes: f64,
    /// Number of steps.
    pub steps: usize,
}

/// `[solver]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSpec {
    /// Mismatch tolerance, p.u.
    #[serde(default = "d_tol")]
    pub tol: f64,
    /// Maximum Newton iterations.
    #[serde(default = "d_iter")]
    pub max_iter: usize,
}

/// `[site]`: location and climate for synthetic weather.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// Latitude, degrees north.
    #[serde(default = "d_lat")]
    pub latitude: f64,
    /// Longitude, degrees east.
    #[serde(default = "d_lon")]
    pub longitude: f64,
    /// Offset of the local standard time from UTC, hours.
    #[serde(default = "d_utc")]
    pub utc_offset_h: f64,
    /// Profile column with the outdoor temperature in °C (else synthetic).
    pub temperature_column: Option<String>,
    /// Annual mean temperature of the synthetic model, °C.
    #[serde(default = "d_tmean")]
    pub mean_temperature_c: f64,
}

impl Default for SiteSpec {
    fn default() -> Self {
        SiteSpec {
            latitude: d_lat(),
            longitude: d_lon(),
            utc_offset_h: d_utc(),
            temperature_column: None,
            mean_temperature_c: d_tmean(),
        }
    }
}

/// `[emissions]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EmissionSpec {
    /// Grid emission factor, t CO2/MWh.
    #[serde(default)]
    pub grid_t_per_mwh: f64,
    /// Profile column with a per-step grid factor, t/MWh.
    pub grid_profile: Option<String>,
    /// Fuel factors, t CO2/MWh (LHV), added to or overriding the defaults.
    #[serde(default)]
    pub fuel_t_per_mwh: BTreeMap<String, f64>,
}

/// `[kpi]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiSpec {
    /// Lower voltage limit, p.u.
    #[serde(default = "d_vmin")]
    pub vmin_pu: f64,
    /// Upper voltage limit, p.u.
    #[serde(default = "d_vmax")]
    pub vmax_pu: f64,
    /// Reference efficiencies for primary energy savings.
    #[serde(default)]
    pub pes_reference: Option<PesReference>,
    /// Use each bus's own VMIN/VMAX from the network file instead of the band
    /// (e.g. ±7 % on the 10 kV buses of a Chinese network, GB/T 12325).
    #[serde(default)]
    pub use_bus_limits: bool,
}

/// A whole scenario file (after a variant has been applied).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Study name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Network file.
    pub network: String,
    /// Changes to the network by element id (usually a variant's).
    #[serde(default)]
    pub grid: GridEdits,
    /// Element table CSV (replaces the network's loads).
    pub elements: Option<String>,
    /// Profile CSV.
    pub profiles: Option<String>,
    /// Time axis.
    pub period: PeriodSpec,
    /// Solver settings.
    pub solver: Option<SolverSpec>,
    /// Site.
    pub site: Option<SiteSpec>,
    /// Emission factors.
    pub emissions: Option<EmissionSpec>,
    /// KPI settings.
    pub kpi: Option<KpiSpec>,
    /// Seed of all synthetic processes.
    #[serde(default = "d_seed")]
    pub seed: u64,
    /// Give the network file's loads that have a customer class the
    /// synthetic shape of their class, with the file's value as the peak
    /// (without it, network loads are constant).
    #[serde(default)]
    pub shape_network_loads: bool,
    /// How PV and wind units of a native network file behave over time:
    /// "weather" (default: driven by the site's synthetic weather like
    /// scenario units) or "fixed" (their base-case output at every step).
    #[serde(default = "d_network_der")]
    pub network_der: String,
    /// Synthetic loads.
    #[serde(default)]
    pub load: Vec<LoadSpec>,
    /// PV systems.
    #[serde(default)]
    pub pv: Vec<PvSpec>,
    /// Wind turbines.
    #[serde(default)]
    pub wind: Vec<WindSpec>,
    /// CHP units.
    #[serde(default)]
    pub chp: Vec<ChpSpec>,
    /// Batteries.
    #[serde(default)]
    pub storage: Vec<StorageSpec>,
    /// Controllers.
    #[serde(default)]
    pub controller: Vec<ControllerSpec>,
    /// Variants (applied by [`load_scenarios`]; unused after that).
    #[serde(default)]
    pub variant: Vec<toml::Table>,
}

/// Default fuel emission factors, t CO2 per MWh of fuel (LHV): IPCC 2006
/// default carbon contents (natural gas 56.1 t/TJ, diesel/gas oil 74.1,
/// LPG 63.1); biogenic fuels and hydrogen count 0.
pub fn default_fuel_factors() -> BTreeMap<String, f64> {
    [
        ("natural_gas", 0.20196),
        ("diesel", 0.26676),
        ("heating_oil", 0.26676),
        ("lpg", 0.22716),
        ("biogas", 0.0),
        ("biomethane", 0.0),
        ("wood", 0.0),
        ("hydrogen", 0.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn deep_merge(base: &mut toml::Value, over: &toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(bv) if bv.is_table() && v.is_table() => deep_merge(bv, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

const UNIT_ARRAYS: [&str; 5] = ["load", "pv", "wind", "chp", "storage"];

/// Applies one variant table to the base document.
fn apply_variant(
    base: &toml::Value,
    variant: &toml::Table,
    vname: &str,
) -> std::result::Result<toml::Value, String> {
    let mut doc = base.clone();
    for key in variant.keys() {
        if !matches!(
            key.as_str(),
            "name" | "description" | "set" | "add" | "remove" | "units" | "grid"
        ) {
            return Err(format!(
                "unknown field '{key}' (expected name, description, set, add, remove, units, grid)"
            ));
        }
    }
    if let Some(g) = variant.get("grid") {
        let over: GridEdits = g
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| format!("grid: {}", e.message()))?;
        let mut edits: GridEdits = match doc.get("grid") {
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| format!("grid: {}", e.message()))?,
            None => GridEdits::default(),
        };
        edits.extend(&over);
        let v = toml::Value::try_from(edits).map_err(|e| format!("grid: {e}"))?;
        doc.as_table_mut()
            .ok_or("scenario is not a table")?
            .insert("grid".into(), v);
    }
    if let Some(set) = variant.get("set") {
        if !set.is_table() {
            return Err("'set' must be a table".into());
        }
        deep_merge(&mut doc, set);
    }
    let root = doc.as_table_mut().ok_or("scenario is not a table")?;
    if let Some(add) = variant.get("add") {
        let add = add.as_table().ok_or("'add' must be a table of arrays")?;
        for (k, v) in add {
            if !UNIT_ARRAYS.contains(&k.as_str()) && k != "controller" {
                return Err(format!(
                    "add.{k}: only load, pv, wind, chp, storage and controller can be added"
                ));
            }
            let items = v
                .as_array()
                .ok_or(format!("add.{k} must be an array of tables"))?;
            let arr = root
                .entry(k.clone())
                .or_insert_with(|| toml::Value::Array(Vec::new()));
            let arr = arr.as_array_mut().ok_or(format!("'{k}' is not an array"))?;
            arr.extend(items.iter().cloned());
        }
    }
    let mut named: HashSet<String> = HashSet::new();
    for k in UNIT_ARRAYS {
        if let Some(arr) = root.get(k).and_then(|a| a.as_array()) {
            for it in arr {
                if let Some(n) = it.get("name").and_then(|n| n.as_str()) {
                    named.insert(n.to_string());
                }
            }
        }
    }
    if let Some(rem) = variant.get("remove") {
        let rem = rem
            .as_array()
            .ok_or("'remove' must be an array of unit names")?;
        for r in rem {
            let r = r
                .as_str()
                .ok_or("'remove' must be an array of unit names")?;
            if !named.contains(r) {
                return Err(format!("remove: no unit named '{r}'"));
            }
            for k in UNIT_ARRAYS {
                if let Some(arr) = root.get_mut(k).and_then(|a| a.as_array_mut()) {
                    arr.retain(|it| it.get("name").and_then(|n| n.as_str()) != Some(r));
                }
            }
        }
    }
    if let Some(units) = variant.get("units") {
        let units = units
            .as_table()
            .ok_or("'units' must be a table of unit names")?;
        for (uname, patch) in units {
            if !named.contains(uname) {
                return Err(format!("units.{uname}: no unit of that name"));
            }
            for k in UNIT_ARRAYS {
                if let Some(arr) = root.get_mut(k).and_then(|a| a.as_array_mut()) {
                    for it in arr.iter_mut() {
                        if it.get("name").and_then(|n| n.as_str()) == Some(uname.as_str()) {
                            deep_merge(it, patch);
                        }
                    }
                }
            }
        }
    }
    let _ = vname;
    Ok(doc)
}

/// FNV-1a hash for stable per-name seeds.
fn name_seed(seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Shared inputs loaded once for all variants.
#[derive(Default)]
struct Cache {
    /// Networks by file and the edits made to it.
    networks: HashMap<(PathBuf, String), Arc<Network>>,
    profiles: HashMap<PathBuf, Arc<ProfileTable>>,
}

/// Reads a scenario file and returns one [`Scenario`] per variant, plus
/// the SHA-256 of the file.
pub fn load_scenarios(
    path: &Path,
    steps_override: Option<usize>,
) -> Result<(Vec<Scenario>, String)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(&bytes);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::parse(path, 1, "scenario file is not UTF-8"))?;
    // Type-check the whole file first so that errors carry line numbers.
    let base: ScenarioFile = toml::from_str(&text).map_err(|e| toml_err(path, &text, e))?;
    let mut doc: toml::Value = text
        .parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| toml_err(path, &text, e))?;
    let variants = match doc.as_table_mut().and_then(|t| t.remove("variant")) {
        Some(toml::Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut cache = Cache::default();
    let mut out = Vec::new();
    let mut names = HashSet::new();
    if variants.is_empty() {
        out.push(build(&base, "base", dir, path, &mut cache, steps_override)?);
    }
    for (i, v) in variants.iter().enumerate() {
        let vt = v.as_table().ok_or_else(|| {
            Error::Usage(format!(
                "{}: variant {} is not a table",
                path.display(),
                i + 1
            ))
        })?;
        let vname = vt
            .get("name")
            .and_then(|n| n.as_str())
            .ok_or_else(|| {
                Error::Usage(format!("{}: variant {} has no name", path.display(), i + 1))
            })?
            .to_string();
        if vname.is_empty() || vname.contains('/') || vname.contains('.') && vname.starts_with('.')
        {
            return Err(Error::Usage(format!(
                "{}: variant name '{vname}' is not allowed",
                path.display()
            )));
        }
        if !names.insert(vname.clone()) {
            return Err(Error::Usage(format!(
                "{}: duplicate variant name '{vname}'",
                path.display()
            )));
        }
        let merged = apply_variant(&doc, vt, &vname)
            .map_err(|m| Error::Usage(format!("{}: variant '{vname}': {m}", path.display())))?;
        let f: ScenarioFile = merged.try_into().map_err(|e: toml::de::Error| {
            Error::Usage(format!(
                "{}: variant '{vname}': {}",
                path.display(),
                e.message()
            ))
        })?;
        out.push(build(&f, &vname, dir, path, &mut cache, steps_override)?);
    }
    Ok((out, sha))
}

fn toml_err(path: &Path, text: &str, e: toml::de::Error) -> Error {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(1);
    Error::parse(path, line, e.message().to_string())
}

fn build(
    f: &ScenarioFile,
    vname: &str,
    dir: &Path,
    path: &Path,
    cache: &mut Cache,
    steps_override: Option<usize>,
) -> Result<Scenario> {
    let mut problems: Vec<String> = Vec::new();
    let loc = format!("{} (scenario '{vname}')", path.display());
    let net_path = dir.join(&f.network);
    let key = (net_path.clone(), format!("{:?}", f.grid));
    let net = match cache.networks.get(&key) {
        Some(n) => n.clone(),
        None => {
            let label = format!("scenario '{vname}'");
            let n = Arc::new(crate::network::edit::read_edited(
                &net_path, &f.grid, &label,
            )?);
            cache.networks.insert(key, n.clone());
            n
        }
    };
    let profiles = match &f.profiles {
        Some(p) => {
            let pp = dir.join(p);
            match cache.profiles.get(&pp) {
                Some(t) => t.clone(),
                None => {
                    let t = Arc::new(read_profiles(&pp)?);
                    cache.profiles.insert(pp, t.clone());
                    t
                }
            }
        }
        None => Arc::new(ProfileTable::from_columns(Vec::new())?),
    };
    let elements = match &f.elements {
        Some(e) => {
            if f.profiles.is_none() {
                problems
                    .push("elements: an element table needs a profile table ('profiles')".into());
                Vec::new()
            } else {
                read_elements(&dir.join(e), &net, &profiles)?
            }
        }
        None => Vec::new(),
    };
    let start = Timestamp::parse(&f.period.start).ok_or_else(|| {
        Error::Usage(format!(
            "{loc}: period.start '{}' is not an ISO-8601 time",
            f.period.start
        ))
    })?;
    let step_s = (f.period.step_minutes * 60.0).round() as i64;
    if step_s <= 0 || (f.period.step_minutes * 60.0 - step_s as f64).abs() > 1e-9 {
        problems.push(format!(
            "period.step_minutes: {} is not a positive whole number of seconds",
            f.period.step_minutes
        ));
    }
    let n_steps = steps_override.unwrap_or(f.period.steps);
    if n_steps == 0 {
        problems.push("period.steps must be at least 1".into());
    }
    if (!elements.is_empty() || f.profiles.is_some())
        && n_steps > profiles.n_steps
        && f.profiles.is_some()
    {
        problems.push(format!(
            "period.steps: {n_steps} steps but the profile table has only {} rows",
            profiles.n_steps
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid {
            source_name: loc,
            problems,
        });
    }
    let mut synthetic_loads: Vec<SyntheticLoad> = Vec::new();
    let mut net = net;
    if f.shape_network_loads {
        if !elements.is_empty() {
            problems.push("shape_network_loads: the network's loads are replaced by the element table; drop one of them".into());
        }
        let mut shaped = (*net).clone();
        let mut kept = Vec::new();
        for (k, l) in net.loads.iter().enumerate() {
            match l.class {
                Some(class) => {
                    let shape = super::synthetic::load_shape(
                        class,
                        start,
                        step_s,
                        n_steps,
                        name_seed(f.seed, &format!("network-load-{k}")),
                        0.05,
                    );
                    let peak = shape.iter().copied().fold(0.0, f64::max);
                    let scale = if peak > 0.0 { l.p_mw / peak } else { 0.0 };
                    synthetic_loads.push(SyntheticLoad {
                        name: format!("network load {} ({class:?})", k + 1),
                        bus: l.bus,
                        p_mw: shape.into_iter().map(|x| x * scale).collect(),
                        tan_phi: if l.p_mw != 0.0 {
                            l.q_mvar / l.p_mw
                        } else {
                            0.0
                        },
                    });
                }
                None => kept.push(l.clone()),
            }
        }
        shaped.loads = kept;
        net = Arc::new(shaped);
    }
    let site = f.site.clone().unwrap_or_default();
    // Outdoor temperature.
    let temperature: Vec<f64> = match &site.temperature_column {
        Some(c) => match profiles.column(c) {
            Some(ci) => profiles.series(ci)[..n_steps].to_vec(),
            None => {
                return Err(Error::Usage(format!(
                    "{loc}: site.temperature_column '{c}' is not in the profile table"
                )));
            }
        },
        None => {
            let mut tp = TemperatureProcess::new(
                name_seed(f.seed, "temperature"),
                site.mean_temperature_c,
                9.0,
                4.0,
                step_s,
            );
            (0..n_steps)
                .map(|k| tp.at(Timestamp(start.0 + step_s * k as i64)))
                .collect()
        }
    };
    let bus_of = |id: &crate::network::BusRef, what: &str, problems: &mut Vec<String>| -> usize {
        match net.find_bus(id) {
            Some(b) => b,
            None => {
                problems.push(format!("{what}: bus {id} is not in network '{}'", net.name));
                0
            }
        }
    };
    let mut fuel = default_fuel_factors();
    let em = f.emissions.clone().unwrap_or_default();
    for (k, v) in &em.fuel_t_per_mwh {
        fuel.insert(k.clone(), *v);
    }
    let mut names = HashSet::new();
    let mut check_name = |n: &str, problems: &mut Vec<String>| {
        if !names.insert(n.to_string()) {
            problems.push(format!("duplicate unit name '{n}'"));
        }
    };
    let pos = |v: f64, what: String, problems: &mut Vec<String>| {
        if !(v.is_finite() && v > 0.0) {
            problems.push(format!("{what} must be a positive number, found {v}"));
        }
    };
    let frac = |v: f64, what: String, problems: &mut Vec<String>| {
        if !(v.is_finite() && v > 0.0 && v <= 1.0) {
            problems.push(format!("{what} must be in (0, 1], found {v}"));
        }
    };
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_fuel_factor = Vec::new();
    // Renewable units of the network file become weather-driven units.
    let mut network_der_gens: Vec<usize> = Vec::new();
    match f.network_der.as_str() {
        "fixed" => {}
        "weather" => {
            for (k, g) in net.generators.iter().enumerate() {
                let (Some(der), true) = (g.der, g.in_service) else {
                    continue;
                };
                let name = g.id.clone();
                check_name(&name, &mut problems);
                let state = match der {
                    crate::network::DerSource::Pv { kwp, inverter_mva } => {
                        let spec = PvSpec {
                            name: name.clone(),
                            bus: crate::network::BusRef::Number(net.buses[g.bus].id),
                            kwp,
                            inverter_mva: Some(inverter_mva),
                            tilt_degree: 30.0,
                            azimuth_degree: 180.0,
                            performance_ratio: 0.86,
                        };
                        UnitState::Pv {
                            avail: pv_availability(
                                &spec,
                                site.latitude,
                                site.longitude,
                                site.utc_offset_h,
                                &temperature,
                                start,
                                step_s,
                                name_seed(f.seed, "clouds"),
                            ),
                            s_mva: inverter_mva,
                        }
                    }
                    crate::network::DerSource::Wind {
                        rated_mw,
                        turbine_class,
                    } => {
                        let spec = WindSpec {
                            name: name.clone(),
                            bus: crate::network::BusRef::Number(net.buses[g.bus].id),
                            rated_mw,
                            turbine_class,
                            hub_height_m: 100.0,
                            mean_wind_ms: 6.5,
                        };
                        UnitState::Wind {
                            avail: wind_availability(
                                &spec,
                                n_steps,
                                step_s,
                                name_seed(f.seed, "wind"),
                            ),
                        }
                    }
                };
                units.push(Unit {
                    name,
                    technology: if matches!(der, crate::network::DerSource::Pv { .. }) {
                        Technology::Pv
                    } else {
                        Technology::Wind
                    },
                    bus: g.bus,
                    fuel: None,
                    state,
                });
                unit_fuel_factor.push(0.0);
                network_der_gens.push(k);
            }
        }
        other => problems.push(format!(
            "network_der: '{other}' is neither \"weather\" nor \"fixed\""
        )),
    }
    for s in &f.pv {
        check_name(&s.name, &mut problems);
        let bus = bus_of(&s.bus, &format!("pv '{}'", s.name), &mut problems);
        pos(s.kwp, format!("pv '{}': kwp", s.name), &mut problems);
        frac(
            s.performance_ratio,
            format!("pv '{}': performance_ratio", s.name),
            &mut problems,
        );
        if let Some(m) = s.inverter_mva {
            pos(m, format!("pv '{}': inverter_mva", s.name), &mut problems);
        }
        let avail = pv_availability(
            s,
            site.latitude,
            site.longitude,
            site.utc_offset_h,
            &temperature,
            start,
            step_s,
            name_seed(f.seed, "clouds"),
        );
        units.push(Unit {
            name: s.name.clone(),
            technology: Technology::Pv,
            bus,
            fuel: None,
            state: UnitState::Pv {
                avail,
                s_mva: s.inverter_mva.unwrap_or(s.kwp / 1000.0),
            },
        });
        unit_fuel_factor.push(0.0);
    }
    for s in &f.wind {
        check_name(&s.name, &mut problems);
        let bus = bus_of(&s.bus, &format!("wind '{}'", s.name), &mut problems);
        pos(
            s.rated_mw,
            format!("wind '{}': rated_mw", s.name),
            &mut problems,
        );
        pos(
            s.hub_height_m,
            format!("wind '{}': hub_height_m", s.name),
            &mut problems,
        );
        pos(
            s.mean_wind_ms,
            format!("wind '{}': mean_wind_ms", s.name),
            &mut problems,
        );
        let avail = wind_availability(s, n_steps, step_s, name_seed(f.seed, "wind"));
        units.push(Unit {
            name: s.name.clone(),
            technology: Technology::Wind,
            bus,
            fuel: None,
            state: UnitState::Wind { avail },
        });
        unit_fuel_factor.push(0.0);
    }
    for s in &f.chp {
        check_name(&s.name, &mut problems);
        let w = format!("chp '{}'", s.name);
        let bus = bus_of(&s.bus, &w, &mut problems);
        pos(s.rated_el_mw, format!("{w}: rated_el_mw"), &mut problems);
        let (eta_el, eta_th) = super::der::chp_eta(s);
        frac(eta_el, format!("{w}: eta_el"), &mut problems);
        frac(eta_th, format!("{w}: eta_th"), &mut problems);
        if eta_el + eta_th > 1.0 {
            problems.push(format!(
                "{w}: eta_el + eta_th = {} exceeds 1",
                eta_el + eta_th
            ));
        }
        if !(0.0..=1.0).contains(&s.min_load) {
            problems.push(format!(
                "{w}: min_load must be in [0, 1], found {}",
                s.min_load
            ));
        }
        frac(s.boiler_eta, format!("{w}: boiler_eta"), &mut problems);
        frac(s.power_factor, format!("{w}: power_factor"), &mut problems);
        if !(s.heat.annual_mwh >= 0.0) {
            problems.push(format!("{w}: heat.annual_mwh must not be negative"));
        }
        if let Some(b) = s.buffer_mwh {
            if !(b >= 0.0) {
                problems.push(format!("{w}: buffer_mwh must not be negative"));
            }
        }
        let ff = match fuel.get(&s.fuel) {
            Some(x) => *x,
            None => {
                problems.push(format!(
                    "{w}: fuel '{}' has no emission factor (known: {}; add it under [emissions.fuel_t_per_mwh])",
                    s.fuel,
                    fuel.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
                0.0
            }
        };
        let schedule = match (&s.mode, &s.schedule) {
            (super::der::ChpMode::Schedule, None) => {
                problems.push(format!(
                    "{w}: mode 'schedule' needs 'schedule' (a profile column)"
                ));
                Vec::new()
            }
            (_, Some(col)) => match profiles.column(col) {
                Some(c) => profiles.series(c)[..n_steps.min(profiles.n_steps)].to_vec(),
                None => {
                    problems.push(format!(
                        "{w}: schedule column '{col}' is not in the profile table"
                    ));
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        units.push(Unit {
            name: s.name.clone(),
            technology: Technology::Chp(s.technology),
            bus,
            fuel: Some(s.fuel.clone()),
            state: chp_state(s, &temperature, schedule, start, step_s),
        });
        unit_fuel_factor.push(ff);
    }
    for s in &f.storage {
        check_name(&s.name, &mut problems);
        let w = format!("storage '{}'", s.name);
        let bus = bus_of(&s.bus, &w, &mut problems);
        pos(s.capacity_mwh, format!("{w}: capacity_mwh"), &mut problems);
        pos(s.power_mw, format!("{w}: power_mw"), &mut problems);
        frac(
            s.round_trip_efficiency,
            format!("{w}: round_trip_efficiency"),
            &mut problems,
        );
        if !(0.0 <= s.soc_min_percent
            && s.soc_min_percent <= s.soc_initial_percent
            && s.soc_initial_percent <= s.soc_max_percent
            && s.soc_max_percent <= 100.0)
        {
            problems.push(format!(
                "{w}: need 0 ≤ soc_min_percent ≤ soc_initial_percent ≤ soc_max_percent ≤ 100"
            ));
        }
        if s.mode == super::der::StorageMode::PeakShaving && s.peak_threshold_mw.is_none() {
            problems.push(format!("{w}: mode 'peak-shaving' needs peak_threshold_mw"));
        }
        units.push(Unit {
            name: s.name.clone(),
            technology: Technology::Storage,
            bus,
            fuel: None,
            state: UnitState::Storage {
                spec: s.clone(),
                energy: s.capacity_mwh * s.soc_initial_percent / 100.0,
            },
        });
        unit_fuel_factor.push(0.0);
    }
    for s in &f.load {
        check_name(&s.name, &mut problems);
        let w = format!("load '{}'", s.name);
        let bus = bus_of(&s.bus, &w, &mut problems);
        if !(s.annual_mwh >= 0.0) {
            problems.push(format!("{w}: annual_mwh must not be negative"));
        }
        frac(s.power_factor, format!("{w}: power_factor"), &mut problems);
        let (p, tan_phi) = load_series(s, start, step_s, n_steps, name_seed(f.seed, &s.name));
        synthetic_loads.push(SyntheticLoad {
            name: s.name.clone(),
            bus,
            p_mw: p,
            tan_phi,
        });
    }
    let mut controllers = Vec::new();
    for (i, c) in f.controller.iter().enumerate() {
        let w = format!("controller {}", i + 1);
        let mut ctl = Controller {
            spec: c.clone(),
            units: Vec::new(),
            oltc: None,
        };
        match c {
            ControllerSpec::Oltc { bus, .. } => {
                let what = format!("{w} (oltc)");
                let b = bus.as_ref().map(|b| bus_of(b, &what, &mut problems));
                ctl.oltc = OltcState::new(c, &net, b, &what, &mut problems);
            }
            ControllerSpec::PvQu { units: sel, .. } | ControllerSpec::PvPu { units: sel, .. } => {
                for (k, u) in units.iter().enumerate() {
                    let wanted = match sel {
                        None => u.technology == Technology::Pv,
                        Some(list) => list.contains(&u.name),
                    };
                    if wanted {
                        if u.technology != Technology::Pv {
                            problems.push(format!("{w}: unit '{}' is not a PV unit", u.name));
                        }
                        ctl.units.push(k);
                    }
                }
                if let Some(list) = sel {
                    for n in list {
                        if !units.iter().any(|u| &u.name == n) {
                            problems.push(format!("{w}: no unit named '{n}'"));
                        }
                    }
                }
            }
        }
        controllers.push(ctl);
    }
    let grid_profile = match &em.grid_profile {
        Some(c) => match profiles.column(c) {
            Some(ci) => Some(ci),
            None => {
                problems.push(format!(
                    "emissions.grid_profile '{c}' is not in the profile table"
                ));
                None
            }
        },
        None => None,
    };
    let kpi = f.kpi.clone();
    let bus_v_limits = kpi
        .as_ref()
        .filter(|k| k.use_bus_limits)
        .map(|_| net.buses.iter().map(|b| (b.vmin_pu, b.vmax_pu)).collect());
    let v_limits = kpi
        .as_ref()
        .map_or((0.95, 1.05), |k| (k.vmin_pu, k.vmax_pu));
    if !(v_limits.0 < v_limits.1) {
        problems.push("kpi: vmin_pu must be below vmax_pu".into());
    }
    let solver = f.solver.clone().unwrap_or(SolverSpec {
        tol: d_tol(),
        max_iter: d_iter(),
    });
    if !(solver.tol > 0.0) {
        problems.push("solver.tol must be positive".into());
    }
    if !problems.is_empty() {
        return Err(Error::Invalid {
            source_name: loc,
            problems,
        });
    }
    let net = if network_der_gens.is_empty() {
        net
    } else {
        let mut n = (*net).clone();
        n.generators = n
            .generators
            .iter()
            .enumerate()
            .filter(|(k, _)| !network_der_gens.contains(k))
            .map(|(_, g)| g.clone())
            .collect();
        Arc::new(n)
    };
    Ok(Scenario {
        name: vname.to_string(),
        network: net,
        elements: Arc::new(elements),
        profiles,
        start,
        step_s,
        n_steps,
        newton: NewtonOptions {
            tol: solver.tol,
            max_iter: solver.max_iter,
        },
        units,
        unit_fuel_factor,
        synthetic_loads,
        controllers,
        emissions: Emissions {
            grid_t_per_mwh: em.grid_t_per_mwh,
            grid_profile,
        },
        v_limits,
        bus_v_limits,
        pes: kpi.and_then(|k| k.pes_reference).unwrap_or_default(),
    })
}
