//! Variants that change the grid by element id: equivalence with an edited
//! network file, a regulator under control, errors, and compare/report on
//! scenarios whose topologies differ.

mod common;

use common::{gridsim, root, tmpdir};
use std::path::{Path, PathBuf};

fn run_ok(args: &[&str]) {
    let o = gridsim(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn run_err(args: &[&str]) -> String {
    let o = gridsim(args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const MAIN: [&str; 5] = [
    "main SS10-M1",
    "main M1-M2",
    "main M2-M3",
    "main M3-M4",
    "main M4-M5",
];

/// A scenario on `network` (with loads shaped by class and village PV so
/// that every step differs), plus `extra` (variants).
fn county_study(dir: &Path, name: &str, network: &Path, extra: &str) -> PathBuf {
    let sc = format!(
        "network = {:?}\nseed = 3\nshape_network_loads = true\n\
         [period]\nstart = \"2025-06-01T00:00:00\"\nstep_minutes = 15\nsteps = 192\n\
         [site]\nlatitude = 34.7\nlongitude = 113.6\nutc_offset_h = 8.0\nmean_temperature_c = 15.0\n\
         [[pv]]\nname = \"pv-C3\"\nbus = \"C3\"\nkwp = 800\n{extra}",
        network.to_str().unwrap()
    );
    let path = dir.join(name);
    std::fs::write(&path, sc).unwrap();
    path
}

fn datasets(f: &hdf5::File, group: &str) -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    for sub in ["bus", "line", "transformer", "load", "grid"] {
        let g = f.group(&format!("{group}/{sub}")).unwrap();
        for name in g.member_names().unwrap() {
            let ds = g.dataset(&name).unwrap();
            if let Ok(v) = ds.read_raw::<f64>() {
                if ds.ndim() == 2 || (sub == "grid" && name != "time") {
                    out.push((format!("{sub}/{name}"), v));
                }
            }
        }
    }
    out
}

/// A variant reconductoring the Chinese rural main line gives the same
/// results as the network file edited by hand, bit for bit.
#[test]
fn reconductor_variant_equals_the_edited_network_file_bit_for_bit() {
    let dir = tmpdir("reconductor");
    let original = root().join("networks/cn_rural_10kv.toml");
    let text = std::fs::read_to_string(&original).unwrap();
    let edited_text: Vec<String> = text
        .split("[[line]]")
        .map(|block| {
            if MAIN
                .iter()
                .any(|id| block.contains(&format!("id = \"{id}\"\n")))
            {
                block.replace("type = \"LGJ-120/20\"", "type = \"LGJ-240/30\"")
            } else {
                block.to_string()
            }
        })
        .collect();
    let edited = dir.join("cn_rural_reconductored.toml");
    std::fs::write(&edited, edited_text.join("[[line]]")).unwrap();
    assert_eq!(
        edited_text.join("[[line]]").matches("LGJ-240/30").count(),
        5
    );
    let set: String = MAIN
        .iter()
        .map(|id| format!("\"{id}\" = {{ type = \"LGJ-240/30\" }}\n"))
        .collect();
    let variants = format!(
        "[[variant]]\nname = \"base\"\n[[variant]]\nname = \"reconductor\"\n[variant.grid.set.line]\n{set}"
    );
    let a = county_study(&dir, "a.toml", &original, &variants);
    let b = county_study(&dir, "b.toml", &edited, "");
    let (ha, hb) = (dir.join("a.h5"), dir.join("b.h5"));
    run_ok(&[
        "run",
        a.to_str().unwrap(),
        "--out",
        ha.to_str().unwrap(),
        "--quiet",
    ]);
    run_ok(&[
        "run",
        b.to_str().unwrap(),
        "--out",
        hb.to_str().unwrap(),
        "--quiet",
    ]);
    let (fa, fb) = (
        hdf5::File::open(&ha).unwrap(),
        hdf5::File::open(&hb).unwrap(),
    );
    let va = datasets(&fa, "scenarios/reconductor");
    let vb = datasets(&fb, "scenarios/base");
    assert!(va.len() >= 12, "{} datasets", va.len());
    assert_eq!(va.len(), vb.len());
    for ((name, x), (_, y)) in va.iter().zip(&vb) {
        let same = x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits());
        assert!(same, "{name} differs");
    }
    // And the variant did change something: less loss than the base.
    let loss = |g: &str| {
        fa.group(&format!("scenarios/{g}/kpi"))
            .unwrap()
            .attr("loss_mwh")
            .unwrap()
            .read_scalar::<f64>()
            .unwrap()
    };
    assert!(loss("reconductor") < 0.8 * loss("base"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A regulator added by a variant and controlled by an `oltc` controller
/// naming it (bus defaults to its regulated side): with the set-point out of
/// reach it runs to its top position, +16 × 0.625 %, and the voltages are
/// then those of the network with that regulator at position 16.
#[test]
fn a_regulator_added_by_a_variant_is_controlled_to_the_end_of_its_range() {
    let dir = tmpdir("regulator");
    let original = root().join("networks/cn_rural_10kv.toml");
    let grid = "[grid]\n[[grid.add.bus]]\nid = \"M3 regulated\"\nvn_kv = 10.0\n\
        [[grid.add.regulator]]\nid = \"VR M3\"\nfrom = \"M3\"\nto = \"M3 regulated\"\nsn_mva = 4.0\n\
        [grid.set.line]\n\"main M3-M4\" = { from = \"M3 regulated\" }\n";
    let sc = format!(
        "network = {:?}\nnetwork_der = \"fixed\"\n[period]\nstart = \"2016-01-01T00:00:00\"\n\
         step_minutes = 15\nsteps = 20\n[solver]\ntol = 1e-11\n\
         [[controller]]\ntype = \"oltc\"\ntransformer = \"VR M3\"\nvset_pu = 1.3\ndeadband_pu = 0.01\ndelay_steps = 1\n{grid}",
        original.to_str().unwrap()
    );
    let path = dir.join("reg.toml");
    std::fs::write(&path, sc).unwrap();
    let out = dir.join("reg.h5");
    run_ok(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let f = hdf5::File::open(&out).unwrap();
    let run = f.group("scenarios/base/run").unwrap();
    let taps = run
        .attr("tap_changes")
        .unwrap()
        .read_scalar::<f64>()
        .unwrap();
    assert_eq!(taps, 16.0, "16 steps up from position 0");
    let vm = f
        .dataset("scenarios/base/bus/vm_pu")
        .unwrap()
        .read_2d::<f64>()
        .unwrap();
    // The same network written out by hand with the regulator at 16 (its
    // ZIP loads included, as in the time series).
    let text = std::fs::read_to_string(&original).unwrap();
    let text = text.replace(
        "id = \"main M3-M4\"\nfrom = \"M3\"",
        "id = \"main M3-M4\"\nfrom = \"M3 regulated\"",
    ) + "\n[[bus]]\nid = \"M3 regulated\"\nvn_kv = 10.0\n\
        [[regulator]]\nid = \"VR M3\"\nfrom = \"M3\"\nto = \"M3 regulated\"\nsn_mva = 4.0\ntap_pos = 16\n";
    let edited = dir.join("reg16.toml");
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
    let pf_vm = pf["bus"]["vm_pu"].as_array().unwrap();
    // The added bus comes last in both (file order of the buses).
    assert_eq!(pf_vm.len(), vm.ncols());
    for (i, x) in pf_vm.iter().enumerate() {
        let d = (vm[[last, i]] - x.as_f64().unwrap()).abs();
        assert!(d < 1e-6, "bus {i}: {} in the run, {x} in pf", vm[[last, i]]);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Mistakes in a variant's grid edits are reported together, naming the
/// variant, the kind, the element and the field, in plain words.
#[test]
fn grid_edit_errors_name_the_variant_element_and_field() {
    let dir = tmpdir("errors");
    let original = root().join("networks/cn_rural_10kv.toml");
    let variants = "[[variant]]\nname = \"bad\"\n\
        [variant.grid.set.line]\n\"main M9-M10\" = { type = \"LGJ-240/30\" }\n\"main SS10-M1\" = { typ = \"LGJ-240/30\" }\n\
        [variant.grid.remove]\nload = [\"no such load\"]\n\
        [[variant.grid.add.line]]\nid = \"new\"\nfrom = \"M8\"\n";
    let sc = county_study(&dir, "bad.toml", &original, variants);
    let out = dir.join("x.h5");
    let e = run_err(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    for expect in [
        "scenario 'bad'",
        "grid.set.line.'main M9-M10': no line 'main M9-M10' in the network",
        "grid.set.line.'main SS10-M1': unknown field `typ`",
        "grid.remove.load: no load 'no such load' to remove",
        "grid.add.line.'new': missing field `to`",
    ] {
        assert!(e.contains(expect), "missing '{expect}' in:\n{e}");
    }
    assert!(!out.exists());
    // A value the network reader rejects names the element and field.
    let variants = "[[variant]]\nname = \"worse\"\n\
        [variant.grid.set.line]\n\"main SS10-M1\" = { type = \"LGJ-999\", length_km = -1.0 }\n\
        [variant.grid.set.ext_grid.\"35kV-grid\"]\nva_degree = nan\n";
    let sc = county_study(&dir, "worse.toml", &original, variants);
    let e = run_err(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    for expect in [
        "cn_rural_10kv.toml as changed by scenario 'worse'",
        "line 'main SS10-M1': type: unknown line type 'LGJ-999'",
        "line 'main SS10-M1': length_km: must be positive, found -1",
        "ext_grid '35kV-grid': va_degree: must be between -360 and 360, found NaN",
    ] {
        assert!(e.contains(expect), "missing '{expect}' in:\n{e}");
    }
    let variants = "[[variant]]\nname = \"kind\"\n[variant.grid.set.cable]\nx = { a = 1 }\n";
    let sc = county_study(&dir, "kind.toml", &original, variants);
    let e = run_err(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(e.contains("'cable' is not an element kind"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `compare` and `report` take several results files, and scenarios whose
/// networks differ (a variant adds a bus and a regulator): each scenario is
/// described by its own network, elements named by id.
#[test]
fn compare_and_report_take_several_files_and_other_topologies() {
    let dir = tmpdir("report");
    let sc = root().join("scenarios/cn_county_feeder.toml");
    let (a, b) = (dir.join("a.h5"), dir.join("b.h5"));
    for out in [&a, &b] {
        run_ok(&[
            "run",
            sc.to_str().unwrap(),
            "--steps",
            "96",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
    }
    let f = hdf5::File::open(&a).unwrap();
    let ids = |s: &str| -> Vec<String> {
        gridsim::results::hdf5::read_strings(&f, &format!("scenarios/{s}/transformer/id")).unwrap()
    };
    let base = ids("base");
    let reg = ids("village-pv-2mw-regulator");
    assert_eq!(reg.len(), base.len() + 1);
    assert!(reg.contains(&"VR M3".to_string()) && !base.contains(&"VR M3".to_string()));
    let kinds = gridsim::results::hdf5::read_strings(
        &f,
        "scenarios/village-pv-2mw-regulator/transformer/kind",
    )
    .unwrap();
    assert_eq!(
        kinds[reg.iter().position(|x| x == "VR M3").unwrap()],
        "regulator"
    );

    let html = dir.join("r.html");
    run_ok(&[
        "report",
        a.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("village-pv-2mw-regulator"));
    assert!(
        text.contains("along the feeder (km)"),
        "feeder profile in km"
    );

    let o = gridsim(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(csv.contains("\na.h5:base,"));
    assert!(csv.contains("\nb.h5:village-pv-2mw-regulator,"));
    let html2 = dir.join("r2.html");
    run_ok(&[
        "report",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        html2.to_str().unwrap(),
        "--baseline",
        "b.h5:base",
    ]);
    let text = std::fs::read_to_string(&html2).unwrap();
    assert!(text.contains("b.h5:base <em>(baseline)</em>"));
    // The report never overwrites one of its inputs.
    let e = run_err(&[
        "report",
        a.to_str().unwrap(),
        "--out",
        a.to_str().unwrap(),
        "--force",
    ]);
    assert!(e.contains("would overwrite the input"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
