//! `gridsim run`: time-series scenarios into an HDF5 results file.

use super::progress::Progress;
use crate::error::{Error, Result};
use crate::results::hdf5::StorageOptions;
use crate::results::hdf5::{ResultsWriter, RunMeta, ScenarioHeader};
use crate::results::output::{check, OutputKind, TempOutput};
use crate::solver::NewtonOptions;
use crate::timeseries::elements::read_elements;
use crate::timeseries::profiles::read_beside_profiles;
use crate::timeseries::runner::{run_parallel_with, Layout, RunSummary, Scenario};
use crate::timeseries::scenario::{load_scenarios, parse_scenarios, ScenarioSource};
use crate::timeseries::time::Timestamp;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `gridsim run`.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// Scenario file.
    pub scenario: Option<PathBuf>,
    /// Network file (quick path).
    pub network: Option<PathBuf>,
    /// Element table CSV (quick path).
    pub elements: Option<PathBuf>,
    /// Profile CSV (quick path).
    pub profiles: Option<PathBuf>,
    /// Number of steps (all profile rows when `None`).
    pub steps: Option<usize>,
    /// Output HDF5 file.
    pub out: PathBuf,
    /// Worker threads.
    pub threads: usize,
    /// No progress bar.
    pub quiet: bool,
    /// Overwrite an existing output.
    pub force: bool,
    /// Solver tolerance, p.u. (None: the scenario's, or the default).
    pub tol: Option<f64>,
    /// Newton iterations (None: the scenario's, or the default).
    pub max_iter: Option<usize>,
    /// The command line, stored in the file.
    pub command_line: String,
    /// Float type and filter of the stored time series.
    pub storage: StorageOptions,
    /// Where to write the machine-readable run summary (JSON).
    pub summary_json: Option<PathBuf>,
    /// Run only this shard's scenarios (into its own file).
    pub shard: Option<super::shard::Shard>,
}

/// Runs what the arguments say: a scenario file or the quick path.
pub fn run(args: &RunArgs) -> Result<String> {
    let t0 = Instant::now();
    let (scenarios, source) = match &args.scenario {
        Some(path) => load_scenarios(path, args.steps)?,
        None => (vec![quick_scenario(args)?], ScenarioSource::default()),
    };
    run_loaded(scenarios, source, args, t0)
}

/// Runs the scenarios of scenario-file text (e.g. a Python dict turned
/// into TOML); `path` names it in messages and is where its relative paths
/// start; `args.scenario` is not read.
pub fn run_text(path: &std::path::Path, text: &str, args: &RunArgs) -> Result<String> {
    let t0 = Instant::now();
    let scenarios = parse_scenarios(path, text, args.steps)?;
    run_loaded(
        scenarios,
        ScenarioSource::of_text(text.to_string()),
        args,
        t0,
    )
}

/// Applies the solver overrides and runs (one shard, or all).
fn run_loaded(
    mut scenarios: Vec<Scenario>,
    source: ScenarioSource,
    args: &RunArgs,
    t0: Instant,
) -> Result<String> {
    for sc in &mut scenarios {
        sc.newton.tol = args.tol.unwrap_or(sc.newton.tol);
        sc.newton.max_iter = args.max_iter.unwrap_or(sc.newton.max_iter);
    }
    let read_s = t0.elapsed().as_secs_f64();
    if let Some(shard) = args.shard {
        let mut o = run_shard(scenarios, args, &source, shard)?;
        o.push_str(&format!("inputs read in {read_s:.3} s\n"));
        return Ok(o);
    }
    let mut o = run_scenarios(&scenarios, args, &source)?;
    o.push_str(&format!("inputs read in {read_s:.3} s\n"));
    Ok(o)
}

/// Builds the single `default` scenario of the quick path.
pub fn quick_scenario(args: &RunArgs) -> Result<Scenario> {
    let (Some(network), Some(elements), Some(profiles)) =
        (&args.network, &args.elements, &args.profiles)
    else {
        return Err(Error::Usage(
            "gridsim run needs a scenario file, or --network, --elements and --profiles".into(),
        ));
    };
    let profiles_path = profiles;
    let (net, profiles) =
        read_beside_profiles(|| super::load_network(network), Some(profiles_path))?;
    let profiles = profiles.expect("a path was given");
    let elements = read_elements(elements, &net, &profiles)?;
    let n_steps = match args.steps {
        Some(0) => return Err(Error::Usage("--steps must be at least 1".into())),
        Some(k) if k > profiles.n_steps => {
            return Err(Error::Usage(format!(
                "--steps {k}: {} has only {} rows",
                profiles_path.display(),
                profiles.n_steps
            )))
        }
        Some(k) => k,
        None => profiles.n_steps,
    };
    let start = profiles.first_time.unwrap_or(Timestamp(0));
    let step_s = profiles.label_step_s.ok_or_else(|| {
        Error::Usage(format!(
            "{}: one time label does not tell the step; use a scenario file with period.step_minutes",
            profiles_path.display()
        ))
    })?;
    Ok(Scenario::basic(
        "default",
        Arc::new(net),
        Arc::new(elements),
        Arc::new(profiles),
        start,
        step_s,
        n_steps,
        NewtonOptions::default(),
    ))
}

/// Runs scenarios into `out`; returns a printable summary.
pub fn run_scenarios(
    scenarios: &[Scenario],
    args: &RunArgs,
    source: &ScenarioSource,
) -> Result<String> {
    if scenarios.is_empty() {
        return Err(Error::Usage("no scenario to run".into()));
    }
    run_scenarios_then(scenarios, args, source, |_, _| Ok(()))
}

/// Runs shard `shard`'s part of `scenarios` into its own file (possibly
/// none of them), with what `gridsim merge` checks: the shard, the run's
/// fingerprint (inputs, options, version, the whole scenario list) and the
/// scenarios of the whole run and of this shard.
fn run_shard(
    scenarios: Vec<Scenario>,
    args: &RunArgs,
    source: &ScenarioSource,
    shard: super::shard::Shard,
) -> Result<String> {
    use sha2::Digest;
    let all: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    let costs: Vec<f64> = scenarios.iter().map(super::shard::cost).collect();
    let owner = super::shard::assign(&costs, shard.count);
    let mine: Vec<Scenario> = scenarios
        .into_iter()
        .zip(&owner)
        .filter(|(_, &k)| k == shard.index)
        .map(|(s, _)| s)
        .collect();
    let names: Vec<String> = mine.iter().map(|s| s.name.clone()).collect();
    let fingerprint = {
        let text = format!(
            "{}\n{}\n{:?}\n{:?}\n{:?}\n{}\n{}\n{}\n{}",
            source.sha256,
            env!("CARGO_PKG_VERSION"),
            args.steps,
            args.tol,
            args.max_iter,
            args.storage.precision_name(),
            args.storage.compression,
            args.storage.series,
            shard.count
        ) + &all.join("\n");
        let d = sha2::Sha256::digest(text.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let mut a = args.clone();
    a.out = shard.path(&args.out);
    let o = run_scenarios_then(&mine, &a, source, |w, _| {
        w.root_counts(&[
            ("shard_index", shard.index as i64),
            ("shard_count", shard.count as i64),
        ])?;
        w.text_attrs(
            "",
            "",
            &[
                ("shard_fingerprint", &fingerprint),
                ("shard_all_scenarios", &all.join("\n")),
                ("shard_scenarios", &names.join("\n")),
            ],
        )
    })?;
    Ok(format!(
        "shard {} of {} ({} of {} scenarios): {}",
        shard.index,
        shard.count,
        mine.len(),
        all.len(),
        o
    ))
}

/// [`run_scenarios`], calling `more` with the open writer and the
/// scenarios' summaries before the file is closed (e.g. to add a plan).
pub fn run_scenarios_then(
    scenarios: &[Scenario],
    args: &RunArgs,
    source: &ScenarioSource,
    more: impl FnOnce(&ResultsWriter, &[RunSummary]) -> Result<()>,
) -> Result<String> {
    let meta = RunMeta {
        command_line: args.command_line.clone(),
        scenario_file_sha256: source.sha256.clone(),
        scenario_file_text: source.text.clone(),
    };
    ResultsWriter::check_output(&args.out, args.force)?;
    if let Some(p) = &args.summary_json {
        check(p, args.force, OutputKind::Summary, &[&args.out])?;
    }
    let total: u64 = scenarios.iter().map(|s| s.n_steps as u64).sum();
    let mut progress = Progress::new(total, args.quiet);
    // Timed from here: workers started, results file created (while the
    // first steps are solved), every step solved and written, file closed.
    let t0 = Instant::now();
    let ((writer, _), summaries) = run_parallel_with(
        scenarios,
        args.threads,
        args.storage.rows_kept(),
        || {
            let mut writer = ResultsWriter::create(&args.out, args.force, &meta, args.storage)?;
            let mut ids = Vec::new();
            for sc in scenarios {
                let header = ScenarioHeader {
                    name: &sc.name,
                    description: &sc.description,
                    start: sc.start,
                    step_s: sc.step_s,
                    n_steps: sc.n_steps,
                    block_steps: sc.block_steps(),
                    utc_offset_h: sc.utc_offset_h,
                    notes: &sc.notes,
                };
                ids.push(writer.add_scenario(&header, &Layout::of_scenario(sc))?);
            }
            Ok((writer, ids))
        },
        |(writer, ids), i, block| {
            progress.inc(block.n as u64);
            writer.write_block(ids[i], block)
        },
    )?;
    progress.finish();
    for (sc, s) in scenarios.iter().zip(&summaries) {
        store_summary(&writer, sc, s)?;
    }
    more(&writer, &summaries)?;
    writer.finish()?;
    let solve_s = t0.elapsed().as_secs_f64();
    if let Some(p) = &args.summary_json {
        let json = summary_json(scenarios, &summaries, args, solve_s);
        TempOutput::new(p, args.force)?.write_all(json.as_bytes())?;
    }
    Ok(summary_text(scenarios, &summaries, args, solve_s))
}

/// The KPIs, run counts and KPI band of a scenario, as attributes.
fn store_summary(writer: &ResultsWriter, sc: &Scenario, s: &RunSummary) -> Result<()> {
    writer.scenario_attrs(&sc.name, "kpi", &s.kpis.pairs())?;
    let counts = [
        ("steps", s.steps as i64),
        ("steps_not_converged", s.not_converged as i64),
        ("tap_changes", s.tap_changes as i64),
        ("control_not_settled", s.control_not_settled as i64),
        ("solver_iterations", s.iterations as i64),
        ("newton_fallbacks", s.newton_fallbacks as i64),
    ];
    writer.scenario_attrs(&sc.name, "run", &counts)?;
    // NaN when each bus has its own band (use_bus_limits).
    let (vmin, vmax) = match sc.bus_v_limits {
        Some(_) => (f64::NAN, f64::NAN),
        None => sc.v_limits,
    };
    let band = [("vmin_limit_pu", vmin), ("vmax_limit_pu", vmax)];
    writer.scenario_attrs(&sc.name, "kpi", &band)?;
    let settings = [
        ("emission_factors_given", sc.emissions.given as i64),
        ("exports_credited", sc.emissions.credit_exports as i64),
        ("reference_scenario", sc.is_reference as i64),
    ];
    writer.scenario_attrs(&sc.name, "kpi", &settings)
}

/// What `run` prints: one line per scenario, the file, then warnings
/// naming the scenarios concerned.
fn summary_text(scenarios: &[Scenario], sums: &[RunSummary], args: &RunArgs, secs: f64) -> String {
    let mut o = String::new();
    for (sc, s) in scenarios.iter().zip(sums) {
        let _ = writeln!(
            o,
            "scenario {:<26} {} steps, {} not converged, {:.2} iterations/step, {} Newton fallbacks, {} tap changes",
            sc.name,
            s.steps,
            s.not_converged,
            s.iterations as f64 / s.steps.max(1) as f64,
            s.newton_fallbacks,
            s.tap_changes
        );
    }
    let total: usize = sums.iter().map(|s| s.steps).sum();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let _ = writeln!(
        o,
        "wrote {} ({} scenario{}, {total} steps solved and written in {secs:.3} s on {} thread{})",
        args.out.display(),
        scenarios.len(),
        plural(scenarios.len()),
        args.threads,
        plural(args.threads)
    );
    let notes = scenarios
        .iter()
        .flat_map(|sc| sc.notes.iter().map(|n| (sc.name.as_str(), n.as_str())));
    for w in crate::results::compare::notes_by_scenario(notes) {
        let _ = writeln!(o, "warning: {w}");
    }
    for (sc, s) in scenarios.iter().zip(sums) {
        if s.control_not_settled > 0 {
            let _ = writeln!(
                o,
                "warning: scenario '{}': in {} step(s) the Q(U)/P(U) controllers had not settled \
                 (run/control_not_settled)",
                sc.name, s.control_not_settled
            );
        }
        if s.not_converged > 0 {
            let _ = writeln!(
                o,
                "warning: scenario '{}': {} step(s) did not converge (grid/converged; left out of the KPIs)",
                sc.name, s.not_converged
            );
        }
    }
    o
}

/// The machine-readable run summary (`--summary-json`).
fn summary_json(scenarios: &[Scenario], sums: &[RunSummary], args: &RunArgs, secs: f64) -> String {
    let list: Vec<serde_json::Value> = scenarios
        .iter()
        .zip(sums)
        .map(|(sc, s)| {
            let kpis: serde_json::Map<String, serde_json::Value> = s
                .kpis
                .pairs()
                .into_iter()
                .map(|(k, v)| (k.to_string(), serde_json::json!(v.is_finite().then_some(v))))
                .collect();
            serde_json::json!({
                "name": sc.name,
                "description": sc.description,
                "steps": s.steps,
                "steps_not_converged": s.not_converged,
                "solver_iterations": s.iterations,
                "newton_fallbacks": s.newton_fallbacks,
                "tap_changes": s.tap_changes,
                "control_not_settled": s.control_not_settled,
                "notes": sc.notes,
                "kpi": kpis,
            })
        })
        .collect();
    let v = serde_json::json!({
        "gridsim_version": env!("CARGO_PKG_VERSION"),
        "results_file": args.out.display().to_string(),
        "threads": args.threads,
        "solve_and_write_seconds": secs,
        "scenarios": list,
    });
    let mut text = serde_json::to_string_pretty(&v).unwrap_or_default();
    text.push('\n');
    text
}
