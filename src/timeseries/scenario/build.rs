//! One scenario from a (variant-merged) scenario file: inputs, the time
//! axis, site weather, DER units, loads, controllers, emission and KPI
//! settings — each in its own step of a [`Builder`], every problem
//! collected and reported together, every number checked finite and in
//! range before any model is built.

use super::*;
use crate::timeseries::accounting::{default_primary_energy_factors, HeatSite, UnitAccounting};
use crate::timeseries::controllers::OltcState;
use crate::timeseries::der::{
    chp_state, load_series, pv_availability, wind_availability, ChpSpec, PvSpec, StorageSpec,
    Technology, Unit, UnitState, WindCurve, WindSpec,
};
use crate::timeseries::elements::read_elements;
use crate::timeseries::profiles::read_beside_profiles;
use crate::timeseries::runner::{Controller, Emissions, Scenario, SyntheticLoad};
use crate::timeseries::weather::{SolarSite, TemperatureClimate, TemperatureProcess, WindClimate};

mod cooling;
mod heat;

/// Most steps of a scenario: two years of one-minute steps (every unit's
/// weather series and every result row is held per step).
pub const MAX_STEPS: usize = 1_051_200;

/// 10000-01-01T00:00 in seconds since 1970: time labels have four-digit years.
const YEAR_10000_S: i64 = 253_402_300_800;

/// Longest step, minutes (one day).
pub const MAX_STEP_MINUTES: f64 = 1440.0;

/// Builds the scenario `vname` of the file at `path` (folder `dir`).
pub(super) fn build(
    f: &ScenarioFile,
    vname: &str,
    dir: &Path,
    path: &Path,
    cache: &mut Cache,
    steps_override: Option<usize>,
) -> Result<Scenario> {
    let mut b = Builder::new(f, vname, dir, path, cache, steps_override)?;
    b.shape_network_loads();
    b.site_and_temperature()?;
    b.primary_energy_factors();
    b.heat_sites();
    b.cooling_sites();
    b.network_der_units();
    for s in &f.pv {
        b.pv_unit(s);
    }
    for s in &f.wind {
        b.wind_unit(s);
    }
    for s in &f.chp {
        b.chp_unit(s);
    }
    for s in &f.storage {
        b.storage_unit(s);
    }
    for s in &f.load {
        b.synthetic_load(s);
    }
    b.controllers();
    b.finish()
}

/// The state of building one scenario.
struct Builder<'a> {
    f: &'a ScenarioFile,
    vname: &'a str,
    /// "file (scenario 'name')", for messages.
    loc: String,
    problems: Vec<String>,
    net: Arc<Network>,
    profiles: Arc<ProfileTable>,
    elements: Vec<crate::timeseries::elements::Element>,
    start: Timestamp,
    step_s: i64,
    n_steps: usize,
    site: SiteSpec,
    /// The site's sun and clouds for PV (set with the temperature).
    solar: SolarSite,
    /// The site's wind (set with the temperature).
    wind: WindClimate,
    temperature: Vec<f64>,
    fuel: BTreeMap<String, f64>,
    names: HashSet<String>,
    units: Vec<Unit>,
    unit_accounting: Vec<UnitAccounting>,
    /// The study's heat sites as this scenario serves them.
    heat_sites: Vec<HeatSite>,
    /// The study's cooling sites as this scenario serves them.
    cooling_sites: Vec<crate::timeseries::accounting::CoolingSite>,
    /// The site's temperature climate (set with the temperature).
    climate: TemperatureClimate,
    /// Primary energy factors: grid electricity, fuels.
    pe_grid: f64,
    pe_fuels: BTreeMap<String, f64>,
    /// Network generators that became weather-driven units.
    network_der_gens: Vec<usize>,
    synthetic_loads: Vec<SyntheticLoad>,
    controllers: Vec<Controller>,
    /// Where the model is simpler than the inputs ask ([`Scenario::notes`]).
    notes: Vec<String>,
    /// Series the file's other variants made.
    series: &'a std::cell::RefCell<SeriesCache>,
}

impl<'a> Builder<'a> {
    /// Reads the inputs (network with the scenario's grid edits, profiles,
    /// elements) and checks the time axis.
    fn new(
        f: &'a ScenarioFile,
        vname: &'a str,
        dir: &Path,
        path: &Path,
        cache: &'a mut Cache,
        steps_override: Option<usize>,
    ) -> Result<Builder<'a>> {
        let loc = format!("{} (scenario '{vname}')", path.display());
        let mut problems = Vec::new();
        let pp = f.profiles.as_ref().map(|p| dir.join(p));
        let cached = pp.as_ref().and_then(|p| cache.profiles.get(p).cloned());
        let unread = pp.as_deref().filter(|_| cached.is_none());
        let (net, read) = read_beside_profiles(|| network(f, vname, dir, cache), unread)?;
        let profiles = match (cached, read, pp) {
            (Some(t), _, _) => t,
            (None, Some(t), Some(p)) => cache.profiles.entry(p).or_insert(Arc::new(t)).clone(),
            _ => Arc::new(ProfileTable::from_columns(Vec::new())?),
        };
        let elements = match (&f.elements, &f.profiles) {
            (Some(_), None) => {
                problems
                    .push("elements: an element table needs a profile table ('profiles')".into());
                Vec::new()
            }
            (Some(e), Some(_)) => read_elements(&dir.join(e), &net, &profiles)?,
            (None, _) => Vec::new(),
        };
        let start = Timestamp::parse(&f.period.start).ok_or_else(|| {
            Error::Usage(format!(
                "{loc}: period.start '{}' is not an ISO-8601 time",
                f.period.start
            ))
        })?;
        let step_minutes = f.period.step_minutes;
        let step_s = (step_minutes * 60.0).round() as i64;
        if !(step_minutes > 0.0 && step_minutes <= MAX_STEP_MINUTES)
            || (step_minutes * 60.0 - step_s as f64).abs() > 1e-9
        {
            problems.push(format!(
                "period.step_minutes: {step_minutes} is not a whole number of seconds between 1 s and one day"
            ));
        }
        let n_steps = steps_override.unwrap_or(f.period.steps);
        if n_steps == 0 || n_steps > MAX_STEPS {
            problems.push(format!(
                "period.steps must be 1 to {MAX_STEPS} (two years of one-minute steps), found {n_steps}"
            ));
        } else if problems.is_empty() && start.0 + step_s * n_steps as i64 >= YEAR_10000_S {
            problems.push("period: the time axis runs past the year 9999".into());
        }
        if let (Some(label_s), true) = (profiles.label_step_s, f.profiles.is_some()) {
            if label_s != step_s && step_s > 0 {
                problems.push(format!(
                    "profiles: the table's time labels advance by {label_s} s but period.step_minutes gives {step_s} s; row k is step k, so every energy would be off by {:.3}×",
                    step_s as f64 / label_s as f64
                ));
            }
        }
        if f.profiles.is_some() && n_steps > profiles.n_steps {
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
        let mut fuel = default_fuel_factors();
        let em = f.emissions.clone().unwrap_or_default();
        for (k, v) in &em.fuel_t_per_mwh {
            fuel.insert(k.clone(), *v);
        }
        let (mut pe_grid, mut pe_fuels) = default_primary_energy_factors();
        if let Some(pe) = &f.primary_energy {
            pe_grid = pe.grid.unwrap_or(pe_grid);
            pe_fuels.extend(pe.fuels.iter().map(|(k, v)| (k.clone(), *v)));
        }
        Ok(Builder {
            f,
            vname,
            loc,
            problems,
            net,
            profiles,
            elements,
            start,
            step_s,
            n_steps,
            site: f.site.clone().unwrap_or_default(),
            solar: SolarSite::default(),
            wind: WindClimate::new(0, None),
            temperature: Vec::new(),
            fuel,
            names: HashSet::new(),
            units: Vec::new(),
            unit_accounting: Vec::new(),
            heat_sites: Vec::new(),
            cooling_sites: Vec::new(),
            climate: TemperatureClimate::central_europe(10.0),
            pe_grid,
            pe_fuels,
            network_der_gens: Vec::new(),
            synthetic_loads: Vec::new(),
            controllers: Vec::new(),
            notes: Vec::new(),
            series: &cache.series,
        })
    }

    fn problem(&mut self, msg: String) {
        self.problems.push(msg);
    }

    /// `v` must be finite and positive.
    fn positive(&mut self, v: f64, what: String) {
        if !(v.is_finite() && v > 0.0) {
            self.problem(format!("{what} must be a positive number, found {v}"));
        }
    }

    /// `v` must be in (0, 1].
    fn fraction(&mut self, v: f64, what: String) {
        if !(v.is_finite() && v > 0.0 && v <= 1.0) {
            self.problem(format!("{what} must be in (0, 1], found {v}"));
        }
    }

    /// `v` must be finite and within [lo, hi].
    fn within(&mut self, v: f64, lo: f64, hi: f64, what: String) {
        if !(v.is_finite() && (lo..=hi).contains(&v)) {
            self.problem(format!("{what} must be between {lo} and {hi}, found {v}"));
        }
    }

    fn check_name(&mut self, n: &str) {
        if !self.names.insert(n.to_string()) {
            self.problem(format!("duplicate unit name '{n}'"));
        }
    }

    /// The bus index of `id`, or a problem naming `what`.
    fn bus(&mut self, id: &crate::network::BusRef, what: &str) -> usize {
        match self.net.find_bus(id) {
            Some(b) => b,
            None => {
                let name = self.net.name.clone();
                self.problem(format!("{what}: bus {id} is not in network '{name}'"));
                0
            }
        }
    }

    /// Loads of the network file with a customer class follow its shape
    /// (the file's value as the peak) when the scenario asks for it. A
    /// shaped load draws constant power: a ZIP mix in the file is not kept,
    /// and a note says so.
    fn shape_network_loads(&mut self) {
        if !self.f.shape_network_loads && self.f.network_load_class.is_none() {
            return;
        }
        if !self.elements.is_empty() {
            self.problem("shape_network_loads: the network's loads are replaced by the element table; drop one of them".into());
        }
        let mut shaped = (*self.net).clone();
        let mut kept = Vec::new();
        let (mut n_zip, mut p_zip_mw) = (0, 0.0);
        for (k, l) in self.net.loads.iter().enumerate() {
            let Some(class) = l.class.or(self.f.network_load_class) else {
                kept.push(l.clone());
                continue;
            };
            if l.is_voltage_dependent() {
                n_zip += 1;
                p_zip_mw += l.p_mw;
            }
            let seed = name_seed(self.f.seed, &format!("network-load-{k}"));
            let key = key_bits([
                class as u8 as f64,
                self.start.0 as f64,
                self.step_s as f64,
                self.n_steps as f64,
                f64::from_bits(seed),
            ]);
            let (start, step_s, n) = (self.start, self.step_s, self.n_steps);
            let shape = (self.series.borrow_mut().load_shapes.entry(key))
                .or_insert_with(|| {
                    let s = crate::timeseries::synthetic::load_shape(
                        class, start, step_s, n, seed, 0.05,
                    );
                    Arc::new(s)
                })
                .clone();
            let peak = shape.iter().copied().fold(0.0, f64::max);
            let scale = if peak > 0.0 { l.p_mw / peak } else { 0.0 };
            self.synthetic_loads.push(SyntheticLoad {
                name: format!("network load {} ({class:?})", k + 1),
                bus: l.bus,
                p_mw: shape.iter().map(|x| x * scale).collect(),
                tan_phi: if l.p_mw != 0.0 {
                    l.q_mvar / l.p_mw
                } else {
                    0.0
                },
            });
        }
        if n_zip > 0 {
            self.notes.push(format!(
                "shape_network_loads: {n_zip} of the network's loads ({p_zip_mw:.3} MW at peak) have \
                 constant-impedance or constant-current shares (ZIP); shaped, they draw constant power"
            ));
        }
        shaped.loads = kept;
        self.net = Arc::new(shaped);
    }

    /// Checks the site and makes the outdoor temperature series.
    fn site_and_temperature(&mut self) -> Result<()> {
        let s = self.site.clone();
        self.within(s.latitude, -90.0, 90.0, "site.latitude".into());
        self.within(s.longitude, -180.0, 180.0, "site.longitude".into());
        self.within(s.utc_offset_h, -12.0, 14.0, "site.utc_offset_h".into());
        self.within(
            s.mean_temperature_c,
            -60.0,
            60.0,
            "site.mean_temperature_c".into(),
        );
        let ghi = s
            .monthly_ghi_kwh_m2
            .as_deref()
            .map(|g| self.twelve(g, 0.0, 400.0, "site.monthly_ghi_kwh_m2"));
        let wind = s
            .wind_monthly_factor
            .as_deref()
            .map(|g| self.twelve(g, 0.1, 10.0, "site.wind_monthly_factor"));
        let mut climate = TemperatureClimate::central_europe(s.mean_temperature_c);
        let optional = [
            (
                s.seasonal_amplitude_k,
                "seasonal_amplitude_k",
                &mut climate.seasonal_k,
            ),
            (
                s.winter_anomaly_sd_k,
                "winter_anomaly_sd_k",
                &mut climate.winter_anomaly_sd_k,
            ),
            (
                s.summer_anomaly_sd_k,
                "summer_anomaly_sd_k",
                &mut climate.summer_anomaly_sd_k,
            ),
        ];
        for (value, field, slot) in optional {
            if let Some(v) = value {
                if !(v.is_finite() && (0.0..=30.0).contains(&v)) {
                    self.problems
                        .push(format!("site.{field} must be between 0 and 30, found {v}"));
                }
                *slot = v;
            }
        }
        if !self.problems.is_empty() {
            return Err(Error::Invalid {
                source_name: self.loc.clone(),
                problems: std::mem::take(&mut self.problems),
            });
        }
        self.climate = climate;
        let key = key_bits(
            [s.latitude, s.longitude, s.utc_offset_h]
                .into_iter()
                .chain(ghi.into_iter().flatten()),
        );
        self.solar = (self.series.borrow_mut().solar_sites.entry(key))
            .or_insert_with(|| {
                SolarSite::new(s.latitude, s.longitude, s.utc_offset_h, ghi.as_ref())
            })
            .clone();
        self.wind = WindClimate::new(name_seed(self.f.seed, "wind"), wind.as_ref());
        self.temperature = match &s.temperature_column {
            Some(c) => match self.profiles.column(c) {
                Some(ci) => self.profiles.series(ci)[..self.n_steps].to_vec(),
                None => {
                    return Err(Error::Usage(format!(
                        "{}: site.temperature_column '{c}' is not in the profile table",
                        self.loc
                    )));
                }
            },
            None => {
                let mut tp = TemperatureProcess::new(
                    name_seed(self.f.seed, "temperature"),
                    climate,
                    self.step_s,
                );
                (0..self.n_steps)
                    .map(|k| tp.at(Timestamp(self.start.0 + self.step_s * k as i64)))
                    .collect()
            }
        };
        Ok(())
    }

    /// A site field of 12 monthly values, each within `lo..=hi`.
    fn twelve(&mut self, g: &[f64], lo: f64, hi: f64, field: &str) -> [f64; 12] {
        if g.len() != 12 {
            self.problems.push(format!(
                "{field}: 12 monthly values (January to December) expected, found {}",
                g.len()
            ));
            return [1.0; 12];
        }
        for (m, &x) in g.iter().enumerate() {
            self.within(x, lo, hi, format!("{field}[{}]", m + 1));
        }
        std::array::from_fn(|m| g[m])
    }

    /// A wind unit's availability: its curve (an unknown turbine type is a
    /// problem of the unit), the site's wind and its own.
    fn wind_series(&mut self, spec: &WindSpec, what: &str) -> Vec<f64> {
        match WindCurve::of(spec) {
            Ok(curve) => {
                let seed = name_seed(self.f.seed, &format!("wind:{}", spec.name));
                let (start, step, n) = (self.start, self.step_s, self.n_steps);
                wind_availability(spec, &curve, &self.wind, seed, start, step, n)
            }
            Err(e) => {
                self.problem(format!("{what}: {e}"));
                Vec::new()
            }
        }
    }

    /// A PV unit's availability per step, MW (made once per file for
    /// units, sites, time axes and temperatures that agree).
    fn pv_availability(&self, spec: &PvSpec) -> Vec<f64> {
        let seed = name_seed(self.f.seed, "clouds");
        let site = &self.solar;
        let numbers = [
            spec.kwp,
            spec.inverter_mva.unwrap_or(f64::NAN),
            spec.tilt_degree,
            spec.azimuth_degree,
            spec.performance_ratio,
            site.latitude,
            site.longitude,
            site.utc_offset_h,
            self.start.0 as f64,
            self.step_s as f64,
            f64::from_bits(seed),
        ];
        let key = key_bits(
            (numbers.into_iter())
                .chain(site.clear_sky_index)
                .chain(self.temperature.iter().copied()),
        );
        let made = || pv_availability(spec, site, &self.temperature, self.start, self.step_s, seed);
        (self.series.borrow_mut().pv.entry(key))
            .or_insert_with(made)
            .clone()
    }

    fn push_unit(&mut self, unit: Unit, accounting: UnitAccounting) {
        self.units.push(unit);
        self.unit_accounting.push(accounting);
    }

    /// PV and wind units of the network file become weather-driven units
    /// (`network_der = "weather"`) or keep their base-case output ("fixed").
    fn network_der_units(&mut self) {
        match self.f.network_der.as_str() {
            "fixed" => return,
            "weather" => {}
            other => {
                self.problem(format!(
                    "network_der: '{other}' is neither \"weather\" nor \"fixed\""
                ));
                return;
            }
        }
        let net = self.net.clone();
        for (k, g) in net.generators.iter().enumerate() {
            let (Some(der), true) = (g.der, g.in_service) else {
                continue;
            };
            self.check_name(&g.id);
            let bus = crate::network::BusRef::Number(net.buses[g.bus].id);
            let (technology, state) = match der {
                crate::network::DerSource::Pv { kwp, inverter_mva } => {
                    let spec = PvSpec {
                        name: g.id.clone(),
                        bus,
                        kwp,
                        inverter_mva: Some(inverter_mva),
                        tilt_degree: 30.0,
                        azimuth_degree: 180.0,
                        performance_ratio: 0.86,
                    };
                    let avail = self.pv_availability(&spec);
                    let state = UnitState::Pv {
                        avail,
                        s_mva: inverter_mva,
                    };
                    (Technology::Pv, state)
                }
                crate::network::DerSource::Wind {
                    rated_mw,
                    turbine_class,
                } => {
                    let spec = WindSpec {
                        name: g.id.clone(),
                        bus,
                        rated_mw,
                        turbine_class: Some(turbine_class),
                        turbine_type: None,
                        hub_height_m: 100.0,
                        mean_wind_ms: 6.5,
                    };
                    let avail = self.wind_series(&spec, &format!("wind '{}'", g.id));
                    (Technology::Wind, UnitState::Wind { avail })
                }
            };
            let unit = Unit {
                name: g.id.clone(),
                technology,
                bus: g.bus,
                fuel: None,
                state,
            };
            self.push_unit(unit, UnitAccounting::default());
            self.network_der_gens.push(k);
        }
    }

    fn pv_unit(&mut self, s: &PvSpec) {
        self.check_name(&s.name);
        let w = format!("pv '{}'", s.name);
        let bus = self.bus(&s.bus, &w);
        self.positive(s.kwp, format!("{w}: kwp"));
        self.fraction(s.performance_ratio, format!("{w}: performance_ratio"));
        self.within(s.tilt_degree, 0.0, 90.0, format!("{w}: tilt_degree"));
        self.within(s.azimuth_degree, 0.0, 360.0, format!("{w}: azimuth_degree"));
        if let Some(m) = s.inverter_mva {
            self.positive(m, format!("{w}: inverter_mva"));
        }
        // No weather model on numbers that failed their checks.
        let avail = if self.problems.is_empty() {
            self.pv_availability(s)
        } else {
            Vec::new()
        };
        let state = UnitState::Pv {
            avail,
            s_mva: s.inverter_mva.unwrap_or(s.kwp / 1000.0),
        };
        let unit = Unit {
            name: s.name.clone(),
            technology: Technology::Pv,
            bus,
            fuel: None,
            state,
        };
        self.push_unit(unit, UnitAccounting::default());
    }

    fn wind_unit(&mut self, s: &WindSpec) {
        self.check_name(&s.name);
        let w = format!("wind '{}'", s.name);
        let bus = self.bus(&s.bus, &w);
        self.positive(s.rated_mw, format!("{w}: rated_mw"));
        self.positive(s.hub_height_m, format!("{w}: hub_height_m"));
        self.positive(s.mean_wind_ms, format!("{w}: mean_wind_ms"));
        let avail = if self.problems.is_empty() {
            self.wind_series(s, &w)
        } else {
            Vec::new()
        };
        let unit = Unit {
            name: s.name.clone(),
            technology: Technology::Wind,
            bus,
            fuel: None,
            state: UnitState::Wind { avail },
        };
        self.push_unit(unit, UnitAccounting::default());
    }

    /// Checks a CHP's numbers.
    fn check_chp(&mut self, s: &ChpSpec, w: &str) {
        self.positive(s.rated_el_mw, format!("{w}: rated_el_mw"));
        let (eta_el, eta_th) = crate::timeseries::der::chp_eta(s);
        self.fraction(eta_el, format!("{w}: eta_el"));
        self.fraction(eta_th, format!("{w}: eta_th"));
        if eta_el + eta_th > 1.0 {
            self.problem(format!(
                "{w}: eta_el + eta_th = {} exceeds 1",
                eta_el + eta_th
            ));
        }
        if !(0.0..=1.0).contains(&s.min_load) {
            self.problem(format!(
                "{w}: min_load must be in [0, 1], found {}",
                s.min_load
            ));
        }
        self.fraction(s.boiler_eta, format!("{w}: boiler_eta"));
        self.fraction(s.power_factor, format!("{w}: power_factor"));
        if let Some(b) = s.buffer_mwh {
            if !(b >= 0.0 && b.is_finite()) {
                self.problem(format!(
                    "{w}: buffer_mwh must be a non-negative number, found {b}"
                ));
            }
        }
        if let Some(h) = s.eta_el_half_load {
            self.fraction(h, format!("{w}: eta_el_half_load"));
            if h > eta_el {
                self.problem(format!("{w}: eta_el_half_load {h} exceeds eta_el {eta_el}"));
            }
        }
    }

    /// The profile column a scheduled CHP follows.
    fn chp_schedule(&mut self, s: &ChpSpec, w: &str) -> Vec<f64> {
        match (&s.mode, &s.schedule) {
            (crate::timeseries::der::ChpMode::Schedule, None) => {
                self.problem(format!(
                    "{w}: mode 'schedule' needs 'schedule' (a profile column)"
                ));
                Vec::new()
            }
            (_, Some(col)) => match self.profiles.column(col) {
                Some(c) => {
                    let n = self.n_steps.min(self.profiles.n_steps);
                    self.profiles.series(c)[..n].to_vec()
                }
                None => {
                    self.problem(format!(
                        "{w}: schedule column '{col}' is not in the profile table"
                    ));
                    Vec::new()
                }
            },
            _ => Vec::new(),
        }
    }

    fn storage_unit(&mut self, s: &StorageSpec) {
        self.check_name(&s.name);
        let w = format!("storage '{}'", s.name);
        let bus = self.bus(&s.bus, &w);
        self.positive(s.capacity_mwh, format!("{w}: capacity_mwh"));
        self.positive(s.power_mw, format!("{w}: power_mw"));
        self.fraction(
            s.round_trip_efficiency,
            format!("{w}: round_trip_efficiency"),
        );
        if !(0.0 <= s.soc_min_percent
            && s.soc_min_percent <= s.soc_initial_percent
            && s.soc_initial_percent <= s.soc_max_percent
            && s.soc_max_percent <= 100.0)
        {
            self.problem(format!(
                "{w}: need 0 ≤ soc_min_percent ≤ soc_initial_percent ≤ soc_max_percent ≤ 100"
            ));
        }
        let mode = s.mode;
        if mode == crate::timeseries::der::StorageMode::PeakShaving && s.peak_threshold_mw.is_none()
        {
            self.problem(format!("{w}: mode 'peak-shaving' needs peak_threshold_mw"));
        }
        for (v, field) in [
            (s.peak_threshold_mw, "peak_threshold_mw"),
            (s.charge_below_mw, "charge_below_mw"),
        ] {
            if let Some(v) = v {
                if !v.is_finite() {
                    self.problem(format!("{w}: {field} must be a finite number, found {v}"));
                }
            }
        }
        self.within(
            s.soc_target_percent,
            s.soc_min_percent,
            s.soc_max_percent,
            format!("{w}: soc_target_percent"),
        );
        let (lo, hi) = (s.v_discharge_below_pu, s.v_charge_above_pu);
        if !(0.8 <= lo && lo < hi && hi <= 1.2) {
            self.problem(format!(
                "{w}: need 0.8 ≤ v_discharge_below_pu < v_charge_above_pu ≤ 1.2, found {lo} and {hi}"
            ));
        }
        let unit = Unit {
            name: s.name.clone(),
            technology: Technology::Storage,
            bus,
            fuel: None,
            state: UnitState::Storage {
                spec: s.clone(),
                energy: s.capacity_mwh * s.soc_initial_percent / 100.0,
            },
        };
        self.push_unit(unit, UnitAccounting::default());
    }

    fn synthetic_load(&mut self, s: &LoadSpec) {
        self.check_name(&s.name);
        let w = format!("load '{}'", s.name);
        let bus = self.bus(&s.bus, &w);
        if !(s.annual_mwh >= 0.0 && s.annual_mwh.is_finite()) {
            self.problem(format!(
                "{w}: annual_mwh must be a non-negative number, found {}",
                s.annual_mwh
            ));
        }
        self.fraction(s.power_factor, format!("{w}: power_factor"));
        self.within(s.noise, 0.0, 1.0, format!("{w}: noise"));
        if !self.problems.is_empty() {
            return;
        }
        let seed = name_seed(self.f.seed, &s.name);
        let (p, tan_phi) = load_series(s, self.start, self.step_s, self.n_steps, seed);
        self.synthetic_loads.push(SyntheticLoad {
            name: s.name.clone(),
            bus,
            p_mw: p,
            tan_phi,
        });
    }

    fn controllers(&mut self) {
        for (i, c) in self.f.controller.iter().enumerate() {
            let w = format!("controller {}", i + 1);
            let mut ctl = Controller {
                spec: c.clone(),
                units: Vec::new(),
                oltc: None,
            };
            match c {
                ControllerSpec::Oltc { bus, .. } => {
                    let what = format!("{w} (oltc)");
                    let b = bus.as_ref().map(|b| self.bus(b, &what));
                    let net = self.net.clone();
                    ctl.oltc = OltcState::new(c, &net, b, &what, &mut self.problems);
                }
                ControllerSpec::PvQu {
                    units: sel,
                    v1_pu,
                    v2_pu,
                    v3_pu,
                    v4_pu,
                    q_max_fraction,
                    ..
                } => {
                    let v = [*v1_pu, *v2_pu, *v3_pu, *v4_pu];
                    let ordered = v[0] < v[1] && v[1] <= v[2] && v[2] < v[3];
                    if !(v.iter().all(|x| (0.5..=1.5).contains(x)) && ordered) {
                        self.problem(format!(
                            "{w} (pv-qu): need 0.5 ≤ v1_pu < v2_pu ≤ v3_pu < v4_pu ≤ 1.5, found {v:?}"
                        ));
                    }
                    let what = format!("{w} (pv-qu): q_max_fraction");
                    self.within(*q_max_fraction, 0.0, 1.0, what);
                    ctl.units = self.pv_selection(sel.as_deref(), &w);
                }
                ControllerSpec::PvPu {
                    units: sel,
                    v_start_pu,
                    v_end_pu,
                } => {
                    let ok = (0.5..=1.5).contains(v_start_pu)
                        && (0.5..=1.5).contains(v_end_pu)
                        && v_start_pu < v_end_pu;
                    if !ok {
                        self.problem(format!(
                            "{w} (pv-pu): need 0.5 ≤ v_start_pu < v_end_pu ≤ 1.5, found {v_start_pu} and {v_end_pu}"
                        ));
                    }
                    ctl.units = self.pv_selection(sel.as_deref(), &w);
                }
            }
            self.controllers.push(ctl);
        }
    }

    /// The PV units a Q(U) or P(U) controller acts on (default: all).
    fn pv_selection(&mut self, sel: Option<&[String]>, w: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for (k, u) in self.units.iter().enumerate() {
            let wanted = match sel {
                None => u.technology == Technology::Pv,
                Some(list) => list.contains(&u.name),
            };
            if wanted {
                if u.technology != Technology::Pv {
                    self.problems
                        .push(format!("{w}: unit '{}' is not a PV unit", u.name));
                }
                out.push(k);
            }
        }
        for n in sel.unwrap_or_default() {
            if !self.units.iter().any(|u| &u.name == n) {
                self.problems.push(format!("{w}: no unit named '{n}'"));
            }
        }
        out
    }

    /// Emission factors: finite and not negative.
    fn emissions(&mut self) -> Emissions {
        let em = self.f.emissions.clone().unwrap_or_default();
        self.within(
            em.grid_t_per_mwh,
            0.0,
            10.0,
            "emissions.grid_t_per_mwh".into(),
        );
        for (k, v) in &em.fuel_t_per_mwh {
            self.within(*v, 0.0, 10.0, format!("emissions.fuel_t_per_mwh.{k}"));
        }
        let grid_profile = match &em.grid_profile {
            Some(c) => {
                let col = self.profiles.column(c);
                if col.is_none() {
                    self.problem(format!(
                        "emissions.grid_profile '{c}' is not in the profile table"
                    ));
                }
                col
            }
            None => None,
        };
        if let Some(f) = em.grid_marginal_t_per_mwh {
            self.within(f, 0.0, 10.0, "emissions.grid_marginal_t_per_mwh".into());
        }
        let grid_marginal_profile = em.grid_marginal_profile.as_ref().and_then(|c| {
            let col = self.profiles.column(c);
            if col.is_none() {
                self.problem(format!(
                    "emissions.grid_marginal_profile '{c}' is not in the profile table"
                ));
            }
            col
        });
        Emissions {
            grid_t_per_mwh: em.grid_t_per_mwh,
            grid_profile,
            grid_marginal_t_per_mwh: em.grid_marginal_t_per_mwh,
            grid_marginal_profile,
            credit_exports: em.exports == super::ExportConvention::Credited,
            given: self.f.emissions.is_some(),
        }
    }

    /// Primary energy factors must be finite, 0 to 10.
    fn primary_energy_factors(&mut self) {
        let mut all = vec![("grid".to_string(), self.pe_grid)];
        all.extend(
            self.pe_fuels
                .iter()
                .map(|(k, v)| (format!("fuels.{k}"), *v)),
        );
        for (k, v) in all {
            self.within(v, 0.0, 10.0, format!("primary_energy.{k}"));
        }
    }

    fn finish(mut self) -> Result<Scenario> {
        let emissions = self.emissions();
        let kpi = self.f.kpi.clone();
        let bus_v_limits = kpi.as_ref().filter(|k| k.use_bus_limits).map(|_| {
            self.net
                .buses
                .iter()
                .map(|b| (b.vmin_pu, b.vmax_pu))
                .collect()
        });
        let v_limits = kpi
            .as_ref()
            .map_or((0.95, 1.05), |k| (k.vmin_pu, k.vmax_pu));
        self.within(v_limits.0, 0.0, 2.0, "kpi.vmin_pu".into());
        self.within(v_limits.1, 0.0, 2.0, "kpi.vmax_pu".into());
        if !(v_limits.0 < v_limits.1) {
            self.problem("kpi: vmin_pu must be below vmax_pu".into());
        }
        if let Some(pes) = kpi.and_then(|k| k.pes_reference) {
            self.fraction(pes.heat_eta, "kpi.pes_reference.heat_eta".into());
            self.fraction(
                pes.electricity_eta,
                "kpi.pes_reference.electricity_eta".into(),
            );
        }
        let solver = self.f.solver.clone().unwrap_or(SolverSpec {
            tol: d_tol(),
            max_iter: d_iter(),
        });
        if !(solver.tol > 0.0 && solver.tol < 1.0) {
            self.problem(format!(
                "solver.tol must be positive and below 1, found {}",
                solver.tol
            ));
        }
        if !(1..=1000).contains(&solver.max_iter) {
            self.problem(format!(
                "solver.max_iter must be 1 to 1000, found {}",
                solver.max_iter
            ));
        }
        if !self.problems.is_empty() {
            return Err(Error::Invalid {
                source_name: self.loc,
                problems: self.problems,
            });
        }
        let mut net = self.net;
        if !self.network_der_gens.is_empty() {
            let mut n = (*net).clone();
            n.generators = n
                .generators
                .iter()
                .enumerate()
                .filter(|(k, _)| !self.network_der_gens.contains(k))
                .map(|(_, g)| g.clone())
                .collect();
            net = Arc::new(n);
        }
        self.notes
            .extend(Scenario::replaced_zip_loads_note(&net, &self.elements));
        Ok(Scenario {
            name: self.vname.to_string(),
            network: net,
            elements: Arc::new(self.elements),
            profiles: self.profiles,
            start: self.start,
            step_s: self.step_s,
            n_steps: self.n_steps,
            newton: NewtonOptions {
                tol: solver.tol,
                max_iter: solver.max_iter,
            },
            units: self.units,
            unit_accounting: self.unit_accounting,
            heat_sites: self.heat_sites,
            cooling_sites: self.cooling_sites,
            primary_energy_grid: self.pe_grid,
            is_reference: false,
            synthetic_loads: self.synthetic_loads,
            controllers: self.controllers,
            emissions,
            v_limits,
            bus_v_limits,
            description: self.f.description.clone().unwrap_or_default(),
            utc_offset_h: Some(self.site.utc_offset_h),
            notes: self.notes,
        })
    }
}

/// The scenario's network: the file with the scenario's grid edits
/// (read once per file and edits).
fn network(f: &ScenarioFile, vname: &str, dir: &Path, cache: &mut Cache) -> Result<Arc<Network>> {
    let net_path = dir.join(&f.network);
    let key = (net_path.clone(), format!("{:?}", f.grid));
    if let Some(n) = cache.networks.get(&key) {
        return Ok(n.clone());
    }
    let label = format!("scenario '{vname}'");
    let n = Arc::new(crate::network::edit::read_edited(
        &net_path, &f.grid, &label,
    )?);
    cache.networks.insert(key, n.clone());
    Ok(n)
}
