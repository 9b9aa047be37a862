//! pandapower grids (JSON as `pandapower.to_json` writes it) read by
//! gridsim and solved: bus voltages, slack power, losses and line and
//! transformer flows against pandapower's own results with its defaults
//! (T transformer model, voltage-dependent loads); made by
//! tools/networks/pandapower_json.py with the pinned pandapower.

mod common;
use common::reference_pf_options;
use gridsim::powerflow::{self, PfOptions};
use serde_json::Value;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pandapower")
        .join(name)
}

/// `NAME.EXT`, or `NAME.EXT.gz` for the large grids.
fn file(name: &str, ext: &str) -> PathBuf {
    let plain = data(&format!("{name}.{ext}"));
    if plain.exists() {
        plain
    } else {
        data(&format!("{name}.{ext}.gz"))
    }
}

fn angle_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

/// Max deviation of one element table (absolute, MW / Mvar / kA / %).
fn table_deviation(ids: &[String], cols: &[(&str, &[f64])], reference: &Value) -> f64 {
    let rows = reference.as_object().unwrap();
    let mut worst = 0.0f64;
    let mut matched = 0;
    for (k, id) in ids.iter().enumerate() {
        let Some(row) = rows.get(id) else { continue };
        matched += 1;
        for (col, values) in cols {
            if let Some(y) = row.get(*col).and_then(|y| y.as_f64()) {
                worst = worst.max((values[k] - y).abs());
            }
        }
    }
    assert_eq!(matched, rows.len(), "not every reference element found");
    worst
}

fn check(name: &str) {
    let net = gridsim::network::read_network(&file(name, "json")).unwrap();
    let opts = reference_pf_options();
    let r = powerflow::solve_converged(&net, &opts).unwrap();
    let text = gridsim::input::read_text(&file(name, "result.json")).unwrap();
    let refj: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(refj["converged"], Value::Bool(true));
    let buses = refj["bus"].as_object().unwrap();
    let (mut dvm, mut dva, mut n) = (0.0f64, 0.0f64, 0);
    for (i, b) in net.buses.iter().enumerate() {
        let Some(x) = b.name.as_ref().and_then(|nm| buses.get(nm)) else {
            continue;
        };
        dvm = dvm.max((r.bus.vm_pu[i] - x[0].as_f64().unwrap()).abs());
        dva = dva.max(angle_diff(r.bus.va_degree[i], x[1].as_f64().unwrap()));
        n += 1;
    }
    // Buses fused by closed bus-bus switches are represented by one.
    let f = gridsim::network::pandapower::read_file(&file(name, "json")).unwrap();
    let fused = f
        .switch
        .iter()
        .filter(|s| s.closed && s.to_bus.is_some())
        .count();
    assert!(
        n + fused >= buses.len(),
        "{name}: only {n} of {} buses compared",
        buses.len()
    );
    let dloss = (r.total_loss_mw - refj["p_loss_mw"].as_f64().unwrap()).abs();
    let l = &r.line;
    let unrated =
        |x: &[Option<f64>]| -> Vec<f64> { x.iter().map(|v| v.unwrap_or(f64::NAN)).collect() };
    let (ll, tl) = (
        unrated(&l.loading_percent),
        unrated(&r.transformer.loading_percent),
    );
    let line_cols: [(&str, &[f64]); 6] = [
        ("p_from_mw", &l.p_from_mw),
        ("q_from_mvar", &l.q_from_mvar),
        ("p_to_mw", &l.p_to_mw),
        ("q_to_mvar", &l.q_to_mvar),
        ("i_ka", &l.i_ka),
        ("loading_percent", &ll),
    ];
    let dl = table_deviation(&l.id, &line_cols, &refj["line"]);
    let t = &r.transformer;
    let trafo_cols: [(&str, &[f64]); 5] = [
        ("p_hv_mw", &t.p_hv_mw),
        ("q_hv_mvar", &t.q_hv_mvar),
        ("p_lv_mw", &t.p_lv_mw),
        ("q_lv_mvar", &t.q_lv_mvar),
        ("loading_percent", &tl),
    ];
    let dt = table_deviation(&t.id, &trafo_cols, &refj["trafo"]);
    println!(
        "{name}: {n} buses, |dVm| {dvm:.1e} p.u., |dVa| {dva:.1e} deg, losses {dloss:.1e} MW, lines {dl:.1e}, transformers {dt:.1e} (MW/Mvar/kA/%)"
    );
    assert!(dvm < 1e-9, "{name}: |dVm| = {dvm:e}");
    assert!(dva < 1e-7, "{name}: |dVa| = {dva:e}");
    assert!(
        dloss < 1e-8 && dl < 1e-8 && dt < 1e-8,
        "{name}: flows differ"
    );
}

#[test]
fn cigre_mv_with_der_matches_pandapower() {
    check("cigre_mv_der");
}

#[test]
fn cigre_lv_matches_pandapower() {
    check("cigre_lv");
}

#[test]
fn kerber_grids_match_pandapower() {
    check("kerber_landnetz_kabel_2");
    check("kerber_dorfnetz");
}

#[test]
fn dickert_lv_matches_pandapower() {
    check("dickert_lv");
}

/// 2,940 buses, gzipped JSON.
#[test]
fn lv_schutterwald_matches_pandapower() {
    check("lv_schutterwald");
}

/// The IEEE European LV test feeder, its loads balanced (the sum of phases).
#[test]
fn ieee_european_lv_balanced_matches_pandapower() {
    check("ieee_european_lv_balanced");
}

#[test]
fn mv_oberrhein_matches_pandapower() {
    check("mv_oberrhein");
}

/// Open transformer switch, open line end, open coupler, parallel line,
/// scaled and ZIP loads, out-of-service elements, PV and wind sgens (one
/// switched off by scaling 0), a shunt rated at another voltage, storage,
/// taps on both transformers.
#[test]
fn edge_cases_match_pandapower() {
    check("edge_cases");
}

/// A tap between steps, phase-shifting taps (asymmetric, ideal by degree and
/// by percent), LV-side taps, a transformer without a tap changer type, a
/// closed bus-bus switch with an impedance, scaled sgens and gens.
#[test]
fn taps_and_switches_match_pandapower() {
    check("taps_and_switches");
}

/// SimBench grids as the simbench package builds them.
#[test]
fn simbench_grids_match_pandapower() {
    check("simbench_lv_rural1");
    check("simbench_mv_semiurb");
}

/// Elements gridsim does not model are refused, each named; nothing is
/// dropped silently.
#[test]
fn unsupported_elements_are_listed() {
    let e = gridsim::network::read_network(&data("unsupported.json"))
        .unwrap_err()
        .to_string();
    for expect in [
        "trafo3w 'T3W': trafo3w elements are not modelled",
        "impedance 'Z1': impedance elements are not modelled",
        "trafo 'T2x': tap_changer_type 'Tabular' is not modelled",
    ] {
        assert!(e.contains(expect), "'{expect}' not in {e}");
    }
}

/// `gridsim convert net.json net.toml` writes the same grid as an editable
/// native file (ids, names, std types and lengths kept): solving either
/// gives the same voltages, bit for bit.
#[test]
fn converted_native_file_is_the_same_network() {
    let dir = std::env::temp_dir().join(format!("gridsim-ppconv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "mv_oberrhein",
        "edge_cases",
        "taps_and_switches",
        "simbench_mv_semiurb",
    ] {
        let json = data(&format!("{name}.json"));
        let toml_path = dir.join(format!("{name}.toml"));
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_gridsim"))
            .args([
                "convert",
                json.to_str().unwrap(),
                toml_path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(&toml_path).unwrap();
        assert!(text.contains("transformer_model = \"t\""));
        let a = gridsim::network::read_network(&json).unwrap();
        let b = gridsim::network::read_network(&toml_path).unwrap();
        assert_eq!(a.buses.len(), b.buses.len());
        let opts = PfOptions::default();
        let (ra, rb) = (
            powerflow::solve(&a, &opts).unwrap(),
            powerflow::solve(&b, &opts).unwrap(),
        );
        assert_eq!(ra.bus.vm_pu, rb.bus.vm_pu, "{name}");
        assert_eq!(ra.line.id, rb.line.id);
    }
    let text = std::fs::read_to_string(dir.join("mv_oberrhein.toml")).unwrap();
    assert!(
        text.contains("std_type = \"NA2XS2Y 1x185 RM/25 12/20 kV\""),
        "std types kept"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Buses that a closed bus-bus switch fuses keep their names for element
/// tables and scenarios: each name resolves to the bus it became, whose
/// voltage is pandapower's at the named bus (SimBench MV semi-urban has
/// such buses under its loads' feeders).
#[test]
fn fused_buses_answer_to_their_own_names() {
    let net = gridsim::network::read_network(&file("simbench_mv_semiurb", "json")).unwrap();
    assert!(!net.bus_aliases.is_empty());
    let r = powerflow::solve_converged(&net, &reference_pf_options()).unwrap();
    let text = gridsim::input::read_text(&file("simbench_mv_semiurb", "result.json")).unwrap();
    let refj: Value = serde_json::from_str(&text).unwrap();
    let lookup = net.bus_lookup();
    for (alias, i) in &net.bus_aliases {
        let by_name = gridsim::network::BusRef::Name(alias.clone());
        assert_eq!(lookup.find(&by_name), Some(*i));
        assert_eq!(net.find_bus(&by_name), Some(*i));
        let vm_pp = refj["bus"][alias][0].as_f64().unwrap();
        assert!((r.bus.vm_pu[*i] - vm_pp).abs() < 1e-9, "{alias}");
    }
}

/// The reader parses only the tables it models: a net saved with
/// megabytes of entries it does not read (SimBench's profiles, results)
/// reads as the same network, a file that is no pandapower net says so,
/// and broken JSON names its line.
#[test]
fn unread_entries_are_skipped_and_non_nets_refused() {
    use gridsim::network::pandapower::parse;
    let path = file("cigre_lv", "json");
    let text = gridsim::input::read_text(&path).unwrap();
    let plain = parse(&path, &text).unwrap();
    let mut root: Value = serde_json::from_str(&text).unwrap();
    let junk: String = "[\"x\\\"y\", 1.5e300, {\"a\": null}], ".repeat(50_000);
    root["_object"]["profiles"] = Value::String(format!("[{junk}0]"));
    root["_object"]["res_bus"] = serde_json::json!({"_object": {"no": ["frame"]}});
    let padded = serde_json::to_string(&root).unwrap();
    assert!(padded.len() > text.len() + 1_000_000);
    let with = parse(&path, &padded).unwrap();
    assert_eq!(format!("{with:?}"), format!("{plain:?}"));
    for not_net in [
        r#"{"_class": "DataFrame", "_object": {}}"#,
        r#"{"_class": "pandapowerNet", "_object": 5}"#,
        r#"{"_class": 7}"#,
        "[1, 2]",
    ] {
        let e = parse(&path, not_net).unwrap_err().to_string();
        assert!(e.contains("not a pandapower network"), "{not_net}: {e}");
    }
    let e = parse(
        &path,
        "{\n\"_class\": \"pandapowerNet\",\n\"_object\": {\"bus\": [}\n}",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains(":3") && e.contains("not JSON"), "{e}");
}
