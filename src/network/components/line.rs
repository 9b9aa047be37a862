//! A line or cable: conductor data per km, length, parallel systems.

use super::PerUnit;

/// Nameplate of a line, kept with its branch for results and variants.
#[derive(Debug, Clone, PartialEq)]
pub struct LineData {
    /// Length, km.
    pub length_km: f64,
    /// Parallel systems.
    pub parallel: u32,
    /// Ampacity of one system, kA (0 where unknown).
    pub max_i_ka: f64,
    /// Resistance, Ω/km.
    pub r_ohm_per_km: f64,
    /// Reactance, Ω/km.
    pub x_ohm_per_km: f64,
    /// Capacitance, nF/km.
    pub c_nf_per_km: f64,
    /// Shunt conductance, µS/km.
    pub g_us_per_km: f64,
    /// Derating factor of the ampacity (pandapower's `df`), in (0, 1].
    pub df: f64,
    /// Line type name, where the file named one.
    pub line_type: Option<String>,
}

impl LineData {
    /// π-model parameters on `base_mva` at nominal voltage `vn_kv` and
    /// angular frequency `omega` (rad/s), as pandapower computes them:
    /// parallel systems divide the series impedance and multiply the
    /// capacitance.
    pub fn per_unit(&self, vn_kv: f64, base_mva: f64, omega: f64) -> PerUnit {
        let par = self.parallel.max(1) as f64;
        let zb = vn_kv * vn_kv / base_mva;
        PerUnit {
            r_pu: self.r_ohm_per_km * self.length_km / par / zb,
            x_pu: self.x_ohm_per_km * self.length_km / par / zb,
            b_pu: omega * self.c_nf_per_km * 1e-9 * self.length_km * par * zb,
            g_pu: self.g_us_per_km * 1e-6 * self.length_km * par * zb,
            tap_ratio: 1.0,
            shift_degree: 0.0,
        }
    }

    /// Ampacity of all systems together, derated, kA (0 where unknown).
    pub fn rated_i_ka(&self) -> f64 {
        self.max_i_ka * self.df * self.parallel.max(1) as f64
    }
}
