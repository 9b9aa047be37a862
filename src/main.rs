//! The `gridsim` command line: parses arguments and calls the library.

use clap::{Parser, Subcommand, ValueEnum};
use gridsim::cli;
use gridsim::powerflow::PfOptions;
use gridsim::results::hdf5::{Compression, Precision, SeriesSelection, StorageOptions};
use gridsim::solver::NewtonOptions;
use gridsim::Error;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "gridsim", version, about = "Smart-grid distribution simulator")]
struct Cli {
    /// Read input files only from under DIR (symbolic links resolved): for
    /// running scenario and network files written by others.
    #[arg(long, global = true, value_name = "DIR")]
    confine: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum CompareFormat {
    Table,
    Csv,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum PfFormat {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Solve one AC power flow (Newton-Raphson) and print the result.
    Pf {
        /// Network file (MATPOWER .m, gridsim .toml or pandapower .json[.gz]).
        case: PathBuf,
        /// Tolerance on the max active/reactive power mismatch, p.u.
        #[arg(long, default_value_t = 1e-8)]
        tol: f64,
        /// Maximum Newton iterations.
        #[arg(long, default_value_t = 20)]
        max_iter: usize,
        /// Start from |V| = 1 p.u. and the reference angle instead of the file's voltages.
        #[arg(long)]
        flat_start: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PfFormat::Table)]
        format: PfFormat,
    },
    /// Compare the scenarios of one or more results files: one row per
    /// scenario, KPI columns, deltas against the baseline.
    Compare {
        /// Results files written by `gridsim run` (scenarios of several files
        /// are shown as FILE:SCENARIO where their names clash).
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Baseline scenario (default: the first).
        #[arg(long)]
        baseline: Option<String>,
        /// Output format (table and markdown show the key KPIs; csv and json all).
        #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
        format: CompareFormat,
    },
    /// Convert a network to MATPOWER (.m) or gridsim's own format (.toml), from either or pandapower (.json).
    Convert {
        /// Input network file.
        input: PathBuf,
        /// Output network file (format from its extension).
        output: PathBuf,
        /// Overwrite an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Print a summary of a network: buses per voltage level, km of line by
    /// type, transformer capacity, installed DER by technology.
    Info {
        /// Network file (.m or .toml).
        network: PathBuf,
    },
    /// Write a self-contained HTML report (comparison table and SVG plots).
    Report {
        /// Results files written by `gridsim run` (one or more).
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Output HTML file.
        #[arg(long)]
        out: PathBuf,
        /// Baseline scenario (default: the first).
        #[arg(long)]
        baseline: Option<String>,
        /// Overwrite an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Run time-series scenarios into an HDF5 results file.
    ///
    /// Either a scenario file (TOML, one scenario per variant, run in
    /// parallel) or the quick path: --network, --elements, --profiles.
    Run {
        /// Scenario file (TOML).
        #[arg(conflicts_with_all = ["network", "elements", "profiles"])]
        scenario: Option<PathBuf>,
        /// Network file (MATPOWER .m, gridsim .toml or pandapower .json), quick path.
        #[arg(long, requires_all = ["elements", "profiles"])]
        network: Option<PathBuf>,
        /// Element table CSV: kind,name,bus,p_mw,q_mvar,p_profile_col,q_profile_col.
        #[arg(long, requires = "network")]
        elements: Option<PathBuf>,
        /// Profile CSV (optionally .gz): a time column and named factor columns.
        #[arg(long, requires = "network")]
        profiles: Option<PathBuf>,
        /// Number of steps (default: the scenario's, or all profile rows).
        #[arg(long)]
        steps: Option<usize>,
        /// Output HDF5 file.
        #[arg(long)]
        out: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Overwrite an existing output file.
        #[arg(long)]
        force: bool,
        /// Solver tolerance on the largest power mismatch, p.u. [default:
        /// 1e-8]; overrides the scenario file's [solver] tol.
        #[arg(long)]
        tol: Option<f64>,
        /// Newton iterations per power flow (the fixed-point method gets
        /// 1.5 times as many) [default: 20]; overrides [solver] max_iter.
        #[arg(long)]
        max_iter: Option<usize>,
        /// Series kept per element kind: all, totals (grid totals and KPIs
        /// only), or a list such as bus,transformer (of bus, line,
        /// transformer, load, unit).
        #[arg(long, default_value = "all")]
        series: SeriesSelection,
        /// Float type of the per-bus/branch/unit series: f32 (default: 7
        /// significant digits, half the size) or f64. Grid totals and KPIs are f64.
        #[arg(long, default_value = "f32")]
        precision: Precision,
        /// Chunk filter: none, lzf or gzip[=1..9] (with byte shuffle).
        #[arg(long, default_value = "none")]
        compression: Compression,
        /// Also write a JSON run summary here: per scenario steps, iterations,
        /// fallbacks, tap changes, unsettled steps and KPIs; times.
        #[arg(long)]
        summary_json: Option<PathBuf>,
        /// Run one shard K/N (K from 0) of the scenarios into
        /// OUT-NAME.shard-K-of-N.h5 (`gridsim merge` joins them). Default
        /// in a Slurm array task: SLURM_ARRAY_TASK_ID of
        /// SLURM_ARRAY_TASK_COUNT; in a Kubernetes indexed job:
        /// JOB_COMPLETION_INDEX of GRIDSIM_SHARDS.
        #[arg(long, value_parser = gridsim::cli::shard::Shard::parse)]
        shard: Option<gridsim::cli::shard::Shard>,
    },
    /// Merge the shard files of one run (`run --shard K/N`) into the file a
    /// one-machine run writes; refuses an incomplete or mixed set.
    Merge {
        /// The shard files (every shard of the run, once).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output HDF5 file.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Write (and with --submit, submit) the Slurm job array of a sharded
    /// run and its merge job, which runs after every shard succeeded.
    Slurm {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// The merged results file (shards and scripts go beside it).
        #[arg(long)]
        out: PathBuf,
        /// Number of shards (array tasks).
        #[arg(long)]
        shards: usize,
        /// CPUs (threads) per shard.
        #[arg(long, default_value_t = 1)]
        cpus_per_task: usize,
        /// Slurm partition.
        #[arg(long)]
        partition: Option<String>,
        /// Time limit per task (Slurm format, e.g. 01:00:00).
        #[arg(long)]
        time: Option<String>,
        /// Submit both jobs with sbatch.
        #[arg(long)]
        submit: bool,
        /// Overwrite existing scripts, and let the jobs overwrite their outputs.
        #[arg(long)]
        force: bool,
    },
    /// Upgrade options: run every variant of a scenario file (results as
    /// `run` writes them), price each one's measures against the reference
    /// with a cost catalogue, and rank them by annual cost.
    Plan {
        /// Scenario file (TOML): each variant is an option.
        scenario: PathBuf,
        /// Output HDF5 file.
        #[arg(long, required_unless_present_any = ["results", "auto"])]
        out: Option<PathBuf>,
        /// Reinforce one scenario automatically (--scenario, default the
        /// reference) until no step has a violation, and price the measures.
        #[arg(long, conflicts_with_all = ["out", "results"])]
        auto: bool,
        /// The scenario --auto reinforces.
        #[arg(long = "scenario")]
        variant: Option<String>,
        /// Most measures --auto takes.
        #[arg(long, default_value_t = 50)]
        max_measures: usize,
        /// Price a results file already written from this scenario file
        /// (e.g. merged from shards) instead of running.
        #[arg(long, conflicts_with = "out")]
        results: Option<PathBuf>,
        /// Cost catalogue: a shipped one (eu, us) or a TOML file.
        #[arg(long, default_value = "eu")]
        catalogue: String,
        /// Format of the ranked table.
        #[arg(long, value_enum, default_value_t = PlanFmt::Table)]
        format: PlanFmt,
        /// Also measure each option's hosting capacity at these buses
        /// (numbers or native ids, comma-separated; the smallest over them
        /// counts) and rank the cost per MW gained.
        #[arg(long, value_delimiter = ',', conflicts_with = "auto")]
        hosting_buses: Vec<String>,
        /// Kind of unit for --hosting-buses.
        #[arg(long, value_enum, default_value_t = HostKind::Pv)]
        hosting_kind: HostKind,
        /// Largest size tried for --hosting-buses, MW.
        #[arg(long, default_value_t = 10.0)]
        hosting_max_mw: f64,
        /// Width of the final bracket for --hosting-buses, MW.
        #[arg(long, default_value_t = 0.01)]
        hosting_resolution_mw: f64,
        /// Criteria for --hosting-buses (as `hosting --criteria`).
        #[arg(long, value_delimiter = ',', default_value = "voltage,thermal")]
        hosting_criteria: Vec<String>,
        /// Number of steps (default: the scenario's).
        #[arg(long)]
        steps: Option<usize>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Overwrite an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Hosting capacity: per bus, the largest PV or wind unit the scenario
    /// can take with no violation over its whole period (bisection).
    Hosting {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Which scenario of the file (default: its reference, the first).
        #[arg(long = "scenario")]
        variant: Option<String>,
        /// Kind of unit added.
        #[arg(long, value_enum, default_value_t = HostKind::Pv)]
        kind: HostKind,
        /// Buses (numbers or native ids, comma-separated; default every
        /// in-service bus but the slack's).
        #[arg(long, value_delimiter = ',')]
        buses: Vec<String>,
        /// Largest size tried, MW.
        #[arg(long, default_value_t = 10.0)]
        max_mw: f64,
        /// Width of the final bracket, MW.
        #[arg(long, default_value_t = 0.01)]
        resolution_mw: f64,
        /// Criteria (comma-separated): voltage (no bus above its band),
        /// thermal (no branch above 100 %), reverse-flow (no export).
        #[arg(long, value_delimiter = ',', default_value = "voltage,thermal")]
        criteria: Vec<String>,
        /// Number of steps (default: the scenario's).
        #[arg(long)]
        steps: Option<usize>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// CSV instead of a table.
        #[arg(long)]
        csv: bool,
        /// Only shard K/N of the buses (every N-th from the K-th), e.g. one
        /// task of a cluster array; the shards' CSV rows together are the
        /// whole result.
        #[arg(long, value_parser = gridsim::cli::shard::Shard::parse)]
        shard: Option<gridsim::cli::shard::Shard>,
        /// Also write the results to this HDF5 file (group `hosting`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write an HTML page: the capacity per bus along the feeder.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Overwrite existing output files.
        #[arg(long)]
        force: bool,
    },
    /// Regional opportunity sizing: feeder archetypes × counts × years ×
    /// programmes, with P10/P50/P90 over the region file's ranges.
    Region {
        /// Region file (TOML).
        region: PathBuf,
        /// Samples (default: the file's, else 1000).
        #[arg(long)]
        samples: Option<usize>,
        /// Seed of the sampling (default: the file's, else 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Steps of each archetype run (default: the scenario's).
        #[arg(long)]
        steps: Option<usize>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// What to print.
        #[arg(long, value_enum, default_value_t = PlanFmt::Table)]
        format: PlanFmt,
        /// Write every figure by programme, metric and year (CSV).
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Write an Excel workbook.
        #[arg(long)]
        xlsx: Option<PathBuf>,
        /// Write an HTML page for a non-engineer.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Overwrite existing output files.
        #[arg(long)]
        force: bool,
        /// Compute only this shard's archetype runs (K/N; default: from a
        /// Slurm array task or a Kubernetes indexed job) into the shard file
        /// of --runs-out.
        #[arg(long, value_parser = gridsim::cli::shard::Shard::parse, requires = "runs_out")]
        shard: Option<gridsim::cli::shard::Shard>,
        /// Write this shard's computed runs to NAME.shard-K-of-N.json beside
        /// FILE instead of sizing the region.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["runs", "csv", "xlsx", "html"])]
        runs_out: Option<PathBuf>,
        /// Size the region from these shard files (all shards) instead of
        /// running the archetypes.
        #[arg(long, num_args = 1..)]
        runs: Vec<PathBuf>,
    },
}

/// Output format of `plan`.
#[derive(Clone, Copy, ValueEnum)]
enum PlanFmt {
    Table,
    Csv,
    Json,
}

/// Kind of unit a hosting-capacity run adds.
#[derive(Clone, Copy, ValueEnum)]
enum HostKind {
    Pv,
    Wind,
}

/// Most worker threads `run` starts.
const MAX_THREADS: usize = 1024;

/// `gridsim pf`.
fn pf_cmd(c: Command) -> ExitCode {
    let Command::Pf {
        case,
        tol,
        max_iter,
        flat_start,
        format,
    } = c
    else {
        return ExitCode::from(1);
    };
    if let Err(e) = check_solver_flags(tol, max_iter) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    let opts = PfOptions {
        newton: NewtonOptions { tol, max_iter },
        flat_start,
    };
    let fmt = match format {
        PfFormat::Table => cli::pf::Format::Table,
        PfFormat::Json => cli::pf::Format::Json,
    };
    match cli::pf::run(&case, &opts, fmt) {
        Ok(text) => {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        Err(e) => report(e, matches!(format, PfFormat::Json)),
    }
}

/// `gridsim plan`.
fn plan_cmd(c: Command) -> ExitCode {
    let Command::Plan {
        scenario,
        out,
        auto,
        variant,
        max_measures,
        results,
        catalogue,
        format,
        hosting_buses,
        hosting_kind,
        hosting_max_mw,
        hosting_resolution_mw,
        hosting_criteria,
        steps,
        threads,
        quiet,
        force,
    } = c
    else {
        return ExitCode::from(1);
    };
    let hosting = if hosting_buses.is_empty() {
        None
    } else {
        match parse_criteria(&hosting_criteria, "--hosting-criteria") {
            Ok(criteria) => Some(cli::hosting::FeederHosting {
                buses: hosting_buses,
                kind: hosted_kind(hosting_kind),
                max_mw: hosting_max_mw,
                resolution_mw: hosting_resolution_mw,
                criteria,
            }),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let format = match format {
        PlanFmt::Table => cli::plan::PlanFormat::Table,
        PlanFmt::Csv => cli::plan::PlanFormat::Csv,
        PlanFmt::Json => cli::plan::PlanFormat::Json,
    };
    if auto {
        return to_stdout(cli::plan::auto(
            &scenario,
            variant.as_deref(),
            &catalogue,
            max_measures,
            steps,
        ));
    }
    let out = match (out, results) {
        (_, Some(r)) => {
            let Some(threads) = usage(thread_count(threads)) else {
                return ExitCode::from(1);
            };
            let h = hosting.as_ref().map(|h| (h, threads));
            return to_stdout(cli::plan::price_results(
                &scenario, &r, &catalogue, format, h,
            ));
        }
        (Some(o), None) => o,
        (None, None) => return ExitCode::from(1),
    };
    run_cmd(
        Some(scenario),
        None,
        None,
        None,
        steps,
        out,
        threads,
        quiet,
        force,
        None,
        None,
        StorageOptions::default(),
        None,
        RunExtra::Plan(catalogue, format, hosting),
    )
}

/// `gridsim hosting`.
fn hosting_cmd(c: Command) -> ExitCode {
    let Command::Hosting {
        scenario,
        variant,
        kind,
        buses,
        max_mw,
        resolution_mw,
        criteria,
        steps,
        threads,
        csv,
        shard,
        out,
        report: page,
        force,
    } = c
    else {
        return ExitCode::from(1);
    };
    let Some(c) = usage(parse_criteria(&criteria, "--criteria")) else {
        return ExitCode::from(1);
    };
    let Some(threads) = usage(thread_count(threads)) else {
        return ExitCode::from(1);
    };
    let args = cli::hosting::HostingArgs {
        scenario,
        variant,
        kind: hosted_kind(kind),
        buses,
        max_mw,
        resolution_mw,
        criteria: c,
        steps,
        threads,
        csv,
        shard,
        out,
        report: page,
        force,
    };
    to_stdout(cli::hosting::run(&args))
}
/// `gridsim region`.
fn region_cmd(c: Command) -> ExitCode {
    let Command::Region {
        region,
        samples,
        seed,
        steps,
        threads,
        format,
        csv,
        xlsx,
        html,
        force,
        shard,
        runs_out,
        runs,
    } = c
    else {
        return ExitCode::from(1);
    };
    let Some(threads) = usage(thread_count(threads)) else {
        return ExitCode::from(1);
    };
    let format = match format {
        PlanFmt::Table => cli::region::RegionFormat::Table,
        PlanFmt::Csv => cli::region::RegionFormat::Csv,
        PlanFmt::Json => cli::region::RegionFormat::Json,
    };
    to_stdout(cli::region::run(&cli::region::RegionArgs {
        region,
        steps,
        threads,
        samples,
        seed,
        format,
        csv,
        xlsx,
        html,
        force,
        shard,
        runs_out,
        runs,
    }))
}

/// The value of a command-line check, or None after printing its error
/// (the caller exits with 1).
fn usage<T>(r: Result<T, String>) -> Option<T> {
    r.map_err(|e| eprintln!("error: {e}")).ok()
}

/// Hosting-capacity criteria named on the command line.
fn parse_criteria(
    names: &[String],
    flag: &str,
) -> Result<gridsim::timeseries::hosting::Criteria, String> {
    let mut c = gridsim::timeseries::hosting::Criteria {
        voltage: false,
        thermal: false,
        reverse_flow: false,
    };
    for k in names {
        match k.as_str() {
            "voltage" => c.voltage = true,
            "thermal" => c.thermal = true,
            "reverse-flow" => c.reverse_flow = true,
            other => {
                return Err(format!(
                    "{flag}: '{other}' is not voltage, thermal or reverse-flow"
                ))
            }
        }
    }
    Ok(c)
}

fn hosted_kind(k: HostKind) -> gridsim::timeseries::hosting::HostedKind {
    match k {
        HostKind::Pv => gridsim::timeseries::hosting::HostedKind::Pv,
        HostKind::Wind => gridsim::timeseries::hosting::HostedKind::Wind,
    }
}

/// `gridsim slurm`.
fn slurm_cmd(c: Command) -> ExitCode {
    let Command::Slurm {
        scenario,
        out,
        shards,
        cpus_per_task,
        partition,
        time,
        submit,
        force,
    } = c
    else {
        return ExitCode::from(1);
    };
    let args = cli::slurm::SlurmArgs {
        scenario,
        out,
        shards,
        cpus_per_task,
        partition,
        time,
        submit,
        force,
    };
    to_stdout(cli::slurm::run(&args))
}

/// What `run_cmd` runs besides the plain run.
enum RunExtra {
    /// `run`, possibly one shard.
    Run(Option<gridsim::cli::shard::Shard>),
    /// `plan` with this catalogue, format and hosting-capacity measurement.
    Plan(
        String,
        cli::plan::PlanFormat,
        Option<cli::hosting::FeederHosting>,
    ),
}

/// `--threads`: 1 to [`MAX_THREADS`], default all cores.
fn thread_count(threads: Option<usize>) -> Result<usize, String> {
    let threads = threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if !(1..=MAX_THREADS).contains(&threads) {
        return Err(format!(
            "--threads must be 1 to {MAX_THREADS}, found {threads}"
        ));
    }
    Ok(threads)
}

/// `--tol` and `--max-iter`: a tolerance in (0, 1), 1 to 1000 iterations.
fn check_solver_flags(tol: f64, max_iter: usize) -> Result<(), String> {
    if !(tol > 0.0 && tol < 1.0) {
        return Err(format!("--tol must be between 0 and 1 p.u., found {tol}"));
    }
    if !(1..=1000).contains(&max_iter) {
        return Err(format!("--max-iter must be 1 to 1000, found {max_iter}"));
    }
    Ok(())
}

fn main() -> ExitCode {
    // Usage errors exit with 1 like every other bad input (2 means "did not converge").
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // Writing to a closed pipe (`gridsim pf x | head`) ends the process
    // quietly, as Unix tools do, instead of a panic.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    gridsim::results::output::remove_temporaries_on_signals();
    if let Some(dir) = &cli.confine {
        if let Err(e) = gridsim::input::confine(dir) {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    match cli.command {
        c @ Command::Pf { .. } => pf_cmd(c),
        Command::Compare {
            results,
            baseline,
            format,
        } => match gridsim::results::compare::read(&results, baseline.as_deref()) {
            Ok(c) => {
                print!(
                    "{}",
                    match format {
                        CompareFormat::Table => c.to_table(),
                        CompareFormat::Csv => c.to_csv(),
                        CompareFormat::Markdown => c.to_markdown(),
                        CompareFormat::Json => c.to_json() + "\n",
                    }
                );
                ExitCode::SUCCESS
            }
            Err(e) => report(e, false),
        },
        Command::Convert {
            input,
            output,
            force,
        } => to_stderr(cli::convert(&input, &output, force)),
        Command::Info { network } => to_stdout(cli::info(&network)),
        Command::Report {
            results,
            out,
            baseline,
            force,
        } => {
            match gridsim::results::report::write_report(&results, &out, baseline.as_deref(), force)
            {
                Ok(()) => {
                    eprintln!("wrote {}", out.display());
                    ExitCode::SUCCESS
                }
                Err(e) => report(e, false),
            }
        }
        c @ Command::Hosting { .. } => hosting_cmd(c),
        Command::Merge { shards, out, force } => {
            to_stderr(gridsim::results::merge::merge(&shards, &out, force))
        }
        c @ Command::Slurm { .. } => slurm_cmd(c),
        c @ Command::Plan { .. } => plan_cmd(c),
        c @ Command::Region { .. } => region_cmd(c),
        Command::Run {
            scenario,
            network,
            elements,
            profiles,
            steps,
            out,
            threads,
            quiet,
            force,
            tol,
            max_iter,
            precision,
            compression,
            series,
            summary_json,
            shard,
        } => run_cmd(
            scenario,
            network,
            elements,
            profiles,
            steps,
            out,
            threads,
            quiet,
            force,
            tol,
            max_iter,
            StorageOptions {
                precision,
                compression,
                series,
            },
            summary_json,
            RunExtra::Run(shard),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn run_cmd(
    scenario: Option<PathBuf>,
    network: Option<PathBuf>,
    elements: Option<PathBuf>,
    profiles: Option<PathBuf>,
    steps: Option<usize>,
    out: PathBuf,
    threads: Option<usize>,
    quiet: bool,
    force: bool,
    tol: Option<f64>,
    max_iter: Option<usize>,
    storage: StorageOptions,
    summary_json: Option<PathBuf>,
    extra: RunExtra,
) -> ExitCode {
    let defaults = NewtonOptions::default();
    let given = (
        tol.unwrap_or(defaults.tol),
        max_iter.unwrap_or(defaults.max_iter),
    );
    if let Err(e) = check_solver_flags(given.0, given.1) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    let Some(threads) = usage(thread_count(threads)) else {
        return ExitCode::from(1);
    };
    let args = cli::run::RunArgs {
        scenario,
        network,
        elements,
        profiles,
        steps,
        out,
        threads,
        quiet,
        force,
        tol,
        max_iter,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        storage,
        summary_json,
        shard: None,
    };
    let mut args = args;
    let result = match extra {
        RunExtra::Plan(catalogue, format, hosting) => {
            cli::plan::run(&args, &catalogue, format, hosting.as_ref()).map(|t| {
                print!("{t}");
                String::new()
            })
        }
        RunExtra::Run(shard) => {
            args.shard = match (shard, &args.scenario) {
                (Some(s), _) => Some(s),
                (None, Some(_)) => match gridsim::cli::shard::Shard::from_env() {
                    Ok(s) => s,
                    Err(e) => return report(e, false),
                },
                (None, None) => None,
            };
            cli::run::run(&args)
        }
    };
    match result {
        Ok(text) => {
            eprint!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => report(e, false),
    }
}

/// A command's text on stdout, or its error.
fn to_stdout(r: Result<String, Error>) -> ExitCode {
    match r {
        Ok(t) => {
            print!("{t}");
            ExitCode::SUCCESS
        }
        Err(e) => report(e, false),
    }
}

/// A command's text on stderr (a line), or its error.
fn to_stderr(r: Result<String, Error>) -> ExitCode {
    match r {
        Ok(t) => {
            eprintln!("{t}");
            ExitCode::SUCCESS
        }
        Err(e) => report(e, false),
    }
}

fn report(e: Error, json: bool) -> ExitCode {
    let code = match &e {
        Error::NotConverged {
            iterations,
            max_mismatch_pu,
        } => {
            if json {
                println!(
                    "{{\"converged\": false, \"iterations\": {iterations}, \"max_mismatch_pu\": {}}}",
                    if max_mismatch_pu.is_finite() { format!("{max_mismatch_pu:e}") } else { "null".into() }
                );
            }
            2
        }
        Error::Numerical(_) => 2,
        _ => 1,
    };
    eprintln!("error: {e}");
    ExitCode::from(code)
}
