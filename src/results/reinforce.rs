//! Automatic reinforcement: repeat {run the whole period; fix the worst
//! problem with one measure} until no step has a violation.
//!
//! One measure per round, deterministic (ties by element order):
//! - an overloaded line or transformer (the highest loading over the
//!   period first): a line gets the smallest standard type of its family
//!   (the type name with its numbers masked, e.g. `NAYY #x# SE`, `LGJ-#/#`)
//!   that carries its peak current, else one more parallel system; a
//!   transformer gets the smallest catalogue rating that carries its peak;
//! - else a voltage outside the band: an OLTC controller (set-point the
//!   band's middle) on the first transformer with a tap changer and none
//!   yet, when the catalogue prices one; else the first line on the path
//!   from the source to the worst bus that is not yet the largest of its
//!   family is reconductored to the next type.
//!
//! The measures are then priced by [`super::plan::measures`] (the final
//! network against the start).

use super::plan::{measures, Catalogue, Measure};
use crate::error::{Error, Result};
use crate::network::native::line_types::LineTypeLibrary;
use crate::network::{BranchKind, BusKind, Network};
use crate::timeseries::controllers::{ControllerSpec, OltcState};
use crate::timeseries::rows::RowPrecision;
use crate::timeseries::runner::{run_scenario, Controller, Scenario};
use std::sync::Arc;

/// Per-element extremes of a run.
struct RunStats {
    /// Highest loading per branch, %.
    loading: Vec<f64>,
    /// Highest and lowest |V| per bus, p.u.
    vmax: Vec<f64>,
    vmin: Vec<f64>,
    converged: bool,
}

fn run_stats(sc: &Scenario) -> Result<RunStats> {
    let (nb, nbr) = (sc.network.buses.len(), sc.network.branches.len());
    let mut st = RunStats {
        loading: vec![0.0; nbr],
        vmax: vec![f64::NEG_INFINITY; nb],
        vmin: vec![f64::INFINITY; nb],
        converged: true,
    };
    let s = run_scenario(sc, RowPrecision::F64, |b| {
        let (loading, vm) = (b.loading_percent.as_slice(), b.vm_pu.as_slice());
        for t in 0..b.n {
            for k in 0..nbr {
                let x = loading.get(t * nbr + k);
                if x > st.loading[k] {
                    st.loading[k] = x;
                }
            }
            for i in 0..nb {
                let v = vm.get(t * nb + i);
                st.vmax[i] = st.vmax[i].max(v);
                st.vmin[i] = st.vmin[i].min(v);
            }
        }
        Ok(())
    })?;
    st.converged = s.not_converged == 0;
    Ok(st)
}

/// A line type's family: its name with the numbers masked, a trailing
/// voltage kept (`48-AL1/8-ST1A 20.0` → `#-AL#/#-ST#A 20.0`).
fn family(name: &str) -> String {
    let (body, tail) = match name.rsplit_once(' ') {
        Some((b, t)) if t.parse::<f64>().is_ok() => (b, format!(" {t}")),
        _ => (name, String::new()),
    };
    let mut out = String::new();
    let mut in_num = false;
    for ch in body.chars() {
        if ch.is_ascii_digit() || (in_num && ch == '.') {
            if !in_num {
                out.push('#');
            }
            in_num = true;
        } else {
            in_num = false;
            out.push(ch);
        }
    }
    out + &tail
}

/// The smallest type of `name`'s family whose rating (× `systems`) is at
/// least `need_ka` and above the current one.
fn next_type(lib: &LineTypeLibrary, name: &str, current_ka: f64, need_ka: f64) -> Option<String> {
    let fam = family(name);
    lib.iter()
        .filter(|(n, t)| family(n) == fam && t.max_i_ka > current_ka && t.max_i_ka >= need_ka)
        .min_by(|a, b| a.1.max_i_ka.total_cmp(&b.1.max_i_ka).then(a.0.cmp(b.0)))
        .map(|(n, _)| n.clone())
}

/// Angular frequency the line's per-unit capacitance was made with.
fn omega_of(br: &crate::network::Branch, vn: f64, base_mva: f64) -> f64 {
    let l = br.line().expect("a line");
    let zb = vn * vn / base_mva;
    let c = l.c_nf_per_km * 1e-9 * l.length_km * l.parallel.max(1) as f64 * zb;
    if c > 0.0 && br.b_pu > 0.0 {
        br.b_pu / c
    } else {
        2.0 * std::f64::consts::PI * 50.0
    }
}

/// Gives line `k` type `new_type` (or one more system when None).
fn upgrade_line(
    net: &mut Network,
    lib: &LineTypeLibrary,
    k: usize,
    new_type: Option<&str>,
) -> String {
    let vn = net.buses[net.branches[k].from].base_kv;
    let omega = omega_of(&net.branches[k], vn, net.base_mva);
    let base = net.base_mva;
    let br = &mut net.branches[k];
    let BranchKind::Line(Some(l)) = &mut br.kind else {
        return String::new();
    };
    let what = match new_type.and_then(|n| lib.get(n).map(|t| (n, t))) {
        Some((n, t)) => {
            let old = l
                .line_type
                .clone()
                .unwrap_or_else(|| "its conductor".into());
            (l.r_ohm_per_km, l.x_ohm_per_km, l.c_nf_per_km, l.max_i_ka) =
                (t.r_ohm_per_km, t.x_ohm_per_km, t.c_nf_per_km, t.max_i_ka);
            l.line_type = Some(n.to_string());
            format!("line '{}': {old} → {n}", br.id)
        }
        None => {
            l.parallel += 1;
            format!(
                "line '{}': parallel systems {} → {}",
                br.id,
                l.parallel - 1,
                l.parallel
            )
        }
    };
    let pu = l.per_unit(vn, base, omega);
    br.set_per_unit(pu);
    what
}

/// Gives transformer `k` the smallest catalogue rating carrying `need_mva`.
fn upgrade_transformer(
    net: &mut Network,
    c: &Catalogue,
    k: usize,
    need_mva: f64,
) -> Result<String> {
    let (vh, vl) = (
        net.buses[net.branches[k].from].base_kv,
        net.buses[net.branches[k].to].base_kv,
    );
    let base = net.base_mva;
    let br = &mut net.branches[k];
    let BranchKind::Transformer(Some(t)) = &mut br.kind else {
        return Err(Error::Usage(format!(
            "'{}' is not a transformer with a nameplate",
            br.id
        )));
    };
    let per_unit_need = need_mva / t.parallel.max(1) as f64;
    let item = c
        .transformer
        .iter()
        .filter(|i| i.voltage_kv[0] <= t.vn_hv_kv && t.vn_hv_kv <= i.voltage_kv[1])
        .filter(|i| i.sn_mva > t.sn_mva && i.sn_mva + 1e-9 >= per_unit_need)
        .min_by(|a, b| a.sn_mva.total_cmp(&b.sn_mva))
        .ok_or_else(|| {
            Error::Usage(format!(
                "no catalogue transformer above {} MVA carries {per_unit_need:.3} MVA at {} kV for '{}'",
                t.sn_mva, t.vn_hv_kv, br.id
            ))
        })?;
    let old = t.sn_mva;
    t.sn_mva = item.sn_mva;
    let pu = t.per_unit(vh, vl, base, t.tap.pos);
    let what = format!("transformer '{}': {old} → {} MVA", br.id, item.sn_mva);
    br.set_per_unit(pu);
    Ok(what)
}

/// Lines on the path from the source to bus `to` (breadth-first over
/// in-service branches), source side first.
fn path_lines(net: &Network, to: usize) -> Vec<usize> {
    let nb = net.buses.len();
    let mut prev: Vec<Option<(usize, usize)>> = vec![None; nb];
    let mut seen = vec![false; nb];
    let mut queue: std::collections::VecDeque<usize> = (0..nb)
        .filter(|&i| net.buses[i].kind == BusKind::Ref)
        .collect();
    queue.iter().for_each(|&i| seen[i] = true);
    while let Some(b) = queue.pop_front() {
        for (k, br) in net
            .branches
            .iter()
            .enumerate()
            .filter(|(_, br)| br.in_service)
        {
            let other = if br.from == b {
                br.to
            } else if br.to == b {
                br.from
            } else {
                continue;
            };
            if !seen[other] {
                seen[other] = true;
                prev[other] = Some((b, k));
                queue.push_back(other);
            }
        }
    }
    let mut out = Vec::new();
    let mut b = to;
    while let Some((p, k)) = prev[b] {
        if net.branches[k].line().is_some() {
            out.push(k);
        }
        b = p;
    }
    out.reverse();
    out
}

/// One measure against the worst voltage problem, or None when nothing
/// in the catalogue or the type library can help.
fn voltage_measure(
    sc: &mut Scenario,
    c: &Catalogue,
    lib: &LineTypeLibrary,
    st: &RunStats,
) -> Result<Option<String>> {
    let limits = |i: usize| sc.bus_v_limits.as_ref().map_or(sc.v_limits, |l| l[i]);
    let dev = |i: usize| {
        let (lo, hi) = limits(i);
        (st.vmax[i] - hi).max(lo - st.vmin[i])
    };
    let nb = sc.network.buses.len();
    let worst = (0..nb)
        .max_by(|&a, &b| dev(a).total_cmp(&dev(b)).then(b.cmp(&a)))
        .unwrap_or(0);
    if dev(worst) <= 0.0 {
        return Ok(None);
    }
    let controlled: Vec<String> = sc
        .controllers
        .iter()
        .filter_map(|x| match &x.spec {
            ControllerSpec::Oltc { transformer, .. } => Some(transformer.ids().join("+")),
            _ => None,
        })
        .collect();
    let candidate = sc.network.branches.iter().find(|b| {
        b.in_service
            && b.transformer().is_some_and(|t| t.tap.is_adjustable())
            && !controlled.contains(&b.id)
    });
    if let (Some(t), Some(_)) = (candidate, &c.oltc_controller) {
        let (lo, hi) = limits(t.to);
        let spec: ControllerSpec = toml::from_str(&format!(
            "type = 'oltc'\ntransformer = {:?}\nvset_pu = {}\ndeadband_pu = {}",
            t.id,
            0.5 * (lo + hi),
            0.25 * (hi - lo)
        ))
        .map_err(|e| Error::Usage(format!("OLTC controller: {e}")))?;
        let mut problems = Vec::new();
        let oltc = OltcState::new(&spec, &sc.network, None, "reinforcement", &mut problems);
        if problems.is_empty() && oltc.is_some() {
            let id = t.id.clone();
            sc.controllers.push(Controller {
                spec,
                units: Vec::new(),
                oltc,
            });
            return Ok(Some(format!("OLTC controller on transformer '{id}'")));
        }
    }
    let mut net = (*sc.network).clone();
    for k in path_lines(&net, worst) {
        let Some(l) = net.branches[k].line() else {
            continue;
        };
        let Some(name) = l.line_type.clone() else {
            continue;
        };
        if let Some(n) = next_type(lib, &name, l.max_i_ka, 0.0) {
            let what = upgrade_line(&mut net, lib, k, Some(&n));
            sc.network = Arc::new(net);
            return Ok(Some(format!(
                "{what} (voltage at bus {})",
                sc.network.buses[worst].name.clone().unwrap_or_default()
            )));
        }
    }
    Ok(None)
}

/// Reinforces `start` until no step has a violation; returns the final
/// scenario, the measures in the order taken, and their prices.
pub fn reinforce(
    start: &Scenario,
    c: &Catalogue,
    lib: &LineTypeLibrary,
    max_rounds: usize,
) -> Result<(Scenario, Vec<String>, Vec<Measure>)> {
    let mut sc = start.clone();
    let mut taken = Vec::new();
    for _ in 0..max_rounds {
        let st = run_stats(&sc)?;
        if !st.converged {
            return Err(Error::Usage(format!(
                "scenario '{}': steps did not converge after {} measure(s); reinforcement needs a solvable grid",
                sc.name,
                taken.len()
            )));
        }
        let worst = (0..st.loading.len())
            .filter(|&k| st.loading[k] > 100.0)
            .max_by(|&a, &b| st.loading[a].total_cmp(&st.loading[b]).then(b.cmp(&a)));
        let what = if let Some(k) = worst {
            let mut net = (*sc.network).clone();
            let factor = st.loading[k] / 100.0;
            let br = &net.branches[k];
            let what = match &br.kind {
                BranchKind::Line(Some(l)) => {
                    let need = l.max_i_ka * factor;
                    let t = l
                        .line_type
                        .as_deref()
                        .and_then(|n| next_type(lib, n, l.max_i_ka, need));
                    upgrade_line(&mut net, lib, k, t.as_deref())
                }
                BranchKind::Transformer(Some(t)) => {
                    let need = t.sn_mva * t.parallel.max(1) as f64 * factor;
                    upgrade_transformer(&mut net, c, k, need)?
                }
                _ => {
                    return Err(Error::Usage(format!(
                        "'{}' is overloaded ({:.1} %) but has no nameplate to reinforce",
                        br.id, st.loading[k]
                    )))
                }
            };
            sc.network = Arc::new(net);
            format!("{what} (loading {:.1} %)", st.loading[k])
        } else {
            match voltage_measure(&mut sc, c, lib, &st)? {
                Some(w) => w,
                None if (0..st.vmax.len()).all(|i| {
                    let (lo, hi) = sc.bus_v_limits.as_ref().map_or(sc.v_limits, |l| l[i]);
                    st.vmax[i] <= hi && st.vmin[i] >= lo
                }) => {
                    let priced = measures(c, start, &sc)?;
                    return Ok((sc, taken, priced));
                }
                None => {
                    return Err(Error::Usage(format!(
                        "no catalogue item or standard line type fixes the remaining voltage violation of scenario '{}' (after {} measure(s))",
                        sc.name,
                        taken.len()
                    )))
                }
            }
        };
        taken.push(what);
    }
    Err(Error::Usage(format!(
        "violations remain after {max_rounds} measures (raise --max-measures)"
    )))
}
