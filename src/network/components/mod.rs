//! Branch components in engineering units, each computing its own per-unit
//! parameters (as power-grid-model's `component/`): file readers describe
//! a line or a transformer by its nameplate and call these; nothing else
//! does per-unit arithmetic for them.

pub mod chp;
pub mod line;
pub mod regulator;
pub mod transformer;

/// Per-unit π-model parameters of a branch on the system base (MATPOWER's
/// definition, with a series conductance-free shunt `g + jb` split half to
/// each end; the from-end half sits behind the off-nominal ratio).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerUnit {
    /// Series resistance, p.u.
    pub r_pu: f64,
    /// Series reactance, p.u.
    pub x_pu: f64,
    /// Total shunt susceptance, p.u.
    pub b_pu: f64,
    /// Total shunt conductance, p.u.
    pub g_pu: f64,
    /// Off-nominal ratio at the from end.
    pub tap_ratio: f64,
    /// Phase shift, degrees.
    pub shift_degree: f64,
}

/// Whether a branch given in per unit between buses of nominal voltages
/// `vf_kv` and `vt_kv` is a transformer: the voltages differ (by more than
/// 1e-9 relative). Used for MATPOWER rows and native `[[branch]]`es.
pub fn per_unit_transformer(vf_kv: f64, vt_kv: f64) -> bool {
    (vf_kv - vt_kv).abs() > 1e-9 * vf_kv.abs().max(vt_kv.abs()).max(1.0)
}
