//! Scenario files, KPIs against hand-computed values, energy balance, and
//! the shipped scenarios.

mod common;

use common::{gridsim, root, tmpdir, TWO_BUS};
use gridsim::results::compare;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `gridsim run SCENARIO --steps N --out OUT --quiet`, which must succeed.
fn run_study(scenario: &Path, steps: usize, out: &Path) {
    run_study_with(scenario, steps, out, &[]);
}

fn run_study_with(scenario: &Path, steps: usize, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let steps = steps.to_string();
    args.extend(["--steps", &steps]);
    args.extend(extra);
    let o = gridsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// 2 buses, a purely resistive line (r = 0.05 p.u., base 1 MVA), a constant
/// unity-power-factor load P = 0.6 MW at bus 2 and a heat site of 1 MW_th
/// there (a profile column), served in the base by a gas boiler (η 0.92)
/// and in the variant `chp` by a CHP of `p_chp` MW at its rating on a
/// schedule (η_el 0.4, η_th 0.5, no buffer). With net load Pn = P − P_chp
/// the receiving voltage solves V² − V + r·Pn = 0, the slack supplies
/// Pn / V, the loss is Pn / V − Pn: every KPI has a closed form.
fn write_two_bus_comparison(dir: &Path, steps: usize, p_chp: f64, exports: &str) -> PathBuf {
    std::fs::write(dir.join("twobus.m"), TWO_BUS).unwrap();
    let mut prof = String::from("time,temp_c,sched,load,heat\n");
    for k in 0..steps {
        let t = k * 15;
        prof.push_str(&format!(
            "2016-01-01T{:02}:{:02}:00,5.0,1.0,1.0,1.0\n",
            t / 60,
            t % 60
        ));
    }
    std::fs::write(dir.join("profiles.csv"), prof).unwrap();
    std::fs::write(
        dir.join("elements.csv"),
        "kind,name,bus,p_mw,q_mvar,p_profile_col,q_profile_col\nload,l2,2,0.6,0,load,\n",
    )
    .unwrap();
    let sc = format!(
        r#"
network = "twobus.m"
elements = "elements.csv"
profiles = "profiles.csv"
[period]
start = "2016-01-01T00:00:00"
step_minutes = 15
steps = {steps}
[solver]
tol = 1e-12
[site]
temperature_column = "temp_c"
[emissions]
grid_t_per_mwh = 0.4
fuel_t_per_mwh = {{ natural_gas = 0.2 }}
exports = "{exports}"
[kpi]
vmin_pu = 0.95
vmax_pu = 1.05
[[heat]]
name = "site"
demand_column = "heat"
boiler_efficiency = 0.92
[[variant]]
name = "base"
[[variant]]
name = "chp"
[[variant.add.chp]]
name = "chp"
bus = 2
technology = "gas_engine"
rated_el_mw = {p_chp}
eta_el = 0.4
eta_th = 0.5
eta_el_half_load = 0.4
mode = "schedule"
schedule = "sched"
heat_site = "site"
buffer_mwh = 0.0
"#
    );
    let path = dir.join("study.toml");
    std::fs::write(&path, sc).unwrap();
    path
}

/// The two-bus study with only its CHP scenario (P_chp 0.1 MW), named
/// `base`, with the CHP unit as a base unit (`[[chp]]`).
fn write_two_bus_study(dir: &Path, steps: usize) -> PathBuf {
    let path = write_two_bus_comparison(dir, steps, 0.1, "not-credited");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace(
            "[[variant]]\nname = \"base\"\n[[variant]]\nname = \"chp\"\n",
            "",
        )
        .replace("[[variant.add.chp]]", "[[chp]]");
    assert!(!text.contains("variant"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The closed-form KPIs of one scenario of the two-bus study (see
/// [`write_two_bus_comparison`]); `p_chp` 0 for the base.
fn two_bus_expected(p_chp: f64, hours: f64, credited: bool) -> Vec<(&'static str, f64)> {
    let (p, r, ef, ff, pe_grid, pe_gas) = (0.6, 0.05, 0.4, 0.2, 1.8, 1.1);
    let pn: f64 = p - p_chp;
    let v2 = (1.0 + (1.0 - 4.0 * r * pn).sqrt()) / 2.0;
    let slack = pn / v2;
    // Heat demand 1 MW_th; CHP heat beyond it is dumped (no buffer).
    let fuel = p_chp / 0.4;
    let heat = (fuel * 0.5).min(1.0);
    let boiler_heat = 1.0 - heat;
    let boiler_fuel = boiler_heat / 0.92;
    let counted = if credited { slack } else { slack.max(0.0) };
    // Regulation (EU) 2015/2402, natural gas at 20 kV, site at 9.5 °C:
    // RefEη (0.53 + 0.001·5.5) × 0.935 exported, × 0.914 used on site.
    let own = p_chp.min(p);
    let ref_fuel = heat / 0.92 + (p_chp - own) / (0.5355 * 0.935) + own / (0.5355 * 0.914);
    let pes = if p_chp > 0.0 {
        100.0 * (1.0 - fuel / ref_fuel)
    } else {
        0.0
    };
    vec![
        ("energy_served_mwh", p * hours),
        ("import_mwh", slack.max(0.0) * hours),
        ("export_mwh", (-slack).max(0.0) * hours),
        ("net_import_mwh", slack * hours),
        ("generation_mwh", p_chp * hours),
        ("loss_mwh", (slack - pn) * hours),
        ("min_vm_pu", v2.min(1.0)),
        ("max_vm_pu", v2.max(1.0)),
        ("heat_demand_mwh", hours),
        ("chp_electricity_mwh", p_chp * hours),
        ("chp_fuel_mwh", fuel * hours),
        ("chp_heat_mwh", heat * hours),
        ("boiler_heat_mwh", boiler_heat * hours),
        ("boiler_fuel_mwh", boiler_fuel * hours),
        ("pes_percent", pes),
        ("co2_grid_t", counted * ef * hours),
        ("co2_export_t", (-slack).max(0.0) * ef * hours),
        ("co2_chp_t", fuel * ff * hours),
        ("co2_boiler_t", boiler_fuel * ff * hours),
        (
            "co2_total_t",
            (counted * ef + (fuel + boiler_fuel) * ff) * hours,
        ),
        ("co2_grid_marginal_t", slack * ef * hours),
        (
            "primary_energy_mwh",
            (counted * pe_grid + (fuel + boiler_fuel) * pe_gas) * hours,
        ),
        ("steps", hours * 4.0),
    ]
}

/// A two-bus study with a base and a CHP variant on one heat boundary:
/// every KPI of both against its closed form, under both export
/// conventions, with a CHP that covers the load and one that exports;
/// avoided CO2 and saved primary energy are the differences of the totals.
#[test]
fn kpis_match_hand_computed_values() {
    let steps = 8;
    let hours = steps as f64 * 0.25;
    for (p_chp, exports) in [
        (0.1, "not-credited"),
        (0.8, "not-credited"),
        (0.8, "credited"),
    ] {
        let dir = tmpdir("kpi");
        let sc = write_two_bus_comparison(&dir, steps, p_chp, exports);
        let out = dir.join("r.h5");
        run_study(&sc, steps, &out);
        let c = compare::read(std::slice::from_ref(&out), None).unwrap();
        let get = |s: usize, k: &str| c.values[s][c.kpis.iter().position(|x| x == k).unwrap()];
        let credited = exports == "credited";
        for (s, p) in [(0, 0.0), (1, p_chp)] {
            for (k, want) in two_bus_expected(p, hours, credited) {
                let got = get(s, k);
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "P_chp {p}, exports {exports}: {k}: got {got}, expected {want}"
                );
            }
        }
        assert_eq!(get(1, "exports_credited"), credited as u8 as f64);
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        for (saved, total) in [
            ("co2_avoided_t", "co2_total_t"),
            ("primary_energy_saved_mwh", "primary_energy_mwh"),
        ] {
            let delta = get(1, total) - get(0, total);
            assert_eq!(get(0, saved), 0.0);
            assert!(
                (delta + get(1, saved)).abs() <= 1e-6 * delta.abs().max(1e-9),
                "{saved}: Δ{total} {delta}, {saved} {}",
                get(1, saved)
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}

fn read1(f: &hdf5::File, name: &str) -> Vec<f64> {
    f.dataset(name).unwrap().read_raw().unwrap()
}

/// Per step: slack import + generation + storage = load + losses, and
/// Σ bus p_mw = losses; over the run the KPI energies balance too.
#[test]
fn energy_balance_closes_in_every_step() {
    let dir = tmpdir("balance");
    let out = dir.join("r.h5");
    let sc = root().join("scenarios/rural_chp_renewables.toml");
    // Full precision: the per-bus series are summed and compared at 1e-9.
    run_study_with(&sc, 192, &out, &["--precision", "f64"]);
    let f = hdf5::File::open(&out).unwrap();
    let names = compare::scenario_names(&f, &out).unwrap();
    assert_eq!(names.len(), 7);
    for s in &names {
        let g = |n: &str| read1(&f, &format!("scenarios/{s}/grid/{n}"));
        let (slack, gen, sto, load, loss) = (
            g("p_slack_mw"),
            g("p_gen_mw"),
            g("p_storage_mw"),
            g("p_load_mw"),
            g("p_loss_mw"),
        );
        let bus_p = f
            .dataset(&format!("scenarios/{s}/bus/p_mw"))
            .unwrap()
            .read_2d::<f64>()
            .unwrap();
        for t in 0..slack.len() {
            let supply = slack[t].max(0.0) + gen[t] + sto[t].max(0.0);
            let resid = slack[t] + gen[t] + sto[t] - load[t] - loss[t];
            assert!(
                resid.abs() <= 1e-9 * supply,
                "{s} step {t}: balance residual {resid:e} MW"
            );
            let sum: f64 = bus_p.row(t).sum();
            assert!(
                (sum - loss[t]).abs() <= 1e-9 * supply,
                "{s} step {t}: Σ bus p {sum} vs loss {}",
                loss[t]
            );
        }
    }
    let c = compare::read(std::slice::from_ref(&out), Some("base")).unwrap();
    for (i, s) in c.scenarios.iter().enumerate() {
        let get = |k: &str| c.values[i][c.kpis.iter().position(|x| x == k).unwrap()];
        let lhs = get("import_mwh") - get("export_mwh")
            + get("generation_mwh")
            + get("storage_discharge_mwh");
        let rhs = get("energy_served_mwh") + get("loss_mwh") + get("storage_charge_mwh");
        assert!((lhs - rhs).abs() <= 1e-9 * lhs.abs(), "{s}: {lhs} vs {rhs}");
    }
    // The battery variant really used its battery, the CHP variants their CHP.
    let k = |s: &str, kpi: &str| {
        c.values[c.scenarios.iter().position(|x| x == s).unwrap()]
            [c.kpis.iter().position(|x| x == kpi).unwrap()]
    };
    assert!(k("chp-schedule-battery", "storage_discharge_mwh") > 0.0);
    assert!(k("chp-heat-led", "chp_electricity_mwh") > 0.0);
    assert!(k("pv-plus-12mw", "generation_mwh") > k("base", "generation_mwh"));
    // Q(U) makes the PV parks absorb reactive power at high voltage.
    let q = f
        .dataset("scenarios/pv-plus-12mw-qu-pu/unit/q_mvar")
        .unwrap()
        .read_2d::<f64>()
        .unwrap();
    assert!(q.iter().any(|x| *x < -1e-3), "Q(U) never absorbed");
    // ... but only while they feed in (at_night = false by default).
    let p = f
        .dataset("scenarios/pv-plus-12mw-qu-pu/unit/p_mw")
        .unwrap()
        .read_2d::<f64>()
        .unwrap();
    let night = p.iter().zip(q.iter()).filter(|(p, _)| **p <= 0.0);
    assert!(night.clone().count() > 0 && night.into_iter().all(|(_, q)| *q == 0.0));
    let q0 = f
        .dataset("scenarios/pv-plus-12mw/unit/q_mvar")
        .unwrap()
        .read_2d::<f64>()
        .unwrap();
    assert!(q0.iter().all(|x| *x == 0.0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compare_formats() {
    let dir = tmpdir("cmp");
    let sc = write_two_bus_study(&dir, 4);
    let out = dir.join("r.h5");
    assert!(gridsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet"
    ])
    .status
    .success());
    let o = gridsim(&["compare", out.to_str().unwrap(), "--format", "csv"]);
    let csv = String::from_utf8(o.stdout).unwrap();
    assert!(csv.starts_with("scenario,steps,steps_delta,"), "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().starts_with("base,4,0,"),
        "{csv}"
    );
    let o = gridsim(&["compare", out.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["baseline"], "base");
    let o = gridsim(&["compare", out.to_str().unwrap(), "--format", "markdown"]);
    assert!(String::from_utf8(o.stdout)
        .unwrap()
        .starts_with("| scenario"));
    let o = gridsim(&["compare", out.to_str().unwrap(), "--baseline", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("'nope' is not a scenario"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn scenario_errors_name_file_line_and_field() {
    let dir = tmpdir("err");
    let sc = write_two_bus_study(&dir, 4);
    let text = std::fs::read_to_string(&sc).unwrap();
    let bad = dir.join("bad.toml");
    let out = dir.join("x.h5");
    // Writes `content` as bad.toml, runs it, expects exit code 1; returns stderr.
    let stderr_of = |content: String| -> String {
        std::fs::write(&bad, content).unwrap();
        let o = gridsim(&["run", bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // Unknown field: file and line.
    let e = stderr_of(text.replace("rated_el_mw = 0.1", "rated_el_mw = 0.1\nrated_mw = 3"));
    assert!(e.contains("bad.toml:") && e.contains("rated_mw"), "{e}");
    // Several semantic problems at once.
    let e = stderr_of(
        text.replace("bus = 2\ntechnology", "bus = 99\ntechnology")
            .replace("eta_el = 0.4", "eta_el = 0.7"),
    );
    assert!(e.contains("chp 'chp': bus 99 is not in network"), "{e}");
    assert!(e.contains("eta_el + eta_th = 1.2 exceeds 1"), "{e}");
    // Variant errors name the variant.
    let e = stderr_of(format!(
        "{text}\n[[variant]]\nname = \"v1\"\nremove = [\"ghost\"]\n"
    ));
    assert!(
        e.contains("variant 'v1': remove: no unit named 'ghost'"),
        "{e}"
    );
    let e = stderr_of(format!(
        "{text}\n[[variant]]\nname = \"v1\"\nunits.chp = {{ mode = \"steam\" }}\n"
    ));
    assert!(e.contains("variant 'v1'") && e.contains("steam"), "{e}");
    // Heat sites, fuels and the boundary's factors: every problem named.
    let heat = "[[heat]]\nname = \"site\"\ndemand_column = \"heat\"\nboiler_efficiency = 0.92\n";
    let e = stderr_of(
        text.replace(
            heat,
            "[[heat]]\nname = \"site\"\nannual_mwh = nan\nboiler_efficiency = 1.5\n\
             [[heat]]\nname = \"hp\"\nannual_mwh = 10\nsupply = \"heat-pump\"\nprofile = \"XYZ\"\n\
             [[heat]]\nname = \"h2\"\nannual_mwh = 10\nfuel = \"hydrogen\"\nbuilding_class = 12\n\
             [primary_energy]\ngrid = -1\n",
        )
        .replace("eta_el_half_load = 0.4", "eta_el_half_load = 0.5")
        .replace(
            "exports = \"not-credited\"",
            "grid_marginal_t_per_mwh = inf",
        ),
    );
    for want in [
        "heat 'site': annual_mwh must be a number from 0 to 1e9, found NaN",
        "heat 'site': boiler_efficiency must be in (0, 1], found 1.5",
        "heat 'hp': unknown heat profile 'XYZ'",
        "heat 'hp': a heat pump needs the site's 'bus'",
        "heat 'h2': building_class of EFH must be 1 to 11, found 12",
        "heat 'h2': fuel 'hydrogen' has no primary energy factor",
        "primary_energy.grid must be between 0 and 10, found -1",
        "chp 'chp': eta_el_half_load 0.5 exceeds eta_el 0.4",
        "emissions.grid_marginal_t_per_mwh must be between 0 and 10, found inf",
    ] {
        assert!(e.contains(want), "missing '{want}' in: {e}");
    }
    let e = stderr_of(text.replace("heat_site = \"site\"", "heat_site = \"nowhere\""));
    assert!(
        e.contains("chp 'chp': heat_site 'nowhere' is not a [[heat]] site"),
        "{e}"
    );
    let e = stderr_of(format!("reference = \"ghost\"\n{text}"));
    assert!(
        e.contains("reference 'ghost' is not a scenario of the file (scenarios: base)"),
        "{e}"
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn variants_override_the_base() {
    let dir = tmpdir("var");
    let sc = write_two_bus_study(&dir, 4);
    let text = std::fs::read_to_string(&sc).unwrap();
    let v = format!(
        "{text}\n[[variant]]\nname = \"base\"\n\n[[variant]]\nname = \"no-chp\"\nremove = [\"chp\"]\n\n[[variant]]\nname = \"half\"\nunits.chp = {{ rated_el_mw = 0.05 }}\nset.emissions = {{ grid_t_per_mwh = 0.5 }}\n"
    );
    std::fs::write(&sc, v).unwrap();
    let (scs, source) = gridsim::timeseries::scenario::load_scenarios(&sc, None).unwrap();
    assert_eq!(source.sha256.len(), 64);
    assert_eq!(source.text, std::fs::read_to_string(&sc).unwrap());
    let names: Vec<&str> = scs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["base", "no-chp", "half"]);
    assert_eq!(scs[0].units.len(), 1);
    assert_eq!(scs[1].units.len(), 0);
    assert_eq!(scs[2].emissions.grid_t_per_mwh, 0.5);
    assert_eq!(scs[0].emissions.grid_t_per_mwh, 0.4);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn controllers_act_in_the_shipped_urban_scenario() {
    let dir = tmpdir("urban");
    let out = dir.join("u.h5");
    let sc = root().join("scenarios/urban_chp_oltc.toml");
    run_study(&sc, 672, &out);
    let f = hdf5::File::open(&out).unwrap();
    let taps = f
        .group("scenarios/rooftop-pv-oltc/run")
        .unwrap()
        .attr("tap_changes")
        .unwrap()
        .read_scalar::<f64>()
        .unwrap();
    assert!(taps > 0.0, "the tap changers never moved");
    // With the OLTC holding 1.02 ± 0.0075 at the busbars, their voltage stays near the band.
    let ids: Vec<u64> = f
        .dataset("scenarios/rooftop-pv-oltc/bus/id")
        .unwrap()
        .read_raw()
        .unwrap();
    let vm = f
        .dataset("scenarios/rooftop-pv-oltc/bus/vm_pu")
        .unwrap()
        .read_2d::<f64>()
        .unwrap();
    let c3 = ids.iter().position(|&i| i == 3).unwrap();
    let late: Vec<f64> = (96..672).map(|t| vm[[t, c3]]).collect();
    let worst = late.iter().map(|v| (v - 1.02).abs()).fold(0.0, f64::max);
    assert!(
        worst < 0.0075 + 0.015,
        "busbar 3 deviates {worst} from 1.02"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_is_self_contained_html_with_plots() {
    let dir = tmpdir("report");
    let out = dir.join("r.h5");
    let sc = root().join("scenarios/rural_chp_renewables.toml");
    assert!(gridsim(&[
        "run",
        sc.to_str().unwrap(),
        "--steps",
        "96",
        "--out",
        out.to_str().unwrap(),
        "--quiet"
    ])
    .status
    .success());
    let html = dir.join("r.html");
    let o = gridsim(&[
        "report",
        out.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>"));
    // Table, 5 line charts (envelope, two feeder profiles, two duration
    // curves), one heat map per scenario, 3 bar charts (heat and cooling,
    // energy, CO2).
    assert_eq!(text.matches("<svg").count(), 5 + 7 + 3);
    assert!(text.contains("Heat and cooling per scenario, by supply"));
    assert!(text.contains("chp-heat-led") && text.contains("(baseline)"));
    for forbidden in ["src=\"http", "href=\"http", "<script src", "@import"] {
        assert!(!text.contains(forbidden), "external reference {forbidden}");
    }
    // No overwrite without --force; --baseline must exist.
    let o = gridsim(&[
        "report",
        out.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = gridsim(&[
        "report",
        out.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
        "--force",
        "--baseline",
        "chp-heat-led",
    ]);
    assert!(o.status.success());
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("chp-heat-led <em>(baseline)</em>"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A run killed midway leaves nothing at the output path.
#[test]
fn killed_run_leaves_no_output_file() {
    let dir = tmpdir("kill");
    let out = dir.join("year.h5");
    let sc = root().join("scenarios/urban_chp_oltc.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args([
            "run",
            sc.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    // Wait until the temporary file exists (the run is writing), then kill.
    let t0 = std::time::Instant::now();
    loop {
        let tmp_exists = std::fs::read_dir(&dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".year.h5.tmp-")
        });
        if tmp_exists || t0.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the run finished before it could be killed"
    );
    assert!(!out.exists(), "a killed run left {}", out.display());
    std::fs::remove_dir_all(&dir).ok();
}

/// A scenario on a native network: units refer to buses by their string
/// ids, and `use_bus_limits` takes each bus's band from the network file.
#[test]
fn native_network_scenario_with_bus_ids_and_bus_limits() {
    let sc = root().join("scenarios/cn_county_feeder.toml");
    let (scs, _) = gridsim::timeseries::scenario::load_scenarios(&sc, Some(96)).unwrap();
    assert_eq!(scs.len(), 6);
    let pv = &scs[1];
    let bus_c3 = pv
        .network
        .buses
        .iter()
        .position(|b| b.name.as_deref() == Some("C3"))
        .unwrap();
    assert!(pv.units.iter().any(|u| u.bus == bus_c3));
    // The network file's PV plant is driven by the weather like scenario units,
    // and its classed loads follow their shapes (shape_network_loads = true).
    let base = &scs[0];
    assert!(base.units.iter().any(|u| u.name == "PV village C3"));
    assert!(base.network.generators.iter().all(|g| g.der.is_none()));
    assert_eq!(base.network.loads.len(), 0);
    assert!(base.synthetic_loads.len() >= 27);
    let limits = pv.bus_v_limits.as_ref().unwrap();
    let ss10 = pv
        .network
        .buses
        .iter()
        .position(|b| b.name.as_deref() == Some("SS10"))
        .unwrap();
    assert_eq!(limits[ss10], (0.93, 1.07));
    // The 10 kV busbar sits near 1.06 p.u.: outside 0.95–1.05 but inside the file's ±7 %.
    let dir = tmpdir("cn");
    let text = std::fs::read_to_string(&sc)
        .unwrap()
        .replace("use_bus_limits = true", "use_bus_limits = false");
    let narrow = sc
        .parent()
        .unwrap()
        .join(format!(".cn-narrow-{}.toml", std::process::id()));
    std::fs::write(&narrow, text).unwrap();
    let (a, b) = (dir.join("a.h5"), dir.join("b.h5"));
    for (file, out) in [(&sc, &a), (&narrow, &b)] {
        let o = gridsim(&[
            "run",
            file.to_str().unwrap(),
            "--steps",
            "96",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    std::fs::remove_file(&narrow).ok();
    let hours = |p: &Path| {
        let c = compare::read(&[p.to_path_buf()], None).unwrap();
        c.values[0][c
            .kpis
            .iter()
            .position(|k| k == "hours_voltage_violation")
            .unwrap()]
    };
    assert_eq!(hours(&a), 0.0);
    assert_eq!(hours(&b), 24.0, "the busbar violates 1.05 p.u. all day");
    std::fs::remove_dir_all(&dir).ok();
}

/// Steps that do not converge are recorded (flag, NaN values, mismatch),
/// counted, and the run goes on with the next step.
#[test]
fn non_converged_steps_are_recorded_and_the_run_continues() {
    let dir = tmpdir("nonconv");
    let sc = write_two_bus_study(&dir, 8);
    // A load factor of 50 (30 MW over 0.05 p.u.) has no power-flow solution.
    let prof = std::fs::read_to_string(dir.join("profiles.csv")).unwrap();
    let mut lines: Vec<String> = prof.lines().map(String::from).collect();
    for k in [3usize, 6] {
        lines[k + 1] = lines[k + 1].replace(",1.0,1.0", ",1.0,50.0");
    }
    std::fs::write(dir.join("profiles.csv"), lines.join("\n") + "\n").unwrap();
    let out = dir.join("r.h5");
    let o = gridsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("2 not converged")
            && err.contains("warning: scenario 'base': 2 step(s) did not converge"),
        "{err}"
    );
    let f = hdf5::File::open(&out).unwrap();
    let conv: Vec<u8> = f
        .dataset("scenarios/base/grid/converged")
        .unwrap()
        .read_raw()
        .unwrap();
    assert_eq!(conv, vec![1, 1, 1, 0, 1, 1, 0, 1]);
    let vm = f
        .dataset("scenarios/base/bus/vm_pu")
        .unwrap()
        .read_2d::<f64>()
        .unwrap();
    assert!(vm[[3, 1]].is_nan() && vm[[4, 1]].is_finite() && vm[[7, 1]].is_finite());
    let mm: Vec<f64> = f
        .dataset("scenarios/base/grid/max_mismatch_pu")
        .unwrap()
        .read_raw()
        .unwrap();
    assert!(mm[3] > 1e-8 || mm[3].is_nan());
    let c = compare::read(std::slice::from_ref(&out), None).unwrap();
    let get = |k: &str| c.values[0][c.kpis.iter().position(|x| x == k).unwrap()];
    assert_eq!(get("steps"), 6.0);
    assert_eq!(get("steps_not_converged"), 2.0);
    std::fs::remove_dir_all(&dir).ok();
}

/// The quick path (no units: batched lanes) records a step that does not
/// converge as NaN in every bus and branch series of its own block only,
/// whichever lane it ran in, and goes on.
#[test]
fn non_converged_steps_in_lanes_are_nan_rows() {
    let dir = tmpdir("nonconv_lanes");
    let steps = 700; // 8 blocks of 88 steps: lanes 0 and 0, 3 of the two groups
    write_two_bus_study(&dir, 1);
    // A load factor of 50 has no power-flow solution.
    let bad = [3usize, 400, 699];
    let mut prof = String::from("time,temp_c,sched,load\n");
    for k in 0..steps {
        let m = k * 15;
        let load = if bad.contains(&k) { 50.0 } else { 1.0 };
        prof.push_str(&format!(
            "2016-01-{:02}T{:02}:{:02}:00,5.0,1.0,{load}\n",
            1 + m / 1440,
            m % 1440 / 60,
            m % 60
        ));
    }
    std::fs::write(dir.join("profiles.csv"), prof).unwrap();
    let out = dir.join("r.h5");
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let o = gridsim(&[
        "run",
        "--network",
        &p("twobus.m"),
        "--elements",
        &p("elements.csv"),
        "--profiles",
        &p("profiles.csv"),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = hdf5::File::open(&out).unwrap();
    let g = f.group("scenarios/default").unwrap();
    let conv: Vec<u8> = g.dataset("grid/converged").unwrap().read_raw().unwrap();
    for (t, c) in conv.iter().enumerate() {
        assert_eq!(*c == 0, bad.contains(&t), "step {t}");
    }
    for name in [
        "bus/vm_pu",
        "bus/va_degree",
        "bus/p_mw",
        "bus/q_mvar",
        "line/p_from_mw",
        "line/q_from_mvar",
        "line/p_to_mw",
        "line/q_to_mvar",
        "line/i_ka",
        "transformer/loading_percent",
    ] {
        let x = g.dataset(name).unwrap().read_2d::<f64>().unwrap();
        assert_eq!(x.nrows(), steps, "{name}");
        for t in 0..steps {
            let row = x.row(t);
            if bad.contains(&t) {
                assert!(row.iter().all(|v| v.is_nan()), "{name} step {t}: {row}");
            } else {
                assert!(row.iter().all(|v| v.is_finite()), "{name} step {t}: {row}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A one-variant study on the Chinese rural feeder with constant loads and
/// the given controller line.
fn write_rural_oltc_study(dir: &Path, controller: &str, steps: usize) -> PathBuf {
    let net = root().join("networks/cn_rural_10kv.toml");
    let sc = format!(
        "network = {:?}\nnetwork_der = \"fixed\"\n[period]\nstart = \"2016-01-01T00:00:00\"\nstep_minutes = 15\nsteps = {steps}\n[solver]\ntol = 1e-11\n[[controller]]\n{controller}\n",
        net.to_str().unwrap()
    );
    let path = dir.join("oltc.toml");
    std::fs::write(&path, sc).unwrap();
    path
}

/// An OLTC names its transformer and uses the file's tap changer (±3 ×
/// 2.5 % on the HV side, not the controller's ±9 × 1.5 % defaults): with
/// the set-point out of reach it moves to the end of the file's range, and
/// the voltages are then those of the network file with tap_pos = 3.
#[test]
fn oltc_uses_the_transformers_own_tap_changer() {
    let dir = tmpdir("oltc-own");
    let sc = write_rural_oltc_study(
        &dir,
        "type = \"oltc\"\ntransformer = \"T1 S11-10000/35\"\nbus = \"SS10\"\nvset_pu = 0.9\ndeadband_pu = 0.01\ndelay_steps = 1",
        8,
    );
    let out = dir.join("o.h5");
    run_study(&sc, 8, &out);
    let f = hdf5::File::open(&out).unwrap();
    let taps = f
        .group("scenarios/base/run")
        .unwrap()
        .attr("tap_changes")
        .unwrap()
        .read_scalar::<f64>()
        .unwrap();
    assert_eq!(taps, 3.0, "the file allows 3 steps up from position 0");
    let vm = f
        .dataset("scenarios/base/bus/vm_pu")
        .unwrap()
        .read_2d::<f64>()
        .unwrap();
    let text = std::fs::read_to_string(root().join("networks/cn_rural_10kv.toml")).unwrap();
    let edited = dir.join("tap3.toml");
    // The same network by hand at tap 3, its ZIP loads included as in the run.
    let text = text.replace("tap_pos = 0", "tap_pos = 3");
    std::fs::write(&edited, text).unwrap();
    let o = gridsim(&[
        "pf",
        edited.to_str().unwrap(),
        "--format",
        "json",
        "--tol",
        "1e-11",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pf: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let last = vm.nrows() - 1;
    for (i, x) in pf["bus"]["vm_pu"].as_array().unwrap().iter().enumerate() {
        let d = (vm[[last, i]] - x.as_f64().unwrap()).abs();
        assert!(d < 1e-6, "bus {i}: {} in the run, {x} in pf", vm[[last, i]]);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// An OLTC on a line, or on an id that does not exist, is an error naming it.
#[test]
fn oltc_on_a_line_is_rejected() {
    let dir = tmpdir("oltc-line");
    for (target, expect) in [
        (
            "main SS10-M1",
            "'main SS10-M1' is a line, not a transformer",
        ),
        ("T9", "no transformer 'T9'"),
    ] {
        let sc = write_rural_oltc_study(
            &dir,
            &format!("type = \"oltc\"\ntransformer = \"{target}\"\nbus = \"SS10\""),
            2,
        );
        let o = gridsim(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("x.h5").to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(expect), "{e}");
        assert!(!dir.join("x.h5").exists());
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Every number a scenario sets is checked finite and in range before any
/// model is built: NaN and infinities are reported with their field, never
/// run (they used to give NaN results reported as converged).
#[test]
fn non_finite_and_out_of_range_numbers_are_rejected_with_their_field() {
    let dir = tmpdir("nonfinite");
    let net = root().join("networks/cn_rural_10kv.toml");
    let cases = [
        (
            "[site]\nlatitude = nan\n",
            "site.latitude must be between -90 and 90, found NaN",
        ),
        (
            "[site]\nlongitude = inf\n",
            "site.longitude must be between -180 and 180, found inf",
        ),
        ("[site]\nutc_offset_h = nan\n", "site.utc_offset_h"),
        (
            "[site]\nmean_temperature_c = -inf\n",
            "site.mean_temperature_c",
        ),
        (
            "[[pv]]\nname = \"p\"\nbus = \"M3\"\nkwp = 100\ntilt_degree = nan\n",
            "pv 'p': tilt_degree must be between 0 and 90, found NaN",
        ),
        (
            "[[load]]\nname = \"l\"\nbus = \"M3\"\nclass = \"residential\"\nannual_mwh = inf\n",
            "load 'l': annual_mwh must be a non-negative number, found inf",
        ),
        (
            "[emissions]\ngrid_t_per_mwh = nan\n",
            "emissions.grid_t_per_mwh",
        ),
        (
            "[emissions]\nfuel_t_per_mwh = { natural_gas = inf }\n",
            "emissions.fuel_t_per_mwh.natural_gas",
        ),
        (
            "[kpi]\npes_reference = { heat_eta = 0.0, electricity_eta = 0.5 }\n",
            "kpi.pes_reference.heat_eta must be in (0, 1], found 0",
        ),
        ("[solver]\ntol = nan\n", "solver.tol must be positive"),
        (
            "[[controller]]\ntype = \"pv-qu\"\nv2_pu = nan\n",
            "controller 1 (pv-qu): need 0.5 ≤ v1_pu < v2_pu ≤ v3_pu < v4_pu ≤ 1.5",
        ),
        (
            "[[controller]]\ntype = \"pv-pu\"\nv_start_pu = 1.2\nv_end_pu = 1.1\n",
            "controller 1 (pv-pu): need 0.5 ≤ v_start_pu < v_end_pu ≤ 1.5",
        ),
    ];
    for (extra, expect) in cases {
        let sc = format!(
            "network = {:?}\n[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 4\n{extra}",
            net.to_str().unwrap()
        );
        let path = dir.join("bad.toml");
        std::fs::write(&path, sc).unwrap();
        let out = dir.join("x.h5");
        let o = gridsim(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{extra}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(expect), "'{expect}' not in:\n{e}");
        assert!(!out.exists());
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A time axis that overflows, or more steps than memory allows, is an
/// error before anything is allocated (a 200-byte file used to hang or abort).
#[test]
fn absurd_time_axes_are_rejected_before_anything_is_built() {
    let dir = tmpdir("timeaxis");
    let net = root().join("networks/cn_rural_10kv.toml");
    for (period, expect) in [
        (
            "start = \"2025-01-01T00:00:00\"\nstep_minutes = 1.5e17\nsteps = 10",
            "period.step_minutes",
        ),
        (
            "start = \"2025-01-01T00:00:00\"\nsteps = 9223372036854775807",
            "period.steps must be 1 to 1051200",
        ),
        (
            "start = \"2025-01-01T00:00:00\"\nsteps = 1000000000",
            "period.steps must be 1 to 1051200",
        ),
        (
            "start = \"9999-12-01T00:00:00\"\nstep_minutes = 60\nsteps = 1000",
            "runs past the year 9999",
        ),
        (
            "start = \"2025-01-01T00:00:00\"\nstep_minutes = nan\nsteps = 4",
            "period.step_minutes",
        ),
    ] {
        let sc = format!(
            "network = {:?}\n[period]\n{period}\n",
            net.to_str().unwrap()
        );
        let path = dir.join("t.toml");
        std::fs::write(&path, sc).unwrap();
        let out = dir.join("x.h5");
        let o = gridsim(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{period}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(expect), "'{expect}' not in:\n{e}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A profile table whose labels advance by another step than the scenario
/// would give every energy wrong by that ratio: it is an error.
#[test]
fn profile_step_must_match_the_scenario_step() {
    let dir = tmpdir("labelstep");
    let net = root().join("networks/cn_rural_10kv.toml");
    let mut csv = String::from("time,x\n");
    for h in 0..24 {
        csv.push_str(&format!("2025-01-01T{h:02}:00,1\n"));
    }
    std::fs::write(dir.join("hourly.csv"), csv).unwrap();
    let sc = dir.join("s.toml");
    std::fs::write(
        &sc,
        format!(
            "network = {:?}\nprofiles = \"hourly.csv\"\n[period]\nstart = \"2025-01-01T00:00:00\"\nstep_minutes = 15\nsteps = 4\n",
            net.to_str().unwrap()
        ),
    )
    .unwrap();
    let out = dir.join("x.h5");
    let o = gridsim(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("advance by 3600 s but period.step_minutes gives 900 s"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Scenario names with commas, quotes, pipes or a leading '=' survive the
/// CSV and markdown formats (quoted, escaped, never a spreadsheet formula);
/// control characters are refused in names.
#[test]
fn compare_quotes_names_in_csv_and_markdown() {
    let dir = tmpdir("quote");
    let net = root().join("networks/cn_rural_10kv.toml");
    let names = ["a,b", "=HYPERLINK(\"x\")", "p|q", "say \"hi\""];
    let mut sc = format!(
        "network = {:?}\n[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 2\n",
        net.to_str().unwrap()
    );
    for n in names {
        sc.push_str(&format!("[[variant]]\nname = {n:?}\n"));
    }
    let path = dir.join("q.toml");
    std::fs::write(&path, sc).unwrap();
    let out = dir.join("q.h5");
    run_study(&path, 2, &out);
    let o = gridsim(&["compare", out.to_str().unwrap(), "--format", "csv"]);
    assert!(o.status.success());
    let mut rdr = csv::Reader::from_reader(&o.stdout[..]);
    let ncol = rdr.headers().unwrap().len();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), names.len());
    for (row, n) in rows.iter().zip(names) {
        assert_eq!(row.len(), ncol);
        let shown = if n.starts_with('=') {
            format!("'{n}")
        } else {
            n.to_string()
        };
        assert_eq!(&row[0], shown);
    }
    let o = gridsim(&["compare", out.to_str().unwrap(), "--format", "markdown"]);
    let md = String::from_utf8_lossy(&o.stdout);
    let pipes = |l: &str| l.replace("\\|", "").matches('|').count();
    let lines: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert!(lines.iter().all(|l| pipes(l) == pipes(lines[0])), "{md}");
    // Control characters (a terminal escape) are not a name.
    std::fs::write(
        &path,
        format!(
            "network = {:?}\n[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 2\n[[variant]]\nname = \"x\\u001b[2J\"\n",
            net.to_str().unwrap()
        ),
    )
    .unwrap();
    let o = gridsim(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        dir.join("y.h5").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no control characters"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A scenario without `[emissions]` reports 0 t, and `compare` says so.
#[test]
fn compare_warns_when_no_emission_factors_are_given() {
    let dir = tmpdir("noemissions");
    let sc = write_two_bus_study(&dir, 4);
    let text = std::fs::read_to_string(&sc).unwrap();
    let start = text.find("[emissions]").unwrap();
    let end = text.find("[kpi]").unwrap();
    std::fs::write(&sc, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let out = dir.join("r.h5");
    let o = gridsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = gridsim(&["compare", out.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("states no emission factors"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Heat-led CHP modulates between its minimum load and its rating (it ran
/// at full load or off in all but 0.2 % of its steps before).
#[test]
fn heat_led_chp_modulates() {
    let dir = tmpdir("chp-modulates");
    let out = dir.join("r.h5");
    let sc = root().join("scenarios/rural_chp_renewables.toml");
    run_study_with(&sc, 2688, &out, &["--series", "unit"]);
    let f = hdf5::File::open(&out).unwrap();
    let g = f.group("scenarios/chp-heat-led/unit").unwrap();
    let tech =
        gridsim::results::hdf5::read_strings(&f, "scenarios/chp-heat-led/unit/technology").unwrap();
    let p = g.dataset("p_mw").unwrap().read_2d::<f64>().unwrap();
    let mut checked = 0;
    for (k, t) in tech.iter().enumerate() {
        if !t.starts_with("chp") {
            continue;
        }
        let col = p.column(k);
        let max = col.iter().copied().fold(0.0, f64::max);
        let running = col.iter().filter(|x| **x > 1e-9).count();
        let part = col
            .iter()
            .filter(|x| **x > 1e-9 && **x < 0.99 * max)
            .count();
        assert!(
            running > 0 && part * 5 > running,
            "{t}: {part} of {running} running steps at part load"
        );
        checked += 1;
    }
    assert!(checked > 0);
    std::fs::remove_dir_all(&dir).ok();
}

/// The shipped county-feeder study without its variants (network path made
/// absolute), written to `dir/name` with `variants` appended. `{pv}` in
/// `variants` stands for the four 500 kWp village PV plants.
fn county_study_with(dir: &Path, name: &str, variants: &str) -> PathBuf {
    let shipped = root().join("scenarios/cn_county_feeder.toml");
    let text = std::fs::read_to_string(&shipped).unwrap().replace(
        "network = \"../networks/",
        &format!("network = \"{}/networks/", root().display()),
    );
    let base_end = text.find("[[variant]]").unwrap();
    let pv = "{ name = \"pv-A3\", bus = \"A3\", kwp = 500 }, { name = \"pv-B2\", bus = \"B2\", kwp = 500 }, \
              { name = \"pv-C3\", bus = \"C3\", kwp = 500 }, { name = \"pv-D2\", bus = \"D2\", kwp = 500 }";
    let sc = dir.join(name);
    std::fs::write(
        &sc,
        format!("{}{}", &text[..base_end], variants.replace("{pv}", pv)),
    )
    .unwrap();
    sc
}

/// Q(U) and P(U) settle on their curves together: the county feeder for a
/// year with 2 MWp of village PV (500 kVA inverters) under P(U)
/// (curtailment from 1.02 to 1.05 p.u.) and Q(U) (absorbing from 1.00 to
/// 1.04 p.u., up to 0.436 of the rating within the inverter's circle), so
/// that both act: at every step each unit's P is within 1e-4 of its
/// available power and its Q within 1e-4 of its rating of the curves,
/// written out here, at the solved voltage; no step is left unsettled.
#[test]
fn qu_and_pu_settle_on_their_curves_for_a_year() {
    let dir = tmpdir("pu-year");
    let sc = county_study_with(
        &dir,
        "pu.toml",
        "[[variant]]\nname = \"pu\"\nadd.pv = [{pv}]\n\
         add.controller = [{ type = \"pv-pu\", v_start_pu = 1.02, v_end_pu = 1.05 }, \
         { type = \"pv-qu\", v3_pu = 1.0, v4_pu = 1.04 }]\n",
    );
    let out = dir.join("pu.h5");
    let o = gridsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--precision",
        "f64",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = hdf5::File::open(&out).unwrap();
    let g = |n: &str| {
        f.dataset(&format!("scenarios/pu/{n}"))
            .unwrap()
            .read_2d::<f64>()
            .unwrap()
    };
    let (p, q, cut, vm) = (
        g("unit/p_mw"),
        g("unit/q_mvar"),
        g("unit/curtailed_mw"),
        g("bus/vm_pu"),
    );
    let unit_bus: Vec<u64> = f
        .dataset("scenarios/pu/unit/bus")
        .unwrap()
        .read_raw()
        .unwrap();
    let bus_id: Vec<u64> = f
        .dataset("scenarios/pu/bus/id")
        .unwrap()
        .read_raw()
        .unwrap();
    let run: i64 = f
        .group("scenarios/pu/run")
        .unwrap()
        .attr("control_not_settled")
        .unwrap()
        .read_scalar()
        .unwrap();
    let s_mva: f64 = 0.5;
    let (mut worst_p, mut worst_q, mut acting_p, mut acting_q) = (0.0f64, 0.0f64, 0, 0);
    for t in 0..p.nrows() {
        for u in 0..p.ncols() {
            let b = bus_id.iter().position(|&x| x == unit_bus[u]).unwrap();
            let v = vm[[t, b]];
            let avail = p[[t, u]] + cut[[t, u]];
            if avail > 1e-9 {
                let curve = ((1.05 - v) / 0.03).clamp(0.0, 1.0);
                acting_p += (curve < 1.0) as usize;
                // The controller's tolerance: 5e-5 of the available power + 1e-12 MW.
                worst_p = worst_p.max(((p[[t, u]] - avail * curve).abs() - 1e-12).max(0.0) / avail);
            }
            // No reactive power while the unit feeds in nothing (at night).
            let pu = p[[t, u]];
            let q_lim = match pu <= 0.0 {
                true => 0.0,
                false => (0.436 * s_mva).min((s_mva * s_mva - pu * pu).max(0.0).sqrt()),
            };
            let q_curve = -((v - 1.0) / 0.04).clamp(0.0, 1.0) * q_lim;
            acting_q += (q_curve < 0.0) as usize;
            worst_q = worst_q.max((q[[t, u]] - q_curve).abs() / s_mva);
        }
    }
    println!(
        "P(U) acted in {acting_p}, Q(U) in {acting_q} unit-steps; worst {worst_p:e}, {worst_q:e}"
    );
    assert!(acting_p > 1000, "P(U) acted in only {acting_p} unit-steps");
    assert!(acting_q > 5000, "Q(U) acted in only {acting_q} unit-steps");
    assert_eq!(run, 0, "unsettled steps");
    assert!(
        worst_p <= 1e-4,
        "largest distance from the P(U) curve {worst_p:e}"
    );
    assert!(
        worst_q <= 1e-4,
        "largest distance from the Q(U) curve {worst_q:e}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A battery in voltage-support mode at a PV bus of the county feeder
/// charges when the voltage there is high and so lowers it: fewer
/// quarter-hours above its threshold than the same PV without it.
#[test]
fn battery_voltage_support_lowers_high_voltages() {
    let dir = tmpdir("vsupport");
    let battery = "{ name = \"bess\", bus = \"C3\", capacity_mwh = 2.0, power_mw = 1.0, \
                   mode = \"voltage-support\", v_charge_above_pu = 1.05, v_discharge_below_pu = 0.95, \
                   soc_initial_percent = 20.0, soc_target_percent = 20.0 }";
    let sc = county_study_with(
        &dir,
        "vs.toml",
        &format!(
            "[[variant]]\nname = \"pv\"\nadd.pv = [{{pv}}]\n\n[[variant]]\nname = \"pv-bess\"\n\
             add.pv = [{{pv}}]\nadd.storage = [{battery}]\n"
        ),
    );
    let out = dir.join("vs.h5");
    run_study_with(&sc, 2976, &out, &["--series", "bus,unit"]);
    let f = hdf5::File::open(&out).unwrap();
    let ids: Vec<u64> = f
        .dataset("scenarios/pv/bus/id")
        .unwrap()
        .read_raw()
        .unwrap();
    let names = gridsim::results::hdf5::read_strings(&f, "scenarios/pv/bus/name").unwrap();
    let c3 = names
        .iter()
        .position(|n| n == "C3")
        .unwrap_or_else(|| panic!("no bus C3 among {ids:?}"));
    let high = |s: &str| -> usize {
        let vm = f
            .dataset(&format!("scenarios/{s}/bus/vm_pu"))
            .unwrap()
            .read_2d::<f64>()
            .unwrap();
        vm.column(c3).iter().filter(|v| **v > 1.05).count()
    };
    let (without, with) = (high("pv"), high("pv-bess"));
    println!("steps above 1.05 p.u. at C3: {without} without, {with} with the battery");
    assert!(
        without > 50,
        "PV alone is above 1.05 p.u. in only {without} steps"
    );
    assert!(with < without, "with the battery {with}, without {without}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A scenario whose only unit is a PV system runs in batched blocks: the
/// solutions agree with the step-by-step run's to the solver's tolerance,
/// the unit's output is its availability either way, the energies agree to
/// 1e-9 relative.
#[test]
fn pv_units_in_batched_blocks_match_the_step_by_step_run() {
    use gridsim::timeseries::rows::RowPrecision;
    use gridsim::timeseries::runner::{run_scenario, run_scenario_in_order};
    let dir = tmpdir("pv-lanes");
    let net = root().join("networks/ieee33.toml");
    let sc = format!(
        r#"
network = "{}"
network_load_class = "residential"
[period]
start = "2025-06-16T00:00:00"
step_minutes = 15
steps = 700
[solver]
tol = 1e-10
[[pv]]
name = "pv-18"
bus = 18
kwp = 1500
"#,
        net.display()
    );
    let path = dir.join("s.toml");
    std::fs::write(&path, sc).unwrap();
    let (scs, _) = gridsim::timeseries::scenario::load_scenarios(&path, None).unwrap();
    let sc = &scs[0];
    assert!(sc.runs_in_lanes());
    let f64 = RowPrecision::F64;
    let (a, ka) = run_rows(|emit| run_scenario(sc, f64, emit).unwrap());
    let (b, kb) = run_rows(|emit| run_scenario_in_order(sc, f64, emit).unwrap());
    assert_eq!(a.vm.len(), 700 * 33);
    let d =
        a.vm.iter()
            .zip(&b.vm)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
    assert!(d < 1e-8, "max |dVm| {d}");
    assert_eq!(
        a.units, b.units,
        "the unit's output is its availability either way"
    );
    assert!(a.units.iter().any(|&p| p > 1.0));
    let (x, y) = (&ka.kpis, &kb.kpis);
    for (k, p, q) in [
        ("generation", x.generation_mwh, y.generation_mwh),
        ("renewable", x.renewable_mwh, y.renewable_mwh),
        ("loss", x.loss_mwh, y.loss_mwh),
        ("import", x.import_mwh, y.import_mwh),
    ] {
        assert!((p - q).abs() <= 1e-9 * p.abs().max(1.0), "{k}: {p} vs {q}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// PV parks under Q(U) and P(U) run in lanes (each lane settles its curves
/// inside the batched fixed point; a lane that stalls goes the step-by-step
/// way): two weeks of the main job's controller variant agree with the
/// step-by-step run within the controllers' tolerances (Q 1e-4 of the
/// 3 MVA rating and P 5e-5 of the availability on either side), the
/// curves act, and one and two threads give the same KPIs.
#[test]
fn inverter_curves_in_lanes_match_the_step_by_step_run() {
    use gridsim::timeseries::rows::RowPrecision;
    use gridsim::timeseries::runner::{run_scenario, run_scenario_in_order};
    let file = root().join("scenarios/rural_chp_renewables.toml");
    let (scs, _) = gridsim::timeseries::scenario::load_scenarios(&file, Some(1344)).unwrap();
    let sc = scs.iter().find(|s| s.name == "pv-plus-12mw-qu-pu").unwrap();
    assert!(sc.runs_in_lanes() && !sc.controllers.is_empty());
    let f64 = RowPrecision::F64;
    let (lanes, s_lanes) = run_rows(|emit| run_scenario(sc, f64, emit).unwrap());
    let (steps, s_steps) = run_rows(|emit| run_scenario_in_order(sc, f64, emit).unwrap());
    let sums = [&s_lanes, &s_steps];
    assert!(sums
        .iter()
        .all(|s| s.not_converged == 0 && s.control_not_settled == 0));
    // Rows: P of the 4 units for every step, then Q (heat, fuel, SoC zero).
    let n = 1344 * 4;
    let (dp, dq) = (
        worst(&lanes.units[..n], &steps.units[..n]),
        worst(&lanes.units[n..2 * n], &steps.units[n..2 * n]),
    );
    let q_acts = lanes.units[n..2 * n]
        .iter()
        .filter(|q| q.abs() > 1e-3)
        .count();
    println!("|dP| {dp:e} MW, |dQ| {dq:e} Mvar; Q(U) acted in {q_acts} unit-steps");
    assert!(q_acts > 100, "Q(U) acted in only {q_acts} unit-steps");
    assert!(dp <= 2.0 * 5e-5 * 3.0 + 1e-9, "|dP| {dp:e} MW");
    assert!(dq <= 2.0 * 1e-4 * 3.0 + 1e-9, "|dQ| {dq:e} Mvar");
    let dv = worst(&lanes.vm, &steps.vm);
    assert!(dv < 1e-5, "|dV| {dv:e} p.u.");
    same_kpis_on_one_and_two_threads(sc, &s_lanes.kpis);
}

/// Tap changers no longer keep a scenario step by step: its steps are
/// solved ahead, four consecutive steps at once, and the tap changers check
/// them in order (a move solves that step again). Against the step-by-step
/// run, on the county feeder's line regulator (plain power flows), on
/// the main job's Q(U)/P(U) parks with both substation transformers' tap
/// changers (curves settling in the lanes) and on CHP units with heat
/// buffers and a battery with those tap changers (units dispatched in
/// order first): the same tap positions at every step and the same number
/// of moves, |V| and the units' P and Q within the solver's and the
/// curves' tolerances (units with state: their rows bit for bit), and one
/// and two threads give the same KPIs.
#[test]
fn tap_changers_solved_ahead_match_the_step_by_step_run() {
    use gridsim::timeseries::rows::RowPrecision;
    use gridsim::timeseries::runner::{run_scenario, run_scenario_in_order};
    let cases = [
        (
            "scenarios/cn_county_feeder.toml",
            "village-pv-2mw-regulator",
            2688,
        ),
        (
            "tools/bench/mv_rural_pv_parks_qu_pu_oltc.toml",
            "pv-plus-12mw-qu-pu",
            1344,
        ),
        (
            "tools/bench/mv_rural_pv_chp_battery_oltc.toml",
            "pv-chp-battery",
            2688,
        ),
        // The line regulator beside the file's ZIP loads.
        (
            "tools/bench/cn_rural_zip.toml",
            "village-pv-2mw-regulator",
            2688,
        ),
    ];
    for (file, name, steps) in cases {
        let (scs, _) =
            gridsim::timeseries::scenario::load_scenarios(&root().join(file), Some(steps)).unwrap();
        let sc = scs.iter().find(|s| s.name == name).unwrap();
        assert!(sc.runs_ahead() && !sc.runs_in_lanes(), "{name}");
        let f64 = RowPrecision::F64;
        let taps = std::cell::RefCell::new([Vec::new(), Vec::new()]);
        let (ahead, s_ahead) = run_rows(|emit| {
            run_scenario(sc, f64, |b: &gridsim::timeseries::runner::Block| {
                taps.borrow_mut()[0].extend_from_slice(&b.tap_pos);
                emit(b)
            })
            .unwrap()
        });
        let (steps_run, s_steps) = run_rows(|emit| {
            run_scenario_in_order(sc, f64, |b: &gridsim::timeseries::runner::Block| {
                taps.borrow_mut()[1].extend_from_slice(&b.tap_pos);
                emit(b)
            })
            .unwrap()
        });
        for s in [&s_ahead, &s_steps] {
            assert_eq!((s.not_converged, s.control_not_settled), (0, 0), "{name}");
        }
        println!(
            "{name}: {} tap changes, iterations {} ahead, {} step by step",
            s_ahead.tap_changes, s_ahead.iterations, s_steps.iterations
        );
        assert!(s_ahead.tap_changes >= 16, "{name}: the taps hardly move");
        assert_eq!(s_ahead.tap_changes, s_steps.tap_changes, "{name}");
        let taps = taps.into_inner();
        assert_eq!(taps[0], taps[1], "{name}: tap positions");
        let dv = worst(&ahead.vm, &steps_run.vm);
        let du = worst(&ahead.units, &steps_run.units);
        println!("{name}: |dV| {dv:e} p.u., units |dP|, |dQ| {du:e}");
        assert!(dv < 1e-5, "{name}: |dV| {dv:e} p.u.");
        // Curves within 1e-4 (Q) of the 3 MVA ratings on either side.
        assert!(du <= 2.0 * 1e-4 * 3.0 + 1e-9, "{name}: units {du:e}");
        if !sc.units.iter().all(|u| u.is_stateless()) {
            assert_eq!(ahead.units, steps_run.units, "{name}: unit rows");
            assert!(s_ahead.kpis.chp_fuel_mwh > 0.0, "{name}: the CHP units run");
        }
        same_kpis_on_one_and_two_threads(sc, &s_ahead.kpis);
    }
}

/// Per step: the units' rows (P, Q, heat, fuel, state of charge), |V| of
/// every bus, slack power and losses, from the blocks a run emits.
#[derive(Default)]
struct RunRows {
    units: Vec<f64>,
    vm: Vec<f64>,
    grid: Vec<f64>,
}

fn run_rows(
    run: impl FnOnce(
        &mut dyn FnMut(&gridsim::timeseries::runner::Block) -> gridsim::Result<()>,
    ) -> gridsim::timeseries::runner::RunSummary,
) -> (RunRows, gridsim::timeseries::runner::RunSummary) {
    let mut r = RunRows::default();
    let mut next_step = 0;
    let s = run(&mut |b| {
        assert_eq!(b.start_step, next_step, "blocks in step order");
        next_step += b.n;
        for rows in [
            &b.unit_p_mw,
            &b.unit_q_mvar,
            &b.unit_heat_mw,
            &b.unit_fuel_mw,
            &b.unit_soc_percent,
        ] {
            let x = rows.as_slice();
            r.units.extend((0..x.len()).map(|i| x.get(i)));
        }
        let vm = b.vm_pu.as_slice();
        r.vm.extend((0..vm.len()).map(|i| vm.get(i)));
        r.grid.extend(b.p_slack_mw.iter().chain(&b.p_loss_mw));
        Ok(())
    });
    (r, s)
}

/// Units with state (two heat-led CHP units with heat buffers, a
/// peak-shaving battery, a PV park) run in lanes after their dispatch is
/// computed in step order: the units' rows equal the step-by-step run's bit
/// for bit (no dispatch reads the network), voltages, slack power and
/// losses agree to the solver's tolerance, and the result does not depend
/// on the thread count.
#[test]
fn stateful_units_in_lanes_match_the_step_by_step_run() {
    use gridsim::timeseries::rows::RowPrecision;
    use gridsim::timeseries::runner::{run_scenario, run_scenario_in_order};
    let file = root().join("tools/bench/mv_rural_pv_chp_battery.toml");
    let (scs, _) = gridsim::timeseries::scenario::load_scenarios(&file, Some(2000)).unwrap();
    let sc = &scs[0];
    assert!(sc.runs_in_lanes() && !sc.steps_independent());
    let f64 = RowPrecision::F64;
    let (lanes, s_lanes) = run_rows(|emit| run_scenario(sc, f64, emit).unwrap());
    let (steps, s_steps) = run_rows(|emit| run_scenario_in_order(sc, f64, emit).unwrap());
    assert_eq!(s_lanes.not_converged + s_steps.not_converged, 0);
    assert_eq!(lanes.units, steps.units, "unit rows differ");
    assert!(lanes.units.iter().any(|&x| x != 0.0));
    // Both solves stop below a mismatch of 1e-8 p.u. at every bus (MW on
    // this grid's 1 MVA base), from different starting voltages; the slack
    // and the losses sum those of about a hundred buses.
    let dv = worst(&lanes.vm, &steps.vm);
    let dp = worst(&lanes.grid, &steps.grid);
    assert!(dv < 1e-8 && dp < 1e-6, "|dV| {dv:e} p.u., |dP| {dp:e} MW");
    let (ka, kb) = (&s_lanes.kpis, &s_steps.kpis);
    assert_eq!(ka.chp_fuel_mwh, kb.chp_fuel_mwh);
    assert!((ka.loss_mwh - kb.loss_mwh).abs() < 1e-6 * kb.loss_mwh);
    same_kpis_on_one_and_two_threads(sc, &s_lanes.kpis);
}

/// Units with state beside a PV park under Q(U) and P(U): in lanes (their
/// dispatch computed first, the curves settling in each lane) and, with
/// both substation tap changers, solved ahead, against the step-by-step
/// run of the same file: the CHP units' and the battery's rows bit for
/// bit (their dispatch reads neither the network nor what the curves do),
/// the PV units' P and Q within the curves' tolerances, the same tap
/// positions, |V| within 1e-5 p.u., and the curves act.
#[test]
fn stateful_units_beside_inverter_curves_match_the_step_by_step_run() {
    use gridsim::timeseries::rows::RowPrecision;
    use gridsim::timeseries::runner::{run_scenario, run_scenario_in_order, Block};
    let cases = [
        ("lanes", "mv_rural_pv_chp_battery_curves.toml", false),
        ("ahead", "mv_rural_pv_chp_battery_curves_oltc.toml", true),
    ];
    for (label, file, ahead) in cases {
        let path = root().join("tools/bench").join(file);
        let (scs, _) = gridsim::timeseries::scenario::load_scenarios(&path, Some(1344)).unwrap();
        let sc = scs.iter().find(|s| s.name == "pv-chp-battery").unwrap();
        assert!(!sc.steps_independent(), "{label}");
        assert_eq!(
            (sc.runs_in_lanes(), sc.runs_ahead()),
            (!ahead, ahead),
            "{label}"
        );
        let f64 = RowPrecision::F64;
        let taps = std::cell::RefCell::new([Vec::new(), Vec::new()]);
        let tap = |k: usize, b: &Block| taps.borrow_mut()[k].extend_from_slice(&b.tap_pos);
        let (fast, s_fast) = run_rows(|emit| {
            run_scenario(sc, f64, |b: &Block| {
                tap(0, b);
                emit(b)
            })
            .unwrap()
        });
        let (steps, s_steps) = run_rows(|emit| {
            run_scenario_in_order(sc, f64, |b: &Block| {
                tap(1, b);
                emit(b)
            })
            .unwrap()
        });
        for s in [&s_fast, &s_steps] {
            assert_eq!((s.not_converged, s.control_not_settled), (0, 0), "{label}");
        }
        let taps = taps.into_inner();
        assert_eq!(taps[0], taps[1], "{label}: tap positions");
        assert_eq!(s_fast.tap_changes, s_steps.tap_changes, "{label}");
        assert_eq!(s_fast.tap_changes > 0, ahead, "{label}: the taps move");
        // Unit rows: P, Q, heat, fuel, SoC of the 4 units (the PV park
        // first) at every step.
        let n = 1344 * 4;
        let mut dq = 0.0f64;
        let mut q_acts = 0;
        for (kind, rows) in ["P", "Q", "heat", "fuel", "SoC"].iter().enumerate() {
            let (a, b) = (&fast.units[kind * n..][..n], &steps.units[kind * n..][..n]);
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                match i % 4 {
                    0 => {
                        dq = dq.max((x - y).abs());
                        q_acts += (kind == 1 && x.abs() > 1e-3) as usize;
                    }
                    _ => assert_eq!(x, y, "{label}: {rows} of unit {} at step {}", i % 4, i / 4),
                }
            }
        }
        println!(
            "{label}: PV |dP|, |dQ| {dq:e}; Q(U) acted in {q_acts} steps; {} tap changes",
            s_fast.tap_changes
        );
        assert!(q_acts > 50, "{label}: Q(U) acted in only {q_acts} steps");
        assert!(dq <= 2.0 * 1e-4 * 3.0 + 1e-9, "{label}: PV {dq:e}");
        let dv = worst(&fast.vm, &steps.vm);
        assert!(dv < 1e-5, "{label}: |dV| {dv:e} p.u.");
        assert_eq!(
            s_fast.kpis.chp_fuel_mwh, s_steps.kpis.chp_fuel_mwh,
            "{label}"
        );
        same_kpis_on_one_and_two_threads(sc, &s_fast.kpis);
    }
}

/// A large grid gets short result blocks, so that the blocks in flight stay
/// within a memory budget whatever its size: a 20,000-bus synthetic feeder
/// (tools/bench/synthetic_feeder.py) has blocks of fewer steps whose rows
/// stay within `BLOCK_VALUES`, the HDF5 chunks hold one block, and its many
/// lane-run blocks give the step-by-step run's voltages.
#[test]
fn large_grids_get_short_blocks_with_the_same_results() {
    use gridsim::timeseries::rows::RowPrecision;
    use gridsim::timeseries::runner::{
        run_scenario, run_scenario_in_order, BLOCK_VALUES, MAX_BLOCK_STEPS,
    };
    let dir = tmpdir("large-blocks");
    let made = Command::new("python3")
        .arg(root().join("tools/bench/synthetic_feeder.py"))
        .args(["--buses", "20000", "--steps", "300"])
        .arg(dir.join("feeder"))
        .status()
        .unwrap();
    assert!(made.success());
    let sc_path = dir.join("large.toml");
    std::fs::write(
        &sc_path,
        "network = \"feeder/network.m\"\nelements = \"feeder/elements.csv\"\n\
         profiles = \"feeder/profiles.csv.gz\"\n[period]\nstart = \"2016-01-01T00:00:00\"\n\
         step_minutes = 15\nsteps = 300\n",
    )
    .unwrap();
    let (scs, _) = gridsim::timeseries::scenario::load_scenarios(&sc_path, None).unwrap();
    let sc = &scs[0];
    let bs = sc.block_steps();
    // 4 values per bus, 7 per branch, 2 per load column and step.
    assert!(bs < MAX_BLOCK_STEPS && bs * (4 * 20_000 + 7 * 19_999 + 2 * 19_999) <= BLOCK_VALUES);
    assert!(sc.runs_in_lanes() && sc.n_blocks() == 300usize.div_ceil(bs));
    let f32 = RowPrecision::F32;
    let (lanes, _) = run_rows(|emit| run_scenario(sc, f32, emit).unwrap());
    let (steps, _) = run_rows(|emit| run_scenario_in_order(sc, f32, emit).unwrap());
    let dv = lanes
        .vm
        .iter()
        .zip(&steps.vm)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert_eq!(lanes.vm.len(), 300 * 20_000);
    assert!(dv < 1e-6, "|dV| {dv:e} p.u. (f32 rows)");
    let out = dir.join("large.h5");
    run_study(&sc_path, 300, &out);
    let f = hdf5::File::open(&out).unwrap();
    let vm = f
        .dataset(&format!("scenarios/{}/bus/vm_pu", sc.name))
        .unwrap();
    assert_eq!(vm.chunk(), Some(vec![bs, 20_000]));
    std::fs::remove_dir_all(&dir).ok();
}

/// A run that keeps some element kinds only (`--series bus,unit`) records
/// exactly those rows, equal to a run that keeps everything, and the same
/// totals and KPIs; the other kinds' rows and the load columns stay empty.
/// A run that keeps none (`RowPrecision::Discard`: hosting probes, region
/// jobs, `--series totals`) books the same totals on the lanes, ahead and
/// step-by-step paths.
#[test]
fn runs_keep_only_the_kinds_asked_for() {
    use gridsim::timeseries::rows::{RowPrecision, RowSlice, RowsKept};
    use gridsim::timeseries::runner::{run_scenario, run_scenario_in_order, Block};
    let file = root().join("scenarios/urban_chp_oltc.toml");
    let (scs, _) = gridsim::timeseries::scenario::load_scenarios(&file, Some(700)).unwrap();
    let f32s = |r: RowSlice| match r {
        RowSlice::F32(x) => x.to_vec(),
        RowSlice::F64(x) => x.iter().map(|&v| v as f32).collect(),
    };
    assert!(scs.iter().any(|s| s.runs_in_lanes()) && scs.iter().any(|s| s.runs_ahead()));
    let mut seen = [false; 4];
    for sc in &scs {
        let record_on = |in_order: bool, kept: RowsKept| {
            let mut kinds: [Vec<f32>; 4] = Default::default();
            let mut grid: Vec<f64> = Vec::new();
            let run = match in_order {
                true => run_scenario_in_order,
                false => run_scenario,
            };
            let s = run(sc, kept, &mut |b: &Block| {
                kinds[0].extend(f32s(b.vm_pu.as_slice()));
                kinds[0].extend(f32s(b.bus_q_mvar.as_slice()));
                kinds[1].extend(f32s(b.loading_percent.as_slice()));
                kinds[1].extend(f32s(b.p_to_mw.as_slice()));
                kinds[2].extend(f32s(b.unit_p_mw.as_slice()));
                kinds[2].extend(f32s(b.unit_soc_percent.as_slice()));
                kinds[3].extend(f32s(b.load_p_mw.as_slice()));
                grid.extend(b.p_slack_mw.iter().chain(&b.p_loss_mw).chain(&b.co2_t));
                Ok(())
            })
            .unwrap();
            (s, grid, kinds)
        };
        let record = |kept: RowsKept| record_on(false, kept);
        // The step-by-step path keeps nothing at the same totals too.
        let (in_order, _, _) = record_on(true, RowPrecision::F32.into());
        let (in_order_none, _, none) = record_on(true, RowPrecision::Discard.into());
        assert_eq!(in_order_none, in_order, "{} in order", sc.name);
        assert!(none.iter().all(|k| k.is_empty()), "{} in order", sc.name);
        let (all_s, all_grid, all) = record(RowPrecision::F32.into());
        all.iter()
            .zip(&mut seen)
            .for_each(|(k, s)| *s |= !k.is_empty());
        assert_eq!(all_grid.len(), 3 * 700, "{}", sc.name);
        let (none_s, none_grid, none) = record(RowPrecision::Discard.into());
        assert_eq!(none_s, all_s, "{}", sc.name);
        assert_eq!(none_grid, all_grid, "{}", sc.name);
        assert!(none.iter().all(|k| k.is_empty()), "{}", sc.name);
        for mask in 0..16u32 {
            let keep = |i: u32| mask & (1 << i) != 0;
            let kept = RowsKept {
                precision: RowPrecision::F32,
                bus: keep(0),
                branch: keep(1),
                unit: keep(2),
                load: keep(3),
            };
            let (s, grid, kinds) = record(kept);
            assert_eq!(s, all_s, "{} {kept:?}", sc.name);
            assert_eq!(grid, all_grid, "{} {kept:?}", sc.name);
            for (i, (k, a)) in kinds.iter().zip(&all).enumerate() {
                match keep(i as u32) {
                    // Same bits, NaN included.
                    true => assert!(
                        k.len() == a.len()
                            && k.iter().zip(a).all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{} {kept:?}: kind {i} differs",
                        sc.name
                    ),
                    false => assert!(k.is_empty(), "{} {kept:?}: kind {i} kept", sc.name),
                }
            }
        }
    }
    assert_eq!(seen, [true; 4], "every kind recorded in some scenario");
}

/// One scenario of a file (`parse_scenario`, what hosting-capacity
/// searches and a region's hosting jobs read) is the same scenario as in
/// the whole file's list, the reference by default; a variant's
/// build-time error does not stop another variant, an unknown name lists
/// the scenarios.
#[test]
fn one_scenario_of_a_file_is_built_alone() {
    use gridsim::timeseries::scenario::{parse_scenario, parse_scenarios};
    let path = root().join("scenarios/cn_county_feeder.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let all = parse_scenarios(&path, &text, Some(96)).unwrap();
    for sc in &all {
        let one = parse_scenario(&path, &text, Some(&sc.name), Some(96)).unwrap();
        assert_eq!(format!("{one:?}"), format!("{sc:?}"), "{}", sc.name);
    }
    let reference = parse_scenario(&path, &text, None, Some(96)).unwrap();
    assert!(
        reference.is_reference
            && all
                .iter()
                .any(|s| s.is_reference && s.name == reference.name)
    );
    let broken = format!(
        "{text}\n[[variant]]\nname = \"broken\"\nadd.pv = [{{ name = \"x\", bus = \"nowhere\", kwp = 5 }}]\n"
    );
    assert!(parse_scenarios(&path, &broken, Some(96)).is_err());
    let base = parse_scenario(&path, &broken, Some("base"), Some(96)).unwrap();
    assert_eq!(base.name, "base");
    let e = parse_scenario(&path, &text, Some("nope"), Some(96))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no scenario 'nope'") && e.contains("village-pv-2mw"),
        "{e}"
    );
    // The variants of a file share weather-driven series only where every
    // input agrees: each equals the scenario built alone.
    let pv = |name: &str, tilt: f64| {
        format!("name = \"{name}\"\nadd.pv = [{{ name = \"p\", bus = \"A3\", kwp = 500, tilt_degree = {tilt} }}]\n")
    };
    let mixed = format!(
        "{text}\n[[variant]]\n{}[[variant]]\n{}[[variant]]\n{}set.site = {{ latitude = 30.0, longitude = 110.0 }}\n[[variant]]\n{}set.seed = 5\n",
        pv("tilt-20", 20.0),
        pv("tilt-30", 30.0),
        pv("south", 30.0),
        pv("other-seed", 30.0),
    );
    let all = parse_scenarios(&path, &mixed, Some(96)).unwrap();
    for sc in &all {
        let one = parse_scenario(&path, &mixed, Some(&sc.name), Some(96)).unwrap();
        assert_eq!(format!("{one:?}"), format!("{sc:?}"), "{}", sc.name);
    }
    let series: Vec<String> = ["tilt-20", "tilt-30", "south", "other-seed"]
        .iter()
        .map(|n| all.iter().find(|s| &s.name == n).unwrap())
        .map(|sc| format!("{:?}", sc.units.last().unwrap().state))
        .collect();
    for i in 0..4 {
        for j in i + 1..4 {
            assert_ne!(series[i], series[j], "variants {i} and {j} share a series");
        }
    }
}

/// The largest absolute difference of two equally long series.
fn worst(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// `sc` run on one and on two threads books the same KPIs, and those of
/// `kpis` (a run of it by another path).
fn same_kpis_on_one_and_two_threads(
    sc: &gridsim::timeseries::runner::Scenario,
    kpis: &gridsim::timeseries::kpi::Kpis,
) {
    use gridsim::timeseries::rows::RowPrecision;
    use gridsim::timeseries::runner::run_parallel;
    let f64 = RowPrecision::F64;
    let one = run_parallel(std::slice::from_ref(sc), 1, f64, |_, _| Ok(())).unwrap();
    let two = run_parallel(std::slice::from_ref(sc), 2, f64, |_, _| Ok(())).unwrap();
    assert_eq!(one[0].kpis, two[0].kpis, "{}", sc.name);
    assert_eq!(&one[0].kpis, kpis, "{}", sc.name);
}

/// Voltage-dependent network loads — the Chinese rural feeder's residential
/// ZIP mix (30 % constant impedance, 20 % constant current), booked as the
/// file gives them — run in lanes. With nothing else changing, every step
/// lands on pandapower's power flow of the file
/// (tests/data/networks/cn_rural_10kv.json, ZIP loads included); with the
/// benchmark's PV, farms and CHP, each variant agrees with the step-by-step
/// run (both solve the loads in the fixed point, constant current as a
/// term of its right-hand side: to rounding where steps are independent),
/// with what the loads draw booked alike, and no step falls back to Newton.
#[test]
fn voltage_dependent_loads_run_in_lanes() {
    use gridsim::timeseries::rows::RowPrecision;
    use gridsim::timeseries::runner::{run_scenario, run_scenario_in_order};
    use gridsim::timeseries::scenario::load_scenarios;
    let f64 = RowPrecision::F64;
    // The file alone: constant loads, the PV plant at its file value.
    let dir = tmpdir("zip-lanes");
    let net = root().join("networks/cn_rural_10kv.toml");
    let file = dir.join("zip.toml");
    std::fs::write(
        &file,
        format!(
            "network = {:?}\nnetwork_der = \"fixed\"\n[period]\nstart = \"2016-01-01T00:00:00\"\nstep_minutes = 15\nsteps = 12\n[solver]\ntol = 1e-10\n",
            net.to_str().unwrap()
        ),
    )
    .unwrap();
    let (scs, _) = load_scenarios(&file, None).unwrap();
    let sc = &scs[0];
    assert!(sc.books_voltage_dependent_loads() && sc.runs_in_lanes());
    let (rows, s) = run_rows(|emit| run_scenario(sc, f64, emit).unwrap());
    assert_eq!((s.not_converged, s.newton_fallbacks), (0, 0));
    let refj: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/networks/cn_rural_10kv.json")).unwrap(),
    )
    .unwrap();
    let nb = sc.network.buses.len();
    let mut compared = 0;
    for (i, b) in sc.network.buses.iter().enumerate() {
        let Some(x) = b.name.as_ref().and_then(|n| refj["bus"].get(n)) else {
            continue;
        };
        let want = x[0].as_f64().unwrap();
        for t in 0..12 {
            let got = rows.vm[t * nb + i];
            assert!(
                (got - want).abs() < 1e-9,
                "bus {:?} step {t}: {got} vs pandapower {want}",
                b.name
            );
        }
        compared += 1;
    }
    assert!(compared >= nb - 1, "{compared} of {nb} buses compared");
    std::fs::remove_dir_all(&dir).ok();

    // The benchmark's variants: units and synthetic loads beside them.
    let file = root().join("tools/bench/cn_rural_zip.toml");
    let (scs, _) = load_scenarios(&file, Some(700)).unwrap();
    for name in ["base", "village-pv-2mw", "biogas-chp"] {
        let sc = scs.iter().find(|s| s.name == name).unwrap();
        assert!(
            sc.books_voltage_dependent_loads() && sc.runs_in_lanes(),
            "{name}"
        );
        let (lanes, s_lanes) = run_rows(|emit| run_scenario(sc, f64, emit).unwrap());
        let (steps, s_steps) = run_rows(|emit| run_scenario_in_order(sc, f64, emit).unwrap());
        assert_eq!(s_lanes.not_converged + s_steps.not_converged, 0, "{name}");
        assert_eq!(
            s_lanes.newton_fallbacks + s_steps.newton_fallbacks,
            0,
            "{name}"
        );
        assert_eq!(lanes.units, steps.units, "{name}: unit rows");
        let dv = worst(&lanes.vm, &steps.vm);
        let dp = worst(&lanes.grid, &steps.grid);
        println!("{name}: |dV| {dv:e} p.u., |dP| {dp:e} MW");
        // Independent steps: the same solves from the same start (only the
        // injections summed in another order); with the CHP unit's heat
        // state, the step-by-step run warm-starts across blocks, and both
        // stop below a mismatch of 1e-8 p.u. from different starts.
        let (tol_v, tol_p) = match sc.steps_independent() {
            true => (1e-12, 1e-9),
            false => (1e-7, 1e-5),
        };
        assert!(dv < tol_v && dp < tol_p, "{name}: |dV| {dv:e}, |dP| {dp:e}");
        // What the loads draw at the solved voltage is booked alike.
        let (ka, kb) = (&s_lanes.kpis, &s_steps.kpis);
        for (what, a, b) in [
            ("energy served", ka.energy_served_mwh, kb.energy_served_mwh),
            ("losses", ka.loss_mwh, kb.loss_mwh),
        ] {
            assert!(
                a > 0.0 && (a - b).abs() < 1e3 * tol_p * b,
                "{name}: {what} {a} vs {b}"
            );
        }
        same_kpis_on_one_and_two_threads(sc, &s_lanes.kpis);
    }
}

/// An element table replaces the network's loads; where some of those had
/// ZIP shares, the run says that the table's loads draw constant power
/// (printed, and kept in the results file); the same network with a
/// table but no ZIP loads has no note.
#[test]
fn element_table_replacing_zip_loads_is_noted() {
    let net_path = root().join("networks/cn_rural_10kv.toml");
    let net = gridsim::network::read_network(&net_path).unwrap();
    let zip: Vec<_> = (net.loads.iter())
        .filter(|l| l.z_share != 0.0 || l.i_share != 0.0)
        .collect();
    assert!(zip.len() > 10, "{} ZIP loads", zip.len());
    let p_mw: f64 = zip.iter().map(|l| l.p_mw).sum();
    let note = format!(
        "elements: the element table replaces the network's loads, {} of which ({p_mw:.3} MW) \
         have constant-impedance or constant-current shares (ZIP); the table's loads draw \
         constant power",
        zip.len()
    );
    let dir = tmpdir("zip-elements");
    let mut prof = String::from("time,load\n");
    for k in 0..4 {
        prof.push_str(&format!("2016-01-01T00:{:02}:00,1.0\n", 15 * k));
    }
    std::fs::write(dir.join("profiles.csv"), prof).unwrap();
    std::fs::write(
        dir.join("elements.csv"),
        "kind,name,bus,p_mw,q_mvar,p_profile_col,q_profile_col\nload,l1,SS10,0.5,0.1,load,load\n",
    )
    .unwrap();
    let run = |network: &Path, out: &str| {
        let out = dir.join(out);
        let o = gridsim(&[
            "run",
            "--network",
            network.to_str().unwrap(),
            "--elements",
            dir.join("elements.csv").to_str().unwrap(),
            "--profiles",
            dir.join("profiles.csv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let printed =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        (
            printed,
            compare::read(std::slice::from_ref(&out), None).unwrap(),
        )
    };
    let (printed, cmp) = run(&net_path, "zip.h5");
    let want = format!("scenario '{}': {note}", cmp.scenarios[0]);
    assert!(printed.contains(&format!("warning: {want}")), "{printed}");
    assert!(cmp.warnings().contains(&want), "{:?}", cmp.warnings());
    // The same grid without ZIP shares: no note.
    let plain = std::fs::read_to_string(&net_path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("zip"))
        .collect::<Vec<_>>()
        .join("\n");
    let plain_path = dir.join("plain.toml");
    std::fs::write(&plain_path, plain).unwrap();
    let plain_net = gridsim::network::read_network(&plain_path).unwrap();
    assert!(!plain_net.has_voltage_dependent_loads());
    let (printed, cmp) = run(&plain_path, "plain.h5");
    assert!(!printed.contains("element table replaces"), "{printed}");
    let w = cmp.warnings();
    assert!(
        !w.iter().any(|w| w.contains("element table replaces")),
        "{w:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Shaped loads draw constant power: the county feeder's residential ZIP
/// loads (30 % Z, 20 % I in the file) are named in a note that the run
/// prints and the results file keeps (compare and the report list it); the
/// same network unshaped books them as ZIP and has no note.
#[test]
fn shaped_zip_loads_are_noted() {
    use gridsim::timeseries::scenario::load_scenarios;
    // The expected count and peak from the network file alone.
    let net = gridsim::network::read_network(&root().join("networks/cn_rural_10kv.toml")).unwrap();
    let zip: Vec<_> = (net.loads.iter())
        .filter(|l| l.class.is_some() && (l.z_share != 0.0 || l.i_share != 0.0))
        .collect();
    assert!(zip.len() > 10, "{} ZIP loads with a class", zip.len());
    let peak_mw: f64 = zip.iter().map(|l| l.p_mw).sum();
    let note = format!(
        "shape_network_loads: {} of the network's loads ({peak_mw:.3} MW at peak) have \
         constant-impedance or constant-current shares (ZIP); shaped, they draw constant power",
        zip.len()
    );
    let shaped = root().join("scenarios/cn_county_feeder.toml");
    let (scs, _) = load_scenarios(&shaped, Some(4)).unwrap();
    for sc in &scs {
        assert_eq!(sc.notes, std::slice::from_ref(&note), "{}", sc.name);
        assert!(!sc.books_voltage_dependent_loads(), "{}", sc.name);
    }
    let (scs, _) = load_scenarios(&root().join("tools/bench/cn_rural_zip.toml"), Some(4)).unwrap();
    for sc in &scs {
        assert!(sc.notes.is_empty(), "{}: {:?}", sc.name, sc.notes);
        assert!(sc.books_voltage_dependent_loads(), "{}", sc.name);
    }

    let dir = tmpdir("zip-note");
    let out = dir.join("county.h5");
    let o = gridsim(&[
        "run",
        shaped.to_str().unwrap(),
        "--steps",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let printed =
        String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    // Once, naming every variant (they share it).
    let cmp = compare::read(std::slice::from_ref(&out), None).unwrap();
    let want = format!("scenarios '{}': {note}", cmp.scenarios.join("', '"));
    assert_eq!(printed.matches(&note).count(), 1, "{printed}");
    assert!(printed.contains(&format!("warning: {want}")), "{printed}");
    assert!(cmp.warnings().contains(&want), "{:?}", cmp.warnings());
    std::fs::remove_dir_all(&dir).ok();
}
