//! CCHP (trigeneration) on one energy boundary: a two-bus study whose heat
//! and cooling demands are constant, served in the reference by a gas
//! boiler and electric chillers and in the variant by a gas engine with a
//! single-effect absorption chiller; every KPI against its closed form,
//! and the chillers' electricity in the power flow.

mod common;

use common::{gridsim, tmpdir, TWO_BUS};
use gridsim::results::compare;
use std::path::{Path, PathBuf};

/// Load 0.6 MW at bus 2 (unity power factor), heat 0.3 MW_th (boiler
/// η 0.92), cooling `cool` MW for the first half of the steps and 0 after
/// (electric chillers rated COP 5.0 water-cooled, unity power factor), an
/// outdoor 35 °C (cooling water 30 °C: the chillers' rating point). The
/// variant `cchp`: a 0.5 MW gas engine (η_el 0.4, η_th 0.5, flat part
/// load) at its rating on a schedule, serving the heat and, with a 0.5 MW
/// single-effect absorption chiller (min part load 0.1), the cooling.
fn write_study(dir: &Path, steps: usize, cool: f64) -> PathBuf {
    std::fs::write(dir.join("twobus.m"), TWO_BUS).unwrap();
    let mut prof = String::from("time,temp_c,sched,load,heat,cool\n");
    for k in 0..steps {
        let c = if k < steps / 2 { cool } else { 0.0 };
        prof.push_str(&format!(
            "2016-07-01T{:02}:{:02}:00,35.0,1.0,1.0,0.3,{c}\n",
            k * 15 / 60,
            k * 15 % 60
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
reference = "reference"
[period]
start = "2016-07-01T00:00:00"
step_minutes = 15
steps = {steps}
[solver]
tol = 1e-12
[site]
temperature_column = "temp_c"
[emissions]
grid_t_per_mwh = 0.4
fuel_t_per_mwh = {{ natural_gas = 0.2 }}
[[heat]]
name = "hotel"
demand_column = "heat"
boiler_efficiency = 0.92
[[cooling]]
name = "hotel"
bus = 2
demand_column = "cool"
chiller_cop = 5.0
chiller_power_factor = 1.0
[[variant]]
name = "reference"
[[variant]]
name = "cchp"
[[variant.add.chp]]
name = "engine"
bus = 2
technology = "gas_engine"
rated_el_mw = 0.5
eta_el = 0.4
eta_th = 0.5
eta_el_half_load = 0.4
mode = "schedule"
schedule = "sched"
heat_site = "hotel"
cooling_site = "hotel"
buffer_mwh = 0.0
absorption = {{ type = "single-effect", capacity_mw = 0.5, min_part_load = 0.1 }}
"#
    );
    let path = dir.join("study.toml");
    std::fs::write(&path, sc).unwrap();
    path
}

/// Receiving-end voltage and slack power of the two-bus line (r = 0.05)
/// at net load `pn`: V² − V + r·Pn = 0, slack Pn / V.
fn line(pn: f64) -> (f64, f64) {
    let v = (1.0 + (1.0 - 4.0 * 0.05 * pn).sqrt()) / 2.0;
    (v, pn / v)
}

#[test]
fn cchp_kpis_match_the_closed_form() {
    let steps = 8;
    let (cool, hours) = (1.0, steps as f64 * 0.25);
    let half = hours / 2.0;
    let dir = tmpdir("cchp");
    let sc = write_study(&dir, steps, cool);
    let out = dir.join("r.h5");
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
    let c = compare::read(std::slice::from_ref(&out), None).unwrap();
    let get = |s: usize, k: &str| c.values[s][c.kpis.iter().position(|x| x == k).unwrap()];
    let close = |s: usize, k: &str, want: f64| {
        let got = get(s, k);
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "scenario {s}: {k}: got {got}, expected {want}"
        );
    };
    // The reference: chillers draw cool / 5 while cooling is wanted.
    let chiller_ref = cool / 5.0;
    let (_, s_on) = line(0.6 + chiller_ref);
    let (_, s_off) = line(0.6);
    close(0, "cooling_demand_mwh", cool * half);
    close(0, "electric_cooling_mwh", cool * half);
    close(0, "chiller_electricity_mwh", chiller_ref * half);
    close(0, "energy_served_mwh", 0.6 * hours + chiller_ref * half);
    close(0, "import_mwh", (s_on + s_off) * half);
    let boiler_fuel = 0.3 / 0.92;
    let co2_ref = (s_on + s_off) * half * 0.4 + boiler_fuel * hours * 0.2;
    close(0, "co2_total_t", co2_ref);
    let pe_ref = (s_on + s_off) * half * 1.8 + boiler_fuel * hours * 1.1;
    close(0, "primary_energy_mwh", pe_ref);
    // The CCHP: 1.25 MW of fuel, 0.625 MW_th; 0.3 to the heat, 0.325 to
    // the absorption chiller, which modulates on Kühn & Ziegler's line
    // (10 kW machine scaled by 0.05 MW/kW): ΔΔt = (0.325/0.05 − 2)/0.51,
    // cooling 0.05·(0.42·ΔΔt + 0.9). Without cooling demand the heat
    // beyond the 0.3 MW_th is dumped.
    let ddt = (0.325 / 0.05 - 2.0) / 0.51;
    let absorbed = 0.05 * (0.42 * ddt + 0.9);
    let chiller = (cool - absorbed) / 5.0;
    let (_, c_on) = line(0.6 + chiller - 0.5);
    let (_, c_off) = line(0.6 - 0.5);
    close(1, "absorption_cooling_mwh", absorbed * half);
    close(1, "absorption_heat_mwh", 0.325 * half);
    close(1, "electric_cooling_mwh", (cool - absorbed) * half);
    close(1, "chiller_electricity_mwh", chiller * half);
    close(1, "energy_served_mwh", 0.6 * hours + chiller * half);
    close(1, "import_mwh", (c_on + c_off) * half);
    close(1, "chp_fuel_mwh", 1.25 * hours);
    close(1, "chp_heating_mwh", 0.3 * hours);
    close(1, "boiler_heat_mwh", 0.0);
    let useful = 0.5 * hours + 0.3 * hours + absorbed * half;
    close(
        1,
        "chp_energy_utilisation_percent",
        100.0 * useful / (1.25 * hours),
    );
    close(1, "chp_primary_energy_ratio", useful / (1.25 * hours * 1.1));
    let co2 = (c_on + c_off) * half * 0.4 + 1.25 * hours * 0.2;
    close(1, "co2_total_t", co2);
    close(1, "co2_avoided_t", co2_ref - co2);
    let pe = (c_on + c_off) * half * 1.8 + 1.25 * hours * 1.1;
    close(1, "primary_energy_saved_mwh", pe_ref - pe);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    // The chillers are a load at bus 2 in the power flow: its injection is
    // −(load + chillers) in the reference, and the CCHP's own rows say
    // what its backup chillers drew.
    let f = hdf5::File::open(&out).unwrap();
    let bus_p: Vec<f64> = f
        .dataset("scenarios/reference/bus/p_mw")
        .unwrap()
        .read_raw()
        .unwrap();
    for k in 0..steps {
        let want = if k < steps / 2 {
            -0.6 - chiller_ref
        } else {
            -0.6
        };
        assert!(
            (bus_p[k * 2 + 1] - want).abs() < 1e-9,
            "step {k}: {}",
            bus_p[k * 2 + 1]
        );
    }
    let drawn: Vec<f64> = f
        .dataset("scenarios/cchp/unit/chiller_p_mw")
        .unwrap()
        .read_raw()
        .unwrap();
    assert!((drawn[0] - chiller).abs() < 1e-12 && drawn[steps - 1] == 0.0);
    std::fs::remove_dir_all(&dir).ok();
}

/// A cooling site that names no bus, an absorption chiller without a
/// cooling site, a bad COP and a CCHP naming an unknown site are errors
/// naming the field.
#[test]
fn bad_cooling_inputs_are_named() {
    let dir = tmpdir("cchp-bad");
    let sc = write_study(&dir, 4, 1.0);
    let text = std::fs::read_to_string(&sc).unwrap();
    for (from, to, needle) in [
        ("chiller_cop = 5.0", "chiller_cop = -1", "chiller_cop"),
        ("chiller_cop = 5.0", "chiller_cop = nan", "chiller_cop"),
        (
            "cooling_site = \"hotel\"",
            "cooling_site = \"mall\"",
            "cooling_site 'mall'",
        ),
        ("cooling_site = \"hotel\"\n", "", "need a 'cooling_site'"),
        (
            "capacity_mw = 0.5",
            "capacity_mw = 0",
            "absorption.capacity_mw",
        ),
        (
            "bus = 2\ndemand_column = \"cool\"",
            "demand_column = \"cool\"",
            "bus",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        std::fs::write(&sc, text.replacen(from, to, 1)).unwrap();
        let o = gridsim(&[
            "run",
            sc.to_str().unwrap(),
            "--out",
            dir.join("x.h5").to_str().unwrap(),
            "--quiet",
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{to}: accepted");
        assert!(err.contains(needle), "{to}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The shipped CCHP study over its year: one boundary (no warnings), the
/// cooling balance, the reference's electric chillers lifting the feeder's
/// summer loading, and the CCHP plants' energy utilisation.
#[test]
fn shipped_cchp_study() {
    let dir = tmpdir("cchp-shipped");
    let out = dir.join("r.h5");
    let sc = common::root().join("scenarios/cn_urban_cchp.toml");
    let o = gridsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c = compare::read(std::slice::from_ref(&out), None).unwrap();
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    for s in 0..c.scenarios.len() {
        let v = |k: &str| c.value(s, k);
        assert!((v("cooling_demand_mwh") - 9000.0).abs() < 1e-6 * 9000.0);
        // Over the year the cold store (6 MWh) changes by at most its size.
        let served = v("absorption_cooling_mwh") + v("electric_cooling_mwh");
        assert!(
            (served - 9000.0).abs() <= 6.0 + 1e-6,
            "{}: {served}",
            c.scenarios[s]
        );
        if v("chp_fuel_mwh") > 0.0 {
            assert!(v("absorption_cooling_mwh") > 1000.0);
            assert!(v("chp_energy_utilisation_percent") > 70.0);
            assert!(v("co2_avoided_t") > 0.0);
        }
    }
    assert_eq!(c.chp_criteria().len(), 3);
    // The reference's chillers: the ring's second feeder (head cable
    // RMU8–S10-II) peaks in summer.
    let f = hdf5::File::open(&out).unwrap();
    let loading: Vec<f32> = f
        .dataset("scenarios/grid-chillers-boilers/line/loading_percent")
        .unwrap()
        .read_raw()
        .unwrap();
    let head = |from: usize, to: usize| {
        (from..to)
            .map(|t| loading[t * 9 + 8])
            .fold(0.0f32, f32::max)
    };
    let (january, july) = (head(0, 2976), head(17376, 20352));
    assert!(july > 1.5 * january, "July {july} %, January {january} %");
    std::fs::remove_dir_all(&dir).ok();
}
