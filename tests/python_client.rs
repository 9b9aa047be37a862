//! A real Python client (h5py + pandas, in the project's venv) reads a
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
        "no Python venv: run `make test` (it creates .venv with h5py and pandas) or set GRIDSIM_PYTHON"
    );
    venv
}

#[test]
#[ignore = "needs the Python venv with h5py and pandas; `make test` runs it"]
fn h5py_and_pandas_read_every_dataset() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("gridsim-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("rural.h5");
    let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .arg("run")
        .arg(root.join("scenarios/rural_chp_renewables.toml"))
        .args(["--steps", "96", "--quiet", "--out"])
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
        "python client failed: {}{}",
        String::from_utf8_lossy(&py.stdout),
        String::from_utf8_lossy(&py.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 6);
    assert!(v["datasets"].as_u64().unwrap() > 100);
    assert_eq!(v["frames"]["base/bus/vm_pu"], serde_json::json!([96, 101]));
    assert_eq!(
        v["frames"]["pv-plus-12mw/unit/p_mw"],
        serde_json::json!([96, 4])
    );
    // pandas' sum of p_loss · Δt equals the KPI.
    for s in v["scenarios"].as_array().unwrap() {
        let s = s.as_str().unwrap();
        let a = v[format!("{s}/loss_mwh")].as_f64().unwrap();
        let b = v[format!("{s}/loss_check_mwh")].as_f64().unwrap();
        assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "{s}: {a} vs {b}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
