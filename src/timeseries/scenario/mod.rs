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

mod build;

pub use build::{MAX_STEPS, MAX_STEP_MINUTES};

use super::controllers::ControllerSpec;
use super::der::{ChpSpec, LoadSpec, PvSpec, StorageSpec, WindSpec};
use super::kpi::PesReference;
use super::profiles::ProfileTable;
use super::runner::Scenario;
use super::time::Timestamp;
use super::weather::SolarSite;
use crate::error::{Error, Result};
use crate::network::edit::GridEdits;
use crate::network::Network;
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
    /// Seasonal amplitude of the synthetic temperature, K (default 9:
    /// January about 18 K colder than July).
    pub seasonal_amplitude_k: Option<f64>,
    /// Standard deviation of the synthetic temperature's weather anomaly in
    /// mid-winter, K (default 5.0, central Germany); sets how deep cold
    /// spells go.
    pub winter_anomaly_sd_k: Option<f64>,
    /// The same in mid-summer, K (default 2.6).
    pub summer_anomaly_sd_k: Option<f64>,
    /// Global horizontal irradiation per calendar month, kWh/m² (12
    /// values; e.g. from PVGIS or a national weather service); sets the
    /// clouds' monthly mean. Default: the cloudiness of central Germany.
    pub monthly_ghi_kwh_m2: Option<Vec<f64>>,
    /// Mean wind speed per calendar month over the annual mean (12 values,
    /// normalised to mean 1). Default: ±15 %, windiest in January.
    pub wind_monthly_factor: Option<Vec<f64>>,
}

impl Default for SiteSpec {
    fn default() -> Self {
        SiteSpec {
            latitude: d_lat(),
            longitude: d_lon(),
            utc_offset_h: d_utc(),
            temperature_column: None,
            mean_temperature_c: d_tmean(),
            seasonal_amplitude_k: None,
            winter_anomaly_sd_k: None,
            summer_anomaly_sd_k: None,
            monthly_ghi_kwh_m2: None,
            wind_monthly_factor: None,
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
    /// Marginal grid factor, t/MWh: what a change in the exchange emits
    /// (default: the average factor).
    pub grid_marginal_t_per_mwh: Option<f64>,
    /// Profile column with a per-step marginal grid factor, t/MWh.
    pub grid_marginal_profile: Option<String>,
    /// Whether exports to the upstream grid earn their grid factor back:
    /// `not-credited` (default: imports only) or `credited` (net exchange).
    /// The same convention holds for primary energy.
    #[serde(default)]
    pub exports: ExportConvention,
}

/// `[primary_energy]`: non-renewable primary energy factors.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PrimaryEnergySpec {
    /// Grid electricity (default 1.8, GEG 2020).
    pub grid: Option<f64>,
    /// Fuels, added to or overriding the defaults.
    #[serde(default)]
    pub fuels: BTreeMap<String, f64>,
}

fn d_supply() -> HeatSupplyKind {
    HeatSupplyKind::Boiler
}
fn d_boiler_eta() -> f64 {
    0.92
}
fn d_gas() -> String {
    "natural_gas".into()
}

/// How a heat site is served where no CHP unit serves it.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HeatSupplyKind {
    /// A boiler (`boiler_efficiency`, `fuel`).
    Boiler,
    /// A heat pump at the site's bus (`heat_pump_source`, `heat_sink`).
    HeatPump,
}

/// `[[heat]]`: a heat demand every scenario of the study serves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatSiteSpec {
    /// Unique name (CHP units name it in `heat_site`).
    pub name: String,
    /// Bus of its heat pump (required for `supply = "heat-pump"`).
    pub bus: Option<crate::network::BusRef>,
    /// Annual heat demand, MWh_th (shaped by `profile`).
    pub annual_mwh: Option<f64>,
    /// Or a profile column with the demand in MW_th per step.
    pub demand_column: Option<String>,
    /// BDEW heat profile code (default EFH, single-family houses).
    pub profile: Option<String>,
    /// BDEW building class (1–11 for EFH/MFH, default 3; 0 otherwise).
    pub building_class: Option<u32>,
    /// The BDEW windy parameter set.
    #[serde(default)]
    pub windy: bool,
    /// Supply where no CHP unit serves the site (and a CHP's backup).
    #[serde(default = "d_supply")]
    pub supply: HeatSupplyKind,
    /// Boiler efficiency (heat / fuel LHV).
    #[serde(default = "d_boiler_eta")]
    pub boiler_efficiency: f64,
    /// Boiler fuel.
    #[serde(default = "d_gas")]
    pub fuel: String,
    /// Heat pump source.
    #[serde(default)]
    pub heat_pump_source: crate::timeseries::heat::HeatPumpSource,
    /// Heat distribution (sink temperature).
    #[serde(default)]
    pub heat_sink: crate::timeseries::heat::HeatSink,
    /// Heat pump power factor.
    pub heat_pump_power_factor: Option<f64>,
}

fn d_chiller_cop() -> f64 {
    5.5
}

/// `[[cooling]]`: a cooling demand every scenario of the study serves, by
/// electric chillers at its bus unless a CCHP unit names it
/// (`cooling_site`; the chillers are then its backup).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoolingSiteSpec {
    /// Unique name (CCHP units name it in `cooling_site`).
    pub name: String,
    /// Bus of its electric chillers.
    pub bus: crate::network::BusRef,
    /// Annual cooling demand, MWh (shaped by `building`).
    pub annual_mwh: Option<f64>,
    /// Or a profile column with the demand in MW per step.
    pub demand_column: Option<String>,
    /// Building type of the shape (default office).
    pub building: Option<crate::timeseries::cooling::Building>,
    /// Balance temperature, °C (default by building type).
    pub balance_temperature_c: Option<f64>,
    /// Rated COP of its electric chillers (water-cooled at 30 °C cooling
    /// water, air-cooled at 35 °C outdoor; 7 °C chilled water).
    #[serde(default = "d_chiller_cop")]
    pub chiller_cop: f64,
    /// Heat sink of the electric chillers.
    #[serde(default)]
    pub chiller_cooling: crate::timeseries::cooling::ChillerCooling,
    /// Power factor of the electric chillers (default 0.9).
    pub chiller_power_factor: Option<f64>,
}

/// How `co2_grid_t` treats exports.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ExportConvention {
    /// Imports × grid factor; exports count nothing.
    #[default]
    NotCredited,
    /// (Imports − exports) × grid factor.
    Credited,
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
    /// Primary energy factors.
    pub primary_energy: Option<PrimaryEnergySpec>,
    /// The scenario the others are compared with (`co2_avoided_t`,
    /// `primary_energy_saved_mwh`); default the first.
    pub reference: Option<String>,
    /// Heat demands every scenario serves.
    #[serde(default)]
    pub heat: Vec<HeatSiteSpec>,
    /// Cooling demands every scenario serves.
    #[serde(default)]
    pub cooling: Vec<CoolingSiteSpec>,
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
    /// The class network loads without one follow (e.g. a MATPOWER case's
    /// loads as "residential"; the file's value as the peak). Implies
    /// `shape_network_loads`.
    pub network_load_class: Option<super::synthetic::CustomerClass>,
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

const UNIT_ARRAYS: [&str; 7] = ["load", "pv", "wind", "chp", "storage", "heat", "cooling"];

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
                    "add.{k}: only load, pv, wind, chp, storage, heat, cooling and controller can be added"
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
    /// Weather-driven series another variant of the file made already.
    series: std::cell::RefCell<SeriesCache>,
}

/// Series the variants of a file share where their inputs agree, each
/// keyed by the bits of every number it is made from (so a hit is the
/// series that would have been made).
#[derive(Default)]
struct SeriesCache {
    /// Solar sites by latitude, longitude, UTC offset and monthly GHI
    /// (their clear-sky integrals and cloud offsets are costly).
    solar_sites: HashMap<Vec<u64>, SolarSite>,
    /// PV availability by unit (size, inverter, orientation, performance
    /// ratio), site, time axis, cloud seed and temperature series.
    pv: HashMap<Vec<u64>, Vec<f64>>,
    /// Synthetic load shapes by class, time axis, seed and noise.
    load_shapes: HashMap<Vec<u64>, Arc<Vec<f64>>>,
}

/// The bits of `xs`, a cache key.
fn key_bits(xs: impl IntoIterator<Item = f64>) -> Vec<u64> {
    xs.into_iter().map(f64::to_bits).collect()
}

/// Reads a scenario file and returns one [`Scenario`] per variant, plus
/// the SHA-256 of the file.
/// The scenario file a run read: its text and SHA-256 (stored in the results).
#[derive(Debug, Clone, Default)]
pub struct ScenarioSource {
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// The file's text.
    pub text: String,
}

/// The scenarios of a scenario file (one per variant), with the file's text.
pub fn load_scenarios(
    path: &Path,
    steps_override: Option<usize>,
) -> Result<(Vec<Scenario>, ScenarioSource)> {
    let bytes = crate::input::read(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::parse(path, 1, "scenario file is not UTF-8"))?;
    let scenarios = parse_scenarios(path, &text, steps_override)?;
    Ok((scenarios, ScenarioSource::of_text(text)))
}

impl ScenarioSource {
    /// The source of scenario-file text, with its SHA-256.
    pub fn of_text(text: String) -> ScenarioSource {
        use sha2::Digest;
        let d = sha2::Sha256::digest(text.as_bytes());
        ScenarioSource {
            sha256: d.iter().map(|b| format!("{b:02x}")).collect(),
            text,
        }
    }
}

/// The scenarios of scenario-file text; `path` names it in messages and
/// is where its relative paths start.
pub fn parse_scenarios(
    path: &Path,
    text: &str,
    steps_override: Option<usize>,
) -> Result<Vec<Scenario>> {
    let (files, reference) = merged_variants(path, text)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut cache = Cache::default();
    let mut out = Vec::with_capacity(files.len());
    for (i, (vname, f)) in files.iter().enumerate() {
        let mut sc = build::build(f, vname, dir, path, &mut cache, steps_override)?;
        sc.is_reference = i == reference;
        out.push(sc);
    }
    Ok(out)
}

/// One scenario of scenario-file text: `variant`, or the study's reference
/// (see [`parse_scenarios`]). Every variant is merged and type-checked,
/// only this one is built.
pub fn parse_scenario(
    path: &Path,
    text: &str,
    variant: Option<&str>,
    steps_override: Option<usize>,
) -> Result<Scenario> {
    let (files, reference) = merged_variants(path, text)?;
    let k = match variant {
        Some(v) => files.iter().position(|(n, _)| n == v).ok_or_else(|| {
            Error::Usage(format!(
                "{}: no scenario '{v}' (scenarios: {})",
                path.display(),
                files
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        None => reference,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let (vname, f) = &files[k];
    let mut sc = build::build(f, vname, dir, path, &mut Cache::default(), steps_override)?;
    sc.is_reference = k == reference;
    Ok(sc)
}

/// Each scenario of a file as its variant merged into the base (or the
/// base alone, named "base"), and which one is the reference.
fn merged_variants(path: &Path, text: &str) -> Result<(Vec<(String, ScenarioFile)>, usize)> {
    // Type-check the whole file first so that errors carry line numbers.
    let base: ScenarioFile = toml::from_str(text).map_err(|e| toml_err(path, text, e))?;
    let mut doc: toml::Value = text
        .parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| toml_err(path, text, e))?;
    let variants = match doc.as_table_mut().and_then(|t| t.remove("variant")) {
        Some(toml::Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    if variants.is_empty() {
        out.push(("base".to_string(), base.clone()));
    }
    for (i, v) in variants.iter().enumerate() {
        let vt = v.as_table().ok_or_else(|| {
            Error::Usage(format!(
                "{}: variant {} is not a table",
                path.display(),
                i + 1
            ))
        })?;
        let vname = variant_name(path, vt, i)?;
        if out.iter().any(|(n, _)| n == &vname) {
            return Err(Error::Usage(format!(
                "{}: duplicate variant name '{vname}'",
                path.display()
            )));
        }
        let merged = apply_variant(&doc, vt, &vname)
            .map_err(|m| Error::Usage(format!("{}: variant '{vname}': {m}", path.display())))?;
        let mut f: ScenarioFile = merged.try_into().map_err(|e: toml::de::Error| {
            Error::Usage(format!(
                "{}: variant '{vname}': {}",
                path.display(),
                e.message()
            ))
        })?;
        if let Some(d) = vt.get("description").and_then(|d| d.as_str()) {
            f.description = Some(d.to_string());
        }
        out.push((vname, f));
    }
    let reference = match &base.reference {
        Some(r) => out.iter().position(|(n, _)| n == r).ok_or_else(|| {
            Error::Usage(format!(
                "{}: reference '{r}' is not a scenario of the file (scenarios: {})",
                path.display(),
                out.iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        None => 0,
    };
    Ok((out, reference))
}

/// The name of variant `i` (0-based), checked.
fn variant_name(path: &Path, vt: &toml::Table, i: usize) -> Result<String> {
    let vname = vt
        .get("name")
        .and_then(|n| n.as_str())
        .ok_or_else(|| Error::Usage(format!("{}: variant {} has no name", path.display(), i + 1)))?
        .to_string();
    if vname.is_empty()
        || vname.contains('/')
        || vname.starts_with('.')
        || vname.chars().any(char::is_control)
        || vname.chars().count() > 100
    {
        return Err(Error::Usage(format!(
            "{}: variant name '{}' is not allowed (1 to 100 characters, no '/', no leading '.', no control characters)",
            path.display(),
            vname.escape_default()
        )));
    }
    Ok(vname)
}

fn toml_err(path: &Path, text: &str, e: toml::de::Error) -> Error {
    crate::input::toml_error(path, text, e)
}

/// Name of the unit [`hosting_probe`] adds.
const PROBE: &str = "hosting capacity probe (1 MW)";

/// The scenario `variant` (default: the study's reference) of a scenario
/// file, and the availability per step of 1 MW of PV (`wind = false`) or
/// wind at its site: a probe unit is added to the file's base (so every
/// variant has it) and the file read again for the probe's series.
pub fn hosting_probe(
    path: &Path,
    text: &str,
    variant: Option<&str>,
    wind: bool,
    steps_override: Option<usize>,
) -> Result<(Scenario, Vec<f64>)> {
    let plain = parse_scenario(path, text, variant, steps_override)?;
    let bus = plain.network.buses.first().map_or(1, |b| b.id);
    let mut doc: toml::Table = text.parse().map_err(|e| toml_err(path, text, e))?;
    let mut probe = toml::Table::new();
    probe.insert("name".into(), PROBE.into());
    probe.insert("bus".into(), toml::Value::Integer(bus as i64));
    let key = if wind {
        probe.insert("rated_mw".into(), 1.0.into());
        probe.insert("turbine_class".into(), "II".into());
        "wind"
    } else {
        probe.insert("kwp".into(), 1000.0.into());
        "pv"
    };
    match doc
        .entry(key)
        .or_insert_with(|| toml::Value::Array(Vec::new()))
    {
        toml::Value::Array(a) => a.push(toml::Value::Table(probe)),
        _ => {
            return Err(Error::Usage(format!(
                "{}: '{key}' is not an array",
                path.display()
            )))
        }
    }
    let with = toml::to_string(&doc).map_err(|e| Error::Usage(e.to_string()))?;
    // Only the probe's series is taken: the scenario stays the one without
    // it (its units, their order and its controllers' targets unchanged).
    let probed = parse_scenario(path, &with, variant, steps_override)?;
    let avail = probed
        .units
        .into_iter()
        .find(|u| u.name == PROBE)
        .and_then(|u| match u.state {
            super::der::UnitState::Pv { avail, .. } | super::der::UnitState::Wind { avail } => {
                Some(avail)
            }
            _ => None,
        })
        .ok_or_else(|| Error::Usage("hosting capacity: the probe unit was not built".into()))?;
    Ok((plain, avail))
}
