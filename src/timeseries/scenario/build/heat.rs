//! The builder's heat steps: the study's heat sites, their demand series
//! and supplies, the fuels' CO2 and primary energy factors, and the CHP
//! units that serve sites.

use super::*;
use crate::timeseries::accounting::{
    CarrierFactors, HeatSite, HeatSupply, PesTerms, UnitAccounting,
};
use crate::timeseries::der::HeatSpec;
use crate::timeseries::heat::{heat_demand_series, heat_pump_cop, HeatProfile};

impl Builder<'_> {
    /// CO2 and primary energy of burning `fuel` (a problem naming `what`
    /// when either factor is unknown).
    pub(super) fn carrier(&mut self, fuel: &str, what: &str) -> CarrierFactors {
        let co2 = self.fuel.get(fuel).copied();
        let pef = self.pe_fuels.get(fuel).copied();
        if co2.is_none() {
            let known = self.fuel.keys().cloned().collect::<Vec<_>>().join(", ");
            self.problem(format!(
                "{what}: fuel '{fuel}' has no emission factor (known: {known}; add it under [emissions.fuel_t_per_mwh])"
            ));
        }
        if pef.is_none() {
            self.problem(format!(
                "{what}: fuel '{fuel}' has no primary energy factor (add it under [primary_energy.fuels])"
            ));
        }
        CarrierFactors {
            co2_t_per_mwh: co2.unwrap_or(0.0),
            primary_energy_factor: pef.unwrap_or(0.0),
        }
    }

    /// Daily mean temperatures of a year of the site's mean climate (from
    /// 1 January), for normalising heat demand over runs shorter than a year.
    fn climate_year(&self) -> Vec<f64> {
        let s = &self.site;
        let seasonal = s.seasonal_amplitude_k.unwrap_or(9.0);
        (0..365)
            .map(|d| {
                let phase = 2.0 * std::f64::consts::PI * (d as f64 + 10.0) / 365.0;
                s.mean_temperature_c - seasonal * phase.cos()
            })
            .collect()
    }

    /// The demand series of `spec`, or a problem naming `what`.
    fn heat_demand(&mut self, spec: &HeatSpec, what: &str) -> Vec<f64> {
        match (spec.annual_mwh, &spec.demand_column) {
            (Some(annual), None) => self.profile_heat_demand(spec, annual, what),
            (None, Some(col)) => self.column_heat_demand(col, what),
            _ => {
                self.problem(format!(
                    "{what}: give either annual_mwh (with a BDEW profile) or demand_column"
                ));
                Vec::new()
            }
        }
    }

    /// A demand column of the profile table (heat or cooling): MW per
    /// step, each finite and 0 to 1e6.
    pub(super) fn column_heat_demand(&mut self, col: &str, what: &str) -> Vec<f64> {
        let Some(c) = self.profiles.column(col) else {
            self.problem(format!(
                "{what}: demand_column '{col}' is not in the profile table"
            ));
            return Vec::new();
        };
        let n = self.n_steps.min(self.profiles.n_steps);
        let series = self.profiles.series(c)[..n].to_vec();
        if let Some((k, v)) = series
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && (0.0..=1e6).contains(*v)))
        {
            self.problem(format!(
                "{what}: demand_column '{col}' row {} is {v}; a demand must be 0 to 1e6 MW",
                k + 1
            ));
        }
        series
    }

    /// `annual` MWh_th shaped by the spec's BDEW profile.
    fn profile_heat_demand(&mut self, spec: &HeatSpec, annual: f64, what: &str) -> Vec<f64> {
        if !(annual >= 0.0 && annual.is_finite() && annual <= 1e9) {
            self.problem(format!(
                "{what}: annual_mwh must be a number from 0 to 1e9, found {annual}"
            ));
            return Vec::new();
        }
        let housing = matches!(spec.profile.to_ascii_uppercase().as_str(), "EFH" | "MFH");
        let class = spec.building_class.unwrap_or(if housing { 3 } else { 0 });
        match HeatProfile::new(&spec.profile, class, spec.windy) {
            Ok(p) => {
                let climate = self.climate_year();
                heat_demand_series(
                    &p,
                    annual,
                    &self.temperature,
                    self.start,
                    self.step_s,
                    &climate,
                )
            }
            Err(e) => {
                self.problem(format!("{what}: {e}"));
                Vec::new()
            }
        }
    }

    /// The study's `[[heat]]` sites: demand series and, for sites no CHP
    /// unit serves, their boiler or heat pump (a synthetic load).
    pub(super) fn heat_sites(&mut self) {
        let served: Vec<&str> = self
            .f
            .chp
            .iter()
            .filter_map(|c| c.heat_site.as_deref())
            .collect();
        for site in &self.f.heat {
            let what = format!("heat '{}'", site.name);
            self.check_name(&site.name);
            let spec = HeatSpec {
                annual_mwh: site.annual_mwh,
                demand_column: site.demand_column.clone(),
                profile: site.profile.clone().unwrap_or_else(|| "EFH".into()),
                building_class: site.building_class,
                windy: site.windy,
            };
            let demand_mw = self.heat_demand(&spec, &what);
            self.fraction(site.boiler_efficiency, format!("{what}: boiler_efficiency"));
            let fuel = self.carrier(&site.fuel, &what);
            let n_chp = served.iter().filter(|&&s| s == site.name).count();
            if n_chp > 1 {
                self.problem(format!("{what}: served by {n_chp} CHP units (at most one)"));
            }
            let supply = match (n_chp, site.supply) {
                (0, HeatSupplyKind::Boiler) => HeatSupply::Boiler {
                    efficiency: site.boiler_efficiency,
                    fuel,
                },
                (0, HeatSupplyKind::HeatPump) => self.heat_pump(site, &demand_mw, &what),
                (_, HeatSupplyKind::Boiler) => HeatSupply::Chp { unit: usize::MAX },
                (_, HeatSupplyKind::HeatPump) => {
                    self.problem(format!(
                        "{what}: a site a CHP unit serves has a boiler as its backup (supply = \"boiler\")"
                    ));
                    HeatSupply::Chp { unit: usize::MAX }
                }
            };
            self.heat_sites.push(HeatSite {
                name: site.name.clone(),
                demand_mw,
                supply,
            });
        }
    }

    /// A site's heat pump: its electricity (demand / COP at the outdoor
    /// temperature) becomes a synthetic load at the site's bus.
    fn heat_pump(&mut self, site: &HeatSiteSpec, demand_mw: &[f64], what: &str) -> HeatSupply {
        let Some(bus_id) = &site.bus else {
            self.problem(format!("{what}: a heat pump needs the site's 'bus'"));
            return HeatSupply::HeatPump { load: usize::MAX };
        };
        let bus = self.bus(bus_id, what);
        let pf = site.heat_pump_power_factor.unwrap_or(0.95);
        self.fraction(pf, format!("{what}: heat_pump_power_factor"));
        let p_mw = demand_mw
            .iter()
            .zip(&self.temperature)
            .map(|(q, &t)| q / heat_pump_cop(site.heat_pump_source, site.heat_sink, t))
            .collect();
        self.synthetic_loads.push(SyntheticLoad {
            name: format!("{} heat pump", site.name),
            bus,
            p_mw,
            tan_phi: (1.0 - pf * pf).max(0.0).sqrt() / pf.max(1e-6),
        });
        HeatSupply::HeatPump {
            load: self.synthetic_loads.len() - 1,
        }
    }

    /// The heat a CHP unit serves: its `heat_site` (whose boiler is its
    /// backup) or its own `heat` (a site of its own, with a `boiler_eta`
    /// boiler burning its fuel). Returns the demand series, the backup's
    /// efficiency and fuel.
    pub(super) fn chp_heat(
        &mut self,
        s: &ChpSpec,
        w: &str,
        unit: usize,
    ) -> (Vec<f64>, f64, CarrierFactors) {
        match (&s.heat, &s.heat_site) {
            (Some(h), None) => {
                let demand = self.heat_demand(h, &format!("{w}: heat"));
                let fuel = self.carrier(&s.fuel, w);
                self.heat_sites.push(HeatSite {
                    name: format!("{} (own heat)", s.name),
                    demand_mw: demand.clone(),
                    supply: HeatSupply::Chp { unit },
                });
                (demand, s.boiler_eta, fuel)
            }
            (None, Some(name)) => {
                let spec = self.f.heat.iter().find(|h| &h.name == name);
                let site = self.heat_sites.iter_mut().find(|h| &h.name == name);
                match (spec, site) {
                    (Some(spec), Some(site)) => {
                        site.supply = HeatSupply::Chp { unit };
                        let demand = site.demand_mw.clone();
                        let (eta, fuel) = (spec.boiler_efficiency, spec.fuel.clone());
                        let fuel = self.carrier(&fuel, w);
                        (demand, eta, fuel)
                    }
                    _ => {
                        self.problem(format!(
                            "{w}: heat_site '{name}' is not a [[heat]] site of the study"
                        ));
                        (Vec::new(), 1.0, CarrierFactors::default())
                    }
                }
            }
            _ => {
                self.problem(format!(
                    "{w}: give either 'heat' (its own demand) or 'heat_site' (a [[heat]] site)"
                ));
                (Vec::new(), 1.0, CarrierFactors::default())
            }
        }
    }

    /// A CHP unit's primary energy savings reference: the study's fixed
    /// `[kpi.pes_reference]`, else Regulation (EU) 2015/2402 for its fuel at
    /// its bus's voltage and the site's climate.
    pub(super) fn chp_pes(&mut self, s: &ChpSpec, bus: usize, w: &str) -> Option<PesTerms> {
        if let Some(p) = self.f.kpi.as_ref().and_then(|k| k.pes_reference) {
            return Some(PesTerms::fixed(p.heat_eta, p.electricity_eta));
        }
        let vn_kv = self.net.buses.get(bus).map_or(0.0, |b| b.base_kv);
        let terms = PesTerms::eu(&s.fuel, vn_kv, self.site.mean_temperature_c);
        if terms.is_none() {
            self.problem(format!(
                "{w}: Regulation (EU) 2015/2402 has no reference efficiencies for fuel '{}'; set [kpi.pes_reference]",
                s.fuel
            ));
        }
        terms
    }

    /// A CHP unit serving its heat.
    pub(super) fn chp_unit(&mut self, s: &ChpSpec) {
        self.check_name(&s.name);
        let w = format!("chp '{}'", s.name);
        let bus = self.bus(&s.bus, &w);
        self.check_chp(s, &w);
        let fuel = self.carrier(&s.fuel, &w);
        let schedule = match s.mode {
            crate::timeseries::der::ChpMode::PeakHours => self.peak_schedule(s, &w),
            _ => self.chp_schedule(s, &w),
        };
        let unit_index = self.units.len();
        let (heat, boiler_eta, boiler_fuel) = self.chp_heat(s, &w, unit_index);
        let pes = self.chp_pes(s, bus, &w);
        let cchp = self.chp_cooling(s, &w, unit_index);
        if !self.problems.is_empty() {
            return;
        }
        let mut state = chp_state(s, heat, boiler_eta, schedule);
        if let crate::timeseries::der::UnitState::Chp { cooling, .. } = &mut state {
            *cooling = cchp;
        }
        let unit = Unit {
            name: s.name.clone(),
            technology: Technology::Chp(s.technology),
            bus,
            fuel: Some(s.fuel.clone()),
            state,
        };
        let accounting = UnitAccounting {
            fuel,
            boiler_fuel,
            pes,
        };
        self.push_unit(unit, accounting);
    }
}
