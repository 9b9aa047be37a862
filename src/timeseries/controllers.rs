//! Stateful controllers, run in time order within a scenario after each
//! power flow: an on-load tap changer and PV inverter Q(U) / P(U) curves.
//!
//! Q(U) and P(U) are solved to a fixed point within the step (the power
//! flow is repeated until the set-points settle); the tap changer acts at
//! most once per step, after its delay, and the step is then solved again.

use crate::network::{Branch, Network, PerUnit, TapSide, TransformerData};
use serde::{Deserialize, Serialize};

fn d_vset() -> f64 {
    1.0
}
fn d_db() -> f64 {
    0.02
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

/// One element id or several.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum IdSelection {
    /// A single element.
    One(String),
    /// Several elements acting together.
    Many(Vec<String>),
}

impl IdSelection {
    /// The ids as a list.
    pub fn ids(&self) -> Vec<String> {
        match self {
            IdSelection::One(r) => vec![r.clone()],
            IdSelection::Many(v) => v.clone(),
        }
    }
}

/// A controller as written in a scenario file (`[[controller]]` with `type`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ControllerSpec {
    /// On-load tap changer of a transformer branch.
    Oltc {
        /// Transformer id(s) (`branch K` for MATPOWER rows); transformers
        /// listed together (in parallel) move together.
        transformer: IdSelection,
        /// Bus whose voltage is controlled (bus number or id); default: the
        /// transformer's LV bus (a regulator's regulated bus).
        #[serde(default)]
        bus: Option<crate::network::BusRef>,
        /// Voltage set-point, p.u.
        #[serde(default = "d_vset")]
        vset_pu: f64,
        /// Dead band (full width), p.u.
        #[serde(default = "d_db")]
        deadband_pu: f64,
        /// Voltage change per tap step, %; default: the transformer's own
        /// tap changer (1.5 % where the file gives only a per-unit ratio).
        #[serde(default)]
        step_percent: Option<f64>,
        /// Lowest tap position; default: the transformer's (-9 without one).
        #[serde(default)]
        tap_min: Option<i32>,
        /// Highest tap position; default: the transformer's (9 without one).
        #[serde(default)]
        tap_max: Option<i32>,
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
        /// Whether the inverter also follows the curve while its unit feeds
        /// in nothing (at night): default false, Q = 0 then (as under a
        /// grid code's active-power lock-in); true: Q(U) around the clock.
        #[serde(default)]
        at_night: bool,
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

impl ControllerSpec {
    /// Whether this is an inverter curve (Q(U) or P(U)), which settles
    /// within a step, unlike a tap changer.
    pub fn is_inverter_curve(&self) -> bool {
        matches!(
            self,
            ControllerSpec::PvQu { .. } | ControllerSpec::PvPu { .. }
        )
    }
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

/// Runtime state of a tap changer: the positions of the transformers it
/// moves and the ratio at each position.
#[derive(Debug, Clone)]
pub struct OltcState {
    /// Branch indices (0-based) moving together.
    pub branches: Vec<usize>,
    /// Controlled bus index.
    pub bus: usize,
    /// Off-nominal ratio at the neutral position.
    pub ratio_neutral: f64,
    /// Winding the taps are on (HV: the ratio grows with the position).
    pub side: TapSide,
    /// Neutral position.
    pub neutral: f64,
    /// Voltage change per step, fraction.
    pub step: f64,
    /// Lowest position.
    pub tap_min: f64,
    /// Highest position.
    pub tap_max: f64,
    /// Current position (moves by whole steps from where it starts).
    pub tap: f64,
    /// The transformers' nameplate with the controller's tap range and
    /// step (None for per-unit transformers: only the ratio moves).
    pub nameplate: Option<TransformerData>,
    /// Consecutive steps below the band.
    pub low: usize,
    /// Consecutive steps above the band.
    pub high: usize,
}

impl OltcState {
    /// The tap changer of the transformers `spec` names in `net`,
    /// controlling bus `bus` (default: the first transformer's LV bus). Uses each transformer's own tap changer
    /// unless the controller sets step_percent / tap_min / tap_max; a
    /// transformer given only in per unit (MATPOWER) starts at its file
    /// ratio with ±9 × 1.5 % unless set. Problems (unknown id, not a
    /// transformer, parallel units with different tap changers, values
    /// out of range) are pushed to `problems` in words naming `what`.
    pub fn new(
        spec: &ControllerSpec,
        net: &Network,
        bus: Option<usize>,
        what: &str,
        problems: &mut Vec<String>,
    ) -> Option<OltcState> {
        let ControllerSpec::Oltc {
            transformer,
            vset_pu,
            deadband_pu,
            step_percent,
            tap_min,
            tap_max,
            ..
        } = spec
        else {
            return None;
        };
        let n0 = problems.len();
        if !(vset_pu.is_finite() && *vset_pu > 0.5 && *vset_pu < 1.5) {
            problems.push(format!(
                "{what}: vset_pu must be between 0.5 and 1.5, found {vset_pu}"
            ));
        }
        if !(deadband_pu.is_finite() && *deadband_pu >= 0.0 && *deadband_pu < 0.5) {
            problems.push(format!(
                "{what}: deadband_pu must be in [0, 0.5), found {deadband_pu}"
            ));
        }
        let mut branches = Vec::new();
        for id in transformer.ids() {
            match net
                .branches
                .iter()
                .position(|b| b.id == id && b.is_transformer())
            {
                Some(k) => branches.push(k),
                None if net.branches.iter().any(|b| b.id == id) => problems.push(format!(
                    "{what}: '{id}' is a line, not a transformer: a tap changer needs a transformer"
                )),
                None => problems.push(format!("{what}: no transformer '{id}' in the network")),
            }
        }
        if transformer.ids().is_empty() {
            problems.push(format!("{what}: name at least one transformer"));
        }
        let first = &net.branches[*branches.first()?];
        let mut st = match first.transformer() {
            Some(t) => {
                let (vh, vl) = (net.buses[first.from].base_kv, net.buses[first.to].base_kv);
                OltcState {
                    ratio_neutral: t.ratio(vh, vl, t.tap.neutral),
                    side: t.tap.side,
                    neutral: t.tap.neutral,
                    step: t.tap.step_percent / 100.0,
                    tap_min: t.tap.min,
                    tap_max: t.tap.max,
                    tap: t.tap.pos,
                    ..OltcState::per_unit(first.tap_ratio)
                }
            }
            None => OltcState::per_unit(first.tap_ratio),
        };
        for &k in &branches[1..] {
            if net.branches[k].transformer().map(|t| t.tap) != first.transformer().map(|t| t.tap)
                || net.branches[k].tap_ratio != first.tap_ratio
            {
                problems.push(format!(
                    "{what}: transformers '{}' and '{}' move together but differ in ratio or tap changer",
                    first.id, net.branches[k].id
                ));
            }
        }
        if let Some(p) = step_percent {
            st.step = p / 100.0;
        }
        st.tap_min = tap_min.map_or(st.tap_min, f64::from);
        st.tap_max = tap_max.map_or(st.tap_max, f64::from);
        if !(st.step.is_finite() && st.step != 0.0 && st.step.abs() < 0.5) {
            problems.push(format!(
                "{what}: transformer '{}' has no tap step: give step_percent (found {} %)",
                first.id,
                st.step * 100.0
            ));
        }
        if st.tap_min >= st.tap_max || !(st.tap_min..=st.tap_max).contains(&st.tap) {
            problems.push(format!(
                "{what}: transformer '{}': tap range [{}, {}] must be wider than one position and hold the position {}",
                first.id, st.tap_min, st.tap_max, st.tap
            ));
        }
        st.bus = bus.unwrap_or(first.to);
        st.nameplate = first.transformer().map(|t| {
            let mut t = t.clone();
            t.tap.step_percent = st.step * 100.0;
            (t.tap.min, t.tap.max) = (st.tap_min, st.tap_max);
            t
        });
        st.branches = branches;
        (problems.len() == n0).then_some(st)
    }

    /// A tap changer for a transformer given only by its per-unit ratio:
    /// position 0 at that ratio, ±9 × 1.5 % on the HV (from) side.
    fn per_unit(ratio: f64) -> OltcState {
        OltcState {
            branches: Vec::new(),
            bus: 0,
            ratio_neutral: ratio,
            side: TapSide::Hv,
            neutral: 0.0,
            step: 0.015,
            tap_min: -9.0,
            tap_max: 9.0,
            tap: 0.0,
            nameplate: None,
            low: 0,
            high: 0,
        }
    }

    /// Per-unit parameters of transformer `br` of `net` at the current
    /// position: from the nameplate where there is one (an LV-side tap
    /// also changes the impedances), else the file's with the new ratio.
    pub fn branch_per_unit(&self, br: &Branch, net: &Network) -> PerUnit {
        match &self.nameplate {
            Some(t) => {
                let (vh, vl) = (net.buses[br.from].base_kv, net.buses[br.to].base_kv);
                t.per_unit(vh, vl, net.base_mva, self.tap)
            }
            None => PerUnit {
                tap_ratio: self.ratio(),
                ..br.per_unit()
            },
        }
    }

    /// Ratio at position `pos` (pandapower's ratio tap changer).
    pub fn ratio_at(&self, pos: f64) -> f64 {
        // The nameplate's tap changer (a phase-shifting step changes the
        // magnitude by |1 + du·e^(jθ)|), else a plain ratio step.
        let magnitude = match &self.nameplate {
            Some(t) => t.tap.effect(pos).0,
            None => 1.0 + (pos - self.neutral) * self.step,
        };
        match self.side {
            TapSide::Hv => self.ratio_neutral * magnitude,
            TapSide::Lv => self.ratio_neutral / magnitude,
        }
    }

    /// Ratio at the current position.
    pub fn ratio(&self) -> f64 {
        self.ratio_at(self.tap)
    }

    /// Updates counters with the controlled voltage; returns true when the
    /// tap moved. A higher from-side (HV) ratio lowers the controlled
    /// voltage, so a high voltage moves the tap towards a higher ratio.
    pub fn check(&mut self, v: f64, spec: &ControllerSpec) -> bool {
        let ControllerSpec::Oltc {
            vset_pu,
            deadband_pu,
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
        // The position that raises the ratio by one step.
        let up = if self.ratio_at(self.tap + 1.0) > self.ratio() {
            1.0
        } else {
            -1.0
        };
        // Consecutive steps outside the band, this one included; a delay of
        // 0 moves at the first, as 1 does (never inside the band).
        let due = (*delay_steps).max(1);
        let wanted = if self.low >= due {
            -up
        } else if self.high >= due {
            up
        } else {
            return false;
        };
        let next = self.tap + wanted;
        if !(self.tap_min..=self.tap_max).contains(&next) {
            return false;
        }
        self.tap = next;
        self.low = 0;
        self.high = 0;
        true
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
            toml::from_str("type = 'oltc'\ntransformer = 'T1'\nbus = 2\ndelay_steps = 2").unwrap();
        let mut s = OltcState {
            branches: vec![0],
            bus: 1,
            ..OltcState::per_unit(1.0)
        };
        assert!(!s.check(0.95, &spec));
        assert!(s.check(0.95, &spec));
        assert_eq!(s.tap, -1.0);
        assert!((s.ratio() - 0.985).abs() < 1e-12);
        assert!(!s.check(1.0, &spec));
        assert!(!s.check(1.05, &spec));
        assert!(s.check(1.05, &spec));
        assert_eq!(s.tap, 0.0);
        // Taps on the LV side: a higher position lowers the ratio, so a low
        // voltage moves the tap up.
        s.side = TapSide::Lv;
        assert!(!s.check(0.95, &spec));
        assert!(s.check(0.95, &spec));
        assert_eq!(s.tap, 1.0);
        assert!((s.ratio() - 1.0 / 1.015).abs() < 1e-12);
    }

    /// The tap sequence of a known voltage sequence at delays 0, 1 and 2:
    /// never a move inside the band (a delay of 0 once lowered the tap at
    /// every step whatever the voltage).
    #[test]
    fn oltc_tap_sequence_at_delays_0_1_2() {
        let volts = [1.0, 0.95, 0.95, 0.95, 1.0, 1.0, 1.05, 1.0, 1.05, 1.05];
        let expected: [(usize, [f64; 10]); 3] = [
            (0, [0., -1., -2., -3., -3., -3., -2., -2., -1., 0.]),
            (1, [0., -1., -2., -3., -3., -3., -2., -2., -1., 0.]),
            (2, [0., 0., -1., -1., -1., -1., -1., -1., -1., 0.]),
        ];
        for (delay, taps) in expected {
            let spec: ControllerSpec = toml::from_str(&format!(
                "type = 'oltc'\ntransformer = 'T1'\nbus = 2\ndelay_steps = {delay}"
            ))
            .unwrap();
            let mut s = OltcState {
                branches: vec![0],
                bus: 1,
                ..OltcState::per_unit(1.0)
            };
            let got: Vec<f64> = volts
                .iter()
                .map(|&v| {
                    s.check(v, &spec);
                    s.tap
                })
                .collect();
            assert_eq!(got, taps, "delay {delay}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = toml::from_str::<ControllerSpec>(
            "type = 'oltc'\ntransformer = 'T'\nbus = 2\nvset = 1.0",
        )
        .unwrap_err();
        assert!(e.to_string().contains("vset"), "{e}");
    }
}
