//! `gridsim pf`: one power flow, printed as a table or JSON.

use crate::error::{Error, Result};
use crate::network::Network;
use crate::powerflow::{self, PfOptions};
use crate::results::PowerFlowResult;
use std::fmt::Write;
use std::path::Path;

/// Output formats of `gridsim pf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable tables.
    Table,
    /// Machine-readable JSON.
    Json,
}

/// Runs `gridsim pf` and returns the text to print on stdout.
///
/// On non-convergence returns [`Error::NotConverged`] (the CLI exits
/// non-zero); in JSON mode the error text carries the JSON status object.
pub fn run(path: &Path, opts: &PfOptions, format: Format) -> Result<String> {
    let net = super::load_network(path)?;
    let res = powerflow::solve(&net, opts)?;
    if !res.converged {
        return Err(Error::NotConverged {
            iterations: res.iterations,
            max_mismatch_pu: res.max_mismatch_pu,
        });
    }
    Ok(match format {
        Format::Json => to_json(&res)?,
        Format::Table => to_table(&net, &res),
    })
}

/// JSON text of a result (arrays in file order).
pub fn to_json(res: &PowerFlowResult) -> Result<String> {
    serde_json::to_string(res).map_err(|e| Error::Usage(format!("JSON encoding failed: {e}")))
}

/// Human-readable summary and tables.
pub fn to_table(net: &Network, res: &PowerFlowResult) -> String {
    let mut o = String::new();
    let load_p: f64 = net.loads.iter().map(|l| l.p_mw).sum();
    let load_q: f64 = net.loads.iter().map(|l| l.q_mvar).sum();
    let gen_p: f64 = res.gen.p_mw.iter().sum();
    let gen_q: f64 = res.gen.q_mvar.iter().sum();
    let (vmin_bus, vmin) = res.min_vm().unwrap_or((0, f64::NAN));
    let (vmax_bus, vmax) = res
        .bus
        .id
        .iter()
        .zip(&res.bus.vm_pu)
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, v)| (*i, *v))
        .unwrap_or((0, f64::NAN));
    let _ = writeln!(o, "Power flow: {}", net.name);
    let _ = writeln!(
        o,
        "  {} buses, {} branches ({} in service), {} generators, base {} MVA",
        net.buses.len(),
        net.branches.len(),
        net.branches.iter().filter(|b| b.in_service).count(),
        net.generators.len(),
        net.base_mva
    );
    let _ = writeln!(
        o,
        "  converged in {} iterations, max mismatch {:.3e} p.u.",
        res.iterations, res.max_mismatch_pu
    );
    let _ = writeln!(o, "  load        {load_p:12.4} MW  {load_q:12.4} Mvar");
    let _ = writeln!(o, "  generation  {gen_p:12.4} MW  {gen_q:12.4} Mvar");
    let _ = writeln!(o, "  losses      {:12.4} MW", res.total_loss_mw);
    let label = |id: u64| match net.bus_index(id).and_then(|i| net.buses[i].name.clone()) {
        Some(n) => format!("{id} ({n})"),
        None => id.to_string(),
    };
    let _ = writeln!(
        o,
        "  min |V|     {vmin:12.6} p.u. at bus {}",
        label(vmin_bus)
    );
    let _ = writeln!(
        o,
        "  max |V|     {vmax:12.6} p.u. at bus {}",
        label(vmax_bus)
    );
    let named = net.buses.iter().any(|b| b.name.is_some());
    let _ = writeln!(
        o,
        "\nBuses\n  {:>8} {:<24} {:>10} {:>12}",
        "bus",
        if named { "name" } else { "" },
        "vm_pu",
        "va_degree"
    );
    for i in 0..res.bus.id.len() {
        let name: String = net.buses[i]
            .name
            .clone()
            .unwrap_or_default()
            .chars()
            .take(24)
            .collect();
        let _ = writeln!(
            o,
            "  {:>8} {:<24} {:>10.6} {:>12.6}",
            res.bus.id[i], name, res.bus.vm_pu[i], res.bus.va_degree[i]
        );
    }
    let _ = writeln!(
        o,
        "\nBranches\n  {:>6} {:>8} {:>8} {:>12} {:>12} {:>12} {:>12} {:>10}",
        "#", "from", "to", "p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "loss_mw"
    );
    let b = &res.branch;
    for k in 0..b.from.len() {
        let _ = writeln!(
            o,
            "  {:>6} {:>8} {:>8} {:>12.4} {:>12.4} {:>12.4} {:>12.4} {:>10.5}",
            k + 1,
            b.from[k],
            b.to[k],
            b.p_from_mw[k],
            b.q_from_mvar[k],
            b.p_to_mw[k],
            b.q_to_mvar[k],
            b.p_from_mw[k] + b.p_to_mw[k]
        );
    }
    let _ = writeln!(
        o,
        "\nGenerators\n  {:>6} {:>8} {:>12} {:>12}",
        "#", "bus", "p_mw", "q_mvar"
    );
    for k in 0..res.gen.bus.len() {
        let _ = writeln!(
            o,
            "  {:>6} {:>8} {:>12.4} {:>12.4}",
            k + 1,
            res.gen.bus[k],
            res.gen.p_mw[k],
            res.gen.q_mvar[k]
        );
    }
    o
}
