//! A line voltage regulator: the tapped 1:1 autotransformer (a bank of
//! single-phase step-voltage regulators) placed along long rural feeders.
//!
//! Electrically it is a transformer between two buses of the same nominal
//! voltage with its taps on the regulated (to) side, so that a higher tap
//! position raises the voltage downstream, as ANSI/IEEE C57.15 regulators
//! do (typically ±16 steps of 0.625 %, ±10 %). Its series impedance is
//! small; the defaults are those of the IEEE 13-node feeder's regulator in
//! OpenDSS (`XHL = 0.01 %`, `%LoadLoss = 0.01`).

#[cfg(test)]
use super::transformer::TapKind;
use super::transformer::{Equivalent, TapChanger, TapSide, TransformerData};

/// Default lowest tap position (ANSI 32-step regulator).
pub const TAP_MIN: f64 = -16.0;
/// Default highest tap position.
pub const TAP_MAX: f64 = 16.0;
/// Default voltage change per step, %.
pub const TAP_STEP_PERCENT: f64 = 0.625;
/// Default series resistance on the regulator's rating, %.
pub const R_PERCENT: f64 = 0.01;
/// Default series reactance on the regulator's rating, %.
pub const X_PERCENT: f64 = 0.01;

/// Nameplate of a line voltage regulator.
#[derive(Debug, Clone, PartialEq)]
pub struct RegulatorData {
    /// Rated through-power (three phases), MVA.
    pub sn_mva: f64,
    /// Nominal voltage of both terminals, kV.
    pub vn_kv: f64,
    /// Series resistance on the rating, %.
    pub r_percent: f64,
    /// Series reactance on the rating, %.
    pub x_percent: f64,
    /// Tap range, position and step (the side is always the regulated end).
    pub tap: TapChanger,
}

impl RegulatorData {
    /// The regulator as the transformer it is electrically: 1:1 at
    /// `vn_kv`, taps on the LV (to, regulated) side, no magnetizing branch.
    pub fn transformer(&self) -> TransformerData {
        TransformerData {
            sn_mva: self.sn_mva,
            vn_hv_kv: self.vn_kv,
            vn_lv_kv: self.vn_kv,
            vk_percent: self.r_percent.hypot(self.x_percent),
            vkr_percent: self.r_percent,
            pfe_kw: 0.0,
            i0_percent: 0.0,
            shift_degree: 0.0,
            tap: TapChanger {
                side: TapSide::Lv,
                ..self.tap
            },
            equivalent: Equivalent::Pi,
            parallel: 1,
            df: 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_higher_tap_raises_the_regulated_voltage_by_its_step() {
        let r = RegulatorData {
            sn_mva: 2.0,
            vn_kv: 10.0,
            r_percent: R_PERCENT,
            x_percent: X_PERCENT,
            tap: TapChanger {
                side: TapSide::Hv,
                pos: 0.0,
                neutral: 0.0,
                min: TAP_MIN,
                max: TAP_MAX,
                step_percent: TAP_STEP_PERCENT,
                step_degree: 0.0,
                kind: TapKind::Ratio,
            },
        };
        let t = r.transformer();
        // Ideal 1:1 with the taps at the to end: V_to = V_from / ratio.
        assert_eq!(t.ratio(10.0, 10.0, 0.0), 1.0);
        assert!((1.0 / t.ratio(10.0, 10.0, 16.0) - 1.10).abs() < 1e-15);
        assert!((1.0 / t.ratio(10.0, 10.0, -16.0) - 0.90).abs() < 1e-15);
    }
}
