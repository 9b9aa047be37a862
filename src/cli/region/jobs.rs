//! The work of a region: one KPI-only run per archetype, distinct scenario
//! and driver level, and one hosting-capacity search per distinct scenario
//! of an archetype that names buses. Jobs are named; a shard computes its
//! share (the cost-balanced split of `cli::shard`) into a JSON file, and
//! the files of all shards together stand in for computing them.

use super::{distinct, feeder_year, has_pv, region_run, Archetype};
use crate::cli::hosting::{feeder_hosting_mw, FeederHosting};
use crate::cli::shard::{assign, cost, Shard};
use crate::error::{Error, Result};
use crate::results::region::model::{driver_span, levels, FeederYear, Surface};
use crate::results::region::spec::RegionSpec;
use crate::timeseries::growth::Growth;
use crate::timeseries::hosting::{Criteria, HostedKind};
use crate::timeseries::rows::RowPrecision;
use crate::timeseries::runner::{run_parallel, Scenario};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The driver levels one archetype runs at.
struct Shape {
    scenarios: usize,
    load: Vec<f64>,
    pv: Vec<f64>,
}

/// A hosting-capacity search.
struct HostingJob {
    key: String,
    path: PathBuf,
    variant: String,
    buses: Vec<String>,
    /// Cost estimate (about 12 runs of the scenario).
    cost: f64,
}

/// A run: distinct scenario `scenario` of archetype `arch`, grown.
struct RunJob {
    name: String,
    arch: usize,
    scenario: usize,
    growth: Growth,
    cost: f64,
}

/// Every job of a region, in a fixed order: runs, then hosting searches.
pub struct Jobs {
    runs: Vec<RunJob>,
    shapes: Vec<Shape>,
    hosting: Vec<HostingJob>,
}

/// What jobs gave, by job name; `fingerprint` ties it to the inputs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Computed {
    /// SHA-256 over the region file, the archetypes' scenario files and
    /// the step count.
    pub fingerprint: String,
    /// Annualised feeder figures by run name.
    pub runs: BTreeMap<String, FeederYear>,
    /// Hosting capacity, MW, by search name.
    pub hosting: BTreeMap<String, f64>,
}

/// A run's estimated cost: steps × buses, four times that for a scenario
/// that runs step by step on one thread (controllers, voltage-reading storage).
fn run_cost(sc: &Scenario) -> f64 {
    let serial = if sc.runs_in_lanes() { 1.0 } else { 4.0 };
    serial * cost(sc)
}

fn hosting_key(arch: &str, variant: &str) -> String {
    format!("{arch} / {variant} / hosting capacity")
}

/// The jobs of `spec` over its loaded archetypes.
pub fn plan(spec: &RegionSpec, archetypes: &[Archetype]) -> Result<Jobs> {
    let (l_lo, l_hi) = driver_span(spec, &spec.trajectory.load_factor);
    let (p_lo, p_hi) = driver_span(spec, &spec.trajectory.pv_factor);
    let mut jobs = Jobs {
        runs: Vec::new(),
        shapes: Vec::new(),
        hosting: Vec::new(),
    };
    for (i, (a, arch)) in spec.archetype.iter().zip(archetypes).enumerate() {
        let (list, _) = distinct(arch);
        let load = levels(l_lo, l_hi);
        let pv = match list.iter().any(|s| has_pv(s)) {
            true => levels(p_lo, p_hi),
            false => vec![1.0],
        };
        for (k, sc) in list.iter().enumerate() {
            for &l in &load {
                for &p in &pv {
                    let growth = Growth {
                        load_factor: l,
                        pv_factor: p,
                    };
                    growth.check(&format!("archetype '{}'", a.name))?;
                    jobs.runs.push(RunJob {
                        name: format!("{} / {} / load × {l} / PV × {p}", a.name, sc.name),
                        arch: i,
                        scenario: k,
                        growth,
                        cost: run_cost(sc),
                    });
                }
            }
            if !a.hosting_buses.is_empty() {
                jobs.hosting.push(HostingJob {
                    key: hosting_key(&a.name, &sc.name),
                    path: arch.path.clone(),
                    variant: sc.name.clone(),
                    buses: a.hosting_buses.clone(),
                    cost: 12.0 * cost(sc),
                });
            }
        }
        jobs.shapes.push(Shape {
            scenarios: list.len(),
            load,
            pv,
        });
    }
    Ok(jobs)
}

impl Jobs {
    /// Which jobs shard `s` computes (runs first, then hosting searches).
    pub fn owned_by(&self, s: Shard) -> Vec<bool> {
        let costs: Vec<f64> = self
            .runs
            .iter()
            .map(|r| r.cost)
            .chain(self.hosting.iter().map(|h| h.cost))
            .collect();
        assign(&costs, s.count)
            .into_iter()
            .map(|k| k == s.index)
            .collect()
    }

    /// Computes the jobs marked in `owned` (all when None). The runs go
    /// longest first in batches of 8 per thread, each grown scenario made just before
    /// its batch, so that memory does not grow with the number of runs.
    pub fn compute(
        &self,
        archetypes: &[Archetype],
        owned: Option<&[bool]>,
        fingerprint: &str,
        (steps, threads): (Option<usize>, usize),
    ) -> Result<Computed> {
        let mine = |i: usize| owned.is_none_or(|o| o[i]);
        // Longest first, so that a batch does not end on one long run.
        let mut todo: Vec<&RunJob> = (0..self.runs.len())
            .filter(|&i| mine(i))
            .map(|i| &self.runs[i])
            .collect();
        todo.sort_by(|a, b| b.cost.total_cmp(&a.cost));
        let mut out = Computed {
            fingerprint: fingerprint.to_string(),
            ..Default::default()
        };
        for batch in todo.chunks(16 * threads.max(1)) {
            let runs = batch
                .iter()
                .map(|r| {
                    let (list, _) = distinct(&archetypes[r.arch]);
                    region_run(list[r.scenario], r.growth, r.name.clone())
                })
                .collect::<Result<Vec<Scenario>>>()?;
            let sums = run_parallel(&runs, threads, RowPrecision::Discard, |_, _| Ok(()))?;
            for (sc, s) in runs.iter().zip(&sums) {
                out.runs
                    .insert(sc.name.clone(), feeder_year(&s.kpis, sc, &sc.name)?);
            }
        }
        for (k, h) in self.hosting.iter().enumerate() {
            if mine(self.runs.len() + k) {
                out.hosting
                    .insert(h.key.clone(), search(h, steps, threads)?);
            }
        }
        Ok(out)
    }

    /// Each archetype's surfaces (per distinct scenario) from `c`.
    pub fn surfaces(&self, c: &Computed) -> Result<Vec<Vec<Surface>>> {
        let mut k = 0;
        let mut out = Vec::new();
        for shape in &self.shapes {
            let mut per = Vec::new();
            for _ in 0..shape.scenarios {
                let mut values = Vec::new();
                for _ in 0..shape.load.len() * shape.pv.len() {
                    let name = &self.runs[k].name;
                    values.push(*c.runs.get(name).ok_or_else(|| missing(name))?);
                    k += 1;
                }
                per.push(Surface {
                    load_levels: shape.load.clone(),
                    pv_levels: shape.pv.clone(),
                    values,
                });
            }
            out.push(per);
        }
        Ok(out)
    }

    /// Hosting capacity of each distinct scenario of archetype `a` (None
    /// when it names no buses).
    pub fn hosting_of(
        &self,
        c: &Computed,
        a: &str,
        scenarios: &[&Scenario],
    ) -> Result<Option<Vec<f64>>> {
        if !self
            .hosting
            .iter()
            .any(|h| h.key.starts_with(&format!("{a} / ")))
        {
            return Ok(None);
        }
        scenarios
            .iter()
            .map(|sc| {
                let key = hosting_key(a, &sc.name);
                c.hosting.get(&key).copied().ok_or_else(|| missing(&key))
            })
            .collect::<Result<Vec<f64>>>()
            .map(Some)
    }

    /// Every job's name.
    fn names(&self) -> Vec<&str> {
        let runs = self.runs.iter().map(|s| s.name.as_str());
        runs.chain(self.hosting.iter().map(|h| h.key.as_str()))
            .collect()
    }

    /// Joins the shard files written for these jobs: each for the same
    /// inputs, no job twice, none unknown, none missing.
    pub fn join(&self, files: &[PathBuf], fingerprint: &str) -> Result<Computed> {
        let mut all = Computed {
            fingerprint: fingerprint.to_string(),
            ..Default::default()
        };
        for f in files {
            let text = crate::input::read_text(f)?;
            let c: Computed = serde_json::from_str(&text)
                .map_err(|e| Error::parse(f, e.line(), format!("not a region runs file: {e}")))?;
            if c.fingerprint != fingerprint {
                return Err(Error::Usage(format!(
                    "{}: written for other inputs (the region file, its scenario files or --steps differ)",
                    f.display()
                )));
            }
            let twice =
                |k: &String| Error::Usage(format!("{}: job '{k}' is in two files", f.display()));
            for (k, v) in c.runs {
                if all.runs.insert(k.clone(), v).is_some() {
                    return Err(twice(&k));
                }
            }
            for (k, v) in c.hosting {
                if all.hosting.insert(k.clone(), v).is_some() {
                    return Err(twice(&k));
                }
            }
        }
        let names = self.names();
        let known = |k: &String| names.contains(&k.as_str());
        if let Some(k) = all
            .runs
            .keys()
            .chain(all.hosting.keys())
            .find(|k| !known(k))
        {
            return Err(Error::Usage(format!("runs files: unknown job '{k}'")));
        }
        let have = |n: &&str| all.runs.contains_key(*n) || all.hosting.contains_key(*n);
        if let Some(n) = names.iter().find(|n| !have(n)) {
            return Err(missing(n));
        }
        Ok(all)
    }
}

fn missing(name: &str) -> Error {
    Error::Usage(format!(
        "runs files: job '{name}' is missing (a shard failed or was not given)"
    ))
}

/// One hosting-capacity search: PV, voltage and thermal limits, up to 10 MW.
fn search(h: &HostingJob, steps: Option<usize>, threads: usize) -> Result<f64> {
    let fh = FeederHosting {
        buses: h.buses.clone(),
        kind: HostedKind::Pv,
        max_mw: 10.0,
        resolution_mw: 0.01,
        criteria: Criteria {
            voltage: true,
            thermal: true,
            reverse_flow: false,
        },
    };
    feeder_hosting_mw(&h.path, &h.variant, &fh, steps, threads)
        .map_err(|e| Error::Usage(format!("{}: {e}", h.key)))
}

/// The fingerprint of a region's inputs: SHA-256 over the region file,
/// each archetype's scenario file and the step count.
pub fn fingerprint(
    region: &Path,
    archetypes: &[Archetype],
    steps: Option<usize>,
) -> Result<String> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(crate::input::read(region)?);
    for a in archetypes {
        h.update(crate::input::read(&a.path)?);
    }
    h.update(format!("steps={steps:?}"));
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
