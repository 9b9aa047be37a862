//! `gridsim plan`: every variant of a scenario file is an upgrade option;
//! run them all (results as `run` writes them), price each option's
//! measures against the reference with a cost catalogue, and rank them.

use super::hosting::{feeder_hosting_mw, FeederHosting};
use super::run::{run_scenarios_then, RunArgs};
use crate::error::Result;
use crate::results::compare::csv_field;
use crate::results::hdf5::ResultsWriter;
use crate::results::plan::{economics, measures, Catalogue, Economics, Measure};
use crate::timeseries::runner::{RunSummary, Scenario};
use crate::timeseries::scenario::load_scenarios;
use std::fmt::Write;

/// Output format of the ranked table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanFormat {
    /// Aligned text.
    Table,
    /// CSV (RFC 4180).
    Csv,
    /// JSON.
    Json,
}

/// One evaluated option.
#[derive(Debug, Clone)]
pub struct OptionResult {
    /// Scenario name.
    pub name: String,
    /// Its measures.
    pub measures: Vec<Measure>,
    /// Its economics against the reference.
    pub economics: Economics,
    /// Voltage-violation and overload hours per year left.
    pub violation_hours_left: (f64, f64),
    /// Hosting capacity the option leaves at the buses asked for, MW, and
    /// the reference's (when asked for).
    pub hosting_mw: Option<(f64, f64)>,
    /// Annual cost per MW of hosting capacity gained over the reference
    /// (NaN when none is gained or none was asked for).
    pub cost_per_mw_hosting_gained: f64,
}

/// Prices every scenario but the reference; ranked by annual cost (options
/// that leave no violation first). `hosting_mw`, when given, holds each
/// scenario's hosting capacity (in the order of `scenarios`).
pub fn evaluate(
    c: &Catalogue,
    scenarios: &[Scenario],
    sums: &[RunSummary],
    hosting_mw: Option<&[f64]>,
) -> Result<Vec<OptionResult>> {
    let r = scenarios.iter().position(|s| s.is_reference).unwrap_or(0);
    let (base, base_k) = (&scenarios[r], &sums[r].kpis);
    let mut out = Vec::new();
    for (i, (sc, s)) in scenarios.iter().zip(sums).enumerate() {
        if sc.is_reference {
            continue;
        }
        let m = measures(c, base, sc)?;
        let period_h = s.kpis.steps * sc.step_s as f64 / 3600.0;
        let year = 8760.0 / period_h.max(1e-9);
        let economics = economics(c, &m, &s.kpis, base_k, period_h);
        let hosting_mw = hosting_mw.map(|h| (h[i], h[r]));
        let cost_per_mw_hosting_gained = match hosting_mw {
            Some((opt, base)) if opt > base => economics.annual_cost / (opt - base),
            _ => f64::NAN,
        };
        out.push(OptionResult {
            name: sc.name.clone(),
            economics,
            measures: m,
            violation_hours_left: (
                s.kpis.hours_voltage_violation * year,
                s.kpis.hours_overload * year,
            ),
            hosting_mw,
            cost_per_mw_hosting_gained,
        });
    }
    out.sort_by(|a, b| {
        let clean = |o: &OptionResult| o.violation_hours_left.0 + o.violation_hours_left.1 > 0.0;
        clean(a)
            .cmp(&clean(b))
            .then(a.economics.annual_cost.total_cmp(&b.economics.annual_cost))
    });
    Ok(out)
}

/// The plan's figures as attributes of each option's `plan` group, and the
/// catalogue's currency, price year and source on the root.
fn store(w: &ResultsWriter, c: &Catalogue, res: &[OptionResult]) -> Result<()> {
    w.text_attrs(
        "",
        "",
        &[
            ("plan_currency", &c.currency),
            ("plan_price_year", &c.price_year),
            ("plan_cost_source", &c.source),
        ],
    )?;
    for (rank, o) in res.iter().enumerate() {
        let e = &o.economics;
        w.scenario_attrs(
            &o.name,
            "plan",
            &[
                ("rank", (rank + 1) as f64),
                ("capex", e.capex),
                ("annualised_capex", e.annualised_capex),
                ("om_per_year", e.om_per_year),
                ("losses_cost_per_year", e.losses_per_year),
                ("curtailment_cost_per_year", e.curtailment_per_year),
                ("co2_cost_per_year", e.co2_per_year),
                ("annual_cost", e.annual_cost),
                ("npv_cost", e.npv_cost),
                ("hosting_mw", o.hosting_mw.map_or(f64::NAN, |h| h.0)),
                ("cost_per_mw_hosting_gained", o.cost_per_mw_hosting_gained),
            ],
        )?;
        let list: Vec<String> = o.measures.iter().map(|m| m.what.clone()).collect();
        w.text_attrs(&o.name, "plan", &[("measures", &list.join("; "))])?;
    }
    Ok(())
}

/// Each scenario's hosting capacity at the buses of `h` (in file order).
fn hosting_per_scenario(
    path: &std::path::Path,
    scenarios: &[Scenario],
    h: &FeederHosting,
    steps: Option<usize>,
    threads: usize,
) -> Result<Vec<f64>> {
    scenarios
        .iter()
        .map(|sc| feeder_hosting_mw(path, &sc.name, h, steps, threads))
        .collect()
}

/// Runs `gridsim plan`; returns what it prints. With `hosting`, each
/// option's hosting capacity at its buses is measured too (a bisection per
/// bus and scenario, before the run).
pub fn run(
    args: &RunArgs,
    catalogue: &str,
    format: PlanFormat,
    hosting: Option<&FeederHosting>,
) -> Result<String> {
    let c = Catalogue::load(catalogue)?;
    let path = args.scenario.clone().unwrap_or_default();
    let (mut scenarios, source) = load_scenarios(&path, args.steps)?;
    for sc in &mut scenarios {
        sc.newton.tol = args.tol.unwrap_or(sc.newton.tol);
        sc.newton.max_iter = args.max_iter.unwrap_or(sc.newton.max_iter);
    }
    // Price first (a missing catalogue item fails before the long run).
    let empty = vec![RunSummary::new(); scenarios.len()];
    evaluate(&c, &scenarios, &empty, None)?;
    let hc = match hosting {
        Some(h) => Some(hosting_per_scenario(
            &path,
            &scenarios,
            h,
            args.steps,
            args.threads,
        )?),
        None => None,
    };
    let mut ranked = Vec::new();
    let summary = run_scenarios_then(&scenarios, args, &source, |w, sums| {
        ranked = evaluate(&c, &scenarios, sums, hc.as_deref())?;
        store(w, &c, &ranked)
    })?;
    let reference = scenarios
        .iter()
        .find(|s| s.is_reference)
        .map_or("", |s| s.name.as_str());
    Ok(match format {
        PlanFormat::Table => summary + &table(&c, reference, &ranked),
        PlanFormat::Csv => csv(&ranked),
        PlanFormat::Json => json(&c, reference, &ranked),
    })
}

/// Prices the options of a results file already written (e.g. merged from
/// shards) for the scenario file that produced it; nothing is run or
/// written.
pub fn price_results(
    scenario: &std::path::Path,
    results: &std::path::Path,
    catalogue: &str,
    format: PlanFormat,
    hosting: Option<(&FeederHosting, usize)>,
) -> Result<String> {
    let c = Catalogue::load(catalogue)?;
    let (scenarios, source) = load_scenarios(scenario, None)?;
    let file = crate::results::hdf5::open_results(results)?;
    let sha = file
        .attr("scenario_file_sha256")
        .and_then(|a| a.read_scalar::<hdf5::types::VarLenUnicode>())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    if sha != source.sha256 {
        return Err(crate::error::Error::Usage(format!(
            "{}: written from another scenario file than {} (SHA-256 differs)",
            results.display(),
            scenario.display()
        )));
    }
    let cmp = crate::results::compare::read(&[results.to_path_buf()], None)?;
    let sums = scenarios
        .iter()
        .map(|sc| {
            let s = cmp
                .scenarios
                .iter()
                .position(|n| *n == sc.name)
                .ok_or_else(|| {
                    crate::error::Error::Usage(format!(
                        "{}: no scenario '{}'",
                        results.display(),
                        sc.name
                    ))
                })?;
            let v = |k: &str| cmp.value(s, k);
            let mut r = RunSummary::new();
            r.kpis.steps = v("steps");
            r.kpis.loss_mwh = v("loss_mwh");
            r.kpis.curtailed_mwh = v("curtailed_mwh");
            r.kpis.co2_total_t = v("co2_total_t");
            r.kpis.hours_voltage_violation = v("hours_voltage_violation");
            r.kpis.hours_overload = v("hours_overload");
            Ok(r)
        })
        .collect::<Result<Vec<_>>>()?;
    let hc = match hosting {
        Some((h, threads)) => Some(hosting_per_scenario(
            scenario, &scenarios, h, None, threads,
        )?),
        None => None,
    };
    let ranked = evaluate(&c, &scenarios, &sums, hc.as_deref())?;
    let reference = scenarios
        .iter()
        .find(|s| s.is_reference)
        .map_or("", |s| s.name.as_str());
    Ok(match format {
        PlanFormat::Table => table(&c, reference, &ranked),
        PlanFormat::Csv => csv(&ranked),
        PlanFormat::Json => json(&c, reference, &ranked),
    })
}

/// `plan --auto`: reinforces scenario `variant` (default: the reference)
/// until no step has a violation; prints the measures taken and their cost.
pub fn auto(
    scenario: &std::path::Path,
    variant: Option<&str>,
    catalogue: &str,
    max_measures: usize,
    steps: Option<usize>,
) -> Result<String> {
    let c = Catalogue::load(catalogue)?;
    let (scenarios, _) = load_scenarios(scenario, steps)?;
    let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    let start = match variant {
        Some(v) => scenarios.iter().find(|s| s.name == v),
        None => scenarios.iter().find(|s| s.is_reference),
    }
    .ok_or_else(|| {
        crate::error::Error::Usage(format!(
            "{}: no scenario '{}' (scenarios: {})",
            scenario.display(),
            variant.unwrap_or(""),
            names.join(", ")
        ))
    })?;
    let lib = crate::network::native::line_types::LineTypeLibrary::builtin()?;
    let (_, taken, priced) = crate::results::reinforce::reinforce(start, &c, &lib, max_measures)?;
    let mut o = format!(
        "automatic reinforcement of '{}' ({} steps): {} measure(s) until no step has a violation\n",
        start.name,
        start.n_steps,
        taken.len()
    );
    for (i, t) in taken.iter().enumerate() {
        let _ = writeln!(o, "{:>3}. {t}", i + 1);
    }
    let _ = writeln!(o, "priced ({}, price basis {}):", c.currency, c.price_year);
    let r = c.discount_rate;
    for m in &priced {
        let _ = writeln!(o, "  {:<70} {:>14}", m.what, money(m.capex));
    }
    let capex: f64 = priced.iter().map(|m| m.capex).sum();
    let annual: f64 = priced
        .iter()
        .map(|m| m.capex * (crate::results::plan::crf(r, m.lifetime_years) + m.om_fraction))
        .sum();
    let _ = writeln!(
        o,
        "total capex {} {}; annualised capex + O&M {} {} per year",
        money(capex),
        c.currency,
        money(annual),
        c.currency
    );
    Ok(o)
}

/// A CSV number, empty when undefined.
fn finite(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

fn money(x: f64) -> String {
    crate::results::compare::fmt_num(x)
}

fn table(c: &Catalogue, reference: &str, res: &[OptionResult]) -> String {
    let mut o = format!(
        "\nupgrade options against '{reference}', ranked ({}, price basis {}; r = {} %, {} years; per year scaled from the period)\n",
        c.currency,
        c.price_year,
        money(c.discount_rate * 100.0),
        c.horizon_years
    );
    let hosting = res.first().and_then(|r| r.hosting_mw);
    if let Some((_, base)) = hosting {
        let _ = writeln!(
            o,
            "hosting capacity (HC): the smallest over the buses asked for; '{reference}' {} MW; per MW: annual cost per MW gained",
            money(base)
        );
    }
    let hc_head = if hosting.is_some() {
        format!(" {:>9} {:>12}", "HC MW", "per MW")
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "{:>4} {:<28} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10}{hc_head}",
        "rank", "option", "capex", "annual cost", "NPV cost", "ΔCO2 t/yr", "V h left", "OL h left"
    );
    for (i, r) in res.iter().enumerate() {
        let e = &r.economics;
        let hc = match r.hosting_mw {
            Some((mw, _)) => format!(
                " {:>9} {:>12}",
                money(mw),
                if r.cost_per_mw_hosting_gained.is_finite() {
                    money(r.cost_per_mw_hosting_gained)
                } else {
                    "–".into()
                }
            ),
            None => String::new(),
        };
        let _ = writeln!(
            o,
            "{:>4} {:<28} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10}{hc}",
            i + 1,
            r.name,
            money(e.capex),
            money(e.annual_cost),
            money(e.npv_cost),
            money(-e.co2_avoided_t_per_year),
            money(r.violation_hours_left.0),
            money(r.violation_hours_left.1)
        );
        for m in &r.measures {
            let _ = writeln!(o, "       - {} ({} {})", m.what, money(m.capex), c.currency);
        }
    }
    o
}

fn csv(res: &[OptionResult]) -> String {
    let mut o = String::from(
        "rank,option,capex,annualised_capex,om_per_year,losses_cost_per_year,curtailment_cost_per_year,co2_cost_per_year,annual_cost,npv_cost,voltage_hours_removed_per_year,overload_hours_removed_per_year,co2_avoided_t_per_year,voltage_hours_left_per_year,overload_hours_left_per_year,cost_per_violation_hour_removed,cost_per_t_co2_avoided,hosting_mw,reference_hosting_mw,cost_per_mw_hosting_gained,measures\n",
    );
    for (i, r) in res.iter().enumerate() {
        let e = &r.economics;
        let list: Vec<String> = r.measures.iter().map(|m| m.what.clone()).collect();
        let _ = writeln!(
            o,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            i + 1,
            csv_field(&r.name),
            e.capex,
            e.annualised_capex,
            e.om_per_year,
            e.losses_per_year,
            e.curtailment_per_year,
            e.co2_per_year,
            e.annual_cost,
            e.npv_cost,
            e.voltage_hours_removed,
            e.overload_hours_removed,
            e.co2_avoided_t_per_year,
            r.violation_hours_left.0,
            r.violation_hours_left.1,
            finite(e.cost_per_violation_hour_removed),
            finite(e.cost_per_t_co2_avoided),
            finite(r.hosting_mw.map_or(f64::NAN, |h| h.0)),
            finite(r.hosting_mw.map_or(f64::NAN, |h| h.1)),
            finite(r.cost_per_mw_hosting_gained),
            csv_field(&list.join("; "))
        );
    }
    o
}

fn json(c: &Catalogue, reference: &str, res: &[OptionResult]) -> String {
    let options: Vec<serde_json::Value> = res
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let e = &r.economics;
            serde_json::json!({
                "rank": i + 1,
                "option": r.name,
                "capex": e.capex,
                "annualised_capex": e.annualised_capex,
                "om_per_year": e.om_per_year,
                "losses_cost_per_year": e.losses_per_year,
                "curtailment_cost_per_year": e.curtailment_per_year,
                "co2_cost_per_year": e.co2_per_year,
                "annual_cost": e.annual_cost,
                "npv_cost": e.npv_cost,
                "voltage_hours_removed_per_year": e.voltage_hours_removed,
                "overload_hours_removed_per_year": e.overload_hours_removed,
                "co2_avoided_t_per_year": e.co2_avoided_t_per_year,
                "voltage_hours_left_per_year": r.violation_hours_left.0,
                "overload_hours_left_per_year": r.violation_hours_left.1,
                "cost_per_violation_hour_removed": e.cost_per_violation_hour_removed.is_finite().then_some(e.cost_per_violation_hour_removed),
                "cost_per_t_co2_avoided": e.cost_per_t_co2_avoided.is_finite().then_some(e.cost_per_t_co2_avoided),
                "hosting_mw": r.hosting_mw.map(|h| h.0),
                "reference_hosting_mw": r.hosting_mw.map(|h| h.1),
                "cost_per_mw_hosting_gained": r.cost_per_mw_hosting_gained.is_finite().then_some(r.cost_per_mw_hosting_gained),
                "measures": r.measures.iter().map(|m| serde_json::json!({
                    "what": m.what, "capex": m.capex, "lifetime_years": m.lifetime_years,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let v = serde_json::json!({
        "reference": reference,
        "currency": c.currency,
        "price_year": c.price_year,
        "cost_source": c.source,
        "discount_rate": c.discount_rate,
        "horizon_years": c.horizon_years,
        "options": options,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
