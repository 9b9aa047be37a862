//! SimBench grids through the quick path of `gridsim run`, compared with
//! the pandapower time-series reference (tests/data/simbench/README.md).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Network, element table and profiles (shipped in networks/).
fn grid(code: &str) -> PathBuf {
    let dir = match code {
        "1-MV-rural--0-sw" => "simbench-mv-rural",
        "1-MV-urban--0-sw" => "simbench-mv-urban",
        "1-LV-rural1--0-sw" => "simbench-lv-rural1",
        other => panic!("no shipped grid {other}"),
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("networks")
        .join(dir)
}

/// The pandapower reference results (tests/data/simbench/<code>/).
fn reference(code: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/simbench")
        .join(code)
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gridsim-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Reads a gzip CSV into (header, rows of f64 after the two leading columns).
fn read_ref(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    let mut lines = s.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(2)
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .skip(2)
                .map(|x| x.parse::<f64>().unwrap())
                .collect()
        })
        .collect();
    (header, rows)
}

fn run_quick_with(code: &str, steps: usize, threads: usize, out: &Path, extra: &[&str]) {
    let g = grid(code);
    let status = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args([
            "run",
            "--quiet",
            "--force",
            "--threads",
            &threads.to_string(),
        ])
        .arg("--network")
        .arg(g.join("network.m"))
        .arg("--elements")
        .arg(g.join("elements.csv"))
        .arg("--profiles")
        .arg(g.join("profiles.csv.gz"))
        .args(["--steps", &steps.to_string()])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn read2(file: &hdf5::File, name: &str) -> ndarray::Array2<f64> {
    file.dataset(name).unwrap().read_2d::<f64>().unwrap()
}

fn check_grid(code: &str) {
    let dir = tmpdir(code);
    let out = dir.join("r.h5");
    // Solver accuracy: store full precision (the default f32 adds up to
    // 6e-8 p.u. of rounding; tested in `storage_options`).
    run_quick_with(code, 1344, 2, &out, &["--precision", "f64"]);
    let f = hdf5::File::open(&out).unwrap();
    let ids: Vec<u64> = f
        .dataset("scenarios/default/bus/id")
        .unwrap()
        .read_raw()
        .unwrap();
    let vm = read2(&f, "scenarios/default/bus/vm_pu");
    let va = read2(&f, "scenarios/default/bus/va_degree");
    let converged: Vec<u8> = f
        .dataset("scenarios/default/grid/converged")
        .unwrap()
        .read_raw()
        .unwrap();
    let p_slack: Vec<f64> = f
        .dataset("scenarios/default/grid/p_slack_mw")
        .unwrap()
        .read_raw()
        .unwrap();
    let q_slack: Vec<f64> = f
        .dataset("scenarios/default/grid/q_slack_mvar")
        .unwrap()
        .read_raw()
        .unwrap();
    let p_loss: Vec<f64> = f
        .dataset("scenarios/default/grid/p_loss_mw")
        .unwrap()
        .read_raw()
        .unwrap();
    assert_eq!(vm.shape(), &[1344, ids.len()]);
    assert!(converged.iter().all(|&c| c == 1));

    let (hdr, rows) = read_ref(&reference(code).join("reference.csv.gz"));
    let (hdr_va, rows_va) = read_ref(&reference(code).join("reference_va.csv.gz"));
    assert_eq!(rows.len(), 1344);
    let col_of = |name: &str| ids.iter().position(|&i| format!("vm_{i}") == name);
    let (mut dvm, mut dva, mut dp, mut dq, mut dl): (f64, f64, f64, f64, f64) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut checked = 0;
    for (t, row) in rows.iter().enumerate() {
        dp = dp.max((p_slack[t] - row[0]).abs());
        dq = dq.max((q_slack[t] - row[1]).abs());
        dl = dl.max((p_loss[t] - row[2]).abs());
        for (k, name) in hdr.iter().enumerate().skip(3) {
            let c = col_of(name).unwrap_or_else(|| panic!("{code}: bus column {name} missing"));
            dvm = dvm.max((vm[[t, c]] - row[k]).abs());
            checked += 1;
        }
        for (k, name) in hdr_va.iter().enumerate() {
            let c = ids
                .iter()
                .position(|&i| format!("va_{i}") == *name)
                .unwrap();
            let d = (va[[t, c]] - rows_va[t][k]).rem_euclid(360.0);
            dva = dva.max(d.min(360.0 - d));
        }
    }
    println!("{code}: {checked} bus-steps, max |dVm| {dvm:.2e} p.u., |dVa| {dva:.2e} deg, slack dP {dp:.2e} MW dQ {dq:.2e} Mvar, loss {dl:.2e} MW");
    assert_eq!(checked, 1344 * ids.len(), "every bus at every step");
    assert!(dvm <= 1e-6, "{code}: max |dVm| = {dvm:e}");
    assert!(dva <= 1e-4, "{code}: max |dVa| = {dva:e}");
    assert!(
        dp <= 1e-5 && dq <= 1e-5,
        "{code}: slack dP {dp:e} dQ {dq:e}"
    );
    assert!(dl <= 1e-5, "{code}: loss {dl:e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn mv_rural_matches_pandapower() {
    check_grid("1-MV-rural--0-sw");
}

#[test]
fn lv_rural1_matches_pandapower() {
    check_grid("1-LV-rural1--0-sw");
}

#[test]
fn mv_urban_matches_pandapower() {
    check_grid("1-MV-urban--0-sw");
}

/// Results are identical bit for bit whatever the thread count: every
/// dataset of a multi-scenario file written with 1 and with 2 threads.
#[test]
fn one_and_two_threads_give_identical_results() {
    let dir = tmpdir("threads");
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rural_chp_renewables.toml");
    let mut files = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(format!("t{threads}.h5"));
        let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
            .arg("run")
            .arg(&sc)
            .args(["--steps", "300", "--quiet", "--threads", threads, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        files.push(hdf5::File::open(&out).unwrap());
    }
    let mut compared = 0;
    fn walk(g: &hdf5::Group, prefix: &str, out: &mut Vec<String>) {
        for n in g.member_names().unwrap() {
            let p = format!("{prefix}{n}");
            if let Ok(sub) = g.group(&n) {
                walk(&sub, &format!("{p}/"), out);
            } else {
                out.push(p);
            }
        }
    }
    let mut all = Vec::new();
    walk(&files[0], "", &mut all);
    for name in &all {
        let (a, b) = (
            files[0].dataset(name).unwrap(),
            files[1].dataset(name).unwrap(),
        );
        assert_eq!(a.shape(), b.shape(), "{name}");
        // Numbers (all numeric types convert exactly to f64 here), else strings.
        if let (Ok(x), Ok(y)) = (a.read_raw::<f64>(), b.read_raw::<f64>()) {
            let same =
                x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits());
            assert!(same, "{name} differs between 1 and 2 threads");
        } else if let (Ok(x), Ok(y)) = (
            a.read_raw::<hdf5::types::VarLenUnicode>(),
            b.read_raw::<hdf5::types::VarLenUnicode>(),
        ) {
            assert_eq!(x, y, "{name}");
        } else {
            // The time axis: fixed-length strings.
            use gridsim::results::hdf5::TimeLabel;
            let x: Vec<TimeLabel> = a.read_raw().unwrap();
            let y: Vec<TimeLabel> = b.read_raw().unwrap();
            assert!(!x.is_empty(), "{name}");
            assert_eq!(x, y, "{name}");
        }
        compared += 1;
    }
    assert!(compared > 150, "only {compared} datasets compared");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn existing_output_needs_force() {
    let dir = tmpdir("force");
    let out = dir.join("keep.h5");
    std::fs::write(&out, b"user data").unwrap();
    let g = grid("1-LV-rural1--0-sw");
    let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(["run", "--quiet", "--steps", "4"])
        .arg("--network")
        .arg(g.join("network.m"))
        .arg("--elements")
        .arg(g.join("elements.csv"))
        .arg("--profiles")
        .arg(g.join("profiles.csv.gz"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"user data");
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_element_table_reports_all_rows() {
    let dir = tmpdir("badel");
    let g = grid("1-LV-rural1--0-sw");
    let text = std::fs::read_to_string(g.join("elements.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[1] = lines[1].replacen("load,", "lode,", 1);
    lines[2] = lines[2].replace("H0-C_pload", "nope_pload");
    let bad = dir.join("el.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(["run", "--quiet", "--steps", "4"])
        .arg("--network")
        .arg(g.join("network.m"))
        .arg("--elements")
        .arg(&bad)
        .arg("--profiles")
        .arg(g.join("profiles.csv.gz"))
        .arg("--out")
        .arg(dir.join("x.h5"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("el.csv:2: kind: 'lode'"), "{err}");
    assert!(
        err.contains("el.csv:3: p_profile_col: profile column 'nope_pload'"),
        "{err}"
    );
    assert!(!dir.join("x.h5").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// A scenario without state is split into blocks that run side by side
/// (4 lanes per solve, several threads); every block starts from the
/// initial voltages, so the thread count changes nothing, bit for bit.
#[test]
fn quick_path_is_independent_of_threads() {
    let dir = tmpdir("quick-threads");
    // 9 blocks of 336 steps: two full groups of 4 lanes and a lone last block.
    let steps = 3000;
    let sets = [
        "bus/vm_pu",
        "bus/va_degree",
        "bus/p_mw",
        "line/p_from_mw",
        "line/q_to_mvar",
        "line/i_ka",
        "transformer/loading_percent",
        "transformer/tap_pos",
        "load/p_mw",
    ];
    let mut first: Option<Vec<Vec<f64>>> = None;
    for threads in [1, 2, 3] {
        let out = dir.join(format!("t{threads}.h5"));
        run_quick_with(
            "1-MV-urban--0-sw",
            steps,
            threads,
            &out,
            &["--precision", "f64"],
        );
        let f = hdf5::File::open(&out).unwrap();
        let mut got: Vec<Vec<f64>> = sets
            .iter()
            .map(|n| {
                f.dataset(&format!("scenarios/default/{n}"))
                    .unwrap()
                    .read_raw::<f64>()
                    .unwrap()
            })
            .collect();
        for n in ["p_slack_mw", "p_loss_mw", "max_mismatch_pu"] {
            got.push(
                f.dataset(&format!("scenarios/default/grid/{n}"))
                    .unwrap()
                    .read_raw::<f64>()
                    .unwrap(),
            );
        }
        let it: Vec<u32> = f
            .dataset("scenarios/default/grid/iterations")
            .unwrap()
            .read_raw()
            .unwrap();
        got.push(it.iter().map(|&x| x as f64).collect());
        let kpi = f.group("scenarios/default/kpi").unwrap();
        for k in ["loss_mwh", "import_mwh", "max_loading_percent", "min_vm_pu"] {
            got.push(vec![kpi.attr(k).unwrap().read_scalar::<f64>().unwrap()]);
        }
        assert_eq!(got[0].len(), steps * 150);
        match &first {
            None => first = Some(got),
            Some(a) => {
                for (k, (x, y)) in a.iter().zip(&got).enumerate() {
                    assert!(
                        x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()),
                        "series {k} differs with {threads} threads"
                    );
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The default (`--precision f32`) stores the per-element series as
/// float32 (the f64 values rounded once), keeps the grid totals in float64,
/// and says so in the root attributes; every compression choice stores the
/// same numbers.
#[test]
fn storage_options() {
    let dir = tmpdir("storage");
    let steps = 700;
    let base = dir.join("f64.h5");
    run_quick_with(
        "1-LV-rural1--0-sw",
        steps,
        2,
        &base,
        &["--precision", "f64"],
    );
    let f = hdf5::File::open(&base).unwrap();
    let vm64: Vec<f64> = f
        .dataset("scenarios/default/bus/vm_pu")
        .unwrap()
        .read_raw()
        .unwrap();
    let loss64: Vec<f64> = f
        .dataset("scenarios/default/grid/p_loss_mw")
        .unwrap()
        .read_raw()
        .unwrap();
    for (tag, extra) in [
        // The default precision is f32.
        ("f32-lzf", vec!["--compression", "lzf"]),
        (
            "f32-gzip",
            vec!["--precision", "f32", "--compression", "gzip=6"],
        ),
        (
            "f64-lzf",
            vec!["--precision", "f64", "--compression", "lzf"],
        ),
    ] {
        let out = dir.join(format!("{tag}.h5"));
        run_quick_with("1-LV-rural1--0-sw", steps, 1, &out, &extra);
        let g = hdf5::File::open(&out).unwrap();
        let ds = g.dataset("scenarios/default/bus/vm_pu").unwrap();
        let single = tag.starts_with("f32");
        assert_eq!(
            ds.dtype().unwrap().size(),
            if single { 4 } else { 8 },
            "{tag}"
        );
        let vm: Vec<f64> = if single {
            ds.read_raw::<f32>()
                .unwrap()
                .iter()
                .map(|&x| x as f64)
                .collect()
        } else {
            ds.read_raw::<f64>().unwrap()
        };
        let want: Vec<f64> = if single {
            vm64.iter().map(|&x| x as f32 as f64).collect()
        } else {
            vm64.clone()
        };
        assert_eq!(vm, want, "{tag}");
        let loss: Vec<f64> = g
            .dataset("scenarios/default/grid/p_loss_mw")
            .unwrap()
            .read_raw()
            .unwrap();
        assert_eq!(loss, loss64, "{tag}: grid totals stay float64");
        let prec: String = g
            .attr("series_precision")
            .unwrap()
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .to_string();
        assert_eq!(prec, if single { "float32" } else { "float64" });
    }
    // A filter that does not exist is a usage error naming the choices.
    let g = grid("1-LV-rural1--0-sw");
    let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(["run", "--quiet", "--compression", "zstd", "--network"])
        .arg(g.join("network.m"))
        .arg("--elements")
        .arg(g.join("elements.csv"))
        .arg("--profiles")
        .arg(g.join("profiles.csv.gz"))
        .arg("--out")
        .arg(dir.join("bad.h5"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("zstd") && err.contains("lzf"), "{err}");
    assert!(!dir.join("bad.h5").exists());
    std::fs::remove_dir_all(&dir).ok();
}
