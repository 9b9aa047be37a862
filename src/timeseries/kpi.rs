//! Key performance indicators of a scenario, accumulated step by step.
//!
//! Definitions (energies in MWh, Δt the step length in hours):
//! - `energy_served_mwh` = Σ load · Δt (all consumers; storage excluded);
//! - `import_mwh` / `export_mwh` = Σ max(±p_slack, 0) · Δt at the substation;
//! - `generation_mwh` = Σ non-slack generation (units, element sgens,
//!   network generators) · Δt; storage is counted separately
//!   (`storage_charge_mwh`, `storage_discharge_mwh`);
//! - `loss_mwh` = Σ p_loss · Δt (lines, transformer copper and iron
//!   losses, shunts); `loss_percent` = loss / (import + generation +
//!   storage discharge) · 100;
//! - voltage: steps with any bus outside [vmin, vmax] give
//!   `hours_voltage_violation` (`hours_overvoltage`: above the band only);
//!   `bus_hours_voltage_violation` counts each bus;
//! - `hours_overload`: steps with any branch above 100 % loading;
//! - `renewable_share_percent` = renewable generation / energy served;
//! - heat: `heat_demand_mwh` of every heat site, served by CHP
//!   (`chp_heat_mwh`), boilers (`boiler_heat_mwh`: CHP backups and site
//!   boilers) and heat pumps (`heat_pump_heat_mwh`, drawing
//!   `heat_pump_electricity_mwh`, part of `energy_served_mwh`);
//! - cooling: `cooling_demand_mwh` of every cooling site, made by CCHP
//!   absorption chillers (`absorption_cooling_mwh`, driven by
//!   `absorption_heat_mwh` of CHP heat) and electric chillers
//!   (`electric_cooling_mwh`, drawing `chiller_electricity_mwh`, part of
//!   `energy_served_mwh`); `chp_energy_utilisation_percent` = (CHP
//!   electricity + heating the CHP units served + absorption cooling) /
//!   CHP fuel (GB 51131's annual average overall energy utilisation; no
//!   station auxiliaries are modelled), `chp_primary_energy_ratio` the same
//!   over the fuel's primary energy;
//! - CHP efficiencies on LHV fuel; `pes_percent` by Directive 2012/27/EU
//!   Annex II over all CHP units: PES = (1 − F / F_ref) · 100, F_ref the
//!   fuel of separate production, Σ heat/RefHη + exported electricity /
//!   (RefEη·f_exp) + on-site electricity / (RefEη·f_own), with the reference
//!   values of Regulation (EU) 2015/2402 by fuel, its climatic and grid-loss
//!   corrections (see [`super::accounting`]);
//! - CO2: `co2_grid_t` = imports × grid factor, minus exports × grid
//!   factor when the scenario credits exports (`[emissions] exports`);
//!   `co2_export_t` = exports × grid factor either way; CHP and boiler fuel
//!   × fuel factor; `co2_total_t` = grid + CHP + boiler;
//!   `co2_grid_marginal_t` = net exchange × marginal factor;
//! - primary energy: `primary_energy_mwh` = imports (net of exports where
//!   credited) × grid factor + Σ fuel × fuel factor;
//! - against the study's reference scenario (set after the run, 0 in the
//!   reference itself): `co2_avoided_t` = reference `co2_total_t` − own,
//!   `co2_avoided_marginal_t` the same with the grid at its marginal
//!   factor, `primary_energy_saved_mwh` = reference − own.
//!
//! Only converged steps are accumulated; `steps_not_converged` says how many were left out.

use serde::Serialize;

/// Fixed reference efficiencies for primary energy savings
/// (`[kpi.pes_reference]`, replacing Regulation (EU) 2015/2402's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PesReference {
    /// Reference efficiency of separate heat production (RefHη).
    pub heat_eta: f64,
    /// Reference efficiency of separate electricity production (RefEη).
    pub electricity_eta: f64,
}

/// Per-scenario KPIs (written as attributes of the scenario group).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kpis {
    /// Steps accumulated.
    pub steps: f64,
    /// Steps left out because they did not converge.
    pub steps_not_converged: f64,
    /// Energy consumed by loads, MWh.
    pub energy_served_mwh: f64,
    /// Substation import, MWh.
    pub import_mwh: f64,
    /// Substation export, MWh.
    pub export_mwh: f64,
    /// Import − export, MWh.
    pub net_import_mwh: f64,
    /// Local generation, MWh.
    pub generation_mwh: f64,
    /// Renewable generation, MWh.
    pub renewable_mwh: f64,
    /// Renewable generation / energy served, %.
    pub renewable_share_percent: f64,
    /// Curtailed energy, MWh.
    pub curtailed_mwh: f64,
    /// Storage charging energy (from the grid), MWh.
    pub storage_charge_mwh: f64,
    /// Storage discharging energy (into the grid), MWh.
    pub storage_discharge_mwh: f64,
    /// Losses, MWh.
    pub loss_mwh: f64,
    /// Losses / supply, %.
    pub loss_percent: f64,
    /// Lowest bus voltage, p.u.
    pub min_vm_pu: f64,
    /// Highest bus voltage, p.u.
    pub max_vm_pu: f64,
    /// Hours with at least one bus outside the limits.
    pub hours_voltage_violation: f64,
    /// Hours with at least one bus above its upper limit.
    pub hours_overvoltage: f64,
    /// Bus-hours outside the limits.
    pub bus_hours_voltage_violation: f64,
    /// Hours with at least one branch above 100 %.
    pub hours_overload: f64,
    /// Highest branch loading, %.
    pub max_loading_percent: f64,
    /// Peak substation import, MW.
    pub peak_import_mw: f64,
    /// Heat demand of the study's heat sites, MWh_th.
    pub heat_demand_mwh: f64,
    /// Heat from heat pumps, MWh_th.
    pub heat_pump_heat_mwh: f64,
    /// Electricity of heat pumps, MWh.
    pub heat_pump_electricity_mwh: f64,
    /// CHP electricity, MWh.
    pub chp_electricity_mwh: f64,
    /// CHP useful heat, MWh_th.
    pub chp_heat_mwh: f64,
    /// CHP fuel (LHV), MWh.
    pub chp_fuel_mwh: f64,
    /// Boiler heat (CHP backups and site boilers), MWh_th.
    pub boiler_heat_mwh: f64,
    /// Boiler fuel, MWh.
    pub boiler_fuel_mwh: f64,
    /// Cooling demand of every cooling site, MWh.
    pub cooling_demand_mwh: f64,
    /// Cooling made by CCHP absorption chillers (to the sites and cold
    /// stores), MWh.
    pub absorption_cooling_mwh: f64,
    /// Driving heat of the absorption chillers, MWh_th.
    pub absorption_heat_mwh: f64,
    /// Cooling made by electric chillers (sites and CCHP backups), MWh.
    pub electric_cooling_mwh: f64,
    /// Electricity of the electric chillers, MWh (part of `energy_served_mwh`).
    pub chiller_electricity_mwh: f64,
    /// Heat demand the CHP units served (not their boilers), MWh_th.
    pub chp_heating_mwh: f64,
    /// CHP fuel × its primary energy factor, MWh.
    pub chp_primary_energy_mwh: f64,
    /// Annual average overall energy utilisation of the CHP/CCHP units
    /// (GB 51131): (electricity + heating served + absorption cooling) /
    /// fuel (LHV), %.
    pub chp_energy_utilisation_percent: f64,
    /// Primary energy ratio of the CHP/CCHP units: (electricity + heating
    /// served + absorption cooling) / (fuel × its primary energy factor).
    pub chp_primary_energy_ratio: f64,
    /// CHP electric efficiency.
    pub chp_eta_el: f64,
    /// CHP thermal efficiency.
    pub chp_eta_th: f64,
    /// CHP total efficiency.
    pub chp_eta_total: f64,
    /// Primary energy savings of the CHP units, %.
    pub pes_percent: f64,
    /// Fuel separate production would burn for the CHP units' output, MWh.
    pub pes_reference_fuel_mwh: f64,
    /// Non-renewable primary energy crossing the boundary, MWh.
    pub primary_energy_mwh: f64,
    /// The reference scenario's primary energy minus this one's, MWh.
    pub primary_energy_saved_mwh: f64,
    /// CO2 of the grid exchange, t: imports × grid factor, minus exports ×
    /// grid factor when the scenario credits exports.
    pub co2_grid_t: f64,
    /// Exports × grid factor, t: the credit exports earn where credited.
    pub co2_export_t: f64,
    /// CO2 of CHP fuel, t.
    pub co2_chp_t: f64,
    /// CO2 of boiler fuel, t.
    pub co2_boiler_t: f64,
    /// Total CO2, t.
    pub co2_total_t: f64,
    /// Net exchange × marginal grid factor, t.
    pub co2_grid_marginal_t: f64,
    /// The reference scenario's total CO2 minus this one's, t.
    pub co2_avoided_t: f64,
    /// The same with the grid at its marginal factor, t.
    pub co2_avoided_marginal_t: f64,
}

impl Kpis {
    /// A fresh accumulator.
    pub fn new() -> Kpis {
        Kpis {
            min_vm_pu: f64::INFINITY,
            max_vm_pu: f64::NEG_INFINITY,
            ..Default::default()
        }
    }

    /// Adds the sums of `o` (a later run of steps) and combines the extremes.
    /// Ratios are left to [`Self::finish`].
    pub fn merge(&mut self, o: &Kpis) {
        let sums = [
            (&mut self.steps, o.steps),
            (&mut self.steps_not_converged, o.steps_not_converged),
            (&mut self.energy_served_mwh, o.energy_served_mwh),
            (&mut self.import_mwh, o.import_mwh),
            (&mut self.export_mwh, o.export_mwh),
            (&mut self.net_import_mwh, o.net_import_mwh),
            (&mut self.heat_demand_mwh, o.heat_demand_mwh),
            (&mut self.heat_pump_heat_mwh, o.heat_pump_heat_mwh),
            (
                &mut self.heat_pump_electricity_mwh,
                o.heat_pump_electricity_mwh,
            ),
            (&mut self.pes_reference_fuel_mwh, o.pes_reference_fuel_mwh),
            (&mut self.primary_energy_mwh, o.primary_energy_mwh),
            (&mut self.co2_grid_marginal_t, o.co2_grid_marginal_t),
            (&mut self.generation_mwh, o.generation_mwh),
            (&mut self.renewable_mwh, o.renewable_mwh),
            (&mut self.curtailed_mwh, o.curtailed_mwh),
            (&mut self.storage_charge_mwh, o.storage_charge_mwh),
            (&mut self.storage_discharge_mwh, o.storage_discharge_mwh),
            (&mut self.loss_mwh, o.loss_mwh),
            (&mut self.hours_voltage_violation, o.hours_voltage_violation),
            (&mut self.hours_overvoltage, o.hours_overvoltage),
            (
                &mut self.bus_hours_voltage_violation,
                o.bus_hours_voltage_violation,
            ),
            (&mut self.hours_overload, o.hours_overload),
            (&mut self.chp_electricity_mwh, o.chp_electricity_mwh),
            (&mut self.chp_heat_mwh, o.chp_heat_mwh),
            (&mut self.chp_fuel_mwh, o.chp_fuel_mwh),
            (&mut self.boiler_heat_mwh, o.boiler_heat_mwh),
            (&mut self.boiler_fuel_mwh, o.boiler_fuel_mwh),
            (&mut self.cooling_demand_mwh, o.cooling_demand_mwh),
            (&mut self.absorption_cooling_mwh, o.absorption_cooling_mwh),
            (&mut self.absorption_heat_mwh, o.absorption_heat_mwh),
            (&mut self.electric_cooling_mwh, o.electric_cooling_mwh),
            (&mut self.chiller_electricity_mwh, o.chiller_electricity_mwh),
            (&mut self.chp_heating_mwh, o.chp_heating_mwh),
            (&mut self.chp_primary_energy_mwh, o.chp_primary_energy_mwh),
            (&mut self.co2_grid_t, o.co2_grid_t),
            (&mut self.co2_export_t, o.co2_export_t),
            (&mut self.co2_chp_t, o.co2_chp_t),
            (&mut self.co2_boiler_t, o.co2_boiler_t),
        ];
        for (a, b) in sums {
            *a += b;
        }
        self.min_vm_pu = self.min_vm_pu.min(o.min_vm_pu);
        self.max_vm_pu = self.max_vm_pu.max(o.max_vm_pu);
        self.max_loading_percent = self.max_loading_percent.max(o.max_loading_percent);
        self.peak_import_mw = self.peak_import_mw.max(o.peak_import_mw);
    }

    /// Completes the ratios after the last step.
    pub fn finish(&mut self) {
        let supply = self.import_mwh + self.generation_mwh + self.storage_discharge_mwh;
        self.loss_percent = if supply > 0.0 {
            100.0 * self.loss_mwh / supply
        } else {
            0.0
        };
        self.renewable_share_percent = if self.energy_served_mwh > 0.0 {
            100.0 * self.renewable_mwh / self.energy_served_mwh
        } else {
            0.0
        };
        if self.chp_fuel_mwh > 0.0 {
            self.chp_eta_el = self.chp_electricity_mwh / self.chp_fuel_mwh;
            self.chp_eta_th = self.chp_heat_mwh / self.chp_fuel_mwh;
            self.chp_eta_total = self.chp_eta_el + self.chp_eta_th;
            if self.pes_reference_fuel_mwh > 0.0 {
                self.pes_percent = 100.0 * (1.0 - self.chp_fuel_mwh / self.pes_reference_fuel_mwh);
            }
            let useful =
                self.chp_electricity_mwh + self.chp_heating_mwh + self.absorption_cooling_mwh;
            self.chp_energy_utilisation_percent = 100.0 * useful / self.chp_fuel_mwh;
            if self.chp_primary_energy_mwh > 0.0 {
                self.chp_primary_energy_ratio = useful / self.chp_primary_energy_mwh;
            }
        }
        self.co2_total_t = self.co2_grid_t + self.co2_chp_t + self.co2_boiler_t;
        if !self.min_vm_pu.is_finite() {
            self.min_vm_pu = f64::NAN;
            self.max_vm_pu = f64::NAN;
        }
    }

    /// Sets the comparisons with the study's reference scenario.
    pub fn compare_with(&mut self, reference: &Kpis) {
        let (co2, co2_marginal, pe) = self.totals().relative_to(&reference.totals());
        self.co2_avoided_t = co2;
        self.co2_avoided_marginal_t = co2_marginal;
        self.primary_energy_saved_mwh = pe;
    }

    /// The totals the comparison with the reference uses.
    pub fn totals(&self) -> ReferenceTotals {
        ReferenceTotals {
            co2_total_t: self.co2_total_t,
            co2_grid_marginal_t: self.co2_grid_marginal_t,
            co2_chp_t: self.co2_chp_t,
            co2_boiler_t: self.co2_boiler_t,
            primary_energy_mwh: self.primary_energy_mwh,
        }
    }

    /// (name, value) pairs in a fixed order.
    pub fn pairs(&self) -> Vec<(&'static str, f64)> {
        let v = serde_json::to_value(self).unwrap_or_default();
        KPI_NAMES
            .iter()
            .map(|&n| (n, v.get(n).and_then(|x| x.as_f64()).unwrap_or(f64::NAN)))
            .collect()
    }
}

/// A scenario's totals that KPIs against the reference are differences of
/// (one definition for `run` and for `gridsim merge`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceTotals {
    /// `co2_total_t`.
    pub co2_total_t: f64,
    /// `co2_grid_marginal_t`.
    pub co2_grid_marginal_t: f64,
    /// `co2_chp_t`.
    pub co2_chp_t: f64,
    /// `co2_boiler_t`.
    pub co2_boiler_t: f64,
    /// `primary_energy_mwh`.
    pub primary_energy_mwh: f64,
}

impl ReferenceTotals {
    /// (`co2_avoided_t`, `co2_avoided_marginal_t`, `primary_energy_saved_mwh`)
    /// of these totals against `reference`'s.
    pub fn relative_to(&self, reference: &ReferenceTotals) -> (f64, f64, f64) {
        let fuels = |k: &ReferenceTotals| k.co2_chp_t + k.co2_boiler_t;
        (
            reference.co2_total_t - self.co2_total_t,
            (reference.co2_grid_marginal_t + fuels(reference))
                - (self.co2_grid_marginal_t + fuels(self)),
            reference.primary_energy_mwh - self.primary_energy_mwh,
        )
    }
}

/// KPI names in report order.
pub const KPI_NAMES: [&str; 52] = [
    "steps",
    "steps_not_converged",
    "energy_served_mwh",
    "import_mwh",
    "export_mwh",
    "net_import_mwh",
    "generation_mwh",
    "renewable_mwh",
    "renewable_share_percent",
    "curtailed_mwh",
    "storage_charge_mwh",
    "storage_discharge_mwh",
    "loss_mwh",
    "loss_percent",
    "min_vm_pu",
    "max_vm_pu",
    "hours_voltage_violation",
    "hours_overvoltage",
    "bus_hours_voltage_violation",
    "hours_overload",
    "max_loading_percent",
    "peak_import_mw",
    "heat_demand_mwh",
    "heat_pump_heat_mwh",
    "heat_pump_electricity_mwh",
    "chp_electricity_mwh",
    "chp_heat_mwh",
    "chp_fuel_mwh",
    "boiler_heat_mwh",
    "boiler_fuel_mwh",
    "cooling_demand_mwh",
    "absorption_cooling_mwh",
    "absorption_heat_mwh",
    "electric_cooling_mwh",
    "chiller_electricity_mwh",
    "chp_heating_mwh",
    "chp_energy_utilisation_percent",
    "chp_primary_energy_ratio",
    "chp_eta_el",
    "chp_eta_th",
    "chp_eta_total",
    "pes_percent",
    "primary_energy_mwh",
    "primary_energy_saved_mwh",
    "co2_grid_t",
    "co2_export_t",
    "co2_chp_t",
    "co2_boiler_t",
    "co2_total_t",
    "co2_grid_marginal_t",
    "co2_avoided_t",
    "co2_avoided_marginal_t",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pes_of_a_textbook_chp() {
        // η_el 0.35, η_th 0.50 against RefHη 0.9, RefEη 0.525:
        // PES = 1 − 1/(0.5/0.9 + 0.35/0.525) = 18.18 %.
        let mut k = Kpis::new();
        k.chp_fuel_mwh = 100.0;
        k.chp_electricity_mwh = 35.0;
        k.chp_heat_mwh = 50.0;
        k.pes_reference_fuel_mwh = 50.0 / 0.9 + 35.0 / 0.525;
        k.finish();
        assert!(
            (k.pes_percent - 18.181818181818).abs() < 1e-9,
            "{}",
            k.pes_percent
        );
        assert!((k.chp_eta_total - 0.85).abs() < 1e-12);
        assert_eq!(k.pairs().len(), KPI_NAMES.len());
    }
}
