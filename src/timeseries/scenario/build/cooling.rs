//! The builder's cooling steps: the study's cooling sites, their demand
//! series, their electric chillers, and the absorption chillers of the CCHP
//! units that serve them.

use super::*;
use crate::timeseries::accounting::{CoolingSite, CoolingSupply};
use crate::timeseries::cchp::CchpCooling;
use crate::timeseries::cooling::{
    cooling_demand_series, cooling_drive, mean_climate_c, AbsorptionChiller, Building,
    ElectricChiller, DOUBLE_EFFECT, SINGLE_EFFECT,
};
use crate::timeseries::der::AbsorptionKind;
use crate::timeseries::irradiance::haurwitz_ghi;
use crate::timeseries::weather::{sun_position, CloudProcess};

impl Builder<'_> {
    /// Global horizontal irradiance per step of the run, W/m²: clear sky
    /// under the same clouds as the PV units.
    fn ghi_series(&self) -> Vec<f64> {
        let s = &self.solar;
        let mut clouds = CloudProcess::new(name_seed(self.f.seed, "clouds"), s);
        (0..self.n_steps)
            .map(|k| {
                let t = Timestamp(self.start.0 + self.step_s * k as i64 + self.step_s / 2);
                let sun = sun_position(t, s.latitude, s.longitude, s.utc_offset_h);
                let zenith = sun.cos_zenith.clamp(-1.0, 1.0).acos().to_degrees();
                haurwitz_ghi(zenith) * clouds.at(t)
            })
            .collect()
    }

    /// Σ drive · Δt (K·h) over the year the annual demand belongs to: the
    /// run's first 365 days when it covers them, else a year of the site's
    /// mean climate (no weather anomaly, the months' mean cloudiness) at the
    /// run's step, or 15 minutes for shorter steps.
    fn drive_year_kh(&self, b: Building, balance_c: f64, drive: &[f64]) -> f64 {
        let run_steps = (365 * 86400 / self.step_s) as usize;
        if drive.len() >= run_steps {
            return drive[..run_steps].iter().sum::<f64>() * self.step_s as f64 / 3600.0;
        }
        let step_s = self.step_s.max(900);
        let (doy, hour) = self.start.day_and_hour();
        let jan1 = self.start.0 - doy as i64 * 86400 - (hour * 3600.0).round() as i64;
        let (c, s) = (&self.climate, &self.solar);
        (0..(365 * 86400 / step_s) as usize)
            .map(|k| {
                let t = Timestamp(jan1 + step_s * k as i64);
                let mid = Timestamp(t.0 + step_s / 2);
                let sun = sun_position(mid, s.latitude, s.longitude, s.utc_offset_h);
                let zenith = sun.cos_zenith.clamp(-1.0, 1.0).acos().to_degrees();
                let ghi = haurwitz_ghi(zenith) * s.clear_sky_index[t.month() as usize - 1];
                let temp = mean_climate_c(c.mean_c, c.seasonal_k, c.diurnal_k, t);
                cooling_drive(b, balance_c, temp, ghi, t)
            })
            .sum::<f64>()
            * step_s as f64
            / 3600.0
    }

    /// The demand series of a cooling site, or a problem naming `what`.
    fn cooling_demand(&mut self, site: &CoolingSiteSpec, ghi: &[f64], what: &str) -> Vec<f64> {
        let b = site.building.unwrap_or(Building::Office);
        let balance = site.balance_temperature_c.unwrap_or(b.balance_c());
        self.within(
            balance,
            -10.0,
            40.0,
            format!("{what}: balance_temperature_c"),
        );
        match (site.annual_mwh, &site.demand_column) {
            (Some(annual), None) => {
                if !(annual >= 0.0 && annual.is_finite() && annual <= 1e9) {
                    self.problem(format!(
                        "{what}: annual_mwh must be a number from 0 to 1e9, found {annual}"
                    ));
                    return Vec::new();
                }
                let drive: Vec<f64> = (0..self.n_steps)
                    .map(|k| {
                        let t = Timestamp(self.start.0 + self.step_s * k as i64);
                        cooling_drive(b, balance, self.temperature[k], ghi[k], t)
                    })
                    .collect();
                let year = self.drive_year_kh(b, balance, &drive);
                cooling_demand_series(b, annual, &drive, year)
            }
            (None, Some(col)) => self.column_heat_demand(col, what),
            _ => {
                self.problem(format!(
                    "{what}: give either annual_mwh (with a building type) or demand_column"
                ));
                Vec::new()
            }
        }
    }

    /// The site's electric chillers and their tan φ.
    fn site_chillers(&mut self, site: &CoolingSiteSpec, what: &str) -> (ElectricChiller, f64) {
        self.within(site.chiller_cop, 1.0, 15.0, format!("{what}: chiller_cop"));
        let pf = site.chiller_power_factor.unwrap_or(0.9);
        self.fraction(pf, format!("{what}: chiller_power_factor"));
        let pf = pf.clamp(1e-6, 1.0);
        (
            ElectricChiller::rated(site.chiller_cop, site.chiller_cooling),
            (1.0 - pf * pf).sqrt() / pf,
        )
    }

    /// The study's `[[cooling]]` sites: demand series and, for sites no
    /// CCHP unit serves, their electric chillers (a synthetic load).
    pub(super) fn cooling_sites(&mut self) {
        if self.f.cooling.is_empty() {
            return;
        }
        let ghi = self.ghi_series();
        for site in &self.f.cooling {
            let what = format!("cooling '{}'", site.name);
            if self.cooling_sites.iter().any(|c| c.name == site.name) {
                self.problem(format!("{what}: a second cooling site of that name"));
            }
            let demand_mw = self.cooling_demand(site, &ghi, &what);
            let bus = self.bus(&site.bus, &what);
            let (chiller, tan_phi) = self.site_chillers(site, &what);
            let served = self
                .f
                .chp
                .iter()
                .filter(|c| c.cooling_site.as_deref() == Some(site.name.as_str()))
                .count();
            let supply = match served {
                0 => {
                    let p_mw = demand_mw
                        .iter()
                        .zip(&self.temperature)
                        .map(|(q, &t)| q / chiller.cop(t))
                        .collect();
                    self.synthetic_loads.push(SyntheticLoad {
                        name: format!("{} electric chillers", site.name),
                        bus,
                        p_mw,
                        tan_phi,
                    });
                    CoolingSupply::Electric {
                        load: self.synthetic_loads.len() - 1,
                    }
                }
                1 => CoolingSupply::Cchp { unit: usize::MAX },
                n => {
                    self.problem(format!("{what}: served by {n} CCHP units (at most one)"));
                    CoolingSupply::Cchp { unit: usize::MAX }
                }
            };
            self.cooling_sites.push(CoolingSite {
                name: site.name.clone(),
                demand_mw,
                supply,
            });
        }
    }

    /// The absorption chiller of a CCHP unit, checked.
    fn absorption_chiller(&mut self, s: &ChpSpec, w: &str) -> Option<AbsorptionChiller> {
        let Some(a) = &s.absorption else {
            self.problem(format!("{w}: cooling_site needs an 'absorption' chiller"));
            return None;
        };
        let (c, driving) = match a.kind {
            AbsorptionKind::SingleEffect => (SINGLE_EFFECT, 88.0),
            AbsorptionKind::DoubleEffect => (DOUBLE_EFFECT, 165.0),
        };
        let driving_c = a.driving_temperature_c.unwrap_or(driving);
        self.positive(a.capacity_mw, format!("{w}: absorption.capacity_mw"));
        self.within(
            driving_c,
            60.0,
            200.0,
            format!("{w}: absorption.driving_temperature_c"),
        );
        self.within(
            a.min_part_load,
            0.05,
            1.0,
            format!("{w}: absorption.min_part_load"),
        );
        Some(AbsorptionChiller {
            c,
            rated_mw: a.capacity_mw,
            driving_c,
            min_part_load: a.min_part_load,
        })
    }

    /// The cooling side of CHP unit `s` (index `unit`), when it names a
    /// cooling site.
    pub(super) fn chp_cooling(
        &mut self,
        s: &ChpSpec,
        w: &str,
        unit: usize,
    ) -> Option<Box<CchpCooling>> {
        let Some(name) = &s.cooling_site else {
            if s.absorption.is_some() || s.cold_storage_mwh != 0.0 {
                self.problem(format!(
                    "{w}: 'absorption' and 'cold_storage_mwh' need a 'cooling_site'"
                ));
            }
            return None;
        };
        let spec = self.f.cooling.iter().find(|c| &c.name == name);
        let site = self.cooling_sites.iter().position(|c| &c.name == name);
        let (Some(spec), Some(k)) = (spec, site) else {
            self.problem(format!(
                "{w}: cooling_site '{name}' is not a [[cooling]] site of the study"
            ));
            return None;
        };
        if !(s.cold_storage_mwh >= 0.0 && s.cold_storage_mwh.is_finite()) {
            self.problem(format!(
                "{w}: cold_storage_mwh must be a non-negative number, found {}",
                s.cold_storage_mwh
            ));
        }
        let absorption = self.absorption_chiller(s, w)?;
        let (chiller, chiller_tan_phi) = self.site_chillers(spec, w);
        let chiller_bus = self.bus(&spec.bus, w);
        self.cooling_sites[k].supply = CoolingSupply::Cchp { unit };
        Some(Box::new(CchpCooling {
            demand_mw: self.cooling_sites[k].demand_mw.clone(),
            t_out_c: self.temperature.clone(),
            absorption,
            chiller,
            chiller_bus,
            chiller_tan_phi,
            store_cap_mwh: s.cold_storage_mwh.max(0.0),
            store_mwh: 0.5 * s.cold_storage_mwh.max(0.0),
        }))
    }

    /// The peak-hours schedule of a CHP unit: 1 in its `peak_hours`, else 0.
    pub(super) fn peak_schedule(&mut self, s: &ChpSpec, w: &str) -> Vec<f64> {
        if s.peak_hours.is_empty() {
            self.problem(format!(
                "{w}: mode 'peak-hours' needs 'peak_hours' (e.g. [[8, 11], [18, 21]])"
            ));
        }
        for [a, b] in &s.peak_hours {
            if !(a.is_finite() && b.is_finite() && 0.0 <= *a && a < b && *b <= 24.0) {
                self.problem(format!(
                    "{w}: peak_hours [{a}, {b}] must satisfy 0 <= start < end <= 24"
                ));
            }
        }
        (0..self.n_steps)
            .map(|k| {
                let (_, h) = Timestamp(self.start.0 + self.step_s * k as i64).day_and_hour();
                let peak = s.peak_hours.iter().any(|[a, b]| (*a..*b).contains(&h));
                if peak {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    }
}
