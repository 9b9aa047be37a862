//! Cooling demand and the machines that serve it: electric (vapour
//! compression) chillers and absorption chillers driven by CHP heat.
//!
//! - Demand: a building's cooling load follows its occupancy and the
//!   outdoor temperature raised by solar gains above its balance point,
//!   `drive = occupancy(weekday, hour) · max(T_out + g · GHI − T_balance, 0)`
//!   (cooling degree hours with solar gains, K), plus a constant base share
//!   (process cooling, server rooms). The building types' occupancy
//!   schedules, solar weights g, balance temperatures and base shares are
//!   stated assumptions ([`Building`]), not measured data. Normalised like
//!   heat: the annual demand is met exactly over the run's first 365 days
//!   when the run covers them, else over a year of the site's mean climate.
//! - Cooling water: a cooling tower's water follows the wet-bulb
//!   temperature, approximated here from the dry-bulb as `T_out − 5 K`, not
//!   below 20 °C (the tower's fans hold it up): 30 °C on a 35 °C day, the
//!   rating condition of water-cooled chillers (GB/T 18430.1: 30 °C
//!   cooling water in, 7 °C chilled water out).
//! - Electric chillers: the Carnot COP of lifting heat from the chilled
//!   water (7 °C) to the heat sink (cooling water, or the outdoor air for
//!   air-cooled units), times a quality grade that makes the COP equal the
//!   rated COP at the rating condition (water-cooled 30 °C, air-cooled
//!   35 °C), as oemof.thermal's `calc_cops(mode="chiller")`; the lift is
//!   at least 15 K.
//! - Absorption chillers: the characteristic equation of Kühn and Ziegler
//!   (2005) as oemof.thermal implements it: `ΔΔt' = t_G − a·t_AC + e·t_E`
//!   of the external mean temperatures (generator: the driving hot water,
//!   absorber/condenser: cooling water in + 2.5 K, evaporator: 9.5 °C for
//!   7/12 °C chilled water), cooling `Q_E = s_E·ΔΔt' + r_E` and driving
//!   heat `Q_G = s_G·ΔΔt' + r_G`, scaled from the parameter set's machine
//!   to the rated capacity. The capacity at a step is `Q_E` at the full
//!   driving temperature (at most the rating); part load lowers ΔΔt'
//!   (the machine throttles its driving heat) down to a minimum part load
//!   below which it cycles on and off at that point's COP.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Building types with a cooling demand shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Building {
    /// Offices: occupied on working days.
    Office,
    /// Hotels: rooms cooled in the evening and at night too.
    Hotel,
    /// Hospitals: around the clock, with process cooling.
    Hospital,
    /// Shopping malls: open every day 10:00–22:00.
    Mall,
    /// A district cooling network: half offices, a quarter hotels, a quarter malls.
    District,
}

impl Building {
    /// Occupancy (0–1) on weekday `w` (0 = Monday) at local hour `h`.
    pub fn occupancy(self, w: u32, h: f64) -> f64 {
        match self {
            Building::Office => match (w, h) {
                (0..=4, h) if (8.0..18.0).contains(&h) => 1.0,
                (0..=4, h) if (7.0..19.0).contains(&h) => 0.5,
                (5, h) if (8.0..13.0).contains(&h) => 0.3,
                _ => 0.05,
            },
            Building::Hotel => match h {
                h if h < 7.0 => 0.6,
                h if h < 10.0 => 0.8,
                h if h < 17.0 => 0.5,
                _ => 0.9,
            },
            Building::Hospital => {
                if (7.0..19.0).contains(&h) {
                    1.0
                } else {
                    0.7
                }
            }
            Building::Mall => match h {
                h if (10.0..22.0).contains(&h) => 1.0,
                h if (9.0..10.0).contains(&h) => 0.5,
                _ => 0.05,
            },
            Building::District => {
                0.5 * Building::Office.occupancy(w, h)
                    + 0.25 * Building::Hotel.occupancy(w, h)
                    + 0.25 * Building::Mall.occupancy(w, h)
            }
        }
    }

    /// Solar gains as a rise of the effective outdoor temperature, K per
    /// kW/m² of global horizontal irradiance.
    pub fn solar_k_per_kw_m2(self) -> f64 {
        match self {
            Building::Office => 6.0,
            Building::Hotel | Building::Hospital => 4.0,
            Building::Mall => 3.0,
            Building::District => 5.0,
        }
    }

    /// Default balance temperature, °C: above it (with solar gains) the
    /// building needs cooling.
    pub fn balance_c(self) -> f64 {
        match self {
            Building::Hotel => 20.0,
            Building::Mall => 16.0,
            _ => 18.0,
        }
    }

    /// Share of the annual demand that is constant (process cooling).
    pub fn base_share(self) -> f64 {
        match self {
            Building::Office | Building::Mall => 0.03,
            Building::Hotel => 0.08,
            Building::Hospital => 0.15,
            Building::District => 0.05,
        }
    }
}

/// The weather-driven part of a building's cooling load at one step, K.
pub fn cooling_drive(
    b: Building,
    balance_c: f64,
    t_out_c: f64,
    ghi_w_m2: f64,
    t: Timestamp,
) -> f64 {
    let (_, hour) = t.day_and_hour();
    let effective = t_out_c + b.solar_k_per_kw_m2() * ghi_w_m2 / 1000.0;
    b.occupancy(t.weekday(), hour) * (effective - balance_c).max(0.0)
}

/// Cooling demand per step, MW: `annual_mwh` split into the constant base
/// share and the rest in proportion to `drive`, where `drive_year_kh` is
/// Σ drive · Δt (K·h) over the normalising year.
pub fn cooling_demand_series(
    b: Building,
    annual_mwh: f64,
    drive: &[f64],
    drive_year_kh: f64,
) -> Vec<f64> {
    let base_mw = b.base_share() * annual_mwh / 8760.0;
    let per_kh = if drive_year_kh > 0.0 {
        (1.0 - b.base_share()) * annual_mwh / drive_year_kh
    } else {
        0.0
    };
    drive.iter().map(|d| base_mw + d * per_kh).collect()
}

/// Entering cooling-water temperature at outdoor temperature `t_out_c`, °C.
pub fn cooling_water_in_c(t_out_c: f64) -> f64 {
    (t_out_c - 5.0).max(20.0)
}

/// Leaving chilled water of the electric chillers' rating, °C.
pub const CHILLED_WATER_C: f64 = 7.0;

/// Smallest lift of the Carnot COP, K.
const MIN_LIFT_K: f64 = 15.0;

/// 0 °C in kelvin.
const KELVIN: f64 = 273.15;

/// An electric chiller's heat sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChillerCooling {
    /// Condenser on cooling-tower water (rated at 30 °C).
    #[default]
    WaterCooled,
    /// Condenser in the outdoor air (rated at 35 °C).
    AirCooled,
}

/// Electric chillers: Carnot COP times a fixed quality grade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElectricChiller {
    /// COP / Carnot COP.
    pub quality_grade: f64,
    /// Heat sink.
    pub cooling: ChillerCooling,
}

impl ElectricChiller {
    /// A chiller whose COP at its rating condition is `rated_cop`.
    pub fn rated(rated_cop: f64, cooling: ChillerCooling) -> ElectricChiller {
        let sink = match cooling {
            ChillerCooling::WaterCooled => 30.0,
            ChillerCooling::AirCooled => 35.0,
        };
        ElectricChiller {
            quality_grade: rated_cop / carnot_cop(sink),
            cooling,
        }
    }

    /// Heat-sink temperature at outdoor temperature `t_out_c`, °C.
    pub fn sink_c(&self, t_out_c: f64) -> f64 {
        let sink = match self.cooling {
            ChillerCooling::WaterCooled => cooling_water_in_c(t_out_c),
            ChillerCooling::AirCooled => t_out_c,
        };
        sink.max(CHILLED_WATER_C + MIN_LIFT_K)
    }

    /// COP at outdoor temperature `t_out_c`.
    pub fn cop(&self, t_out_c: f64) -> f64 {
        self.quality_grade * carnot_cop(self.sink_c(t_out_c))
    }
}

/// Carnot COP of cooling 7 °C water against a sink at `sink_c`.
fn carnot_cop(sink_c: f64) -> f64 {
    (CHILLED_WATER_C + KELVIN) / (sink_c - CHILLED_WATER_C)
}

/// Characteristic-equation parameters of one measured absorption chiller
/// (Kühn & Ziegler's form, heat fluxes in kW).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Characteristic {
    /// a (absorber/condenser temperature weight).
    pub a: f64,
    /// e (evaporator temperature weight).
    pub e: f64,
    /// s_E, kW/K.
    pub s_e: f64,
    /// r_E, kW.
    pub r_e: f64,
    /// s_G, kW/K.
    pub s_g: f64,
    /// r_G, kW.
    pub r_g: f64,
    /// Nominal cooling capacity of the measured machine, kW.
    pub nominal_kw: f64,
}

/// Single-effect LiBr/water chiller: the 10 kW machine of TU Berlin
/// (Kühn & Ziegler 2005), parameters as in oemof.thermal's
/// `characteristic_parameters.csv` ("Kuehn").
pub const SINGLE_EFFECT: Characteristic = Characteristic {
    a: 2.5,
    e: 1.8,
    s_e: 0.42,
    r_e: 0.9,
    s_g: 0.51,
    r_g: 2.0,
    nominal_kw: 10.0,
};

/// Double-effect LiBr/water chiller: a 1,163 kW Broad unit, parameters as
/// in oemof.thermal's `characteristic_parameters.csv` ("Broad_02", fitted
/// by Puig-Arnavat et al. 2010).
pub const DOUBLE_EFFECT: Characteristic = Characteristic {
    a: 2.162,
    e: 4.499,
    s_e: 15.459,
    r_e: -911.572,
    s_g: 10.807,
    r_g: -603.85,
    nominal_kw: 1163.0,
};

/// Mean external evaporator temperature for 7/12 °C chilled water, °C.
pub const EVAPORATOR_MEAN_C: f64 = 9.5;

/// An absorption chiller as run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AbsorptionChiller {
    /// Its characteristic.
    pub c: Characteristic,
    /// Rated cooling capacity, MW.
    pub rated_mw: f64,
    /// Mean external temperature of the driving hot water, °C.
    pub driving_c: f64,
    /// Smallest part load it modulates to (below: on/off).
    pub min_part_load: f64,
}

impl AbsorptionChiller {
    /// MW of this machine per kW of the measured one.
    fn scale(&self) -> f64 {
        self.rated_mw / self.c.nominal_kw
    }

    /// ΔΔt' at full driving temperature and outdoor temperature `t_out_c`, K.
    pub fn ddt(&self, t_out_c: f64) -> f64 {
        let t_ac = cooling_water_in_c(t_out_c) + 2.5;
        self.driving_c - self.c.a * t_ac + self.c.e * EVAPORATOR_MEAN_C
    }

    /// Cooling capacity at `t_out_c`, MW (0 to the rating).
    pub fn capacity_mw(&self, t_out_c: f64) -> f64 {
        (self.scale() * (self.c.s_e * self.ddt(t_out_c) + self.c.r_e)).clamp(0.0, self.rated_mw)
    }

    /// Driving heat of `q_mw` of cooling on the modulating line (q > 0).
    fn line_heat(&self, q_mw: f64) -> f64 {
        let ddt = (q_mw / self.scale() - self.c.r_e) / self.c.s_e;
        self.scale() * (self.c.s_g * ddt + self.c.r_g)
    }

    /// Driving heat for `q_mw` of cooling (at most the capacity), MW.
    pub fn heat_for(&self, q_mw: f64) -> f64 {
        if q_mw <= 0.0 {
            return 0.0;
        }
        let q_min = self.min_part_load * self.rated_mw;
        if q_mw < q_min {
            q_mw * self.line_heat(q_min) / q_min
        } else {
            self.line_heat(q_mw)
        }
    }

    /// Cooling made from `heat_mw` of driving heat (the inverse of
    /// [`Self::heat_for`]), MW.
    pub fn cooling_of(&self, heat_mw: f64) -> f64 {
        if heat_mw <= 0.0 {
            return 0.0;
        }
        let q_min = self.min_part_load * self.rated_mw;
        let h_min = self.line_heat(q_min);
        if heat_mw < h_min {
            heat_mw * q_min / h_min
        } else {
            let ddt = (heat_mw / self.scale() - self.c.r_g) / self.c.s_g;
            self.scale() * (self.c.s_e * ddt + self.c.r_e)
        }
    }
}

/// Outdoor temperature of the site's mean climate (no weather anomaly) at
/// `t`: the seasonal and diurnal sinusoids of the temperature model, °C.
pub fn mean_climate_c(mean_c: f64, seasonal_k: f64, diurnal_k: f64, t: Timestamp) -> f64 {
    let (doy, hour) = t.day_and_hour();
    let winter = (2.0 * PI * (doy as f64 + 10.0) / 365.0).cos();
    mean_c - seasonal_k * winter - diurnal_k * (2.0 * PI * (hour - 3.0) / 24.0).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn electric_chiller_meets_its_rating_and_gains_when_cool() {
        let c = ElectricChiller::rated(5.5, ChillerCooling::WaterCooled);
        assert!((c.cop(35.0) - 5.5).abs() < 1e-12);
        assert!(c.cop(25.0) > 5.5);
        // The lift floor caps the COP on cool days.
        assert_eq!(c.cop(0.0), c.cop(-10.0));
        let a = ElectricChiller::rated(3.0, ChillerCooling::AirCooled);
        assert!((a.cop(35.0) - 3.0).abs() < 1e-12);
        assert!(a.cop(40.0) < 3.0);
    }

    #[test]
    fn absorption_part_load_inverts_and_cycles_below_its_minimum() {
        let ac = AbsorptionChiller {
            c: SINGLE_EFFECT,
            rated_mw: 1.0,
            driving_c: 88.0,
            min_part_load: 0.2,
        };
        for q in [0.05, 0.2, 0.5, 0.9] {
            let h = ac.heat_for(q);
            assert!((ac.cooling_of(h) - q).abs() < 1e-12, "{q}");
        }
        // COP of the single-effect machine about 0.7 near full load.
        let cop = 0.9 / ac.heat_for(0.9);
        assert!((0.6..0.85).contains(&cop), "{cop}");
        // Hot cooling water costs capacity.
        assert!(ac.capacity_mw(38.0) < ac.capacity_mw(28.0));
    }

    #[test]
    fn demand_meets_the_annual_figure_over_its_year() {
        let drive = [0.0, 2.0, 6.0, 0.0];
        let q = cooling_demand_series(Building::Office, 100.0, &drive, 8.0 * 2190.0);
        // Four steps standing for a year of 2,190-hour steps.
        let total: f64 = q.iter().map(|x| x * 2190.0).sum();
        assert!((total - 100.0).abs() < 1e-9, "{total}");
    }
}
