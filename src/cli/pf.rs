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
    let t0 = std::time::Instant::now();
    let res = powerflow::solve(&net, opts)?;
    let solve_s = t0.elapsed().as_secs_f64();
    if !res.converged {
        return Err(Error::NotConverged {
            iterations: res.iterations,
            max_mismatch_pu: res.max_mismatch_pu,
        });
    }
    Ok(match format {
        // Straight to text: a value tree of a 100,000-bus result took a
        // million allocations and most of the run's peak memory.
        Format::Json => serde_json::to_string(&PfJson {
            result: &res,
            solve_time_s: solve_s,
        })
        .map_err(|e| Error::Usage(format!("JSON encoding failed: {e}")))?,
        Format::Table => to_table(&net, &res, solve_s),
    })
}

/// `gridsim pf`'s JSON: the result's fields and the solve time.
#[derive(serde::Serialize)]
struct PfJson<'a> {
    #[serde(flatten)]
    result: &'a PowerFlowResult,
    solve_time_s: f64,
}

/// JSON text of a result (arrays in file order).
pub fn to_json(res: &PowerFlowResult) -> Result<String> {
    serde_json::to_string(res).map_err(|e| Error::Usage(format!("JSON encoding failed: {e}")))
}

/// Human-readable summary and tables; `solve_s` is the time the solve took
/// (model build included).
pub fn to_table(net: &Network, res: &PowerFlowResult, solve_s: f64) -> String {
    let mut o = String::new();
    let load_p: f64 = res.load.p_mw.iter().sum();
    let load_q: f64 = res.load.q_mvar.iter().sum();
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
        "  converged in {} iterations, max mismatch {:.3e} p.u., solved in {:.3} ms",
        res.iterations,
        res.max_mismatch_pu,
        solve_s * 1e3
    );
    let _ = writeln!(o, "  load        {load_p:12.4} MW  {load_q:12.4} Mvar");
    let _ = writeln!(o, "  generation  {gen_p:12.4} MW  {gen_q:12.4} Mvar");
    let _ = writeln!(
        o,
        "  losses      {:12.4} MW   (lines and transformers, iron losses included)",
        res.total_loss_mw
    );
    if res.shunt_p_mw != 0.0 {
        let _ = writeln!(o, "  shunts      {:12.4} MW", res.shunt_p_mw);
    }
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
    element_tables(&mut o, res);
    let _ = writeln!(
        o,
        "\nGenerators\n  {:<24} {:>8} {:>12} {:>12}",
        "id", "bus", "p_mw", "q_mvar"
    );
    for k in 0..res.gen.bus.len() {
        let _ = writeln!(
            o,
            "  {:<24} {:>8} {:>12.4} {:>12.4}",
            clip(&res.gen.id[k]),
            res.gen.bus[k],
            res.gen.p_mw[k],
            res.gen.q_mvar[k]
        );
    }
    o
}

/// The first 24 characters of an id (table columns).
fn clip(s: &str) -> String {
    s.chars().take(24).collect()
}

/// A loading with two decimals, `-` where there is no rating.
fn percent(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.2}")).unwrap_or("-".into())
}

/// The line and transformer tables of `gridsim pf`.
fn element_tables(o: &mut String, res: &PowerFlowResult) {
    let l = &res.line;
    if !l.id.is_empty() {
        let _ = writeln!(
            o,
            "\nLines\n  {:<24} {:>12} {:>12} {:>12} {:>12} {:>10} {:>9} {:>9}",
            "id", "p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar", "pl_mw", "i_ka", "loading%"
        );
        for k in 0..l.id.len() {
            let _ = writeln!(
                o,
                "  {:<24} {:>12.4} {:>12.4} {:>12.4} {:>12.4} {:>10.5} {:>9.4} {:>9}",
                clip(&l.id[k]),
                l.p_from_mw[k],
                l.q_from_mvar[k],
                l.p_to_mw[k],
                l.q_to_mvar[k],
                l.pl_mw[k],
                l.i_ka[k],
                percent(l.loading_percent[k])
            );
        }
    }
    let t = &res.transformer;
    if !t.id.is_empty() {
        let _ = writeln!(
            o,
            "\nTransformers\n  {:<24} {:>12} {:>12} {:>12} {:>12} {:>10} {:>9} {:>5}",
            "id", "p_hv_mw", "q_hv_mvar", "p_lv_mw", "q_lv_mvar", "pl_mw", "loading%", "tap"
        );
        for k in 0..t.id.len() {
            let tap = t.tap_pos[k].map(|p| p.to_string()).unwrap_or("-".into());
            let _ = writeln!(
                o,
                "  {:<24} {:>12.4} {:>12.4} {:>12.4} {:>12.4} {:>10.5} {:>9} {:>5}",
                clip(&t.id[k]),
                t.p_hv_mw[k],
                t.q_hv_mvar[k],
                t.p_lv_mw[k],
                t.q_lv_mvar[k],
                t.pl_mw[k],
                percent(t.loading_percent[k]),
                tap
            );
        }
    }
}
