//! `gridsim hosting`: the hosting capacity of every bus over a scenario's period.

use crate::error::{Error, Result};
use crate::network::{BusKind, Network};
use crate::timeseries::hosting::{
    hosting_capacity, BusHosting, Criteria, HostedKind, HostingOptions,
};
use crate::timeseries::scenario::hosting_probe;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `gridsim hosting`.
#[derive(Debug, Clone)]
pub struct HostingArgs {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Which of its scenarios (default: the reference).
    pub variant: Option<String>,
    /// PV or wind.
    pub kind: HostedKind,
    /// Bus ids (numbers or native ids); empty: every in-service bus but the slack's.
    pub buses: Vec<String>,
    /// Upper end of the search, MW.
    pub max_mw: f64,
    /// Final bracket, MW.
    pub resolution_mw: f64,
    /// Criteria.
    pub criteria: Criteria,
    /// Steps (default: the scenario's).
    pub steps: Option<usize>,
    /// Worker threads.
    pub threads: usize,
    /// CSV instead of a table.
    pub csv: bool,
    /// Only this shard's buses (every N-th from K, in bus order).
    pub shard: Option<super::shard::Shard>,
    /// Also write the results to this HDF5 file.
    pub out: Option<PathBuf>,
    /// Also write an HTML page with the capacity along the feeder.
    pub report: Option<PathBuf>,
    /// Overwrite existing output files.
    pub force: bool,
}

/// Branches between each bus and the nearest source (breadth-first).
fn hops(net: &Network) -> Vec<usize> {
    let nb = net.buses.len();
    let mut d = vec![usize::MAX; nb];
    let mut queue: std::collections::VecDeque<usize> = (0..nb)
        .filter(|&i| net.buses[i].kind == BusKind::Ref)
        .collect();
    queue.iter().for_each(|&i| d[i] = 0);
    while let Some(b) = queue.pop_front() {
        for br in net.branches.iter().filter(|br| br.in_service) {
            let o = if br.from == b {
                br.to
            } else if br.to == b {
                br.from
            } else {
                continue;
            };
            if d[o] == usize::MAX {
                d[o] = d[b] + 1;
                queue.push_back(o);
            }
        }
    }
    d
}

/// The bus indices named (or every in-service non-slack bus).
fn bus_indices(net: &Network, names: &[String]) -> Result<Vec<usize>> {
    if names.is_empty() {
        return Ok((0..net.buses.len())
            .filter(|&i| matches!(net.buses[i].kind, BusKind::Pq | BusKind::Pv))
            .collect());
    }
    names
        .iter()
        .map(|n| {
            let r = match n.parse::<u64>() {
                Ok(k) => crate::network::BusRef::Number(k),
                Err(_) => crate::network::BusRef::Name(n.clone()),
            };
            net.find_bus(&r).ok_or_else(|| {
                Error::Usage(format!("--buses: no bus {n} in network '{}'", net.name))
            })
        })
        .collect()
}

/// Where and how `plan --hosting-buses` measures each option's hosting
/// capacity.
#[derive(Debug, Clone)]
pub struct FeederHosting {
    /// Bus ids (numbers or native ids).
    pub buses: Vec<String>,
    /// PV or wind.
    pub kind: HostedKind,
    /// Upper end of the search, MW.
    pub max_mw: f64,
    /// Final bracket, MW.
    pub resolution_mw: f64,
    /// Criteria.
    pub criteria: Criteria,
}

/// The hosting capacity of scenario `variant` of a scenario file at the
/// buses of `h`: the smallest over them (the size any of them can take),
/// MW.
pub fn feeder_hosting_mw(
    path: &std::path::Path,
    variant: &str,
    h: &FeederHosting,
    steps: Option<usize>,
    threads: usize,
) -> Result<f64> {
    let bytes = crate::input::read(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::parse(path, 1, "scenario file is not UTF-8"))?;
    let wind = h.kind == HostedKind::Wind;
    let (sc, avail) = hosting_probe(path, &text, Some(variant), wind, steps)?;
    let opts = HostingOptions {
        kind: h.kind,
        availability_per_mw: avail,
        buses: bus_indices(&sc.network, &h.buses)?,
        max_mw: h.max_mw,
        resolution_mw: h.resolution_mw,
        criteria: h.criteria,
        threads,
    };
    let res = hosting_capacity(&sc, &opts)?;
    Ok(res
        .iter()
        .map(|r| r.hosting_mw)
        .fold(f64::INFINITY, f64::min))
}

/// Runs `gridsim hosting`; returns what it prints.
pub fn run(a: &HostingArgs) -> Result<String> {
    let t0 = Instant::now();
    let bytes = crate::input::read(&a.scenario)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::parse(&a.scenario, 1, "scenario file is not UTF-8"))?;
    let wind = a.kind == HostedKind::Wind;
    let (sc, avail) = hosting_probe(&a.scenario, &text, a.variant.as_deref(), wind, a.steps)?;
    let mut buses = bus_indices(&sc.network, &a.buses)?;
    if let Some(s) = a.shard {
        buses = buses
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % s.count == s.index)
            .map(|(_, b)| b)
            .collect();
    }
    let opts = HostingOptions {
        kind: a.kind,
        availability_per_mw: avail,
        buses,
        max_mw: a.max_mw,
        resolution_mw: a.resolution_mw,
        criteria: a.criteria,
        threads: a.threads,
    };
    for p in [&a.out, &a.report].into_iter().flatten() {
        let kind = if p.extension().is_some_and(|e| e == "html") {
            crate::results::output::OutputKind::Report
        } else {
            crate::results::output::OutputKind::Results
        };
        crate::results::output::check(p, a.force, kind, &[&a.scenario])?;
    }
    let res = hosting_capacity(&sc, &opts)?;
    let secs = t0.elapsed().as_secs_f64();
    write_outputs(a, &sc, &res, &text)?;
    let label = |b: usize| {
        let bus = &sc.network.buses[b];
        bus.name.clone().unwrap_or_else(|| bus.id.to_string())
    };
    Ok(if a.csv {
        csv(&res, &sc.network, label)
    } else {
        table(&res, &sc, label, a, secs)
    })
}

/// `--out` (HDF5) and `--report` (HTML), when asked.
fn write_outputs(
    a: &HostingArgs,
    sc: &crate::timeseries::runner::Scenario,
    res: &[BusHosting],
    scenario_text: &str,
) -> Result<()> {
    let net = &sc.network;
    let label = |b: usize| {
        net.buses[b]
            .name
            .clone()
            .unwrap_or_else(|| net.buses[b].id.to_string())
    };
    let kind = match a.kind {
        HostedKind::Pv => "pv",
        HostedKind::Wind => "wind",
    };
    let c = a.criteria;
    let criteria: Vec<&str> = [
        (c.voltage, "voltage"),
        (c.thermal, "thermal"),
        (c.reverse_flow, "reverse-flow"),
    ]
    .into_iter()
    .filter_map(|(on, n)| on.then_some(n))
    .collect();
    let about = format!(
        "{kind} hosting capacity of scenario '{}' ({} steps of {} min), 0–{} MW to {} MW, criteria: {}",
        sc.name,
        sc.n_steps,
        sc.step_s / 60,
        a.max_mw,
        a.resolution_mw,
        criteria.join(", ")
    );
    if let Some(out) = &a.out {
        use crate::results::hosting_file::{write, HostingRow};
        let rows: Vec<HostingRow> = res
            .iter()
            .map(|r| HostingRow {
                id: label(r.bus),
                vn_kv: net.buses[r.bus].base_kv,
                hosting_mw: r.hosting_mw,
                limit: r.limit.to_string(),
                runs: r.runs as i64,
            })
            .collect();
        let attrs = [
            ("gridsim_version", env!("CARGO_PKG_VERSION").to_string()),
            ("hosting", about.clone()),
            ("scenario_file_text", scenario_text.to_string()),
        ];
        write(out, a.force, &attrs, &rows)?;
    }
    if let Some(page) = &a.report {
        use crate::results::report::{hosting_page, HostingBar};
        let d = hops(net);
        let bars: Vec<HostingBar> = res
            .iter()
            .map(|r| HostingBar {
                bus: label(r.bus),
                hops: d[r.bus],
                mw: r.hosting_mw,
                limit: r.limit.to_string(),
            })
            .collect();
        let html = hosting_page(
            &format!("{} — {}", sc.name, a.scenario.display()),
            &about,
            &bars,
        )?;
        crate::results::output::TempOutput::new(page, a.force)?.write_all(html.as_bytes())?;
    }
    Ok(())
}

fn csv(res: &[BusHosting], net: &Network, label: impl Fn(usize) -> String) -> String {
    let mut o = String::from("bus,vn_kv,hosting_mw,limit,runs\n");
    for r in res {
        let _ = writeln!(
            o,
            "{},{},{},{},{}",
            crate::results::compare::csv_field(&label(r.bus)),
            net.buses[r.bus].base_kv,
            r.hosting_mw,
            r.limit,
            r.runs
        );
    }
    o
}

fn table(
    res: &[BusHosting],
    sc: &crate::timeseries::runner::Scenario,
    label: impl Fn(usize) -> String,
    a: &HostingArgs,
    secs: f64,
) -> String {
    let kind = match a.kind {
        HostedKind::Pv => "PV",
        HostedKind::Wind => "wind",
    };
    let mut o = format!(
        "hosting capacity for {kind} in scenario '{}' ({} steps of {} min), 0–{} MW to {} MW\n",
        sc.name,
        sc.n_steps,
        sc.step_s / 60,
        a.max_mw,
        a.resolution_mw
    );
    let _ = writeln!(
        o,
        "{:<24} {:>8} {:>12}  {:<14} {:>5}",
        "bus", "kV", "MW", "limit", "runs"
    );
    for r in res {
        let _ = writeln!(
            o,
            "{:<24} {:>8} {:>12.4}  {:<14} {:>5}",
            label(r.bus),
            sc.network.buses[r.bus].base_kv,
            r.hosting_mw,
            r.limit,
            r.runs
        );
    }
    let runs: usize = res.iter().map(|r| r.runs).sum();
    let steps: usize = res.iter().map(|r| r.steps).sum();
    let _ = writeln!(
        o,
        "{} buses, {runs} runs of the period, whole or to the first break ({steps} power flows), {secs:.2} s on {} thread{}",
        res.len(),
        a.threads,
        if a.threads == 1 { "" } else { "s" }
    );
    o
}
