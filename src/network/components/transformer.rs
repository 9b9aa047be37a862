//! A two-winding transformer: nameplate, tap changer, vector group.

use super::PerUnit;

/// Side of a transformer's tap changer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapSide {
    /// High-voltage winding.
    Hv,
    /// Low-voltage winding.
    Lv,
}

/// A transformer's tap changer (pandapower's `tap_*` fields).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TapChanger {
    /// Winding the taps are on.
    pub side: TapSide,
    /// Current position.
    pub pos: i32,
    /// Neutral position.
    pub neutral: i32,
    /// Lowest position.
    pub min: i32,
    /// Highest position.
    pub max: i32,
    /// Voltage change per step, %.
    pub step_percent: f64,
}

impl TapChanger {
    /// Whether the transformer can change taps (a range and a step).
    pub fn is_adjustable(&self) -> bool {
        self.min < self.max && self.step_percent != 0.0
    }
}

/// Nameplate of a two-winding transformer (HV side = from end).
#[derive(Debug, Clone, PartialEq)]
pub struct TransformerData {
    /// Rated power, MVA.
    pub sn_mva: f64,
    /// Rated HV voltage, kV.
    pub vn_hv_kv: f64,
    /// Rated LV voltage, kV.
    pub vn_lv_kv: f64,
    /// Short-circuit voltage, %.
    pub vk_percent: f64,
    /// Resistive part of the short-circuit voltage, %.
    pub vkr_percent: f64,
    /// Iron losses, kW.
    pub pfe_kw: f64,
    /// No-load current, %.
    pub i0_percent: f64,
    /// Phase shift HV → LV, degrees.
    pub shift_degree: f64,
    /// Tap changer.
    pub tap: TapChanger,
}

impl TransformerData {
    /// π-model parameters on `base_mva` between buses of nominal voltage
    /// `vh_kv` (HV) and `vl_kv` (LV), at the tap changer's position `pos`:
    /// pandapower's `trafo_model="pi"` (impedances on the LV side, the
    /// magnetizing admittance split equally between the terminals).
    ///
    /// Taps on the LV side change the LV winding's rated voltage, and with
    /// it the impedances referred to that side (as pandapower does).
    pub fn per_unit(&self, vh_kv: f64, vl_kv: f64, base_mva: f64, pos: i32) -> PerUnit {
        let vn_lv_kv = match self.tap.side {
            TapSide::Hv => self.vn_lv_kv,
            TapSide::Lv => self.vn_lv_kv * (1.0 + self.tap_steps(pos)),
        };
        let k_lv = (vn_lv_kv / vl_kv).powi(2);
        let zk = self.vk_percent / 100.0 * base_mva / self.sn_mva * k_lv;
        let rk = self.vkr_percent / 100.0 * base_mva / self.sn_mva * k_lv;
        let xk = (zk * zk - rk * rk).max(0.0).sqrt();
        let ym = self.i0_percent / 100.0 * self.sn_mva / base_mva / k_lv;
        let gm = self.pfe_kw / 1000.0 / base_mva / k_lv;
        let bm = -(ym * ym - gm * gm).max(0.0).sqrt();
        PerUnit {
            r_pu: rk,
            x_pu: xk,
            b_pu: bm,
            g_pu: gm,
            tap_ratio: self.ratio(vh_kv, vl_kv, pos),
            shift_degree: self.shift_degree,
        }
    }

    /// Off-nominal ratio at tap position `pos` between buses of nominal
    /// voltage `vh_kv` and `vl_kv`.
    pub fn ratio(&self, vh_kv: f64, vl_kv: f64, pos: i32) -> f64 {
        let steps = self.tap_steps(pos);
        let nominal = (self.vn_hv_kv / vh_kv) / (self.vn_lv_kv / vl_kv);
        match self.tap.side {
            TapSide::Hv => nominal * (1.0 + steps),
            TapSide::Lv => nominal / (1.0 + steps),
        }
    }

    /// Relative voltage change of the tapped winding at position `pos`.
    fn tap_steps(&self, pos: i32) -> f64 {
        (pos - self.tap.neutral) as f64 * self.tap.step_percent / 100.0
    }

    /// Rated current of the HV and LV windings, kA.
    pub fn rated_i_ka(&self) -> [f64; 2] {
        let s3 = 3f64.sqrt();
        [
            self.sn_mva / (s3 * self.vn_hv_kv),
            self.sn_mva / (s3 * self.vn_lv_kv),
        ]
    }
}
