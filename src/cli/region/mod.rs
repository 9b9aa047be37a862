//! `gridsim region`: from representative feeders to a region. Each
//! archetype's reference and options run (KPIs only, no series) at the
//! driver levels the region's trajectories span, the options are priced
//! with the catalogue, hosting capacity is measured where asked, and the
//! region is sampled (`results::region::model`).

mod jobs;

use super::shard::Shard;
use crate::error::{Error, Result};
use crate::results::output::{self, OutputKind, TempOutput};
use crate::results::plan::{measures, Catalogue};
use crate::results::region::model::{simulate, ArchetypeModel, FeederYear, OptionModel};
use crate::results::region::spec::RegionSpec;
use crate::results::region::{report, xlsx, RegionResult};
use crate::timeseries::der::UnitState;
use crate::timeseries::growth::{grown, Growth};
use crate::timeseries::kpi::Kpis;
use crate::timeseries::runner::Scenario;
use crate::timeseries::scenario::load_scenarios;
use std::path::{Path, PathBuf};

/// What `gridsim region` was asked.
#[derive(Debug, Clone, Default)]
pub struct RegionArgs {
    /// The region file.
    pub region: PathBuf,
    /// Steps of each archetype run (default: the scenario's own).
    pub steps: Option<usize>,
    /// Worker threads.
    pub threads: usize,
    /// Samples (overrides the file's).
    pub samples: Option<usize>,
    /// Seed (overrides the file's).
    pub seed: Option<u64>,
    /// Print CSV or JSON instead of the summary.
    pub format: RegionFormat,
    /// Write the long CSV here.
    pub csv: Option<PathBuf>,
    /// Write the Excel workbook here.
    pub xlsx: Option<PathBuf>,
    /// Write the HTML page here.
    pub html: Option<PathBuf>,
    /// Replace existing outputs.
    pub force: bool,
    /// Compute only this shard's jobs (else the Slurm or Kubernetes
    /// environment's, else all) into `runs_out`'s shard file.
    pub shard: Option<Shard>,
    /// Write the computed jobs here (with the shard's name) instead of sizing.
    pub runs_out: Option<PathBuf>,
    /// Size from these shard files instead of computing.
    pub runs: Vec<PathBuf>,
}

/// What `gridsim region` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RegionFormat {
    /// The summary table.
    #[default]
    Table,
    /// The long CSV.
    Csv,
    /// JSON.
    Json,
}

/// One archetype's scenarios: the reference and, per programme, the
/// variant it takes (None: not covered).
struct Archetype {
    path: PathBuf,
    reference: Scenario,
    options: Vec<Option<Scenario>>,
}

fn load_archetypes(spec: &RegionSpec, dir: &Path, steps: Option<usize>) -> Result<Vec<Archetype>> {
    let mut out = Vec::new();
    for a in &spec.archetype {
        let path = dir.join(&a.scenario);
        let (scenarios, _) = load_scenarios(&path, steps)
            .map_err(|e| Error::Usage(format!("archetype '{}': {e}", a.name)))?;
        let reference = scenarios
            .iter()
            .find(|s| s.is_reference)
            .unwrap_or(&scenarios[0])
            .clone();
        let mut options = Vec::new();
        for p in &spec.programme {
            if !p.covers(&a.name) {
                options.push(None);
                continue;
            }
            let sc = match p.options.get(&a.name) {
                None => reference.clone(),
                Some(v) => scenarios
                    .iter()
                    .find(|s| &s.name == v)
                    .cloned()
                    .ok_or_else(|| {
                        let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
                        Error::Usage(format!(
                            "programme '{}': archetype '{}': {} has no variant '{v}' (it has: {})",
                            p.name,
                            a.name,
                            path.display(),
                            names.join(", ")
                        ))
                    })?,
            };
            options.push(Some(sc));
        }
        out.push(Archetype {
            path,
            reference,
            options,
        });
    }
    Ok(out)
}

/// A scenario as the region runs it: grown, its grid electricity counted
/// at 1 t/MWh (so that `co2_grid_t` is the grid energy the year's factor
/// multiplies), named uniquely.
fn region_run(sc: &Scenario, g: Growth, name: String) -> Result<Scenario> {
    let mut s = grown(sc, g)?;
    s.name = name;
    s.emissions.grid_t_per_mwh = 1.0;
    s.emissions.grid_profile = None;
    s.emissions.given = true;
    Ok(s)
}

fn has_pv(sc: &Scenario) -> bool {
    sc.units
        .iter()
        .any(|u| matches!(u.state, UnitState::Pv { .. }))
}

/// The annualised feeder figures of one run.
fn feeder_year(k: &Kpis, sc: &Scenario, what: &str) -> Result<FeederYear> {
    if k.steps_not_converged > 0.0 {
        return Err(Error::Numerical(format!(
            "{what}: {} of {} steps did not converge; the region cannot be sized from it",
            k.steps_not_converged, sc.n_steps
        )));
    }
    let year = 8760.0 * 3600.0 / (sc.n_steps as f64 * sc.step_s as f64);
    Ok(FeederYear {
        served_mwh: k.energy_served_mwh * year,
        loss_mwh: k.loss_mwh * year,
        grid_mwh: k.co2_grid_t * year,
        fuel_co2_t: (k.co2_chp_t + k.co2_boiler_t) * year,
        voltage_violation_h: k.hours_voltage_violation * year,
        overload_h: k.hours_overload * year,
        curtailed_mwh: k.curtailed_mwh * year,
    })
}

/// The distinct scenarios of an archetype (reference first) and, per
/// programme, the index of its scenario among them.
fn distinct(a: &Archetype) -> (Vec<&Scenario>, Vec<Option<usize>>) {
    let mut list = vec![&a.reference];
    let mut index = Vec::new();
    for o in &a.options {
        index.push(
            o.as_ref()
                .map(|sc| match list.iter().position(|s| s.name == sc.name) {
                    Some(i) => i,
                    None => {
                        list.push(sc);
                        list.len() - 1
                    }
                }),
        );
    }
    (list, index)
}

/// Every archetype's model from the computed jobs: surfaces, priced
/// options, hosting capacity.
fn models(
    spec: &RegionSpec,
    c: &Catalogue,
    archetypes: &[Archetype],
    jobs: &jobs::Jobs,
    done: &jobs::Computed,
) -> Result<Vec<ArchetypeModel>> {
    let surf = jobs.surfaces(done)?;
    let mut out = Vec::new();
    for ((a, arch), surf) in spec.archetype.iter().zip(archetypes).zip(surf) {
        let (list, index) = distinct(arch);
        let host = jobs.hosting_of(done, &a.name, &list)?;
        let mut options = Vec::new();
        for (opt, i) in arch.options.iter().zip(index) {
            let (Some(sc), Some(i)) = (opt, i) else {
                options.push(None);
                continue;
            };
            let m = measures(c, &arch.reference, sc).map_err(|e| {
                Error::Usage(format!("archetype '{}', option '{}': {e}", a.name, sc.name))
            })?;
            let mut capex: Vec<(String, f64)> = Vec::new();
            for x in &m {
                match capex.iter_mut().find(|c| c.0 == x.category) {
                    Some(c) => c.1 += x.capex,
                    None => capex.push((x.category.to_string(), x.capex)),
                }
            }
            options.push(Some(OptionModel {
                variant: if i == 0 {
                    String::new()
                } else {
                    sc.name.clone()
                },
                surface: surf[i].clone(),
                capex,
                measures: m.iter().map(|x| x.what.clone()).collect(),
                hosting_mw: host.as_ref().map(|h| h[i]),
            }));
        }
        out.push(ArchetypeModel {
            reference: surf[0].clone(),
            reference_hosting_mw: host.as_ref().map(|h| h[0]),
            options,
        });
    }
    Ok(out)
}

/// The catalogue a region names: shipped, or a file beside the region file.
fn catalogue(name: &str, dir: &Path) -> Result<Catalogue> {
    if name == "eu" || name == "us" {
        return Catalogue::load(name);
    }
    Catalogue::load(&dir.join(name).to_string_lossy())
}

/// A region file with its catalogue, archetypes and jobs.
struct Loaded {
    spec: RegionSpec,
    catalogue: Catalogue,
    archetypes: Vec<Archetype>,
    jobs: jobs::Jobs,
    fingerprint: String,
}

fn load(args: &RegionArgs) -> Result<Loaded> {
    let mut spec = RegionSpec::load(&args.region)?;
    spec.samples = args.samples.unwrap_or(spec.samples);
    spec.seed = args.seed.unwrap_or(spec.seed);
    // The command line's samples and seed are checked like the file's.
    spec.check()
        .map_err(|e| Error::Usage(format!("{} (with --samples): {e}", args.region.display())))?;
    let dir = args.region.parent().unwrap_or(Path::new(".")).to_path_buf();
    let catalogue = catalogue(&spec.catalogue, &dir)?;
    let archetypes = load_archetypes(&spec, &dir, args.steps)?;
    let jobs = jobs::plan(&spec, &archetypes)?;
    let fingerprint = jobs::fingerprint(&args.region, &archetypes, args.steps)?;
    Ok(Loaded {
        spec,
        catalogue,
        archetypes,
        jobs,
        fingerprint,
    })
}

/// Sizes the region (computing every job, or joining the shards' files
/// of `args.runs`); nothing is written.
pub fn size(args: &RegionArgs) -> Result<RegionResult> {
    let l = load(args)?;
    let done = if args.runs.is_empty() {
        let at = (args.steps, args.threads);
        l.jobs.compute(&l.archetypes, None, &l.fingerprint, at)?
    } else {
        l.jobs.join(&args.runs, &l.fingerprint)?
    };
    let c = &l.catalogue;
    let models = models(&l.spec, c, &l.archetypes, &l.jobs, &done)?;
    let outcome = simulate(&l.spec, &models, &c.currency);
    Ok(RegionResult {
        spec: l.spec,
        models,
        outcome,
        currency: c.currency.clone(),
        price_year: c.price_year.clone(),
        cost_source: c.source.clone(),
    })
}

/// Computes shard `shard`'s jobs into `out` (its shard name beside it,
/// `NAME.shard-K-of-N.json`); returns what it prints.
fn run_shard(args: &RegionArgs, shard: Shard, out: &Path) -> Result<String> {
    let path = shard.path(out).with_extension("json");
    output::check(
        &path,
        args.force,
        OutputKind::RegionRuns,
        &[args.region.as_path()],
    )?;
    let l = load(args)?;
    let owned = l.jobs.owned_by(shard);
    let at = (args.steps, args.threads);
    let done = l
        .jobs
        .compute(&l.archetypes, Some(&owned), &l.fingerprint, at)?;
    let text = serde_json::to_string(&done)
        .map_err(|e| Error::Usage(format!("cannot write the runs: {e}")))?;
    TempOutput::new(&path, args.force)?.write_all(text.as_bytes())?;
    Ok(format!(
        "wrote {} (shard {} of {}: {} runs, {} hosting searches)\n",
        path.display(),
        shard.index,
        shard.count,
        done.runs.len(),
        done.hosting.len()
    ))
}

/// Runs `gridsim region`: checks the outputs first, sizes the region,
/// writes the files asked for; returns what it prints.
pub fn run(args: &RegionArgs) -> Result<String> {
    if let Some(out) = &args.runs_out {
        let shard = match args.shard {
            Some(s) => s,
            None => Shard::from_env()?.unwrap_or(Shard { index: 0, count: 1 }),
        };
        return run_shard(args, shard, out);
    }
    let inputs = [args.region.as_path()];
    let outs = [
        (&args.csv, OutputKind::RegionCsv),
        (&args.xlsx, OutputKind::Workbook),
        (&args.html, OutputKind::Report),
    ];
    for (path, kind) in &outs {
        if let Some(p) = path {
            output::check(p, args.force, *kind, &inputs)?;
        }
    }
    let r = size(args)?;
    if let Some(p) = &args.csv {
        TempOutput::new(p, args.force)?.write_all(r.to_csv().as_bytes())?;
    }
    if let Some(p) = &args.xlsx {
        TempOutput::new(p, args.force)?.write_all(&xlsx::workbook(&r)?)?;
    }
    if let Some(p) = &args.html {
        TempOutput::new(p, args.force)?.write_all(report::page(&r)?.as_bytes())?;
    }
    Ok(match args.format {
        RegionFormat::Table => r.to_table(),
        RegionFormat::Csv => r.to_csv(),
        RegionFormat::Json => r.to_json(),
    })
}
