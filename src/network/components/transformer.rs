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

/// How a tap step changes the transformer (pandapower's `tap_changer_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TapKind {
    /// The tapped winding's voltage changes by `step_percent` per step, in
    /// the direction `step_degree` (0: a ratio tap changer; otherwise the
    /// step also turns the phase, pandapower's "Ratio"/"Symmetrical").
    #[default]
    Ratio,
    /// An ideal phase shifter: the ratio stays, the phase turns by
    /// `step_degree` per step (or `2·asin(step_percent/200)` without one).
    Ideal,
}

/// A transformer's tap changer (pandapower's `tap_*` fields).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TapChanger {
    /// Winding the taps are on.
    pub side: TapSide,
    /// Current position (a whole step, or between steps as pandapower allows).
    pub pos: f64,
    /// Neutral position.
    pub neutral: f64,
    /// Lowest position.
    pub min: f64,
    /// Highest position.
    pub max: f64,
    /// Voltage change per step, %.
    pub step_percent: f64,
    /// Angle of the voltage change per step, degrees.
    pub step_degree: f64,
    /// Ratio or ideal phase-shifting tap changer.
    pub kind: TapKind,
}

impl TapChanger {
    /// Whether the transformer can change taps (a range and a step).
    pub fn is_adjustable(&self) -> bool {
        self.min < self.max && (self.step_percent != 0.0 || self.step_degree != 0.0)
    }

    /// Magnitude factor of the tapped winding's voltage and the phase
    /// shift the taps add (degrees, seen from HV to LV as `shift_degree`)
    /// at position `pos`: pandapower's `_calc_tap_from_dataframe`.
    pub fn effect(&self, pos: f64) -> (f64, f64) {
        let diff = pos - self.neutral;
        let direction = match self.side {
            TapSide::Hv => 1.0,
            TapSide::Lv => -1.0,
        };
        match self.kind {
            TapKind::Ratio => {
                let du = diff * self.step_percent / 100.0;
                let (sin, cos) = self.step_degree.to_radians().sin_cos();
                let (re, im) = (1.0 + du * cos, du * sin);
                (
                    (re * re + im * im).sqrt(),
                    (direction * im / re).atan().to_degrees(),
                )
            }
            TapKind::Ideal => {
                let shift = if self.step_degree != 0.0 {
                    diff * self.step_degree
                } else {
                    2.0 * (diff * self.step_percent / 200.0).asin().to_degrees()
                };
                (1.0, direction * shift)
            }
        }
    }
}

/// Where a transformer's magnetizing admittance sits in its equivalent circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Equivalent {
    /// Split equally between the terminals (pandapower `trafo_model="pi"`).
    #[default]
    Pi,
    /// In the middle of the series impedance, half of it on each side
    /// (pandapower's default `trafo_model="t"`), turned into the exactly
    /// equivalent π by a star-delta transform.
    T,
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
    /// Equivalent circuit.
    pub equivalent: Equivalent,
    /// Identical units in parallel (pandapower's `parallel`).
    pub parallel: u32,
    /// Derating factor of the rating (pandapower's `df`), in (0, 1].
    pub df: f64,
}

/// The π equivalent of a T circuit: series impedance `r + jx` split in
/// halves around a magnetizing admittance `g + jb`; returns the π's series
/// `r, x` and its total shunt `g, b` (half at each end). A star-delta
/// transform, as pandapower's `_wye_delta`.
fn t_to_pi(r: f64, x: f64, g: f64, b: f64) -> (f64, f64, f64, f64) {
    use num_complex::Complex64 as C;
    let za = C::new(r / 2.0, x / 2.0);
    let zb = za;
    let zc = C::new(1.0, 0.0) / C::new(g, b);
    let sum = za * zb + za * zc + zb * zc;
    let zab = sum / zc;
    let yf = C::new(1.0, 0.0) / (sum / zb);
    (zab.re, zab.im, 2.0 * yf.re, 2.0 * yf.im)
}

impl TransformerData {
    /// π-model parameters on `base_mva` between buses of nominal voltage
    /// `vh_kv` (HV) and `vl_kv` (LV), at the tap changer's position `pos`:
    /// pandapower's `trafo_model="pi"` (impedances on the LV side, the
    /// magnetizing admittance split equally between the terminals).
    ///
    /// Taps on the LV side change the LV winding's rated voltage, and with
    /// it the impedances referred to that side (as pandapower does).
    pub fn per_unit(&self, vh_kv: f64, vl_kv: f64, base_mva: f64, pos: f64) -> PerUnit {
        let (magnitude, tap_shift) = self.tap.effect(pos);
        let vn_lv_kv = match self.tap.side {
            TapSide::Hv => self.vn_lv_kv,
            TapSide::Lv => self.vn_lv_kv * magnitude,
        };
        let k_lv = (vn_lv_kv / vl_kv).powi(2);
        // Parallel units divide the series impedance, multiply the magnetizing admittance.
        let n = self.parallel.max(1) as f64;
        let zk = self.vk_percent / 100.0 * base_mva / self.sn_mva * k_lv / n;
        let rk = self.vkr_percent / 100.0 * base_mva / self.sn_mva * k_lv / n;
        let xk = (zk * zk - rk * rk).max(0.0).sqrt();
        let ym = self.i0_percent / 100.0 * self.sn_mva / base_mva / k_lv * n;
        let gm = self.pfe_kw / 1000.0 / base_mva / k_lv * n;
        let bm = -(ym * ym - gm * gm).max(0.0).sqrt();
        let (rk, xk, gm, bm) = match self.equivalent {
            Equivalent::T if gm != 0.0 || bm != 0.0 => t_to_pi(rk, xk, gm, bm),
            _ => (rk, xk, gm, bm),
        };
        PerUnit {
            r_pu: rk,
            x_pu: xk,
            b_pu: bm,
            g_pu: gm,
            tap_ratio: self.ratio(vh_kv, vl_kv, pos),
            shift_degree: self.shift_degree + tap_shift,
        }
    }

    /// Off-nominal ratio at tap position `pos` between buses of nominal
    /// voltage `vh_kv` and `vl_kv`.
    pub fn ratio(&self, vh_kv: f64, vl_kv: f64, pos: f64) -> f64 {
        let (magnitude, _) = self.tap.effect(pos);
        let nominal = (self.vn_hv_kv / vh_kv) / (self.vn_lv_kv / vl_kv);
        match self.tap.side {
            TapSide::Hv => nominal * magnitude,
            TapSide::Lv => nominal / magnitude,
        }
    }

    /// Rated current of the HV and LV windings of all parallel units,
    /// derated, kA.
    pub fn rated_i_ka(&self) -> [f64; 2] {
        let s = self.sn_mva * self.parallel.max(1) as f64 * self.df;
        let s3 = 3f64.sqrt();
        [s / (s3 * self.vn_hv_kv), s / (s3 * self.vn_lv_kv)]
    }
}
