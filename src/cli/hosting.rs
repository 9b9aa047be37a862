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
    let res = hosting_capacity(&sc, &opts)?;
    let secs = t0.elapsed().as_secs_f64();
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
    let _ = writeln!(
        o,
        "{} buses, {runs} runs of the period ({} power flows), {secs:.2} s on {} thread{}",
        res.len(),
        runs * sc.n_steps,
        a.threads,
        if a.threads == 1 { "" } else { "s" }
    );
    o
}
