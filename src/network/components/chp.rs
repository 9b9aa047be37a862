//! A combined heat and power unit's technology.

use serde::{Deserialize, Serialize};

/// CHP technology (sets default efficiencies).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChpTechnology {
    /// Reciprocating gas engine (η_el 0.38, η_th 0.48).
    GasEngine,
    /// Micro gas turbine (η_el 0.28, η_th 0.55).
    MicroTurbine,
    /// Fuel cell (η_el 0.45, η_th 0.40).
    FuelCell,
    /// Diesel engine (η_el 0.40, η_th 0.45).
    Diesel,
}

impl ChpTechnology {
    /// Default electric and thermal efficiencies.
    pub fn default_eta(self) -> (f64, f64) {
        match self {
            ChpTechnology::GasEngine => (0.38, 0.48),
            ChpTechnology::MicroTurbine => (0.28, 0.55),
            ChpTechnology::FuelCell => (0.45, 0.40),
            ChpTechnology::Diesel => (0.40, 0.45),
        }
    }

    /// Electric efficiency at half load over that at rating (typical data
    /// sheets: gas and diesel engines lose 3 points of about 38–40 % at
    /// half load, e.g. ASUE "BHKW-Kenndaten 2014/2015"; a 65 kW micro
    /// turbine falls from 29 % to about 25 %, Capstone C65 data sheet;
    /// fuel cells hold their efficiency).
    pub fn half_load_eta_ratio(self) -> f64 {
        match self {
            ChpTechnology::GasEngine | ChpTechnology::Diesel => 0.92,
            ChpTechnology::MicroTurbine => 0.86,
            ChpTechnology::FuelCell => 1.0,
        }
    }
}
