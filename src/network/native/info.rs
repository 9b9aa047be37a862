//! `gridsim info`: a summary of a network.

use super::line_types::LineTypeLibrary;
use super::NetworkFile;
use crate::network::{Generator, Network};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Summary of a native network file (uses its engineering data).
pub fn native_summary(f: &NetworkFile, lib: &LineTypeLibrary, net: &Network) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Network: {}", f.network.name);
    if let Some(s) = &f.network.source {
        let _ = writeln!(o, "  source: {s}");
    }
    let mut levels: BTreeMap<String, usize> = BTreeMap::new();
    for b in &f.bus {
        *levels.entry(format!("{:>8.3} kV", b.vn_kv)).or_default() += 1;
    }
    let _ = writeln!(
        o,
        "Buses: {} ({} after fusing closed couplers and adding open line ends)",
        f.bus.len(),
        net.buses.len()
    );
    for (k, n) in &levels {
        let _ = writeln!(o, "  {k}: {n}");
    }
    let mut km: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for l in &f.line {
        let key = match &l.line_type {
            Some(t) => format!(
                "{t} ({})",
                lib.get(t).map(|x| x.kind.as_str()).unwrap_or("?")
            ),
            None => "custom r/x".into(),
        };
        let e = km.entry(key).or_default();
        e.0 += l.length_km;
        e.1 += 1;
    }
    let total: f64 = km.values().map(|v| v.0).sum::<f64>() + 0.0;
    if !f.line.is_empty() || f.branch.is_empty() {
        let _ = writeln!(o, "Lines: {} ({total:.3} km)", f.line.len());
    }
    for (k, (len, n)) in &km {
        let _ = writeln!(o, "  {len:>9.3} km  {n:>4} × {k}");
    }
    if !f.branch.is_empty() {
        let ids: std::collections::HashSet<&str> =
            f.branch.iter().map(|b| b.id.get_ref().as_str()).collect();
        let per_unit = net.branches.iter().filter(|b| ids.contains(b.id.as_str()));
        let trafos = per_unit.clone().filter(|b| b.is_transformer()).count();
        let _ = writeln!(
            o,
            "Per-unit branches: {} ({} lines, {trafos} transformers: tap, shift or two voltage levels; no lengths)",
            f.branch.len(),
            per_unit.count() - trafos
        );
    }
    let sn: f64 = f.transformer.iter().map(|t| t.sn_mva).sum::<f64>() + 0.0;
    let _ = writeln!(
        o,
        "Transformers: {} ({sn:.3} MVA installed)",
        f.transformer.len()
    );
    for t in &f.transformer {
        let _ = writeln!(
            o,
            "  {}: {} MVA {}/{} kV, vk {} %",
            t.id.get_ref(),
            t.sn_mva,
            t.vn_hv_kv,
            t.vn_lv_kv,
            t.vk_percent
        );
    }
    if !f.regulator.is_empty() {
        let _ = writeln!(o, "Line voltage regulators: {}", f.regulator.len());
        for r in &f.regulator {
            let range = r.tap_max.max(-r.tap_min) * r.tap_step_percent;
            let _ = writeln!(
                o,
                "  {}: {} MVA, {} → {}, ±{range:.1} % in {} steps",
                r.id.get_ref(),
                r.sn_mva,
                r.from,
                r.to,
                r.tap_max - r.tap_min
            );
        }
    }
    let open = f.switch.iter().filter(|s| !s.closed).count();
    let _ = writeln!(o, "Switches: {} ({open} open)", f.switch.len());
    let _ = writeln!(o, "{}", load_line(net));
    let mut by_class: BTreeMap<String, f64> = BTreeMap::new();
    for l in &f.load {
        *by_class
            .entry(
                l.class
                    .map(|c| format!("{c:?}").to_lowercase())
                    .unwrap_or("unclassified".into()),
            )
            .or_default() += l.p_mw;
    }
    if f.load.iter().any(|l| l.class.is_some()) {
        for (c, p) in &by_class {
            let _ = writeln!(o, "  {c}: {p:.4} MW");
        }
    }
    let _ = writeln!(o, "Installed DER:");
    let chp: f64 = f.chp.iter().map(|c| c.rated_mw).sum::<f64>() + 0.0;
    let pv: f64 = f.pv.iter().map(|c| c.kwp / 1000.0).sum::<f64>() + 0.0;
    let wind: f64 = f.wind.iter().map(|c| c.rated_mw).sum::<f64>() + 0.0;
    let st_p: f64 = f.storage.iter().map(|c| c.power_mw).sum::<f64>() + 0.0;
    let st_e: f64 = f.storage.iter().map(|c| c.capacity_mwh).sum::<f64>() + 0.0;
    let _ = writeln!(o, "  CHP:     {:>3} units, {chp:.4} MW_el", f.chp.len());
    let mut chp_t: BTreeMap<String, f64> = BTreeMap::new();
    for c in &f.chp {
        *chp_t.entry(format!("{:?}", c.technology)).or_default() += c.rated_mw;
    }
    for (t, p) in chp_t {
        let _ = writeln!(o, "           {t}: {p:.4} MW_el");
    }
    let _ = writeln!(o, "  PV:      {:>3} units, {pv:.4} MWp", f.pv.len());
    let _ = writeln!(o, "  wind:    {:>3} units, {wind:.4} MW", f.wind.len());
    let _ = writeln!(
        o,
        "  storage: {:>3} units, {st_p:.4} MW / {st_e:.4} MWh",
        f.storage.len()
    );
    let _ = writeln!(
        o,
        "  conventional: {} units; external grids: {}",
        f.generator.len(),
        f.ext_grid.len()
    );
    o
}

/// Summary of any network (e.g. MATPOWER) from the physical model.
pub fn network_summary(net: &Network) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Network: {} (base {} MVA)", net.name, net.base_mva);
    let mut levels: BTreeMap<String, usize> = BTreeMap::new();
    for b in &net.buses {
        *levels.entry(format!("{:>8.3} kV", b.base_kv)).or_default() += 1;
    }
    let _ = writeln!(o, "Buses: {}", net.buses.len());
    for (k, n) in &levels {
        let _ = writeln!(o, "  {k}: {n}");
    }
    let trafos = net.branches.iter().filter(|b| b.is_transformer()).count();
    let _ = writeln!(
        o,
        "Branches: {} ({} in service, {trafos} transformers)",
        net.branches.len(),
        net.branches.iter().filter(|b| b.in_service).count()
    );
    let _ = writeln!(o, "{}", load_line(net));
    let slack_buses: Vec<usize> = net
        .buses
        .iter()
        .enumerate()
        .filter(|(_, b)| b.kind == crate::network::BusKind::Ref)
        .map(|(i, _)| i)
        .collect();
    let in_service: Vec<&Generator> = net.generators.iter().filter(|g| g.in_service).collect();
    let (slack, other): (Vec<&Generator>, Vec<&Generator>) = in_service
        .iter()
        .partition(|g| slack_buses.contains(&g.bus));
    let g: f64 = other.iter().map(|g| g.p_mw).sum::<f64>() + 0.0;
    let _ = writeln!(
        o,
        "Generators: {} ({} in service: {} at reference buses (slack), {} others dispatching {g:.4} MW)",
        net.generators.len(),
        in_service.len(),
        slack.len(),
        other.len()
    );
    o
}

/// Loads of a network: consumption, and rows with negative power (net
/// generation booked as a load, as in MATPOWER files of grids with
/// distributed generation) apart.
fn load_line(net: &Network) -> String {
    let (mut n_pos, mut p_pos, mut n_neg, mut p_neg) = (0, 0.0, 0, 0.0);
    for l in &net.loads {
        if l.p_mw < 0.0 {
            n_neg += 1;
            p_neg += l.p_mw;
        } else {
            n_pos += 1;
            p_pos += l.p_mw;
        }
    }
    let mut s = format!("Loads: {n_pos} consuming {p_pos:.4} MW");
    if n_neg > 0 {
        s += &format!(
            "; {n_neg} with negative power (net generation in the file): {:.4} MW",
            -p_neg
        );
    }
    s
}
