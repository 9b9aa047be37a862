//! Results by element kind, keyed by the elements' ids, with pandapower's
//! result names (`res_line`, `res_trafo`, `res_load`): what `gridsim pf`
//! reports per line, transformer and load.

use crate::math::{BranchAdmittance, BusType, MathModel};
use crate::network::{Branch, BranchKind, Network};
use num_complex::Complex64;
use serde::Serialize;

/// Line results (pandapower's `res_line`), in network branch order.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LineResults {
    /// Line ids.
    pub id: Vec<String>,
    /// From bus ids.
    pub from_bus: Vec<String>,
    /// To bus ids.
    pub to_bus: Vec<String>,
    /// Active power into the line at the from end, MW.
    pub p_from_mw: Vec<f64>,
    /// Reactive power into the line at the from end, Mvar.
    pub q_from_mvar: Vec<f64>,
    /// Active power into the line at the to end, MW.
    pub p_to_mw: Vec<f64>,
    /// Reactive power into the line at the to end, Mvar.
    pub q_to_mvar: Vec<f64>,
    /// Active power loss, MW.
    pub pl_mw: Vec<f64>,
    /// Reactive power consumed, Mvar.
    pub ql_mvar: Vec<f64>,
    /// Current at the from end, kA.
    pub i_from_ka: Vec<f64>,
    /// Current at the to end, kA.
    pub i_to_ka: Vec<f64>,
    /// Larger of the two currents, kA.
    pub i_ka: Vec<f64>,
    /// Current over ampacity × parallel systems (or rate_a at nominal
    /// voltage), %; null where the line has no rating.
    pub loading_percent: Vec<Option<f64>>,
}

/// Transformer results (pandapower's `res_trafo`), in network branch order.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TransformerResults {
    /// Transformer ids.
    pub id: Vec<String>,
    /// "transformer", or "regulator" for a line voltage regulator (HV =
    /// source side, LV = regulated side).
    pub kind: Vec<&'static str>,
    /// HV (from) bus ids.
    pub hv_bus: Vec<String>,
    /// LV (to) bus ids.
    pub lv_bus: Vec<String>,
    /// Active power into the HV side, MW.
    pub p_hv_mw: Vec<f64>,
    /// Reactive power into the HV side, Mvar.
    pub q_hv_mvar: Vec<f64>,
    /// Active power into the LV side, MW.
    pub p_lv_mw: Vec<f64>,
    /// Reactive power into the LV side, Mvar.
    pub q_lv_mvar: Vec<f64>,
    /// Active power loss incl. iron losses, MW.
    pub pl_mw: Vec<f64>,
    /// Reactive power consumed, Mvar.
    pub ql_mvar: Vec<f64>,
    /// HV side current, kA.
    pub i_hv_ka: Vec<f64>,
    /// LV side current, kA.
    pub i_lv_ka: Vec<f64>,
    /// Winding current over rated current (or rate_a at nominal voltage),
    /// %; null where the transformer has no rating.
    pub loading_percent: Vec<Option<f64>>,
    /// Tap position (null where the file gives only a per-unit ratio).
    pub tap_pos: Vec<Option<f64>>,
}

/// Load results (pandapower's `res_load`): consumption at the solved voltage.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LoadResults {
    /// Load ids.
    pub id: Vec<String>,
    /// Bus ids.
    pub bus: Vec<String>,
    /// Active power drawn, MW.
    pub p_mw: Vec<f64>,
    /// Reactive power drawn, Mvar.
    pub q_mvar: Vec<f64>,
}

/// Flows, currents and loading of one branch at the voltages `v`.
#[derive(Debug, Clone, Copy)]
struct BranchFlow {
    s_from: Complex64,
    s_to: Complex64,
    i_from_ka: f64,
    i_to_ka: f64,
    loading_percent: Option<f64>,
}

/// The id of bus `i`: its name where it has one, else its number.
pub fn bus_label(net: &Network, i: usize) -> String {
    let b = &net.buses[i];
    b.name.clone().unwrap_or_else(|| b.id.to_string())
}

fn branch_flow(net: &Network, br: &Branch, ba: &BranchAdmittance, v: &[Complex64]) -> BranchFlow {
    let base = net.base_mva;
    let (sf, st) = ba.flows(v);
    let (sf, st) = (sf * base, st * base);
    let s3 = 3f64.sqrt();
    let current = |s: Complex64, bus: usize| {
        let vm = v[bus].norm();
        if s.norm() == 0.0 {
            0.0
        } else {
            s.norm() / (s3 * vm * net.buses[bus].base_kv)
        }
    };
    let [lf, lt] = br.loading_factors(&net.buses);
    let loading_f = sf.norm() / v[br.from].norm() * lf;
    let loading_t = st.norm() / v[br.to].norm() * lt;
    BranchFlow {
        s_from: sf,
        s_to: st,
        i_from_ka: current(sf, br.from),
        i_to_ka: current(st, br.to),
        loading_percent: match (lf.is_nan(), ba.active) {
            (true, _) => None,
            (false, true) => Some(loading_f.max(loading_t)),
            (false, false) => Some(0.0),
        },
    }
}

/// Line and transformer results of the voltages `v`.
pub fn branch_results(
    net: &Network,
    math: &MathModel,
    v: &[Complex64],
) -> (LineResults, TransformerResults) {
    let mut lines = LineResults::default();
    let mut trafos = TransformerResults::default();
    for (br, ba) in net.branches.iter().zip(&math.branches) {
        let f = branch_flow(net, br, ba, v);
        let loss = f.s_from + f.s_to;
        match &br.kind {
            BranchKind::Line(_) => {
                lines.id.push(br.id.clone());
                lines.from_bus.push(bus_label(net, br.from));
                lines.to_bus.push(bus_label(net, br.to));
                lines.p_from_mw.push(f.s_from.re);
                lines.q_from_mvar.push(f.s_from.im);
                lines.p_to_mw.push(f.s_to.re);
                lines.q_to_mvar.push(f.s_to.im);
                lines.pl_mw.push(loss.re);
                lines.ql_mvar.push(loss.im);
                lines.i_from_ka.push(f.i_from_ka);
                lines.i_to_ka.push(f.i_to_ka);
                lines.i_ka.push(f.i_from_ka.max(f.i_to_ka));
                lines.loading_percent.push(f.loading_percent);
            }
            BranchKind::Transformer(_) | BranchKind::Regulator { .. } => {
                trafos.id.push(br.id.clone());
                trafos.kind.push(br.kind.name());
                trafos.hv_bus.push(bus_label(net, br.from));
                trafos.lv_bus.push(bus_label(net, br.to));
                trafos.p_hv_mw.push(f.s_from.re);
                trafos.q_hv_mvar.push(f.s_from.im);
                trafos.p_lv_mw.push(f.s_to.re);
                trafos.q_lv_mvar.push(f.s_to.im);
                trafos.pl_mw.push(loss.re);
                trafos.ql_mvar.push(loss.im);
                trafos.i_hv_ka.push(f.i_from_ka);
                trafos.i_lv_ka.push(f.i_to_ka);
                trafos.loading_percent.push(f.loading_percent);
                trafos.tap_pos.push(br.transformer().map(|t| t.tap.pos));
            }
        }
    }
    (lines, trafos)
}

/// Load results at the solved voltages: constant power, current and
/// impedance shares at |V|⁰, |V|¹ and |V|². Loads at isolated buses draw nothing.
pub fn load_results(net: &Network, math: &MathModel, v: &[Complex64]) -> LoadResults {
    let mut out = LoadResults::default();
    for l in &net.loads {
        let vm = v[l.bus].norm();
        let scale = if math.bus_type[l.bus] == BusType::Isolated {
            0.0
        } else {
            (1.0 - l.z_share - l.i_share) + l.i_share * vm + l.z_share * vm * vm
        };
        out.id.push(l.id.clone());
        out.bus.push(bus_label(net, l.bus));
        out.p_mw.push(l.p_mw * scale);
        out.q_mvar.push(l.q_mvar * scale);
    }
    out
}

/// Active power consumed by the bus shunts at the solved voltages, MW.
pub fn shunt_p_mw(net: &Network, math: &MathModel, v: &[Complex64]) -> f64 {
    net.shunts
        .iter()
        .filter(|s| math.bus_type[s.bus] != BusType::Isolated)
        .map(|s| s.g_mw * v[s.bus].norm_sqr())
        .sum()
}
