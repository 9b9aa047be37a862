//! `gridsim region`: the scaling arithmetic against a hand computation on a
//! two-archetype region (from direct runs of the archetypes' scenarios),
//! collapse without uncertainty, seed stability, thread independence, the
//! response surface against direct runs, growth, the sampler, bad inputs
//! and the CLI's outputs.

mod common;

use common::{gridsim, root, tmpdir};
use gridsim::cli::region::{size, RegionArgs};
use gridsim::results::plan::Catalogue;
use gridsim::results::region::model::{latin_hypercube, simulate, Series};
use gridsim::results::region::spec::Range;
use gridsim::timeseries::growth::{grown, Growth};
use gridsim::timeseries::kpi::Kpis;
use gridsim::timeseries::rows::RowPrecision;
use gridsim::timeseries::runner::{run_parallel, Scenario};
use gridsim::timeseries::scenario::load_scenarios;
use std::path::{Path, PathBuf};

const STEPS: usize = 192;

/// A two-archetype region without ranges: 3 rural feeders taking the OLTC
/// option, 2 urban rings with items only.
fn two_archetypes() -> String {
    let s = root().join("scenarios");
    format!(
        r#"
name = "two archetypes"
base_year = 2025
years = [2026, 2028]
catalogue = "us"
samples = 5
[trajectory]
grid_co2_t_per_mwh = {{ 2025 = 0.5, 2028 = 0.2 }}
energy_price_per_mwh = {{ 2025 = 50.0 }}
cost_factor = {{ 2026 = 1.0, 2027 = 0.8 }}
[[archetype]]
name = "rural"
scenario = "{rural}"
feeders = 3
customers_per_feeder = 100
[[archetype]]
name = "ring"
scenario = "{ring}"
feeders = 2
customers_per_feeder = 50
[[programme]]
name = "p"
rollout = {{ 2026 = 0.5, 2027 = 1.0 }}
options = {{ rural = "oltc-substation" }}
[[programme.item]]
name = "meter"
category = "metering"
per = "customer"
unit_cost = 100.0
source = "test"
[[programme.item]]
name = "terminal"
category = "automation"
per = "feeder"
quantity = 2
unit_cost = 1000.0
source = "test"
"#,
        rural = s.join("cn_feeder_upgrades.toml").display(),
        ring = s.join("cn_urban_ring.toml").display(),
    )
}

fn write_region(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn args(region: PathBuf, threads: usize) -> RegionArgs {
    RegionArgs {
        region,
        steps: Some(STEPS),
        threads,
        ..Default::default()
    }
}

/// KPIs of named scenarios of a file, run directly.
fn direct(file: &str, names: &[&str]) -> Vec<Kpis> {
    let (all, _) = load_scenarios(&root().join("scenarios").join(file), Some(STEPS)).unwrap();
    let pick: Vec<Scenario> = names
        .iter()
        .map(|n| all.iter().find(|s| &s.name == n).unwrap().clone())
        .collect();
    let sums = run_parallel(&pick, 1, RowPrecision::F32, |_, _| Ok(())).unwrap();
    sums.into_iter().map(|s| s.kpis).collect()
}

fn series<'a>(s: &'a [Series], key: &str) -> &'a Series {
    s.iter().find(|x| x.metric.key == key).unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: {a} vs hand-computed {b}"
    );
}

#[test]
fn two_archetype_region_equals_the_hand_computation() {
    let dir = tmpdir("region-hand");
    let r = size(&args(write_region(&dir, "r.toml", &two_archetypes()), 2)).unwrap();
    let rural = direct(
        "cn_feeder_upgrades.toml",
        &["pv-and-chp", "oltc-substation"],
    );
    let ring = &direct("cn_urban_ring.toml", &["base"])[0];
    // Annualised; the scenarios count grid electricity at 0.5703 t/MWh.
    let year = 8760.0 / (STEPS as f64 * 0.25);
    let grid = |k: &Kpis| k.co2_grid_t / 0.5703 * year;
    let fuel = |k: &Kpis| (k.co2_chp_t + k.co2_boiler_t) * year;
    let oltc = Catalogue::load("us").unwrap().oltc_controller.unwrap().cost;
    let per_rural = oltc + 100.0 * 100.0 + 2.0 * 1000.0;
    let per_ring = 50.0 * 100.0 + 2.0 * 1000.0;
    let shares = [0.5, 1.0, 1.0];
    // Built share × the year's cost factor.
    let built = [0.5, 0.5 * 0.8, 0.0];
    let ef = [0.4, 0.3, 0.2];
    let p = &r.outcome.programmes[0];
    for y in 0..3 {
        let at = |key: &str| series(p, key).by_year[y].central;
        close(
            at("investment"),
            built[y] * (3.0 * per_rural + 2.0 * per_ring),
            "investment",
        );
        close(
            at("investment:controllers"),
            built[y] * 3.0 * oltc,
            "controllers",
        );
        close(
            at("investment:metering"),
            built[y] * (3.0 * 100.0 + 2.0 * 50.0) * 100.0,
            "metering",
        );
        let (r0, r1) = (&rural[0], &rural[1]);
        let d_loss = (r0.loss_mwh - r1.loss_mwh) * year;
        close(at("losses_avoided_mwh"), shares[y] * 3.0 * d_loss, "losses");
        close(
            at("losses_avoided_value"),
            shares[y] * 3.0 * d_loss * 50.0,
            "value",
        );
        let d_co2 = (grid(r0) - grid(r1)) * ef[y] + fuel(r0) - fuel(r1);
        close(at("co2_avoided_t"), shares[y] * 3.0 * d_co2, "co2");
        let d_v = (r0.hours_voltage_violation - r1.hours_voltage_violation) * year;
        close(
            at("voltage_hours_removed"),
            shares[y] * 3.0 * d_v,
            "voltage hours",
        );
        close(at("customers_reached"), shares[y] * 400.0, "customers");
        close(at("feeders_reached"), shares[y] * 5.0, "feeders");
        let co2 = |k: &Kpis| grid(k) * ef[y] + fuel(k);
        close(
            at("region_co2_t"),
            3.0 * co2(r0) + 2.0 * co2(ring),
            "region CO2",
        );
        close(
            at("region_losses_mwh"),
            (3.0 * r0.loss_mwh + 2.0 * ring.loss_mwh) * year,
            "region losses",
        );
    }
    let inv = series(p, "investment");
    close(
        inv.total.central,
        0.9 * (3.0 * per_rural + 2.0 * per_ring),
        "total investment",
    );
    assert!(
        d_is_meaningful(&rural),
        "the OLTC option changes nothing on the test feeder"
    );
    // No range: every sample is the central case.
    for s in p {
        for st in s.by_year.iter().chain([&s.total]) {
            assert_eq!(
                (st.p10, st.p50, st.p90),
                (st.central, st.central, st.central),
                "{}",
                s.metric.key
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn d_is_meaningful(rural: &[Kpis]) -> bool {
    (rural[0].loss_mwh - rural[1].loss_mwh).abs() > 1e-6
}

/// The shipped county with a week per archetype run.
fn county(threads: usize) -> gridsim::results::region::RegionResult {
    let mut a = args(root().join("regions/cn_county.toml"), threads);
    a.steps = Some(672);
    a.samples = Some(300);
    size(&a).unwrap()
}

#[test]
fn one_and_two_threads_give_identical_results_and_seeds_agree_on_the_median() {
    let one = county(1);
    let two = county(2);
    assert_eq!(one.to_csv(), two.to_csv());
    // P50 within 1 % between seeds at the default sample count (1000).
    let mut spec = one.spec.clone();
    spec.samples = 1000;
    let p50 = |seed: u64, key: &str, p: usize| {
        let mut s = spec.clone();
        s.seed = seed;
        let o = simulate(&s, &one.models, "USD");
        series(&o.programmes[p], key).total.p50
    };
    for p in 0..3 {
        for key in [
            "investment",
            "co2_avoided_t",
            "losses_avoided_mwh",
            "region_co2_t",
        ] {
            let (a, b) = (p50(1, key, p), p50(2, key, p));
            assert!(
                (a - b).abs() <= 0.01 * a.abs().max(b.abs()),
                "programme {p}, {key}: P50 {a} with seed 1, {b} with seed 2"
            );
        }
    }
    // Ranges widen the outcome, and the central case lies inside P10–P90.
    let inv = series(&one.outcome.programmes[0], "investment").total;
    assert!(inv.p10 < inv.p50 && inv.p50 < inv.p90, "{inv:?}");
    assert!(inv.p10 < inv.central && inv.central < inv.p90, "{inv:?}");
}

/// The quadratic response surface against direct runs of the grown
/// scenario between its levels.
#[test]
fn response_surface_matches_direct_runs_between_levels() {
    let (all, _) = load_scenarios(
        &root().join("scenarios/cn_feeder_upgrades.toml"),
        Some(STEPS),
    )
    .unwrap();
    let sc = all.iter().find(|s| s.is_reference).unwrap();
    let run = |l: f64, p: f64| {
        let g = grown(
            sc,
            Growth {
                load_factor: l,
                pv_factor: p,
            },
        )
        .unwrap();
        run_parallel(&[g], 1, RowPrecision::F32, |_, _| Ok(())).unwrap()[0]
            .kpis
            .clone()
    };
    let levels = [1.0, 1.5, 2.0];
    let pv = [1.0, 2.0, 3.0];
    let mut values = Vec::new();
    for l in levels {
        for p in pv {
            let k = run(l, p);
            values.push(gridsim::results::region::model::FeederYear {
                served_mwh: k.energy_served_mwh,
                loss_mwh: k.loss_mwh,
                grid_mwh: k.import_mwh,
                ..Default::default()
            });
        }
    }
    let s = gridsim::results::region::model::Surface {
        load_levels: levels.to_vec(),
        pv_levels: pv.to_vec(),
        values,
    };
    for (l, p) in [(1.25, 1.5), (1.8, 2.6), (1.1, 2.9)] {
        let k = run(l, p);
        let at = s.at(l, p);
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        assert!(
            rel(at.served_mwh, k.energy_served_mwh) < 1e-3,
            "served at {l}, {p}: {} vs {}",
            at.served_mwh,
            k.energy_served_mwh
        );
        assert!(
            rel(at.loss_mwh, k.loss_mwh) < 0.01,
            "losses at {l}, {p}: {} vs {}",
            at.loss_mwh,
            k.loss_mwh
        );
        assert!(
            rel(at.grid_mwh, k.import_mwh) < 0.01,
            "imports at {l}, {p}: {} vs {}",
            at.grid_mwh,
            k.import_mwh
        );
    }
}

#[test]
fn growth_scales_demand_and_pv() {
    let (all, _) =
        load_scenarios(&root().join("scenarios/cn_urban_ring.toml"), Some(STEPS)).unwrap();
    let sc = &all[0];
    let run = |g: Growth| {
        let s = grown(sc, g).unwrap();
        run_parallel(&[s], 1, RowPrecision::F32, |_, _| Ok(())).unwrap()[0]
            .kpis
            .clone()
    };
    let base = run(Growth::NONE);
    let more = run(Growth {
        load_factor: 2.0,
        pv_factor: 3.0,
    });
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(rel(more.energy_served_mwh, 2.0 * base.energy_served_mwh) < 1e-9);
    assert!(rel(more.renewable_mwh, 3.0 * base.renewable_mwh) < 1e-9);
    assert!(base.renewable_mwh > 0.0);
    let heavier = run(Growth {
        load_factor: 2.0,
        pv_factor: 1.0,
    });
    assert!(heavier.loss_mwh > base.loss_mwh, "losses grow with demand");
    let bad = grown(
        sc,
        Growth {
            load_factor: f64::NAN,
            pv_factor: 1.0,
        },
    )
    .unwrap_err();
    assert!(bad.to_string().contains("load_factor"), "{bad}");
}

#[test]
fn latin_hypercube_and_triangular_quantiles() {
    let n = 2000;
    let u = latin_hypercube(n, 3, 7);
    for d in 0..3 {
        let mut strata: Vec<usize> = u.iter().map(|r| (r[d] * n as f64) as usize).collect();
        strata.sort();
        assert_eq!(
            strata,
            (0..n).collect::<Vec<_>>(),
            "column {d} is not stratified"
        );
    }
    assert_ne!(u, latin_hypercube(n, 3, 8));
    assert_eq!(u, latin_hypercube(n, 3, 7));
    // Triangular (2, 3, 7): CDF closed form at x; mean (2 + 3 + 7)/3.
    let t = Range::Spread {
        low: 2.0,
        mode: Some(3.0),
        high: 7.0,
    };
    for x in [2.5, 3.0, 4.0, 6.5] {
        let f = if x <= 3.0 {
            (x - 2.0f64).powi(2) / ((7.0 - 2.0) * (3.0 - 2.0))
        } else {
            1.0 - (7.0f64 - x).powi(2) / ((7.0 - 2.0) * (7.0 - 3.0))
        };
        assert!((t.quantile(f) - x).abs() < 1e-12, "quantile(F({x}))");
    }
    let mean = u.iter().map(|r| t.quantile(r[0])).sum::<f64>() / n as f64;
    assert!((mean - 4.0).abs() < 0.005, "{mean}");
    let uni = Range::Spread {
        low: 10.0,
        mode: None,
        high: 20.0,
    };
    assert_eq!(uni.quantile(0.25), 12.5);
    assert_eq!(uni.bounds(), (10.0, 15.0, 20.0));
}

#[test]
fn bad_region_files_are_named_errors() {
    let dir = tmpdir("region-bad");
    let base = two_archetypes();
    let cases: [(&str, &str, &[&str]); 11] = [
        (
            "grid_co2_t_per_mwh = { 2025 = 0.5, 2028 = 0.2 }",
            "grid_co2_t_per_mwh = { 2025 = 0.5, \" 2025\" = 0.2 }",
            &["grid_co2_t_per_mwh", "2025 given twice"],
        ),
        (
            "samples = 5",
            "samples = 1000000",
            &["samples", "2,000,000"],
        ),
        (
            "feeders = 3",
            "feeders = -3",
            &["archetype 'rural'", "feeders"],
        ),
        (
            "feeders = 3",
            "feeders = nan",
            &["archetype 'rural'", "feeders", "finite"],
        ),
        (
            "unit_cost = 100.0",
            "unit_cost = { low = 300.0, mode = 100.0, high = 200.0 }",
            &["item 'meter'", "unit_cost", "low ≤ mode ≤ high"],
        ),
        (
            "options = { rural = \"oltc-substation\" }",
            "options = { rural = \"no-such-option\" }",
            &[
                "archetype 'rural'",
                "no variant 'no-such-option'",
                "oltc-substation",
            ],
        ),
        (
            "options = { rural = \"oltc-substation\" }",
            "options = { town = \"x\" }",
            &["programme 'p'", "no archetype 'town'"],
        ),
        (
            "rollout = { 2026 = 0.5, 2027 = 1.0 }",
            "rollout = { 2026 = 0.8, 2027 = 0.5 }",
            &["programme 'p': rollout", "may not fall"],
        ),
        (
            "per = \"customer\"",
            "per = \"household\"",
            &["item 'meter'", "per"],
        ),
        ("years = [2026, 2028]", "years = [2026, 2024]", &["years"]),
        ("samples = 5", "samples = 0", &["samples"]),
    ];
    for (from, to, expect) in cases {
        assert!(base.contains(from), "{from}");
        let p = write_region(&dir, "bad.toml", &base.replacen(from, to, 1));
        let e = size(&args(p.clone(), 1)).unwrap_err().to_string();
        for x in expect {
            assert!(e.contains(x), "{to}: '{e}' lacks '{x}'");
        }
        assert!(!e.contains("panicked"));
    }
    let p = write_region(
        &dir,
        "typo.toml",
        &base.replace("feeders = 3", "feders = 3"),
    );
    let e = size(&args(p, 1)).unwrap_err().to_string();
    assert!(e.contains("typo.toml") && e.contains("feders"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cli_writes_csv_workbook_and_page_and_keeps_existing_files() {
    let dir = tmpdir("region-cli");
    let region = write_region(&dir, "r.toml", &two_archetypes());
    let (csv, xlsx, html) = (dir.join("r.csv"), dir.join("r.xlsx"), dir.join("r.html"));
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        let mut a = vec![
            "region".to_string(),
            s(&region),
            "--steps".into(),
            STEPS.to_string(),
        ];
        a.extend(["--csv", &s(&csv), "--xlsx", &s(&xlsx), "--html", &s(&html)].map(String::from));
        a.extend(extra.iter().map(|x| x.to_string()));
        gridsim(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("p: ") && out.contains("USD of investment over 2026–2028"),
        "{out}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("programme,metric,label,unit,year,p10,p50,p90,mean,central\n"));
    assert!(text.contains("p,investment,Investment,USD,total,"));
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..4], b"PK\x03\x04");
    let page = std::fs::read_to_string(&html).unwrap();
    for x in [
        "CO2 avoided per year",
        "Assumptions and sources",
        "<svg",
        "meter unit cost",
    ] {
        assert!(page.contains(x), "page lacks {x}");
    }
    // Existing outputs are kept without --force, replaced with it.
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    assert!(run(&["--force"]).status.success());
    // The region file is never an output.
    let o = gridsim(&["region", &s(&region), "--csv", &s(&region), "--force"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(std::fs::read_to_string(&region)
        .unwrap()
        .contains("two archetypes"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A real analyst's tool (openpyxl in the project's venv) reads the
/// workbook: its By year sheet equals the CSV.
#[test]
#[ignore = "needs the Python venv with openpyxl; `make test` runs it"]
fn openpyxl_reads_the_workbook() {
    let dir = tmpdir("region-xlsx");
    let region = write_region(&dir, "r.toml", &two_archetypes());
    let (csv, xlsx) = (dir.join("r.csv"), dir.join("r.xlsx"));
    let o = gridsim(&[
        "region",
        region.to_str().unwrap(),
        "--steps",
        "96",
        "--csv",
        csv.to_str().unwrap(),
        "--xlsx",
        xlsx.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let py = std::env::var("GRIDSIM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join(".venv/bin/python"));
    let o = std::process::Command::new(py)
        .arg(root().join("tests/python/read_region_workbook.py"))
        .args([&xlsx, &csv])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("cells compared"));
    std::fs::remove_dir_all(&dir).ok();
}

/// The archetype runs split over shards (as a Slurm array's tasks would,
/// from the environment) and joined give the one-process result exactly;
/// a missing shard or a file of other inputs is a named error.
#[test]
fn shards_joined_equal_one_process() {
    let dir = tmpdir("region-shards");
    let mut text = two_archetypes();
    text = text.replace(
        "customers_per_feeder = 100",
        "customers_per_feeder = 100\nhosting_buses = [\"A3\"]",
    );
    text = text.replace(
        "[trajectory]",
        "[trajectory]\nload_factor = { 2025 = 1.0, 2028 = { low = 1.1, high = 1.3 } }",
    );
    let region = write_region(&dir, "r.toml", &text);
    let r = region.to_str().unwrap();
    let steps = STEPS.to_string();
    let whole = gridsim(&["region", r, "--steps", &steps, "--format", "csv"]);
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let out = dir.join("runs.json");
    let o = out.to_str().unwrap();
    // Shard 0 by flag, shards 1 and 2 from a Slurm array's environment.
    let shard0 = || {
        gridsim(&[
            "region",
            r,
            "--steps",
            &steps,
            "--shard",
            "0/3",
            "--runs-out",
            o,
        ])
    };
    let s0 = shard0();
    assert!(
        s0.status.success(),
        "{}",
        String::from_utf8_lossy(&s0.stderr)
    );
    for id in [1, 2] {
        let s = std::process::Command::new(env!("CARGO_BIN_EXE_gridsim"))
            .args(["region", r, "--steps", &steps, "--runs-out", o])
            .env("SLURM_ARRAY_TASK_ID", id.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .output()
            .unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    }
    let shard = |k: usize| dir.join(format!("runs.shard-{k}-of-3.json"));
    let files: Vec<String> = (0..3)
        .map(|k| shard(k).to_str().unwrap().to_string())
        .collect();
    let mut a = vec!["region", r, "--steps", &steps, "--format", "csv", "--runs"];
    a.extend(files.iter().map(String::as_str));
    let joined = gridsim(&a);
    assert!(
        joined.status.success(),
        "{}",
        String::from_utf8_lossy(&joined.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&joined.stdout),
        String::from_utf8_lossy(&whole.stdout)
    );
    // A shard missing.
    let o = gridsim(&[
        "region", r, "--steps", &steps, "--runs", &files[0], &files[1],
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is missing"));
    // Files of other inputs (another step count).
    let mut a = vec!["region", r, "--steps", "96", "--runs"];
    a.extend(files.iter().map(String::as_str));
    let o = gridsim(&a);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("written for other inputs"));
    // A shard file is not overwritten without --force.
    assert_eq!(shard0().status.code(), Some(1));
    std::fs::remove_dir_all(&dir).ok();
}
