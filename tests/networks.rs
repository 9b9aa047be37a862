//! Every native network in networks/ solves and matches an independent reference:
//! PYPOWER (IEEE 33/69), pandapower (CIGRE, Chinese feeders; tests/data/networks/),
//! or the pandapower base-case solution stored in the SimBench export.

mod common;
use common::reference_pf_options;
use gridsim::cli::load_network;
use gridsim::network::edit::{read_edited, GridEdits};
use gridsim::network::matpower::interp;
use gridsim::powerflow::{self, PfOptions};
use gridsim::results::PowerFlowResult;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn solve(name: &str) -> (gridsim::network::Network, PowerFlowResult) {
    let net = load_network(&root().join("networks").join(format!("{name}.toml"))).unwrap();
    solve_net(net)
}

fn solve_net(net: gridsim::network::Network) -> (gridsim::network::Network, PowerFlowResult) {
    let opts = reference_pf_options();
    let r = powerflow::solve_converged(&net, &opts).unwrap();
    (net, r)
}

fn angle_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

/// Compares bus voltages by bus id (name) with a pandapower JSON reference.
fn check_pandapower(name: &str, reference: &str) {
    let (net, r) = solve(name);
    check_against(&net, &r, name, reference);
}

fn check_against(
    net: &gridsim::network::Network,
    r: &PowerFlowResult,
    name: &str,
    reference: &str,
) {
    let refj: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root()
                .join("tests/data/networks")
                .join(format!("{reference}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(refj["converged"], Value::Bool(true));
    let buses = refj["bus"].as_object().unwrap();
    let (mut dvm, mut dva, mut n) = (0.0f64, 0.0f64, 0);
    for (i, b) in net.buses.iter().enumerate() {
        let Some(nm) = &b.name else { continue };
        let Some(x) = buses.get(nm) else { continue };
        let (vm, va) = (x[0].as_f64().unwrap(), x[1].as_f64().unwrap());
        dvm = dvm.max((r.bus.vm_pu[i] - vm).abs());
        dva = dva.max(angle_diff(r.bus.va_degree[i], va));
        n += 1;
    }
    // Losses include the transformers' iron losses, as pandapower's pl_mw.
    let dloss = (r.total_loss_mw - refj["p_loss_mw"].as_f64().unwrap()).abs();
    println!("{name} vs {reference}: {n} buses, |dVm| {dvm:.2e}, |dVa| {dva:.2e} deg, losses {dloss:.2e} MW");
    assert!(
        n >= buses.len().min(net.buses.len()) - 4 && n > 0,
        "{name}: only {n} buses compared"
    );
    assert!(dvm < 1e-8, "{name}: |dVm| = {dvm:e}");
    assert!(dva < 1e-6, "{name}: |dVa| = {dva:e}");
    assert!(dloss < 1e-7, "{name}: losses differ by {dloss:e} MW");
    check_elements(r, &refj, name);
}

/// Largest deviation of one element table from pandapower's, relative to
/// each reference value; values below a thousandth of the column's largest
/// (zero up to the solvers' tolerances, e.g. the open end of a cable) are
/// compared relative to that thousandth. A loss is the difference of the
/// two end flows and only as exact as they are (a stiff regulator's loss is
/// 1e-4 of its flow), so losses are compared relative to the largest flow. Every
/// element of the reference (pandapower lists those in service) must be
/// here; elements it does not list (out of service, storage) are skipped.
fn table_deviation(ids: &[String], ours: &[(&str, &[f64])], reference: &Value, what: &str) -> f64 {
    let rows = reference.as_object().unwrap();
    let mut worst = 0.0f64;
    for (col, values) in ours {
        // A loss is the small difference of two flows: it is as exact as
        // the flows are, so its floor comes from the flows' column.
        let scale_col = match *col {
            "pl_mw" => ["p_from_mw", "p_hv_mw"],
            "ql_mvar" => ["q_from_mvar", "q_hv_mvar"],
            c => [c, c],
        };
        let scale = rows
            .values()
            .flat_map(|r| scale_col.iter().filter_map(|c| r.get(*c)?.as_f64()))
            .fold(0.0, |m, x| x.abs().max(m));
        let mut matched = 0;
        for (id, x) in ids.iter().zip(values.iter()) {
            let Some(row) = rows.get(id) else { continue };
            matched += 1;
            // No rating here and none in the reference (NaN left out there).
            let Some(y) = row.get(*col).and_then(|y| y.as_f64()) else {
                assert!(
                    x.is_nan(),
                    "{what} '{id}' {col}: {x} here, none in pandapower"
                );
                continue;
            };
            let floor = if scale_col[0] == *col {
                1e-3 * scale
            } else {
                scale
            };
            let d = (x - y).abs() / y.abs().max(floor).max(f64::MIN_POSITIVE);
            // pandapower stops at a mismatch of 1e-11 MVA (tolerance_mva),
            // gridsim at 1e-11 p.u. of base_mva (1 to 100 MVA): an absolute
            // difference below 1e-11 is below what either solve determines.
            let below_tolerance = (x - y).abs() <= 1e-11;
            if !below_tolerance {
                worst = worst.max(d);
            }
            assert!(
                d < 1e-9 || below_tolerance,
                "{what} '{id}' {col}: {x} here, {y} in pandapower"
            );
        }
        assert_eq!(
            matched,
            rows.len(),
            "{what}: not every reference element found"
        );
    }
    worst
}

/// Lines, transformers and loads (in service) against pandapower's
/// res_line / res_trafo / res_load.
fn check_elements(r: &PowerFlowResult, refj: &Value, name: &str) {
    let l = &r.line;
    let unrated = |x: &Option<f64>| x.unwrap_or(f64::NAN);
    let line_loading: Vec<f64> = l.loading_percent.iter().map(unrated).collect();
    let trafo_loading: Vec<f64> = r.transformer.loading_percent.iter().map(unrated).collect();
    let cols: [(&str, &[f64]); 10] = [
        ("p_from_mw", &l.p_from_mw),
        ("q_from_mvar", &l.q_from_mvar),
        ("p_to_mw", &l.p_to_mw),
        ("q_to_mvar", &l.q_to_mvar),
        ("pl_mw", &l.pl_mw),
        ("ql_mvar", &l.ql_mvar),
        ("i_from_ka", &l.i_from_ka),
        ("i_to_ka", &l.i_to_ka),
        ("i_ka", &l.i_ka),
        ("loading_percent", &line_loading),
    ];
    let dl = table_deviation(&l.id, &cols, &refj["line"], "line");
    let t = &r.transformer;
    let cols: [(&str, &[f64]); 9] = [
        ("p_hv_mw", &t.p_hv_mw),
        ("q_hv_mvar", &t.q_hv_mvar),
        ("p_lv_mw", &t.p_lv_mw),
        ("q_lv_mvar", &t.q_lv_mvar),
        ("pl_mw", &t.pl_mw),
        ("ql_mvar", &t.ql_mvar),
        ("i_hv_ka", &t.i_hv_ka),
        ("i_lv_ka", &t.i_lv_ka),
        ("loading_percent", &trafo_loading),
    ];
    let dt = table_deviation(&t.id, &cols, &refj["trafo"], "transformer");
    let ld = &r.load;
    let cols: [(&str, &[f64]); 2] = [("p_mw", &ld.p_mw), ("q_mvar", &ld.q_mvar)];
    let dd = table_deviation(&ld.id, &cols, &refj["load"], "load");
    println!(
        "{name}: max relative deviation lines {dl:.1e}, transformers {dt:.1e}, loads {dd:.1e}"
    );
}

#[test]
fn cigre_mv_with_der_matches_pandapower() {
    check_pandapower("cigre_mv_der", "cigre_mv_der");
}

#[test]
fn cigre_lv_matches_pandapower() {
    check_pandapower("cigre_lv", "cigre_lv");
}

#[test]
fn ieee_feeders_match_pandapower_element_by_element() {
    check_pandapower("ieee33", "ieee33");
    check_pandapower("ieee69", "ieee69");
}

#[test]
fn chinese_rural_feeder_matches_pandapower() {
    check_pandapower("cn_rural_10kv", "cn_rural_10kv");
}

/// The grid edits of a scenario (reconductoring, a parallel system, a tap
/// move, a regulator 5 steps up, a capacitor bank, a removed load, a new
/// line of a new type) against pandapower on the same edits applied by
/// tools/networks/reference.py.
#[test]
fn grid_edits_match_pandapower_applying_them_itself() {
    let edits_path = root().join("tests/data/networks/cn_rural_10kv_edits.toml");
    let edits: GridEdits = toml::from_str(&std::fs::read_to_string(edits_path).unwrap()).unwrap();
    let net = read_edited(
        &root().join("networks/cn_rural_10kv.toml"),
        &edits,
        "the test edits",
    )
    .unwrap();
    let reg = net.branches.iter().find(|b| b.id == "VR M3").unwrap();
    assert_eq!(reg.kind.name(), "regulator");
    let (net, r) = solve_net(net);
    check_against(&net, &r, "cn_rural_10kv edited", "cn_rural_10kv_edited");
    // The regulator raises its regulated bus by about its 5 steps of 0.625 %.
    let k = r
        .transformer
        .id
        .iter()
        .position(|id| id == "VR M3")
        .unwrap();
    assert_eq!(r.transformer.kind[k], "regulator");
    assert_eq!(r.transformer.tap_pos[k], Some(5.0));
    let bus = |id: &str| {
        net.buses
            .iter()
            .position(|b| b.name.as_deref() == Some(id))
            .unwrap()
    };
    let gain = r.bus.vm_pu[bus("M3 regulated")] / r.bus.vm_pu[bus("M3")];
    assert!((gain - 1.03125).abs() < 2e-3, "regulator gain {gain}");
}

/// Reconfiguration (the normally open point closed, the other end of its
/// cable opened) and a new substation transformer nameplate, against
/// pandapower on the same edits.
#[test]
fn ring_reconfiguration_matches_pandapower_applying_it_itself() {
    let edits_path = root().join("tests/data/networks/cn_urban_10kv_ring_edits.toml");
    let edits: GridEdits = toml::from_str(&std::fs::read_to_string(edits_path).unwrap()).unwrap();
    let original = root().join("networks/cn_urban_10kv_ring.toml");
    let net = read_edited(&original, &edits, "the test edits").unwrap();
    let (net, r) = solve_net(net);
    check_against(
        &net,
        &r,
        "cn_urban_10kv_ring edited",
        "cn_urban_10kv_ring_edited",
    );
    // The edits did change the grid: other losses, another nameplate.
    let (_, before) = solve("cn_urban_10kv_ring");
    assert!((r.total_loss_mw - before.total_loss_mw).abs() > 1e-3);
    let k = r
        .transformer
        .id
        .iter()
        .position(|id| id == "T1 SZ11-40000/110")
        .unwrap();
    assert!(r.transformer.loading_percent[k] < before.transformer.loading_percent[k]);
}

#[test]
fn chinese_urban_ring_matches_pandapower() {
    check_pandapower("cn_urban_10kv_ring", "cn_urban_10kv_ring");
}

/// IEEE 33 and 69 in engineering units against PYPOWER's solution of the MATPOWER cases.
#[test]
fn ieee_feeders_match_pypower() {
    for (name, case) in [("ieee33", "case33bw"), ("ieee69", "case69")] {
        let (net, r) = solve(name);
        let refj: Value = serde_json::from_str(
            &std::fs::read_to_string(
                root().join(format!("tests/data/matpower/results/{case}.json")),
            )
            .unwrap(),
        )
        .unwrap();
        let ids: Vec<String> = refj["bus_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap().to_string())
            .collect();
        let vm: Vec<f64> = refj["vm_pu"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let by_name: HashMap<&str, usize> = net
            .buses
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name.as_deref().unwrap(), i))
            .collect();
        let mut dvm = 0.0f64;
        for (k, id) in ids.iter().enumerate() {
            dvm = dvm.max((r.bus.vm_pu[by_name[id.as_str()]] - vm[k]).abs());
        }
        let dloss = (r.total_loss_mw - refj["total_loss_mw"].as_f64().unwrap()).abs();
        println!("{name}: |dVm| {dvm:.2e}, losses {dloss:.2e} MW");
        assert!(dvm < 1e-8 && dloss < 1e-8, "{name}: {dvm:e} {dloss:e}");
    }
    // Baran & Wu's published figures for the 33-bus feeder.
    let (_, r) = solve("ieee33");
    assert!((r.total_loss_mw * 1e3 - 202.68).abs() < 0.01);
}

/// The SimBench grids converted to the native format reproduce the
/// pandapower base-case solution stored in their export (network.m's VM).
/// SimBench LV rural1 with its lines and transformer in engineering units
/// (written by tools/networks/simbench_native.py) against pandapower
/// solving simbench's own network.
#[test]
fn simbench_lv_rural1_in_engineering_units_matches_pandapower() {
    let net = load_network(&root().join("networks/simbench-lv-rural1/network.toml")).unwrap();
    assert!(net.branches.iter().any(|b| b.line().is_some()));
    let (net, r) = solve_net(net);
    check_against(
        &net,
        &r,
        "simbench-lv-rural1/network.toml",
        "simbench_lv_rural1_lines",
    );
}

#[test]
fn simbench_native_files_match_their_base_case() {
    for g in ["mv-rural", "mv-urban", "lv-rural1"] {
        let (net, r) = solve(&format!("simbench_{}", g.replace('-', "_")));
        let m = root().join(format!("networks/simbench-{g}/network.m"));
        let ws = interp::run(&m, &std::fs::read_to_string(&m).unwrap()).unwrap();
        let interp::Value::Mat(bus) = &ws.fields["bus"].0 else {
            panic!()
        };
        let mut dvm = 0.0f64;
        for row in 0..bus.rows {
            let id = (bus.get(row, 0) as u64).to_string();
            let i = net
                .buses
                .iter()
                .position(|b| b.name.as_deref() == Some(id.as_str()))
                .unwrap();
            dvm = dvm.max((r.bus.vm_pu[i] - bus.get(row, 7)).abs());
        }
        println!("simbench {g}: |dVm| {dvm:.2e}");
        assert!(dvm < 1e-8, "{g}: {dvm:e}");
    }
}

/// native → MATPOWER → solve agrees with the native solve to 1e-10, and
/// native → .m → native gives the same network.
#[test]
fn native_matpower_round_trips() {
    let dir = std::env::temp_dir().join(format!("gridsim-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "cigre_mv_der",
        "cigre_lv",
        "cn_urban_10kv_ring",
        "ieee33",
        "simbench_mv_urban",
    ] {
        let src = root().join("networks").join(format!("{name}.toml"));
        let m = dir.join(format!("{name}.m"));
        let back = dir.join(format!("{name}.toml"));
        gridsim::cli::convert(&src, &m, true).unwrap();
        gridsim::cli::convert(&m, &back, true).unwrap();
        let opts = PfOptions::default();
        let a = powerflow::solve_converged(&load_network(&src).unwrap(), &opts).unwrap();
        let b = powerflow::solve_converged(&load_network(&m).unwrap(), &opts).unwrap();
        let c = powerflow::solve_converged(&load_network(&back).unwrap(), &opts).unwrap();
        for (x, y) in [(&a, &b), (&a, &c)] {
            let dvm = x
                .bus
                .vm_pu
                .iter()
                .zip(&y.bus.vm_pu)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
            let dva = x
                .bus
                .va_degree
                .iter()
                .zip(&y.bus.va_degree)
                .map(|(p, q)| angle_diff(*p, *q))
                .fold(0.0, f64::max);
            assert!(
                dvm < 1e-10 && dva < 1e-8,
                "{name}: round trip |dVm| {dvm:e} |dVa| {dva:e}"
            );
            // MATPOWER has no branch conductance: iron losses move from the
            // transformers to bus shunts; the consumption in the grid stays.
            let consumed = |r: &PowerFlowResult| r.total_loss_mw + r.shunt_p_mw;
            assert!((consumed(x) - consumed(y)).abs() < 1e-10);
        }
        let n1 = load_network(&m).unwrap();
        let n2 = load_network(&dir.join(format!("{name}.toml"))).unwrap();
        assert_eq!(
            n1.branches, n2.branches,
            "{name}: branches change in .m → native"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn errors_of(text: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("gridsim-nerr-{}-{k}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    std::fs::write(&p, text).unwrap();
    let e = load_network(&p).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).ok();
    e
}

const GOOD: &str = r#"
[network]
name = "t"

[[bus]]
id = "A"
vn_kv = 20.0

[[bus]]
id = "B"
vn_kv = 20.0

[[bus]]
id = "C"
vn_kv = 0.4

[[ext_grid]]
id = "grid"
bus = "A"

[[line]]
id = "L1"
from = "A"
to = "B"
length_km = 2.0
type = "NA2XS2Y 1x185 RM/25 12/20 kV"

[[transformer]]
id = "T1"
hv_bus = "B"
lv_bus = "C"
sn_mva = 0.4
vn_hv_kv = 20.0
vn_lv_kv = 0.4
vk_percent = 6.0
vkr_percent = 1.2
vector_group = "Dyn5"

[[load]]
id = "D1"
bus = "C"
p_mw = 0.2
power_factor = 0.95
"#;

#[test]
fn good_file_solves() {
    let dir = std::env::temp_dir().join(format!("gridsim-ngood-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("good.toml");
    std::fs::write(&p, GOOD).unwrap();
    let net = load_network(&p).unwrap();
    let r = powerflow::solve_converged(&net, &PfOptions::default()).unwrap();
    assert!(
        (r.bus.va_degree[2] + 150.0).abs() < 5.0,
        "Dyn5 shifts the LV side by -150°"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn validation_errors_are_collected_with_locations() {
    let bad = GOOD
        .replace("to = \"B\"", "to = \"X\"")
        .replace("length_km = 2.0", "length_km = -2.0")
        .replace("vn_lv_kv = 0.4", "vn_lv_kv = 10.0")
        .replace("bus = \"C\"\np_mw", "bus = \"Q\"\np_mw")
        .replace("id = \"B\"\nvn_kv = 20.0", "id = \"A\"\nvn_kv = 20.0");
    let e = errors_of(&bad);
    assert!(
        e.contains("bad.toml:10: bus 'A': id: duplicate bus id"),
        "{e}"
    );
    assert!(e.contains("line 'L1': to: unknown bus 'X'"), "{e}");
    assert!(
        e.contains("line 'L1': length_km: must be positive, found -2"),
        "{e}"
    );
    assert!(
        e.contains("transformer 'T1': hv_bus: unknown bus 'B'"),
        "{e}"
    );
    assert!(e.contains("load 'D1': bus: unknown bus 'Q'"), "{e}");
    assert!(
        e.contains("5 problems") || e.contains("6 problems") || e.contains("7 problems"),
        "{e}"
    );
}

#[test]
fn more_validation_errors() {
    let e = errors_of(&GOOD.replace(
        "type = \"NA2XS2Y 1x185 RM/25 12/20 kV\"",
        "type = \"NA2XS2Y 1x185\"",
    ));
    assert!(
        e.contains("unknown line type 'NA2XS2Y 1x185'") && e.contains("did you mean"),
        "{e}"
    );
    let e = errors_of(&GOOD.replace("vk_percent = 6.0", "vk_percent = 6.0\nvk = 3"));
    assert!(e.contains("bad.toml:") && e.contains("vk"), "{e}");
    let e = errors_of(&GOOD.replace("[[ext_grid]]\nid = \"grid\"\nbus = \"A\"\n", ""));
    assert!(e.contains("no source"), "{e}");
    // A part of the grid without a source names its buses.
    let island = format!("{GOOD}\n[[bus]]\nid = \"Z\"\nvn_kv = 0.4\n[[load]]\nid = \"DZ\"\nbus = \"Z\"\np_mw = 0.01\n");
    let e = errors_of(&island);
    assert!(e.contains("'Z'") && e.contains("no reference bus"), "{e}");
    let e = errors_of(&GOOD.replace(
        "length_km = 2.0\ntype",
        "length_km = 2.0\nr_ohm_per_km = 0.1\nx_ohm_per_km = 0.1\ntype",
    ));
    assert!(e.contains("not both"), "{e}");
    let e = errors_of(&GOOD.replace("vn_lv_kv = 0.4", "vn_lv_kv = 10.0"));
    assert!(
        e.contains(
            "transformer 'T1': vn_lv_kv: 10 kV does not match its bus's nominal voltage 0.4 kV"
        ),
        "{e}"
    );
    let e = errors_of(&GOOD.replace("from = \"A\"", "from = \"C\""));
    assert!(e.contains("different nominal voltage"), "{e}");
}

#[test]
fn info_summarises_a_network() {
    let s = gridsim::cli::info(&root().join("networks/cigre_mv_der.toml")).unwrap();
    assert!(s.contains("20.000 kV: 14"), "{s}");
    assert!(s.contains("CABLE_CIGRE_MV"), "{s}");
    assert!(s.contains("50.000 MVA installed"), "{s}");
    assert!(s.contains("PV:        8 units"), "{s}");
    let _ = Path::new("");
}

/// Loads with different ZIP shares at one bus, checked against a direct
/// fixed-point solution of the two-bus circuit (V = 1 − z·conj(S(|V|)/V)),
/// in a power flow and in a time series.
#[test]
fn zip_loads_match_a_fixed_point_solution() {
    let text = r#"
[network]
name = "zip"
base_mva = 1.0
[[bus]]
id = "A"
vn_kv = 10.0
[[bus]]
id = "B"
vn_kv = 10.0
[[ext_grid]]
id = "g"
bus = "A"
[[line]]
id = "L"
from = "A"
to = "B"
length_km = 5.0
r_ohm_per_km = 0.5
x_ohm_per_km = 0.4
[[load]]
id = "D"
bus = "B"
p_mw = 3.0
q_mvar = 1.0
zip = { z = 0.3, i = 0.2, p = 0.5 }
[[load]]
id = "D2"
bus = "B"
p_mw = 1.0
q_mvar = 0.5
"#;
    let dir = std::env::temp_dir().join(format!("gridsim-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("zip.toml");
    std::fs::write(&p, text).unwrap();
    let net = load_network(&p).unwrap();
    let r = powerflow::solve_converged(&net, &PfOptions::default()).unwrap();
    // Fixed point in complex arithmetic (z = (2.5 + 2j) Ω / 100 Ω).
    let (zr, zx) = (0.025f64, 0.02f64);
    let (mut vr, mut vi) = (1.0f64, 0.0f64);
    for _ in 0..500 {
        let m = (vr * vr + vi * vi).sqrt();
        let f = 0.5 + 0.2 * m + 0.3 * m * m;
        let (sp, sq) = (3.0 * f + 1.0, 1.0 * f + 0.5);
        // I = conj(S / V)
        let d = vr * vr + vi * vi;
        let (ir, ii) = ((sp * vr + sq * vi) / d, (sp * vi - sq * vr) / d);
        vr = 1.0 - (zr * ir - zx * ii);
        vi = -(zr * ii + zx * ir);
    }
    let vm = (vr * vr + vi * vi).sqrt();
    assert!(
        (r.bus.vm_pu[1] - vm).abs() < 1e-9,
        "{} vs {vm}",
        r.bus.vm_pu[1]
    );
    // `run` on the same network (its own loads, two steps): the same
    // voltage, the loads' voltage-dependent draw, slack power and losses.
    let sc = dir.join("zip_run.toml");
    std::fs::write(
        &sc,
        "network = \"zip.toml\"\n[period]\nstart = \"2016-01-01T00:00:00\"\nsteps = 2\n[solver]\ntol = 1e-11\n",
    )
    .unwrap();
    let out = dir.join("zip.h5");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(["--quiet", "--precision", "f64"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = hdf5::File::open(&out).unwrap();
    let read = |n: &str| -> Vec<f64> {
        f.dataset(&format!("scenarios/base/{n}"))
            .unwrap()
            .read_raw()
            .unwrap()
    };
    let (run_vm, load_p, load_q) = (read("bus/vm_pu"), read("load/p_mw"), read("load/q_mvar"));
    let factor = 0.5 + 0.2 * vm + 0.3 * vm * vm;
    let p_drawn = 3.0 * factor + 1.0;
    for step in 0..2 {
        assert!((run_vm[2 * step + 1] - vm).abs() < 1e-9, "{run_vm:?}");
        assert!((load_p[2 * step] - 3.0 * factor).abs() < 1e-9, "{load_p:?}");
        assert!((load_q[2 * step] - factor).abs() < 1e-9, "{load_q:?}");
        assert!((load_p[2 * step + 1] - 1.0).abs() < 1e-12);
    }
    let (slack, p_load, loss) = (
        read("grid/p_slack_mw"),
        read("grid/p_load_mw"),
        read("grid/p_loss_mw"),
    );
    assert!(
        (p_load[0] - p_drawn).abs() < 1e-9,
        "{p_load:?} vs {p_drawn}"
    );
    assert!(
        (slack[0] - r.gen.p_mw[0]).abs() < 1e-8,
        "{slack:?} vs {}",
        r.gen.p_mw[0]
    );
    assert!(
        (loss[0] - r.total_loss_mw).abs() < 1e-8,
        "{loss:?} vs {}",
        r.total_loss_mw
    );
    assert!((slack[0] - p_load[0] - loss[0]).abs() < 1e-9);
    std::fs::remove_dir_all(&dir).ok();
}

/// `pf` and `run` report the same losses for the same state on every
/// shipped network: the run's grid losses (Σ of all bus injections) equal
/// the power flow's branch losses (transformer iron losses included) plus
/// the bus shunts' consumption.
#[test]
fn pf_losses_equal_run_losses_on_every_shipped_network() {
    let dir = std::env::temp_dir().join(format!("gridsim-pf-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut names: Vec<PathBuf> = std::fs::read_dir(root().join("networks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "m"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for net_path in names {
        let sc = dir.join("one_step.toml");
        std::fs::write(
            &sc,
            format!(
                "network = {:?}\nnetwork_der = \"fixed\"\n[period]\nstart = \"2016-01-01T00:00:00\"\nstep_minutes = 15\nsteps = 1\n[solver]\ntol = 1e-11\n",
                net_path.to_str().unwrap()
            ),
        )
        .unwrap();
        let out = dir.join("one_step.h5");
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_gridsim"))
            .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .args(["--force", "--quiet"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let f = hdf5::File::open(&out).unwrap();
        let run_loss: Vec<f64> = f
            .dataset("scenarios/base/grid/p_loss_mw")
            .unwrap()
            .read_raw()
            .unwrap();
        let opts = reference_pf_options();
        // ZIP loads draw the same voltage-dependent power in both.
        let net = load_network(&net_path).unwrap();
        let r = powerflow::solve_converged(&net, &opts).unwrap();
        let pf_loss = r.total_loss_mw + r.shunt_p_mw;
        let d = (run_loss[0] - pf_loss).abs();
        println!(
            "{}: pf {pf_loss:.9} MW, run {:.9} MW",
            net_path.display(),
            run_loss[0]
        );
        // Both solved to 1e-11 p.u. (Newton; fixed point in the run).
        assert!(d < 1e-8, "{}: {d:e}", net_path.display());
    }
    std::fs::remove_dir_all(&dir).ok();
}
