//! A real Python client (xarray, pandas and h5py, in the project's venv) reads a
//! results file written by `gridsim run`. `make test` creates the venv and
//! runs this test; plain `cargo test` lists it as ignored.

use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("GRIDSIM_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python venv: run `make test` (it creates .venv from tests/python/requirements.txt) or set GRIDSIM_PYTHON"
    );
    venv
}

/// Runs the rural study for 96 steps with `--series series` and has the
/// Python client read the file; returns its JSON summary.
fn run_and_read(dir: &std::path::Path, series: &str) -> serde_json::Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = dir.join(format!("rural-{}.h5", series.replace(',', "-")));
    let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .arg("run")
        .arg(root.join("scenarios/rural_chp_renewables.toml"))
        .args(["--steps", "96", "--quiet", "--series", series, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let py = Command::new(python())
        .arg(root.join("tests/python/read_results.py"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "python client failed on --series {series}: {}{}",
        String::from_utf8_lossy(&py.stdout),
        String::from_utf8_lossy(&py.stderr)
    );
    serde_json::from_slice(&py.stdout).unwrap()
}

#[test]
#[ignore = "needs the Python venv with h5py, pandas, xarray and h5netcdf; `make test` runs it"]
fn xarray_and_pandas_read_every_group() {
    let dir = std::env::temp_dir().join(format!("gridsim-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let v = run_and_read(&dir, "all");
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 7);
    assert_eq!(v["frames"]["base/bus/vm_pu"], serde_json::json!([96, 101]));
    assert_eq!(
        v["frames"]["base/line/loading_percent"],
        serde_json::json!([96, 99])
    );
    assert_eq!(
        v["frames"]["base/transformer/tap_pos"],
        serde_json::json!([96, 2])
    );
    assert_eq!(
        v["frames"]["pv-plus-12mw/unit/p_mw"],
        serde_json::json!([96, 4])
    );
    for s in v["scenarios"].as_array().unwrap() {
        let s = s.as_str().unwrap();
        // pandas' sum of p_loss · Δt equals the KPI.
        let a = v[format!("{s}/loss_mwh")].as_f64().unwrap();
        let b = v[format!("{s}/loss_check_mwh")].as_f64().unwrap();
        assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "{s}: {a} vs {b}");
        // The load columns (f32) add up to the grid's load (f64).
        let a = v[format!("{s}/load_mwh")].as_f64().unwrap();
        let b = v[format!("{s}/load_check_mwh")].as_f64().unwrap();
        assert!((a - b).abs() < 1e-6 * b.abs(), "{s}: {a} vs {b}");
    }
    // Totals only: every group still opens, with descriptions and no element series.
    let t = run_and_read(&dir, "totals");
    assert_eq!(t["series"], "totals");
    let frames = t["frames"].as_object().unwrap();
    assert!(frames.keys().all(|k| k.contains("/grid/")), "{frames:?}");
    assert_eq!(t["frames"]["base/grid/p_loss_mw"], serde_json::json!([96]));
    // A selection keeps exactly its kinds.
    let s = run_and_read(&dir, "bus,transformer");
    let frames = s["frames"].as_object().unwrap();
    assert!(frames.contains_key("base/bus/vm_pu") && frames.contains_key("base/transformer/i_ka"));
    assert!(!frames
        .keys()
        .any(|k| k.contains("/line/") || k.contains("/unit/")));
    std::fs::remove_dir_all(&dir).ok();
}
