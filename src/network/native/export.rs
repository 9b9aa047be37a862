//! Writes a [`Network`] (e.g. read from MATPOWER) in the native format.
//!
//! Branches are written as per-unit `[[branch]]` rows (the MATPOWER data
//! carry no line types or lengths); the reference bus becomes an
//! `[[ext_grid]]`, voltage-controlled generators `[[generator]]` with
//! `vm_pu`, generators at PQ buses fixed injections.

use super::{
    BranchSpec, BusSpec, ExtGridSpec, GeneratorSpec, Header, LoadSpec, NetworkFile, ShuntSpec,
};
use crate::error::{Error, Result};
use crate::network::{BusKind, Network};
use std::collections::HashSet;
use toml::Spanned;

fn sp(s: String) -> Spanned<String> {
    Spanned::new(0..0, s)
}

/// `ids` made unique: a repeated id gets ` (2)`, ` (3)`, … appended.
fn unique_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.map(|id| {
        let mut out = id.to_string();
        let mut n = 1;
        while !seen.insert(out.clone()) {
            n += 1;
            out = format!("{id} ({n})");
        }
        out
    })
    .collect()
}

/// Converts a network to the native file structure.
pub fn to_file(net: &Network) -> NetworkFile {
    // Bus ids: names when present and unique, else the bus numbers.
    let names: Vec<Option<String>> = net.buses.iter().map(|b| b.name.clone()).collect();
    let unique = {
        let mut seen = HashSet::new();
        names.iter().all(|n| {
            n.as_ref()
                .is_some_and(|n| !n.is_empty() && seen.insert(n.clone()))
        })
    };
    let id = |i: usize| -> String {
        if unique {
            names[i].clone().unwrap_or_default()
        } else {
            net.buses[i].id.to_string()
        }
    };
    let mut has_gen = vec![false; net.buses.len()];
    for g in net.generators.iter().filter(|g| g.in_service) {
        has_gen[g.bus] = true;
    }
    let mut file = NetworkFile::new(Header {
        name: net.name.clone(),
        description: Some("converted by gridsim from a MATPOWER case".into()),
        source: None,
        base_mva: net.base_mva,
        frequency_hz: 50.0,
        line_types: None,
        transformer_model: "pi".into(),
    });
    for (i, b) in net.buses.iter().enumerate() {
        file.bus.push(BusSpec {
            id: sp(id(i)),
            vn_kv: b.base_kv,
            name: if unique { None } else { b.name.clone() },
            x: None,
            y: None,
            vmin_pu: Some(b.vmin_pu),
            vmax_pu: Some(b.vmax_pu),
            in_service: b.kind != BusKind::Isolated,
        });
    }
    let branch_ids = unique_ids(net.branches.iter().map(|b| b.id.as_str()));
    for (br, br_id) in net.branches.iter().zip(branch_ids) {
        file.branch.push(BranchSpec {
            id: sp(br_id),
            from: id(br.from),
            to: id(br.to),
            r_pu: br.r_pu,
            x_pu: br.x_pu,
            b_pu: br.b_pu,
            g_pu: br.g_pu,
            rate_a_mva: br.rate_a_mva,
            tap: br.is_transformer().then_some(br.tap_ratio),
            shift_degree: br.shift_degree,
            in_service: br.in_service,
        });
    }
    let load_ids = unique_ids(net.loads.iter().map(|l| l.id.as_str()));
    for (l, load_id) in net.loads.iter().zip(load_ids) {
        file.load.push(LoadSpec {
            id: sp(load_id),
            bus: id(l.bus),
            p_mw: l.p_mw,
            q_mvar: Some(l.q_mvar),
            power_factor: None,
            class: None,
            zip: None,
            in_service: true,
            scaling: 1.0,
        });
    }
    let shunt_ids = unique_ids(net.shunts.iter().map(|s| s.id.as_str()));
    for (s, shunt_id) in net.shunts.iter().zip(shunt_ids) {
        file.shunt.push(ShuntSpec {
            id: sp(shunt_id),
            bus: id(s.bus),
            g_mw: s.g_mw,
            b_mvar: s.b_mvar,
            in_service: true,
        });
    }
    let mut slack_done = vec![false; net.buses.len()];
    let gen_ids = unique_ids(net.generators.iter().map(|g| g.id.as_str()));
    for (g, gid) in net.generators.iter().zip(gen_ids) {
        let b = &net.buses[g.bus];
        if b.kind == BusKind::Ref && g.in_service && !slack_done[g.bus] {
            slack_done[g.bus] = true;
            file.ext_grid.push(ExtGridSpec {
                id: sp(gid),
                bus: id(g.bus),
                vm_pu: g.vg_pu,
                va_degree: b.va_degree,
                sc_mva: None,
            });
            continue;
        }
        let controlled = matches!(b.kind, BusKind::Pv | BusKind::Ref);
        file.generator.push(GeneratorSpec {
            id: sp(gid),
            bus: id(g.bus),
            p_mw: g.p_mw,
            q_mvar: g.q_mvar,
            vm_pu: controlled.then_some(g.vg_pu),
            q_min_mvar: g.qmin_mvar.is_finite().then_some(g.qmin_mvar),
            q_max_mvar: g.qmax_mvar.is_finite().then_some(g.qmax_mvar),
            in_service: g.in_service,
            scaling: 1.0,
        });
    }
    file
}

/// The native TOML text of a network.
pub fn write_native(net: &Network) -> Result<String> {
    let f = to_file(net);
    let body =
        toml::to_string(&f).map_err(|e| Error::Usage(format!("TOML encoding failed: {e}")))?;
    Ok(format!(
        "# gridsim network file (native format), written by gridsim {}\n# Branches are in per unit on network.base_mva.\n\n{body}",
        env!("CARGO_PKG_VERSION")
    ))
}
