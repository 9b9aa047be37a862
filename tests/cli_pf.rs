//! `gridsim pf` from the command line, as a user runs it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gridsim"))
}

fn case(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/matpower")
        .join(p)
}

#[test]
fn json_output_matches_reference() {
    let out = bin()
        .args(["pf", "--format", "json", "--tol", "1e-10"])
        .arg(case("cases/case16ci.m"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(case("results/case16ci.json")).unwrap())
            .unwrap();
    assert_eq!(v["converged"], Value::Bool(true));
    assert_eq!(v["iterations"], reference["iterations"]);
    assert!(v["max_mismatch_pu"].as_f64().unwrap() < 1e-10);
    // The result's fields and the solve time side by side in one object.
    assert!(v["solve_time_s"].as_f64().unwrap() > 0.0);
    assert!(v["bus"].is_object() && v["gen"].is_object() && v["line"].is_object());
    let got = v["bus"]["vm_pu"].as_array().unwrap();
    let want = reference["vm_pu"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    for (a, b) in got.iter().zip(want) {
        assert!((a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-8);
    }
    assert!(
        (v["total_loss_mw"].as_f64().unwrap() - reference["total_loss_mw"].as_f64().unwrap()).abs()
            < 1e-6
    );
    for key in [
        "from",
        "to",
        "p_from_mw",
        "q_from_mvar",
        "p_to_mw",
        "q_to_mvar",
    ] {
        assert_eq!(v["branch"][key].as_array().unwrap().len(), 16, "{key}");
    }
    // Out-of-service branches have zero flows.
    let status = reference["branch_in_service"].as_array().unwrap();
    for (k, s) in status.iter().enumerate() {
        if s == &Value::Bool(false) {
            assert_eq!(v["branch"]["p_from_mw"][k].as_f64().unwrap(), 0.0);
        }
    }
    for key in ["bus", "p_mw", "q_mvar"] {
        assert_eq!(v["gen"][key].as_array().unwrap().len(), 3, "{key}");
    }
}

#[test]
fn table_output_is_readable() {
    let out = bin()
        .arg("pf")
        .arg(case("cases/case33bw.m"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("losses") && s.contains("0.2027 MW"), "{s}");
    assert!(s.contains("min |V|") && s.contains("at bus 18"), "{s}");
}

#[test]
fn malformed_file_exits_1_with_line() {
    let dir = std::env::temp_dir().join(format!("gridsim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.m");
    let text = std::fs::read_to_string(case("cases/case9.m"))
        .unwrap()
        .replacen("\t4\t5\t0.017", "\t4\t55\t0.017", 1);
    std::fs::write(&bad, text).unwrap();
    let out = bin().arg("pf").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.m:") && err.contains("(T_BUS): bus 55 does not exist"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn non_convergence_exits_2() {
    let out = bin()
        .args(["pf", "--max-iter", "1", "--format", "json"])
        .arg(case("cases/case300.m"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not converge"), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["converged"], Value::Bool(false));
    assert!(v.get("bus").is_none(), "no solution is returned");
}

#[test]
fn unknown_extension_is_a_usage_error() {
    let out = bin().args(["pf", "network.xyz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown network file type"));
}

/// `gridsim info` on a MATPOWER grid whose distributed generation is booked
/// as negative loads reports consumption and net generation apart, and
/// classes its branches (SimBench MV rural: 99 lines, 2 transformers).
#[test]
fn info_reports_what_a_matpower_file_holds() {
    for file in [
        "networks/simbench-mv-rural/network.m",
        "networks/simbench_mv_rural.toml",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_gridsim"))
            .args(["info", file])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.success());
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(
            s.contains("Loads: 52 consuming 6.6055 MW; 42 with negative power"),
            "{s}"
        );
        assert!(!s.contains("-8.3090"), "{s}");
        assert!(s.contains("2 transformers"), "{s}");
    }
}
