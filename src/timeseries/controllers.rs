//! Stateful controllers, run in time order within a scenario after each
//! power flow: an on-load tap changer and PV inverter Q(U) / P(U) curves.
//!
//! Q(U) and P(U) are solved to a fixed point within the step (the power
//! flow is repeated until the set-points settle); the tap changer acts at
//! most once per step, after its delay, and the step is then solved again.

use serde::{Deserialize, Serialize};

fn d_vset() -> f64 {
    1.0
}
fn d_db() -> f64 {
    0.02
}
fn d_step() -> f64 {
    1.5
}
fn d_tmin() -> i32 {
    -9
}
fn d_tmax() -> i32 {
    9
}
fn d_delay() -> usize {
    2
}
fn d_v1() -> f64 {
    0.93
}
fn d_v2() -> f64 {
    0.97
}
fn d_v3() -> f64 {
    1.03
}
fn d_v4() -> f64 {
    1.07
}
fn d_qfrac() -> f64 {
    0.436
}
fn d_pstart() -> f64 {
    1.06
}
fn d_pend() -> f64 {
    1.10
}

/// One branch row or several (1-based).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum BranchSelection {
    /// A single branch row.
    One(usize),
    /// Several branch rows moving together.
    Many(Vec<usize>),
}

impl BranchSelection {
    /// The rows as a list.
    pub fn rows(&self) -> Vec<usize> {
        match self {
            BranchSelection::One(r) => vec![*r],
            BranchSelection::Many(v) => v.clone(),
        }
    }
}

/// A controller as written in a scenario file (`[[controller]]` with `type`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ControllerSpec {
    /// On-load tap changer of a transformer branch.
    Oltc {
        /// Transformer branch(es): 1-based rows in the network file
        /// (parallel transformers listed together move together).
        branch: BranchSelection,
        /// Bus whose voltage is controlled (bus number or id).
        bus: crate::network::BusRef,
        /// Voltage set-point, p.u.
        #[serde(default = "d_vset")]
        vset_pu: f64,
        /// Dead band (full width), p.u.
        #[serde(default = "d_db")]
        deadband_pu: f64,
        /// Ratio change per tap step, % (on the from/HV side).
        #[serde(default = "d_step")]
        step_percent: f64,
        /// Lowest tap position.
        #[serde(default = "d_tmin")]
        tap_min: i32,
        /// Highest tap position.
        #[serde(default = "d_tmax")]
        tap_max: i32,
        /// Steps the voltage must stay outside the band before a tap change.
        #[serde(default = "d_delay")]
        delay_steps: usize,
    },
    /// Reactive power as a function of the terminal voltage (PV inverters).
    PvQu {
        /// PV units controlled (default: all).
        units: Option<Vec<String>>,
        /// Full capacitive output (injecting Q) at and below, p.u.
        #[serde(default = "d_v1")]
        v1_pu: f64,
        /// Start of the dead band, p.u.
        #[serde(default = "d_v2")]
        v2_pu: f64,
        /// End of the dead band, p.u.
        #[serde(default = "d_v3")]
        v3_pu: f64,
        /// Full inductive output (absorbing Q) at and above, p.u.
        #[serde(default = "d_v4")]
        v4_pu: f64,
        /// Reactive limit as a fraction of the inverter rating (0.436 ≈ cos φ 0.9).
        #[serde(default = "d_qfrac")]
        q_max_fraction: f64,
    },
    /// Active power curtailment as a function of the terminal voltage.
    PvPu {
        /// PV units controlled (default: all).
        units: Option<Vec<String>>,
        /// Curtailment starts at, p.u.
        #[serde(default = "d_pstart")]
        v_start_pu: f64,
        /// Output is zero at, p.u.
        #[serde(default = "d_pend")]
        v_end_pu: f64,
    },
}

/// Q(U) characteristic: Q as a fraction of Q_max (positive = injecting).
pub fn qu_fraction(v: f64, v1: f64, v2: f64, v3: f64, v4: f64) -> f64 {
    if v <= v1 {
        1.0
    } else if v < v2 {
        (v2 - v) / (v2 - v1)
    } else if v <= v3 {
        0.0
    } else if v < v4 {
        -(v - v3) / (v4 - v3)
    } else {
        -1.0
    }
}

/// P(U) characteristic: allowed fraction of available power.
pub fn pu_fraction(v: f64, v_start: f64, v_end: f64) -> f64 {
    ((v_end - v) / (v_end - v_start)).clamp(0.0, 1.0)
}

/// Runtime state of a tap changer.
#[derive(Debug, Clone)]
pub struct OltcState {
    /// Branch indices (0-based) moving together.
    pub branches: Vec<usize>,
    /// Controlled bus index.
    pub bus: usize,
    /// Nominal ratio (tap position 0).
    pub ratio0: f64,
    /// Current position.
    pub tap: i32,
    /// Consecutive steps below the band.
    pub low: usize,
    /// Consecutive steps above the band.
    pub high: usize,
}

impl OltcState {
    /// Ratio at the current position.
    pub fn ratio(&self, step_percent: f64) -> f64 {
        self.ratio0 * (1.0 + step_percent / 100.0 * self.tap as f64)
    }

    /// Updates counters with the controlled voltage; returns true when the
    /// tap moved (a higher from-side ratio lowers the controlled voltage).
    pub fn check(&mut self, v: f64, spec: &ControllerSpec) -> bool {
        let ControllerSpec::Oltc {
            vset_pu,
            deadband_pu,
            tap_min,
            tap_max,
            delay_steps,
            ..
        } = spec
        else {
            return false;
        };
        if v < vset_pu - deadband_pu / 2.0 {
            self.low += 1;
            self.high = 0;
        } else if v > vset_pu + deadband_pu / 2.0 {
            self.high += 1;
            self.low = 0;
        } else {
            self.low = 0;
            self.high = 0;
        }
        if self.low >= *delay_steps && self.tap > *tap_min {
            self.tap -= 1;
            self.low = 0;
            return true;
        }
        if self.high >= *delay_steps && self.tap < *tap_max {
            self.tap += 1;
            self.high = 0;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characteristics() {
        assert_eq!(qu_fraction(0.90, 0.93, 0.97, 1.03, 1.07), 1.0);
        assert!((qu_fraction(0.95, 0.93, 0.97, 1.03, 1.07) - 0.5).abs() < 1e-12);
        assert_eq!(qu_fraction(1.0, 0.93, 0.97, 1.03, 1.07), 0.0);
        assert!((qu_fraction(1.05, 0.93, 0.97, 1.03, 1.07) + 0.5).abs() < 1e-12);
        assert!((pu_fraction(1.08, 1.06, 1.10) - 0.5).abs() < 1e-12);
        assert_eq!(pu_fraction(1.0, 1.06, 1.10), 1.0);
    }

    #[test]
    fn oltc_waits_for_delay_and_moves_the_right_way() {
        let spec: ControllerSpec =
            toml::from_str("type = 'oltc'\nbranch = 1\nbus = 2\ndelay_steps = 2").unwrap();
        let mut s = OltcState {
            branches: vec![0],
            bus: 1,
            ratio0: 1.0,
            tap: 0,
            low: 0,
            high: 0,
        };
        assert!(!s.check(0.95, &spec));
        assert!(s.check(0.95, &spec));
        assert_eq!(s.tap, -1);
        assert!((s.ratio(1.5) - 0.985).abs() < 1e-12);
        assert!(!s.check(1.0, &spec));
        assert!(!s.check(1.05, &spec));
        assert!(s.check(1.05, &spec));
        assert_eq!(s.tap, 0);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = toml::from_str::<ControllerSpec>("type = 'oltc'\nbranch = 1\nbus = 2\nvset = 1.0")
            .unwrap_err();
        assert!(e.to_string().contains("vset"), "{e}");
    }
}
