//! The energy-system boundary of a study: which carriers cross it, at what
//! CO2 and primary energy, and the reference values CHP is judged against.
//!
//! Every scenario of a study serves the same heat demands (`[[heat]]`
//! sites): by a CHP unit with its buffer and backup boiler, or by the
//! site's own supply (a boiler, or a heat pump drawing electricity at its
//! bus). CO2 and primary energy count everything that crosses the boundary:
//! the grid exchange (imports; net of exports where exports are credited),
//! CHP fuel and boiler fuel. Comparisons between scenarios are differences
//! of these totals (see [`crate::timeseries::kpi`]).

use std::collections::BTreeMap;

/// What burning one MWh (LHV) of a fuel, or importing one MWh of grid
/// electricity, costs at the boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CarrierFactors {
    /// t CO2 per MWh.
    pub co2_t_per_mwh: f64,
    /// Primary energy per MWh (non-renewable primary energy factor).
    pub primary_energy_factor: f64,
}

/// Default non-renewable primary energy factors: German Buildings Energy Act
/// (GEG 2020) Annex 4 — grid electricity 1.8; natural gas, LPG, heating oil,
/// biogas and biomethane 1.1; wood 0.2 (diesel as heating oil). Hydrogen has
/// no statutory factor: a study that burns it states one.
pub fn default_primary_energy_factors() -> (f64, BTreeMap<String, f64>) {
    let fuels = [
        ("natural_gas", 1.1),
        ("lpg", 1.1),
        ("heating_oil", 1.1),
        ("diesel", 1.1),
        ("biogas", 1.1),
        ("biomethane", 1.1),
        ("wood", 0.2),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    (1.8, fuels)
}

/// Harmonised efficiency reference values of Commission Delegated
/// Regulation (EU) 2015/2402 for a fuel: (RefEη, Annex I, units built from
/// 2016; RefHη for hot water, Annex II; whether the fuel is gaseous, for
/// the climatic correction of Annex III). None for a fuel the regulation
/// does not name.
pub fn eu_reference_efficiencies(fuel: &str) -> Option<(f64, f64, bool)> {
    Some(match fuel {
        // G10: natural gas, LPG, LNG and biomethane.
        "natural_gas" | "lpg" | "biomethane" => (0.530, 0.92, true),
        // G12: biogas (anaerobic digestion, landfill and sewage gas).
        "biogas" => (0.420, 0.80, true),
        // G11: refinery gases, hydrogen and synthesis gas.
        "hydrogen" => (0.442, 0.90, true),
        // L7: heavy fuel oil, gas/diesel oil, other oil products.
        "diesel" | "heating_oil" => (0.442, 0.85, false),
        // S4: dry biomass including wood.
        "wood" => (0.330, 0.86, false),
        _ => return None,
    })
}

/// Annex IV of 2015/2402: correction factors for avoided grid losses by
/// the voltage the unit connects at — (exported to the grid, consumed on
/// site).
pub fn grid_loss_factors(vn_kv: f64) -> (f64, f64) {
    match vn_kv {
        v if v >= 345.0 => (1.0, 0.976),
        v if v >= 200.0 => (0.972, 0.963),
        v if v >= 100.0 => (0.963, 0.951),
        v if v >= 50.0 => (0.952, 0.936),
        v if v >= 12.0 => (0.935, 0.914),
        v if v >= 0.45 => (0.918, 0.891),
        _ => (0.888, 0.851),
    }
}

/// The reference a CHP unit's primary energy savings are measured against:
/// fuel that separate production would burn per MWh of its heat, of its
/// exported and of its on-site electricity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PesTerms {
    /// RefHη.
    pub heat_eta: f64,
    /// RefEη × the grid-loss factor for exported electricity.
    pub electricity_eta_exported: f64,
    /// RefEη × the grid-loss factor for electricity used on site.
    pub electricity_eta_own_use: f64,
}

impl PesTerms {
    /// 2015/2402 for `fuel` at a bus of `vn_kv`, with the climatic
    /// correction for gaseous fuels (+0.1 percentage point of RefEη per K the
    /// site's mean temperature is below 15 °C, − above).
    pub fn eu(fuel: &str, vn_kv: f64, site_mean_c: f64) -> Option<PesTerms> {
        let (ref_e, ref_h, gaseous) = eu_reference_efficiencies(fuel)?;
        let ref_e = if gaseous {
            ref_e + 0.001 * (15.0 - site_mean_c)
        } else {
            ref_e
        };
        let (exported, own) = grid_loss_factors(vn_kv);
        Some(PesTerms {
            heat_eta: ref_h,
            electricity_eta_exported: ref_e * exported,
            electricity_eta_own_use: ref_e * own,
        })
    }

    /// Fixed references (a study's `[kpi.pes_reference]`), no corrections.
    pub fn fixed(heat_eta: f64, electricity_eta: f64) -> PesTerms {
        PesTerms {
            heat_eta,
            electricity_eta_exported: electricity_eta,
            electricity_eta_own_use: electricity_eta,
        }
    }

    /// Fuel separate production would burn for this heat and electricity, MW.
    pub fn reference_fuel_mw(&self, heat_mw: f64, p_mw: f64, own_use_mw: f64) -> f64 {
        heat_mw / self.heat_eta
            + (p_mw - own_use_mw) / self.electricity_eta_exported
            + own_use_mw / self.electricity_eta_own_use
    }
}

/// How a unit's fuels are accounted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UnitAccounting {
    /// The unit's own fuel (CHP).
    pub fuel: CarrierFactors,
    /// Its backup boiler's fuel (CHP).
    pub boiler_fuel: CarrierFactors,
    /// Its primary energy savings reference (CHP).
    pub pes: Option<PesTerms>,
}

/// How a heat site is served in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum HeatSupply {
    /// By the CHP unit with this index (its backup boiler included).
    Chp {
        /// Index into the scenario's units.
        unit: usize,
    },
    /// By a boiler.
    Boiler {
        /// Efficiency (heat / fuel LHV).
        efficiency: f64,
        /// Its fuel.
        fuel: CarrierFactors,
    },
    /// By a heat pump, whose electricity is a synthetic load of the scenario.
    HeatPump {
        /// Index into the scenario's synthetic loads.
        load: usize,
    },
}

/// A heat demand of the study as one scenario serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatSite {
    /// Site name.
    pub name: String,
    /// Demand per step, MW_th.
    pub demand_mw: Vec<f64>,
    /// Its supply.
    pub supply: HeatSupply,
}

/// How a cooling site is served in a scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CoolingSupply {
    /// By the CCHP unit with this index (the site's electric chillers its
    /// backup, booked with the unit).
    Cchp {
        /// Index into the scenario's units.
        unit: usize,
    },
    /// By electric chillers, whose electricity is a synthetic load.
    Electric {
        /// Index into the scenario's synthetic loads.
        load: usize,
    },
}

/// A cooling demand of the study as one scenario serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct CoolingSite {
    /// Site name.
    pub name: String,
    /// Demand per step, MW.
    pub demand_mw: Vec<f64>,
    /// Its supply.
    pub supply: CoolingSupply,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eu_references_with_corrections() {
        // Natural gas at 20 kV, site at 9.5 °C: RefEη 0.53 + 0.0055,
        // exported × 0.935, own use × 0.914; RefHη 0.92.
        let t = PesTerms::eu("natural_gas", 20.0, 9.5).unwrap();
        assert!((t.electricity_eta_exported - 0.5355 * 0.935).abs() < 1e-12);
        assert!((t.electricity_eta_own_use - 0.5355 * 0.914).abs() < 1e-12);
        assert_eq!(t.heat_eta, 0.92);
        // Diesel: no climatic correction; LV own use.
        let d = PesTerms::eu("diesel", 0.4, 0.0).unwrap();
        assert!((d.electricity_eta_own_use - 0.442 * 0.851).abs() < 1e-12);
        assert!(PesTerms::eu("unobtainium", 20.0, 9.5).is_none());
    }
}
