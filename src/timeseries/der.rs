//! Distributed energy resources of a scenario: specifications (as written
//! in scenario files) and their per-step dispatch.
//!
//! Sign convention of every unit's `p_mw`/`q_mvar`: power injected into the
//! grid (generator convention); a charging battery has negative `p_mw`.

use super::irradiance::{erbs, extraterrestrial_w_m2, haurwitz_ghi, poa_hay_davies, Geometry};
use super::synthetic::{load_shape, CustomerClass};
use super::time::Timestamp;
use super::turbines::PowerCurve;
use super::weather::{
    sun_position, CloudProcess, SolarSite, SunPosition, WindClimate, WindProcess,
};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

fn default_tilt() -> f64 {
    30.0
}
fn default_azimuth() -> f64 {
    180.0
}
fn default_pr() -> f64 {
    0.86
}
fn default_hub() -> f64 {
    100.0
}
fn default_wind_mean() -> f64 {
    6.5
}
fn default_min_load() -> f64 {
    0.5
}
fn default_heat_profile() -> String {
    "EFH".into()
}
fn default_boiler_eta() -> f64 {
    0.92
}
fn default_rte() -> f64 {
    0.9
}
fn default_soc_init() -> f64 {
    50.0
}
fn default_soc_min() -> f64 {
    5.0
}
fn default_soc_max() -> f64 {
    95.0
}
fn default_pf() -> f64 {
    1.0
}
fn default_load_pf() -> f64 {
    0.95
}
fn default_noise() -> f64 {
    0.05
}
fn default_gas() -> String {
    "natural_gas".into()
}

/// A rooftop or ground-mounted PV system.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PvSpec {
    /// Unique unit name.
    pub name: String,
    /// Bus id in the network file.
    pub bus: crate::network::BusRef,
    /// Peak DC power, kWp.
    pub kwp: f64,
    /// Inverter apparent-power rating, MVA (default: kWp / 1000).
    pub inverter_mva: Option<f64>,
    /// Module tilt, degrees.
    #[serde(default = "default_tilt")]
    pub tilt_degree: f64,
    /// Module azimuth, degrees from north (180 = south).
    #[serde(default = "default_azimuth")]
    pub azimuth_degree: f64,
    /// Performance ratio (losses from irradiance to AC), 0–1.
    #[serde(default = "default_pr")]
    pub performance_ratio: f64,
}

pub use crate::network::TurbineClass;

/// A wind turbine or park.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindSpec {
    /// Unique unit name.
    pub name: String,
    /// Bus id.
    pub bus: crate::network::BusRef,
    /// Rated power, MW.
    pub rated_mw: f64,
    /// IEC class: a generic cubic power curve up to the class's rated speed
    /// (when no `turbine_type` is given).
    pub turbine_class: Option<TurbineClass>,
    /// Turbine type of the shipped library (e.g. `E-82/2350`): its power
    /// curve, scaled to `rated_mw` (a park of such turbines).
    pub turbine_type: Option<String>,
    /// Hub height, m.
    #[serde(default = "default_hub")]
    pub hub_height_m: f64,
    /// Mean wind speed at 100 m, m/s.
    #[serde(default = "default_wind_mean")]
    pub mean_wind_ms: f64,
}

pub use crate::network::ChpTechnology;

/// How a CHP unit is dispatched.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ChpMode {
    /// Follows the heat demand through a thermal buffer; a boiler covers the rest.
    HeatLed,
    /// Follows the electric demand at its bus (loads there), capped at its rating.
    PowerLed,
    /// Follows a profile column (`schedule`) as a fraction of its rating.
    Schedule,
    /// Runs at its rating in the tariff's peak hours (`peak_hours`), off
    /// otherwise.
    PeakHours,
}

/// A heat demand: annual energy and its BDEW profile (hot water included).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HeatSpec {
    /// Annual heat demand, MWh_th (shaped by `profile`).
    pub annual_mwh: Option<f64>,
    /// Or a profile column with the demand in MW_th per step.
    pub demand_column: Option<String>,
    /// BDEW heat profile code (see [`super::heat::PROFILE_CODES`]; default
    /// EFH, single-family houses).
    #[serde(default = "default_heat_profile")]
    pub profile: String,
    /// BDEW building class (1–11 for EFH/MFH, default 3; 0 otherwise).
    pub building_class: Option<u32>,
    /// Whether the site is windy (the BDEW windy parameter set).
    #[serde(default)]
    pub windy: bool,
}

/// A combined heat and power unit with its heat sink, buffer and backup boiler.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChpSpec {
    /// Unique unit name.
    pub name: String,
    /// Bus id.
    pub bus: crate::network::BusRef,
    /// Technology.
    pub technology: ChpTechnology,
    /// Rated electric output, MW.
    pub rated_el_mw: f64,
    /// Electric efficiency (fuel LHV → electricity); technology default if absent.
    pub eta_el: Option<f64>,
    /// Thermal efficiency (fuel → useful heat); technology default if absent.
    pub eta_th: Option<f64>,
    /// Fuel name (key of the scenario's fuel emission factors).
    #[serde(default = "default_gas")]
    pub fuel: String,
    /// Dispatch mode.
    pub mode: ChpMode,
    /// Minimum electric load as a fraction of rating (modulation floor).
    #[serde(default = "default_min_load")]
    pub min_load: f64,
    /// Electric efficiency at half load (default: the technology's
    /// part-load ratio times `eta_el`); fuel is linear in output between
    /// `min_load` and rating (a Willans line), heat a fixed share of fuel.
    pub eta_el_half_load: Option<f64>,
    /// Its own heat demand (a site only this unit serves, with a backup
    /// boiler of `boiler_eta` burning its fuel); or use `heat_site`.
    pub heat: Option<HeatSpec>,
    /// The study's `[[heat]]` site it serves (the site's boiler is its backup).
    pub heat_site: Option<String>,
    /// Thermal buffer capacity, MWh_th (default: 2 h of rated heat).
    pub buffer_mwh: Option<f64>,
    /// Backup boiler efficiency (with `heat`).
    #[serde(default = "default_boiler_eta")]
    pub boiler_eta: f64,
    /// Profile column for `schedule` mode (fraction of rating).
    pub schedule: Option<String>,
    /// Power factor of the generator (1 = unity).
    #[serde(default = "default_pf")]
    pub power_factor: f64,
    /// Local clock hours `[start, end)` of the peak tariff, for mode
    /// `peak-hours` (e.g. `[[8, 11], [18, 21]]`).
    #[serde(default)]
    pub peak_hours: Vec<[f64; 2]>,
    /// The study's `[[cooling]]` site it serves with an absorption chiller
    /// (trigeneration, CCHP); the site's electric chillers are its backup.
    pub cooling_site: Option<String>,
    /// Its absorption chiller (with `cooling_site`).
    pub absorption: Option<AbsorptionSpec>,
    /// Cold storage, MWh of cooling (with `cooling_site`; default none).
    #[serde(default)]
    pub cold_storage_mwh: f64,
}

fn default_min_part_load() -> f64 {
    0.2
}

/// Single- or double-effect absorption chiller.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AbsorptionKind {
    /// Single-effect LiBr/water, hot-water driven (COP about 0.7).
    SingleEffect,
    /// Double-effect LiBr/water, steam or exhaust driven (COP about 1.3).
    DoubleEffect,
}

/// The absorption chiller of a CCHP unit.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AbsorptionSpec {
    /// Single- or double-effect.
    #[serde(rename = "type")]
    pub kind: AbsorptionKind,
    /// Rated cooling capacity, MW.
    pub capacity_mw: f64,
    /// Mean temperature of its driving heat, °C (default 88 single-effect,
    /// 165 double-effect).
    pub driving_temperature_c: Option<f64>,
    /// Smallest part load it modulates to (below it cycles), fraction.
    #[serde(default = "default_min_part_load")]
    pub min_part_load: f64,
}

/// Battery operating strategy.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum StorageMode {
    /// Charge from local surplus at its bus, discharge into local deficit.
    SelfConsumption,
    /// Discharge when the grid's net load exceeds `peak_threshold_mw`,
    /// recharge when it is below `charge_below_mw`.
    PeakShaving,
    /// Voltage support at its bus: charge when the voltage (of the previous
    /// step) is above `v_charge_above_pu`, discharge below
    /// `v_discharge_below_pu`, at full power 0.01 p.u. beyond.
    VoltageSupport,
}

/// A battery storage unit.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// Unique unit name.
    pub name: String,
    /// Bus id.
    pub bus: crate::network::BusRef,
    /// Usable energy, MWh.
    pub capacity_mwh: f64,
    /// Charge/discharge power limit, MW.
    pub power_mw: f64,
    /// Round-trip efficiency, 0–1.
    #[serde(default = "default_rte")]
    pub round_trip_efficiency: f64,
    /// Initial state of charge, %.
    #[serde(default = "default_soc_init")]
    pub soc_initial_percent: f64,
    /// Lowest state of charge, %.
    #[serde(default = "default_soc_min")]
    pub soc_min_percent: f64,
    /// Highest state of charge, %.
    #[serde(default = "default_soc_max")]
    pub soc_max_percent: f64,
    /// Strategy.
    pub mode: StorageMode,
    /// Peak-shaving threshold on the grid net load, MW.
    pub peak_threshold_mw: Option<f64>,
    /// Peak shaving recharges below this net load, MW (default: half the threshold).
    pub charge_below_mw: Option<f64>,
    /// Voltage support charges above this bus voltage, p.u.
    #[serde(default = "default_v_charge")]
    pub v_charge_above_pu: f64,
    /// Voltage support discharges below this bus voltage, p.u.
    #[serde(default = "default_v_discharge")]
    pub v_discharge_below_pu: f64,
    /// Voltage support returns to this state of charge inside the band, %.
    #[serde(default = "default_soc_target")]
    pub soc_target_percent: f64,
}

fn default_soc_target() -> f64 {
    50.0
}

fn default_v_charge() -> f64 {
    1.04
}
fn default_v_discharge() -> f64 {
    0.96
}

/// Voltage support reaches full power this far (p.u.) beyond its threshold.
const VOLTAGE_SUPPORT_RAMP_PU: f64 = 0.01;

/// A synthetic load.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// Unique name.
    pub name: String,
    /// Bus id.
    pub bus: crate::network::BusRef,
    /// Customer class (shape).
    pub class: CustomerClass,
    /// Annual energy, MWh.
    pub annual_mwh: f64,
    /// Power factor (inductive).
    #[serde(default = "default_load_pf")]
    pub power_factor: f64,
    /// Relative noise amplitude.
    #[serde(default = "default_noise")]
    pub noise: f64,
}

/// Technology of a unit, as recorded in results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technology {
    /// Photovoltaics.
    Pv,
    /// Wind.
    Wind,
    /// CHP (with its technology).
    Chp(ChpTechnology),
    /// Battery.
    Storage,
}

impl Technology {
    /// Name stored in results.
    pub fn label(self) -> &'static str {
        match self {
            Technology::Pv => "pv",
            Technology::Wind => "wind",
            Technology::Chp(ChpTechnology::GasEngine) => "chp_gas_engine",
            Technology::Chp(ChpTechnology::MicroTurbine) => "chp_micro_turbine",
            Technology::Chp(ChpTechnology::FuelCell) => "chp_fuel_cell",
            Technology::Chp(ChpTechnology::Diesel) => "chp_diesel",
            Technology::Storage => "storage",
        }
    }

    /// Whether the unit counts as renewable generation.
    pub fn renewable(self) -> bool {
        matches!(self, Technology::Pv | Technology::Wind)
    }
}

/// Output of a unit at one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UnitOutput {
    /// Active power injected, MW.
    pub p_mw: f64,
    /// Reactive power injected, Mvar.
    pub q_mvar: f64,
    /// Useful heat delivered (CHP only), MW_th.
    pub heat_mw: f64,
    /// Fuel input of the unit (LHV), MW.
    pub fuel_mw: f64,
    /// Backup boiler heat, MW_th.
    pub boiler_heat_mw: f64,
    /// Backup boiler fuel, MW.
    pub boiler_fuel_mw: f64,
    /// Heat demand at this step, MW_th.
    pub heat_demand_mw: f64,
    /// Of `p_mw`, what the loads at the unit's bus consume (CHP), MW.
    pub own_use_mw: f64,
    /// Available power not injected (curtailment), MW.
    pub curtailed_mw: f64,
    /// State of charge (storage) or buffer level (CHP), %.
    pub soc_percent: f64,
    /// CHP heat neither used nor stored (power-led, schedule), MW_th.
    pub heat_dumped_mw: f64,
    /// Cooling demand of the CCHP's site at this step, MW.
    pub cooling_demand_mw: f64,
    /// Cooling the absorption chiller makes (to the site and the cold
    /// store), MW.
    pub absorption_cooling_mw: f64,
    /// Driving heat of the absorption chiller, MW_th (part of `heat_mw`'s
    /// production, or drawn from the buffer).
    pub absorption_heat_mw: f64,
    /// Cooling of the site's backup electric chillers, MW.
    pub electric_cooling_mw: f64,
    /// Electricity of the backup chillers, drawn at `chiller_bus`, MW.
    pub chiller_p_mw: f64,
    /// Their reactive power, Mvar.
    pub chiller_q_mvar: f64,
    /// Bus index of the backup chillers.
    pub chiller_bus: usize,
    /// Cold store content, MWh.
    pub cold_storage_mwh: f64,
}

/// Per-step inputs shared by all units.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepContext {
    /// Σ load − Σ non-storage generation at each unit's bus is looked up by index.
    pub grid_net_load_mw: f64,
    /// Step length, hours.
    pub dt_h: f64,
    /// Voltage of the unit's bus at the previous step's solution, p.u.
    pub bus_vm_pu: f64,
}

/// Dispatch state of one unit over a run.
#[derive(Debug, Clone)]
pub enum UnitState {
    /// PV: availability per step (MW) and inverter limit.
    Pv {
        /// Available AC power per step, MW.
        avail: Vec<f64>,
        /// Inverter rating, MVA.
        s_mva: f64,
    },
    /// Wind: availability per step (MW).
    Wind {
        /// Available power per step, MW.
        avail: Vec<f64>,
    },
    /// CHP with buffer.
    Chp {
        /// Rated electric MW.
        rated: f64,
        /// Electric efficiency at rating.
        eta_el: f64,
        /// Thermal efficiency (heat / fuel, at every load).
        eta_th: f64,
        /// Fuel at zero output as a share of fuel at rating (Willans line).
        fuel_base_share: f64,
        /// Modulation floor (fraction).
        min_load: f64,
        /// Mode.
        mode: ChpMode,
        /// Heat demand per step, MW_th.
        heat: Vec<f64>,
        /// Schedule factors per step (schedule mode).
        schedule: Vec<f64>,
        /// Buffer capacity and content, MWh_th.
        buffer_cap: f64,
        /// Buffer content, MWh_th.
        buffer: f64,
        /// Whether the unit is running (hysteresis).
        on: bool,
        /// Boiler efficiency.
        boiler_eta: f64,
        /// tan φ of the generator.
        tan_phi: f64,
        /// The cooling it serves (CCHP).
        cooling: Option<Box<super::cchp::CchpCooling>>,
    },
    /// Battery.
    Storage {
        /// Spec.
        spec: StorageSpec,
        /// Energy content, MWh.
        energy: f64,
    },
}

/// A unit as run: identity, bus index and state.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Name.
    pub name: String,
    /// Technology.
    pub technology: Technology,
    /// Bus index.
    pub bus: usize,
    /// Fuel name (CHP).
    pub fuel: Option<String>,
    /// State.
    pub state: UnitState,
}

/// PV AC availability per step, MW: the site's clouds (seed `seed`) over
/// the irradiance chain of [`plane_of_array`], module temperature from the
/// outdoor temperature, the performance ratio, clipped at the inverter.
pub fn pv_availability(
    spec: &PvSpec,
    site: &SolarSite,
    temperature_c: &[f64],
    start: Timestamp,
    step_s: i64,
    seed: u64,
) -> Vec<f64> {
    let mut clouds = CloudProcess::new(seed, site);
    let s_mva = spec.inverter_mva.unwrap_or(spec.kwp / 1000.0);
    (0..temperature_c.len())
        .map(|k| {
            // Mid-interval sun position for interval averages.
            let t = Timestamp(start.0 + step_s * k as i64 + step_s / 2);
            let sun = sun_position(t, site.latitude, site.longitude, site.utc_offset_h);
            let poa = plane_of_array(t, sun, clouds.at(t), spec);
            let t_cell = temperature_c[k] + poa / 800.0 * 25.0;
            let p = spec.kwp / 1000.0 * poa / 1000.0
                * spec.performance_ratio
                * (1.0 - 0.004 * (t_cell - 25.0));
            p.clamp(0.0, s_mva)
        })
        .collect()
}

/// A battery's step: the power its strategy wants (+ discharge, − charge),
/// within its power limit and state of charge; updates the stored energy.
fn storage_dispatch(
    spec: &StorageSpec,
    energy: &mut f64,
    local_net_load_mw: f64,
    ctx: &StepContext,
) -> UnitOutput {
    let dt = ctx.dt_h;
    let eta = spec.round_trip_efficiency.clamp(1e-6, 1.0).sqrt();
    let e_min = spec.capacity_mwh * spec.soc_min_percent / 100.0;
    let e_max = spec.capacity_mwh * spec.soc_max_percent / 100.0;
    let want = match spec.mode {
        StorageMode::SelfConsumption => local_net_load_mw,
        StorageMode::PeakShaving => {
            let th = spec.peak_threshold_mw.unwrap_or(f64::INFINITY);
            let low = spec.charge_below_mw.unwrap_or(0.5 * th);
            if ctx.grid_net_load_mw > th {
                ctx.grid_net_load_mw - th
            } else if ctx.grid_net_load_mw < low {
                -(low - ctx.grid_net_load_mw)
            } else {
                0.0
            }
        }
        StorageMode::VoltageSupport => {
            let vm = ctx.bus_vm_pu;
            let (hi, lo) = (spec.v_charge_above_pu, spec.v_discharge_below_pu);
            let share = |dv: f64| (dv / VOLTAGE_SUPPORT_RAMP_PU).clamp(0.0, 1.0);
            let support = spec.power_mw * (share(lo - vm) - share(vm - hi));
            if support != 0.0 {
                support
            } else {
                // Inside the band: back towards the target SOC, at a
                // quarter of the power, to be ready again.
                let target = spec.capacity_mwh * spec.soc_target_percent / 100.0;
                let limit = 0.25 * spec.power_mw;
                ((*energy - target) / dt).clamp(-limit, limit)
            }
        }
    };
    let mut p = want.clamp(-spec.power_mw, spec.power_mw);
    if p > 0.0 {
        p = p.min((*energy - e_min).max(0.0) * eta / dt);
        *energy -= p * dt / eta;
    } else if p < 0.0 {
        p = p.max(-(e_max - *energy).max(0.0) / eta / dt);
        *energy -= p * dt * eta;
    }
    UnitOutput {
        p_mw: p,
        soc_percent: if spec.capacity_mwh > 0.0 {
            100.0 * *energy / spec.capacity_mwh
        } else {
            0.0
        },
        ..Default::default()
    }
}

/// Plane-of-array irradiance of a PV unit at `t`, W/m²: Haurwitz clear-sky
/// GHI scaled by the clear-sky index `kc`, split by Erbs, transposed by
/// Hay–Davies with ground albedo 0.2.
fn plane_of_array(t: Timestamp, sun: SunPosition, kc: f64, spec: &PvSpec) -> f64 {
    if sun.cos_zenith <= 0.0 {
        return 0.0;
    }
    let zenith_deg = sun.cos_zenith.min(1.0).acos().to_degrees();
    let ghi = haurwitz_ghi(zenith_deg) * kc;
    let (doy0, _) = t.day_and_hour();
    let extra = extraterrestrial_w_m2(doy0 as f64 + 1.0);
    let geometry = Geometry {
        zenith_deg,
        sun_azimuth_deg: sun.azimuth.to_degrees(),
        tilt_deg: spec.tilt_degree,
        surface_azimuth_deg: spec.azimuth_degree,
    };
    poa_hay_davies(
        geometry,
        ghi,
        erbs(ghi, zenith_deg, extra),
        extra,
        GROUND_ALBEDO,
    )
}

/// Ground reflectance seen by tilted modules (grass, pvlib's default).
const GROUND_ALBEDO: f64 = 0.2;

/// The power curve of a wind unit: its library turbine's, or a cubic one
/// between cut-in 3 m/s and its class's rated speed, cut-out 25 m/s.
#[derive(Debug, Clone)]
pub enum WindCurve {
    /// A turbine of the library.
    Library(PowerCurve),
    /// The generic cubic curve with this rated speed, m/s.
    Cubic(f64),
}

impl WindCurve {
    /// The curve a spec asks for (an unknown turbine type is an error).
    pub fn of(spec: &WindSpec) -> Result<WindCurve> {
        match (&spec.turbine_type, spec.turbine_class) {
            (Some(t), _) => Ok(WindCurve::Library(PowerCurve::named(t)?)),
            (None, Some(class)) => Ok(WindCurve::Cubic(match class {
                TurbineClass::I => 13.0,
                TurbineClass::II => 12.0,
                TurbineClass::III => 11.0,
            })),
            (None, None) => Err(Error::Usage(format!(
                "wind '{}': give turbine_type (a library turbine) or turbine_class (I, II, III)",
                spec.name
            ))),
        }
    }

    /// Output as a fraction of rated power at wind speed `v`.
    fn fraction(&self, v: f64) -> f64 {
        match self {
            WindCurve::Library(c) => c.power_kw_at(v) / c.rated_kw().max(1e-9),
            WindCurve::Cubic(rated) => {
                if !(3.0..25.0).contains(&v) {
                    0.0
                } else if v >= *rated {
                    1.0
                } else {
                    (v.powi(3) - 27.0) / (rated.powi(3) - 27.0)
                }
            }
        }
    }
}

/// Heat-led CHP: the buffer level it steers to, as a share of capacity.
const BUFFER_TARGET: f64 = 0.5;

/// Heat-led CHP: hours over which it closes the gap to the buffer target.
const BUFFER_REFILL_H: f64 = 3.0;

/// Correlation of the wind at two turbines of one site.
const SITE_WIND_CORRELATION: f64 = 0.9;

/// Wind availability per step, MW: the site's wind (`climate`) mixed with
/// the unit's own (seed `unit_seed`, correlation 0.9 between any two units),
/// scaled by the month's factor, through the unit's power curve.
pub fn wind_availability(
    spec: &WindSpec,
    curve: &WindCurve,
    climate: &WindClimate,
    unit_seed: u64,
    start: Timestamp,
    step_s: i64,
    n: usize,
) -> Vec<f64> {
    let new = |seed| WindProcess::new(seed, spec.mean_wind_ms, 100.0, spec.hub_height_m, step_s);
    let (mut site, mut own) = (new(climate.site_seed), new(unit_seed));
    let rho = SITE_WIND_CORRELATION;
    (0..n)
        .map(|k| {
            let z = rho * site.next_state() + (1.0 - rho * rho).sqrt() * own.next_state();
            let month = Timestamp(start.0 + step_s * k as i64).month() as usize - 1;
            let v = site.speed_of(z) * climate.monthly_factor[month];
            spec.rated_mw * curve.fraction(v)
        })
        .collect()
}

/// CHP efficiencies after defaults.
pub fn chp_eta(spec: &ChpSpec) -> (f64, f64) {
    let (e, t) = spec.technology.default_eta();
    (spec.eta_el.unwrap_or(e), spec.eta_th.unwrap_or(t))
}

/// Fuel at zero output as a share of fuel at rating, from the electric
/// efficiency at half load (Willans line: fuel = F·(c + (1 − c)·x), so
/// η(½)/η(1) = ½ / (c + (1 − c)/2)).
pub fn chp_fuel_base_share(spec: &ChpSpec) -> f64 {
    let (eta_el, _) = chp_eta(spec);
    let ratio = match spec.eta_el_half_load {
        Some(h) => h / eta_el,
        None => spec.technology.half_load_eta_ratio(),
    };
    (1.0 / ratio - 1.0).max(0.0)
}

/// Builds the CHP state for a heat demand series (MW_th per step) whose
/// backup boiler has efficiency `boiler_eta`.
pub fn chp_state(spec: &ChpSpec, heat: Vec<f64>, boiler_eta: f64, schedule: Vec<f64>) -> UnitState {
    let (eta_el, eta_th) = chp_eta(spec);
    let rated_heat = spec.rated_el_mw / eta_el * eta_th;
    let buffer_cap = spec.buffer_mwh.unwrap_or(2.0 * rated_heat);
    let pf = spec.power_factor.clamp(1e-6, 1.0);
    UnitState::Chp {
        rated: spec.rated_el_mw,
        eta_el,
        eta_th,
        fuel_base_share: chp_fuel_base_share(spec),
        min_load: spec.min_load,
        mode: spec.mode,
        heat,
        schedule,
        buffer_cap,
        buffer: 0.5 * buffer_cap,
        on: false,
        boiler_eta,
        tan_phi: (1.0 - pf * pf).sqrt() / pf,
        cooling: None,
    }
}

/// Synthetic load series, MW and Mvar.
pub fn load_series(
    spec: &LoadSpec,
    start: Timestamp,
    step_s: i64,
    n: usize,
    seed: u64,
) -> (Vec<f64>, f64) {
    let shape = load_shape(spec.class, start, step_s, n, seed, spec.noise);
    let mean_mw = spec.annual_mwh / 8760.0;
    let pf = spec.power_factor.clamp(1e-6, 1.0);
    (
        shape.into_iter().map(|f| f * mean_mw).collect(),
        (1.0 - pf * pf).sqrt() / pf,
    )
}

/// One step of a CHP unit (`state` is a [`UnitState::Chp`]): the heat it
/// makes by its mode, the buffer, the backup boiler, the absorption chiller
/// of a CCHP unit, and the electricity and fuel of that heat on its
/// part-load line.
///
/// The hot-side demand is the heat demand plus the absorption chiller's
/// driving heat ([`super::cchp`]). Its heat goes to heating first (then
/// the buffer, then the boiler cover heating), then to the absorption
/// chiller (also from the buffer), then into the buffer, then through the
/// chiller into the cold store; what is left is dumped (power-led,
/// schedule) or not made (heat-led).
fn chp_dispatch(state: &mut UnitState, t: usize, local_net_load_mw: f64, dt: f64) -> UnitOutput {
    let UnitState::Chp {
        rated,
        eta_el,
        eta_th,
        fuel_base_share: c,
        min_load,
        mode,
        heat,
        schedule,
        buffer_cap,
        buffer,
        on,
        boiler_eta,
        tan_phi,
        cooling,
    } = state
    else {
        return UnitOutput::default();
    };
    let fuel_rated = *rated / *eta_el;
    // Heat at output fraction x (x > 0), and the fraction of a heat output.
    let heat_at = |x: f64| *eta_th * fuel_rated * (*c + (1.0 - *c) * x);
    let fraction_of = |q: f64| ((q / (*eta_th * fuel_rated) - *c) / (1.0 - *c)).clamp(0.0, 1.0);
    let request = cooling
        .as_ref()
        .map(|cc| cc.request(t, dt))
        .unwrap_or_default();
    let q_heat = heat[t];
    let q_dem = q_heat + request.heat_mw;
    let (q_max, q_min) = (heat_at(1.0), heat_at(*min_load));
    let cap = *buffer_cap;
    let mut q_chp = match mode {
        ChpMode::HeatLed => {
            if *buffer < 0.25 * cap {
                *on = true;
            }
            if *buffer >= 0.95 * cap {
                *on = false;
            }
            if *on {
                // Follow the demand, steering the buffer back to half full
                // over a few hours: modulates between min_load and rating.
                let refill = (BUFFER_TARGET * cap - *buffer) / BUFFER_REFILL_H;
                (q_dem + refill).clamp(q_min, q_max)
            } else {
                0.0
            }
        }
        ChpMode::PowerLed | ChpMode::Schedule | ChpMode::PeakHours => {
            let f = if *mode == ChpMode::PowerLed {
                (local_net_load_mw / *rated).clamp(0.0, 1.0)
            } else {
                schedule.get(t).copied().unwrap_or(0.0).clamp(0.0, 1.0)
            };
            if f < *min_load || f == 0.0 {
                0.0
            } else {
                heat_at(f)
            }
        }
    };
    // A heat-led unit makes no more than demand, buffer and cold store take.
    let room = (cap - *buffer) / dt + q_dem + request.store_heat_room_mw;
    if *mode == ChpMode::HeatLed && q_chp > room {
        q_chp = if room >= q_min { room } else { 0.0 };
        if q_chp == 0.0 {
            *on = false;
        }
    }
    // The hot side, in order of priority.
    let mut spare = q_chp;
    let mut take = |want: f64| {
        let x = spare.min(want).max(0.0);
        spare -= x;
        x
    };
    let mut level = *buffer;
    let heat_short = q_heat - take(q_heat);
    let from_buffer = heat_short.min(level / dt);
    level -= from_buffer * dt;
    let boiler = heat_short - from_buffer;
    let drive_chp = take(request.heat_mw);
    let drive_buffer = (request.heat_mw - drive_chp).min(level / dt);
    level -= drive_buffer * dt;
    let to_buffer = take((cap - level) / dt);
    level = (level + to_buffer * dt).min(cap);
    let drive_store = take(request.store_heat_room_mw);
    let dumped = spare;
    *buffer = level;
    let p = if q_chp > 0.0 {
        fraction_of(q_chp) * *rated
    } else {
        0.0
    };
    let mut out = UnitOutput {
        p_mw: p,
        q_mvar: p * *tan_phi,
        heat_mw: q_chp - dumped,
        fuel_mw: q_chp / *eta_th,
        boiler_heat_mw: boiler,
        boiler_fuel_mw: boiler / *boiler_eta,
        heat_demand_mw: q_heat,
        own_use_mw: p.min(local_net_load_mw.max(0.0)),
        heat_dumped_mw: dumped,
        soc_percent: if cap > 0.0 {
            100.0 * *buffer / cap
        } else {
            0.0
        },
        ..Default::default()
    };
    if let Some(cc) = cooling {
        cc.serve(t, dt, drive_chp + drive_buffer, drive_store, &mut out);
    }
    out
}

impl Unit {
    /// Dispatches the unit at step `t`. `local_net_load_mw` is the load
    /// minus other generation at its bus; `ctx` holds grid-wide values.
    pub fn dispatch(&mut self, t: usize, local_net_load_mw: f64, ctx: &StepContext) -> UnitOutput {
        let dt = ctx.dt_h;
        match &mut self.state {
            UnitState::Pv { avail, .. } => UnitOutput {
                p_mw: avail[t],
                ..Default::default()
            },
            UnitState::Wind { avail } => UnitOutput {
                p_mw: avail[t],
                ..Default::default()
            },
            UnitState::Chp { .. } => chp_dispatch(&mut self.state, t, local_net_load_mw, dt),
            UnitState::Storage { spec, energy } => {
                storage_dispatch(spec, energy, local_net_load_mw, ctx)
            }
        }
    }

    /// Whether its output at a step depends on nothing but the step (PV and
    /// wind: a precomputed availability), so steps can run in any order.
    pub fn is_stateless(&self) -> bool {
        matches!(self.state, UnitState::Pv { .. } | UnitState::Wind { .. })
    }

    /// Whether its dispatch reads the network's state (voltage-support
    /// storage reads its bus voltage of the previous step); every other
    /// unit dispatches from its own state and the step's loads only.
    pub fn reads_network(&self) -> bool {
        matches!(&self.state, UnitState::Storage { spec, .. } if spec.mode == StorageMode::VoltageSupport)
    }

    /// The available power of a stateless unit at step `t`, MW (0 for the
    /// others).
    pub fn available_mw(&self, t: usize) -> f64 {
        match &self.state {
            UnitState::Pv { avail, .. } | UnitState::Wind { avail } => avail[t],
            _ => 0.0,
        }
    }

    /// Apparent-power rating for reactive-power control (PV inverters).
    pub fn inverter_mva(&self) -> Option<f64> {
        match &self.state {
            UnitState::Pv { s_mva, .. } => Some(*s_mva),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chp_spec(mode: ChpMode, eta_el_half_load: Option<f64>) -> ChpSpec {
        ChpSpec {
            name: "c".into(),
            bus: crate::network::BusRef::Number(1),
            technology: ChpTechnology::GasEngine,
            rated_el_mw: 1.0,
            eta_el: Some(0.4),
            eta_th: Some(0.5),
            eta_el_half_load,
            fuel: "natural_gas".into(),
            mode,
            min_load: 0.5,
            heat: None,
            heat_site: Some("site".into()),
            buffer_mwh: Some(2.0),
            boiler_eta: 0.9,
            schedule: None,
            power_factor: 1.0,
            peak_hours: Vec::new(),
            cooling_site: None,
            absorption: None,
            cold_storage_mwh: 0.0,
        }
    }

    fn unit_of(spec: &ChpSpec) -> Unit {
        // Heat demand constant 1 MW_th.
        let st = chp_state(spec, vec![1.0; 96], 0.9, vec![0.8; 96]);
        Unit {
            name: "c".into(),
            technology: Technology::Chp(ChpTechnology::GasEngine),
            bus: 0,
            fuel: Some("natural_gas".into()),
            state: st,
        }
    }

    /// A CHP unit with a flat part-load efficiency.
    fn chp(mode: ChpMode) -> Unit {
        unit_of(&chp_spec(mode, Some(0.4)))
    }

    #[test]
    fn chp_part_load_follows_the_willans_line() {
        // η_el 0.4 at rating, 0.368 at half load: fuel at zero output
        // c = 1/0.92 − 1 of rated fuel 2.5 MW.
        let mut u = unit_of(&chp_spec(ChpMode::Schedule, Some(0.368)));
        if let UnitState::Chp { schedule, .. } = &mut u.state {
            schedule.iter_mut().for_each(|x| *x = 0.5);
        }
        let ctx = StepContext {
            grid_net_load_mw: 0.0,
            dt_h: 1.0,
            bus_vm_pu: 1.0,
        };
        let o = u.dispatch(0, 0.0, &ctx);
        assert!((o.p_mw - 0.5).abs() < 1e-12);
        assert!(
            (o.p_mw / o.fuel_mw - 0.368).abs() < 1e-12,
            "{}",
            o.p_mw / o.fuel_mw
        );
        // Heat is η_th of the fuel at every load (the buffer has room).
        assert!((o.heat_mw - 0.5 * o.fuel_mw).abs() < 1e-12);
    }

    #[test]
    fn chp_heat_led_energy_balance_and_fuel() {
        let mut u = chp(ChpMode::HeatLed);
        let ctx = StepContext {
            grid_net_load_mw: 0.0,
            dt_h: 1.0,
            bus_vm_pu: 1.0,
        };
        let (mut heat_in, mut demand, mut fuel, mut el) = (0.0, 0.0, 0.0, 0.0);
        let buffer0 = 1.0;
        for t in 0..96 {
            let o = u.dispatch(t, 0.0, &ctx);
            assert!(
                o.p_mw == 0.0 || (o.p_mw >= 0.5 - 1e-12 && o.p_mw <= 1.0 + 1e-12),
                "{}",
                o.p_mw
            );
            assert!((o.fuel_mw - o.p_mw / 0.4).abs() < 1e-12);
            heat_in += o.heat_mw + o.boiler_heat_mw;
            demand += o.heat_demand_mw;
            fuel += o.fuel_mw;
            el += o.p_mw;
        }
        let buffer_end = match &u.state {
            UnitState::Chp { buffer, .. } => *buffer,
            _ => unreachable!(),
        };
        // Heat produced = demand + buffer change.
        assert!((heat_in - demand - (buffer_end - buffer0)).abs() < 1e-9);
        assert!((demand - 96.0).abs() < 1e-9);
        assert!((fuel * 0.4 - el).abs() < 1e-9);
        assert!(el > 0.0);
    }

    #[test]
    fn chp_schedule_respects_min_load() {
        let mut u = chp(ChpMode::Schedule);
        let ctx = StepContext {
            grid_net_load_mw: 0.0,
            dt_h: 1.0,
            bus_vm_pu: 1.0,
        };
        let o = u.dispatch(0, 0.0, &ctx);
        assert!((o.p_mw - 0.8).abs() < 1e-12);
    }

    #[test]
    fn storage_limits_power_and_energy() {
        let spec = StorageSpec {
            name: "b".into(),
            bus: crate::network::BusRef::Number(1),
            capacity_mwh: 1.0,
            power_mw: 0.5,
            round_trip_efficiency: 0.81,
            soc_initial_percent: 50.0,
            soc_min_percent: 10.0,
            soc_max_percent: 90.0,
            mode: StorageMode::SelfConsumption,
            peak_threshold_mw: None,
            charge_below_mw: None,
            v_charge_above_pu: 1.04,
            v_discharge_below_pu: 0.96,
            soc_target_percent: 50.0,
        };
        let mut u = Unit {
            name: "b".into(),
            technology: Technology::Storage,
            bus: 0,
            fuel: None,
            state: UnitState::Storage { spec, energy: 0.5 },
        };
        let ctx = StepContext {
            grid_net_load_mw: 0.0,
            dt_h: 1.0,
            bus_vm_pu: 1.0,
        };
        let o = u.dispatch(0, 2.0, &ctx); // deficit: discharge at the limit
        assert!((o.p_mw - 0.36).abs() < 1e-12, "{}", o.p_mw); // (0.5-0.1)·0.9
        assert!((o.soc_percent - 10.0).abs() < 1e-9);
        let o = u.dispatch(1, -2.0, &ctx); // surplus: charge at 0.5 MW
        assert!((o.p_mw + 0.5).abs() < 1e-12);
        assert!((o.soc_percent - 55.0).abs() < 1e-9);
        // Voltage support: inside the band back towards 50 % SOC (from 55 %:
        // a small discharge), half power 0.005 p.u. beyond the band.
        if let UnitState::Storage { spec, .. } = &mut u.state {
            spec.mode = StorageMode::VoltageSupport;
        }
        let at = |vm: f64| StepContext {
            grid_net_load_mw: 0.0,
            dt_h: 1.0,
            bus_vm_pu: vm,
        };
        let o = u.dispatch(2, 0.0, &at(1.0));
        assert!(
            o.p_mw > 0.0 && o.p_mw <= 0.125 && o.soc_percent < 55.0,
            "{o:?}"
        );
        let o = u.dispatch(3, 0.0, &at(1.045));
        assert!((o.p_mw + 0.25).abs() < 1e-9, "{}", o.p_mw); // charging
        let o = u.dispatch(4, 0.0, &at(0.95));
        assert!((o.p_mw - 0.5).abs() < 1e-9, "{}", o.p_mw); // discharging
    }

    /// A CCHP unit over two days of varying heat, cooling and weather, in
    /// each mode: per step, its heat balances (fuel × η_th = heating served
    /// by it + driving heat + buffer change + dumped heat; with a flat part
    /// load also fuel × (η_el + η_th) = electricity + those), and the
    /// cooling balances (demand = absorption + electric − cold-store change).
    #[test]
    fn cchp_heat_and_cooling_balance_every_step() {
        use crate::timeseries::cchp::CchpCooling;
        use crate::timeseries::cooling::{
            AbsorptionChiller, ChillerCooling, ElectricChiller, SINGLE_EFFECT,
        };
        let n = 192;
        let dt = 0.25;
        let wave = |k: usize, a: f64, b: f64| a + b * (k as f64 * 0.37).sin().abs();
        for mode in [ChpMode::HeatLed, ChpMode::PowerLed, ChpMode::Schedule] {
            let mut spec = chp_spec(mode, Some(0.4));
            spec.min_load = 0.3;
            let heat: Vec<f64> = (0..n).map(|k| wave(k, 0.05, 0.5)).collect();
            let sched: Vec<f64> = (0..n).map(|k| wave(k, 0.2, 0.8)).collect();
            let mut state = chp_state(&spec, heat.clone(), 0.9, sched);
            if let UnitState::Chp { cooling, .. } = &mut state {
                *cooling = Some(Box::new(CchpCooling {
                    demand_mw: (0..n).map(|k| wave(k + 7, 0.0, 1.2)).collect(),
                    t_out_c: (0..n).map(|k| wave(k, 22.0, 16.0)).collect(),
                    absorption: AbsorptionChiller {
                        c: SINGLE_EFFECT,
                        rated_mw: 0.8,
                        driving_c: 88.0,
                        min_part_load: 0.2,
                    },
                    chiller: ElectricChiller::rated(5.5, ChillerCooling::WaterCooled),
                    chiller_bus: 3,
                    chiller_tan_phi: 0.0,
                    store_cap_mwh: 1.5,
                    store_mwh: 0.75,
                }));
            }
            let mut u = unit_of(&spec);
            u.state = state;
            let ctx = StepContext {
                grid_net_load_mw: 0.0,
                dt_h: dt,
                bus_vm_pu: 1.0,
            };
            let level = |u: &Unit| match &u.state {
                UnitState::Chp {
                    buffer, cooling, ..
                } => (*buffer, cooling.as_ref().map_or(0.0, |c| c.store_mwh)),
                _ => unreachable!(),
            };
            let (mut absorbed, mut electric) = (0.0, 0.0);
            for t in 0..n {
                let (buf0, cold0) = level(&u);
                let o = u.dispatch(t, wave(t, 0.2, 1.0), &ctx);
                let (buf1, cold1) = level(&u);
                let heating = o.heat_demand_mw - o.boiler_heat_mw;
                let hot = heating + o.absorption_heat_mw + (buf1 - buf0) / dt + o.heat_dumped_mw;
                let tol = 1e-9 * o.fuel_mw.max(1.0);
                assert!(
                    (o.fuel_mw * 0.5 - hot).abs() < tol,
                    "{mode:?} {t}: {} vs {hot}",
                    o.fuel_mw * 0.5
                );
                assert!(
                    (o.fuel_mw * 0.9 - (o.p_mw + hot)).abs() < tol,
                    "{mode:?} {t}"
                );
                let cold = o.absorption_cooling_mw + o.electric_cooling_mw - (cold1 - cold0) / dt;
                assert!((o.cooling_demand_mw - cold).abs() < 1e-9, "{mode:?} {t}");
                assert!(o.boiler_heat_mw >= 0.0 && o.electric_cooling_mw >= -1e-12);
                absorbed += o.absorption_cooling_mw;
                electric += o.electric_cooling_mw;
            }
            assert!(
                absorbed > 0.0 && electric > 0.0,
                "{mode:?}: both chillers run"
            );
        }
    }
}
