//! Hosting capacity: per bus, the largest PV or wind unit a scenario can
//! take with no violation over every step of its period.
//!
//! A candidate size S is checked by running the whole scenario with one
//! more unit of S MW at the bus (its availability per MW is the site's
//! weather, the same at every bus). It is acceptable when every step
//! converges and, for each criterion asked for, the run is no worse than
//! the limit: no bus above its upper voltage limit (`voltage`), no line or
//! transformer above 100 % loading (`thermal`), no export at the
//! substation (`reverse-flow`). Under-voltage is not a generation limit
//! and is not checked. A criterion the scenario already breaks without the
//! unit makes the bus's hosting capacity 0 ("base").
//!
//! A probe stops at the first group of blocks where a criterion breaks
//! (whether a size is acceptable does not depend on the steps after it);
//! the limit reported is that of a whole run of the smallest size that
//! breaks, so it is the same as when every probe ran its whole period.
//!
//! Bisection between 0 and `max_mw` until the bracket is no wider than
//! `resolution_mw`: the result is the largest size known acceptable, so
//! the true limit lies in [result, result + resolution). It assumes that a
//! larger unit never removes a violation a smaller one causes (true for
//! over-voltage, overload and export from one injection on a radial grid).
//! Buses run in parallel, each bisection on its own: results do not depend
//! on the number of threads.

use super::der::{Technology, Unit, UnitState};
use super::kpi::Kpis;
use super::rows::RowPrecision;
use super::runner::{run_scenario_until, Scenario};
use crate::error::{Error, Result};
use rayon::prelude::*;

/// What a hosting-capacity run checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Criteria {
    /// No bus above its upper voltage limit.
    pub voltage: bool,
    /// No branch above 100 % loading.
    pub thermal: bool,
    /// No export to the upstream grid.
    pub reverse_flow: bool,
}

/// The kind of unit hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostedKind {
    /// PV (inverter rated at the kWp).
    Pv,
    /// Wind.
    Wind,
}

/// Settings of a hosting-capacity run.
#[derive(Debug, Clone)]
pub struct HostingOptions {
    /// The kind of unit.
    pub kind: HostedKind,
    /// Availability of 1 MW of the kind per step (fraction of rating × 1 MW).
    pub availability_per_mw: Vec<f64>,
    /// Bus indices to evaluate.
    pub buses: Vec<usize>,
    /// Upper end of the search, MW.
    pub max_mw: f64,
    /// Width of the final bracket, MW.
    pub resolution_mw: f64,
    /// Criteria.
    pub criteria: Criteria,
    /// Worker threads.
    pub threads: usize,
}

/// The hosting capacity of one bus.
#[derive(Debug, Clone, PartialEq)]
pub struct BusHosting {
    /// Bus index.
    pub bus: usize,
    /// Largest size known acceptable, MW.
    pub hosting_mw: f64,
    /// What the next larger size breaks ("voltage", "thermal",
    /// "reverse flow", "not converged"; "base" when the scenario breaks a
    /// criterion without the unit; "none" when `max_mw` is acceptable).
    pub limit: &'static str,
    /// Scenario runs made for this bus (whole or stopped at a break).
    pub runs: usize,
    /// Steps those runs solved.
    pub steps: usize,
}

/// The first criterion a run breaks, if any.
fn broken(k: &Kpis, c: Criteria) -> Option<&'static str> {
    if k.steps_not_converged > 0.0 {
        Some("not converged")
    } else if c.voltage && k.hours_overvoltage > 0.0 {
        Some("voltage")
    } else if c.thermal && k.max_loading_percent > 100.0 {
        Some("thermal")
    } else if c.reverse_flow && k.export_mwh > 0.0 {
        Some("reverse flow")
    } else {
        None
    }
}

/// The scenario with one more unit of `size_mw` at `bus`.
fn with_unit(sc: &Scenario, o: &HostingOptions, bus: usize, size_mw: f64) -> Scenario {
    let avail = o.availability_per_mw.iter().map(|a| a * size_mw).collect();
    let (technology, state) = match o.kind {
        HostedKind::Pv => (
            Technology::Pv,
            UnitState::Pv {
                avail,
                s_mva: size_mw,
            },
        ),
        HostedKind::Wind => (Technology::Wind, UnitState::Wind { avail }),
    };
    let mut s = sc.clone();
    s.units.push(Unit {
        name: "hosting capacity probe".into(),
        technology,
        bus,
        fuel: None,
        state,
    });
    s.unit_accounting.push(Default::default());
    s
}

/// The criterion a run of `sc` breaks (None: acceptable) and the steps it
/// solved: all of them with `whole`, else up to the first group of blocks
/// where a criterion breaks (results are not kept).
fn probe(sc: &Scenario, c: Criteria, whole: bool) -> Result<(Option<&'static str>, usize)> {
    let stop = |s: &super::runner::RunSummary| !whole && broken(&s.kpis, c).is_some();
    let s = run_scenario_until(sc, RowPrecision::Discard, &stop, |_| Ok(()))?;
    Ok((broken(&s.kpis, c), s.steps))
}

/// The criterion a unit of `size_mw` at `bus` breaks over the period
/// (None: acceptable), from a whole run.
pub fn breaks(
    sc: &Scenario,
    o: &HostingOptions,
    bus: usize,
    size_mw: f64,
) -> Result<Option<&'static str>> {
    Ok(probe(&with_unit(sc, o, bus, size_mw), o.criteria, true)?.0)
}

/// Bisection at one bus; probes stop at their first break, and the
/// smallest size found to break is run whole for its limit.
fn bisect(sc: &Scenario, o: &HostingOptions, bus: usize) -> Result<BusHosting> {
    let (mut runs, mut steps) = (0, 0);
    // The criterion broken and whether the run covered the whole period.
    let mut check = |size: f64, whole: bool| -> Result<(Option<&'static str>, bool)> {
        let (b, n) = probe(&with_unit(sc, o, bus, size), o.criteria, whole)?;
        runs += 1;
        steps += n;
        Ok((b, n == sc.n_steps))
    };
    let hosting = |hosting_mw: f64, limit: &'static str, runs, steps| BusHosting {
        bus,
        hosting_mw,
        limit,
        runs,
        steps,
    };
    let mut hi_limit = match check(o.max_mw, false)? {
        (None, _) => return Ok(hosting(o.max_mw, "none", runs, steps)),
        (Some(l), whole) => whole.then_some(l),
    };
    let (mut lo, mut hi) = (0.0, o.max_mw);
    while hi - lo > o.resolution_mw {
        let mid = 0.5 * (lo + hi);
        match check(mid, false)? {
            (None, _) => lo = mid,
            (Some(l), whole) => (hi, hi_limit) = (mid, whole.then_some(l)),
        }
    }
    // A break found early is one; which criterion a whole run breaks first
    // (in `broken`'s order) may come later in the period.
    let limit = match hi_limit {
        Some(l) => l,
        None => check(hi, true)?.0.ok_or_else(|| {
            Error::Numerical(format!(
                "hosting capacity at bus {bus}: {hi} MW broke a criterion in part of the period but not over all of it"
            ))
        })?,
    };
    Ok(hosting(lo, limit, runs, steps))
}

/// Hosting capacity at every bus of `o.buses`; an error when the scenario
/// itself breaks a criterion is not raised: those buses get 0 MW with the
/// limit "base".
pub fn hosting_capacity(sc: &Scenario, o: &HostingOptions) -> Result<Vec<BusHosting>> {
    if !(o.max_mw > 0.0 && o.max_mw.is_finite()) {
        return Err(Error::Usage(format!(
            "--max-mw must be positive, found {}",
            o.max_mw
        )));
    }
    if !(o.resolution_mw > 0.0 && o.resolution_mw <= o.max_mw) {
        return Err(Error::Usage(format!(
            "--resolution-mw must be positive and at most --max-mw, found {}",
            o.resolution_mw
        )));
    }
    if o.availability_per_mw.len() != sc.n_steps {
        return Err(Error::Usage(
            "hosting capacity: the availability series does not cover the period".into(),
        ));
    }
    if let (Some(l), steps) = probe(sc, o.criteria, true)? {
        return Ok(o
            .buses
            .iter()
            .map(|&bus| BusHosting {
                bus,
                hosting_mw: 0.0,
                limit: if l == "not converged" { l } else { "base" },
                runs: 1,
                steps,
            })
            .collect());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.threads.max(1))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} threads: {e}", o.threads)))?;
    pool.install(|| o.buses.par_iter().map(|&b| bisect(sc, o, b)).collect())
}
