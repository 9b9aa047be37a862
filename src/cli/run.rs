//! `gridsim run`: time-series scenarios into an HDF5 results file.

use crate::error::{Error, Result};
use crate::results::hdf5::StorageOptions;
use crate::results::hdf5::{ResultsWriter, RunMeta};
use crate::solver::NewtonOptions;
use crate::timeseries::elements::read_elements;
use crate::timeseries::profiles::read_profiles;
use crate::timeseries::runner::{run_parallel_with, Layout, Scenario};
use crate::timeseries::scenario::load_scenarios;
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
    /// Newton settings.
    pub newton: NewtonOptions,
    /// The command line, stored in the file.
    pub command_line: String,
    /// Float type and filter of the stored time series.
    pub storage: StorageOptions,
}

/// Runs what the arguments say: a scenario file or the quick path.
pub fn run(args: &RunArgs) -> Result<String> {
    let t0 = Instant::now();
    let (scenarios, sha) = match &args.scenario {
        Some(path) => load_scenarios(path, args.steps)?,
        None => (vec![quick_scenario(args)?], String::new()),
    };
    let read_s = t0.elapsed().as_secs_f64();
    let mut o = run_scenarios(&scenarios, args, &sha)?;
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
    let net = super::load_network(network)?;
    let profiles_path = profiles;
    let profiles = read_profiles(profiles_path)?;
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
        args.newton,
    ))
}

/// Runs scenarios into `out`; returns a printable summary.
pub fn run_scenarios(
    scenarios: &[Scenario],
    args: &RunArgs,
    scenario_sha256: &str,
) -> Result<String> {
    let first = scenarios
        .first()
        .ok_or_else(|| Error::Usage("no scenario to run".into()))?;
    // /network/unit lists every unit of any scenario (first occurrence wins).
    let mut layout = Layout::of(&first.network);
    for sc in scenarios {
        let l = Layout::of_scenario(sc);
        for (k, name) in l.unit_name.iter().enumerate() {
            if !layout.unit_name.contains(name) {
                layout.unit_name.push(name.clone());
                layout.unit_technology.push(l.unit_technology[k].clone());
                layout.unit_bus.push(l.unit_bus[k]);
            }
        }
    }
    let meta = RunMeta {
        command_line: args.command_line.clone(),
        scenario_file_sha256: scenario_sha256.to_string(),
    };
    ResultsWriter::check_output(&args.out, args.force)?;
    let total: u64 = scenarios.iter().map(|s| s.n_steps as u64).sum();
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} steps ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    // Timed from here: workers started, results file created (while the
    // first steps are solved), every step solved and written, file closed.
    let t0 = Instant::now();
    let ((writer, _), summaries) = run_parallel_with(
        scenarios,
        args.threads,
        args.storage.precision,
        || {
            let mut writer =
                ResultsWriter::create(&args.out, args.force, &meta, &layout, args.storage)?;
            let mut ids = Vec::new();
            for sc in scenarios {
                ids.push(writer.add_scenario(
                    &sc.name,
                    &Layout::of_scenario(sc),
                    sc.start,
                    sc.step_s,
                    sc.n_steps,
                )?);
            }
            Ok((writer, ids))
        },
        |(writer, ids), i, block| {
            bar.inc(block.n as u64);
            writer.write_block(ids[i], block)
        },
    )?;
    bar.finish_and_clear();
    let mut o = String::new();
    for (sc, s) in scenarios.iter().zip(&summaries) {
        writer.scenario_attrs(&sc.name, "kpi", &s.kpis.pairs())?;
        writer.scenario_attrs(
            &sc.name,
            "run",
            &[
                ("tap_changes", s.tap_changes as f64),
                ("control_not_settled", s.control_not_settled as f64),
                ("solver_iterations", s.iterations as f64),
                ("newton_fallbacks", s.newton_fallbacks as f64),
                ("step_seconds", sc.step_s as f64),
                // NaN when each bus has its own band (use_bus_limits).
                (
                    "vmin_limit_pu",
                    if sc.bus_v_limits.is_some() {
                        f64::NAN
                    } else {
                        sc.v_limits.0
                    },
                ),
                (
                    "vmax_limit_pu",
                    if sc.bus_v_limits.is_some() {
                        f64::NAN
                    } else {
                        sc.v_limits.1
                    },
                ),
            ],
        )?;
        let _ = writeln!(
            o,
            "scenario {:<26} {} steps, {} not converged, {:.2} iterations/step, {} Newton fallbacks",
            sc.name,
            s.steps,
            s.not_converged,
            s.iterations as f64 / s.steps.max(1) as f64,
            s.newton_fallbacks
        );
    }
    writer.finish()?;
    let elapsed = t0.elapsed().as_secs_f64();
    let _ = writeln!(
        o,
        "wrote {} ({} scenario{}, {total} steps solved and written in {elapsed:.3} s on {} thread{})",
        args.out.display(),
        scenarios.len(),
        if scenarios.len() == 1 { "" } else { "s" },
        args.threads,
        if args.threads == 1 { "" } else { "s" }
    );
    let unsettled: u64 = summaries.iter().map(|s| s.control_not_settled).sum();
    if unsettled > 0 {
        let _ = writeln!(
            o,
            "warning: in {unsettled} step(s) the Q(U)/P(U) controllers had not settled (see run/control_not_settled)"
        );
    }
    let bad: usize = summaries.iter().map(|s| s.not_converged).sum();
    if bad > 0 {
        let _ = writeln!(
            o,
            "warning: {bad} step(s) did not converge (see grid/converged in the file)"
        );
    }
    Ok(o)
}
