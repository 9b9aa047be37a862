//! Helpers shared by the integration tests (each test file includes this
//! module with `mod common;` and uses what it needs).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch folder for one test (`tag`) of this test process.
pub fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gridsim-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `gridsim ARGS` as a user runs it.
pub fn gridsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(args)
        .output()
        .unwrap()
}

/// Power-flow options for comparisons with reference tools: mismatch 1e-11
/// p.u., 30 Newton iterations, starting from the file's voltages.
pub fn reference_pf_options() -> gridsim::powerflow::PfOptions {
    gridsim::powerflow::PfOptions {
        newton: gridsim::solver::NewtonOptions {
            tol: 1e-11,
            max_iter: 30,
        },
        flat_start: false,
    }
}

/// Two buses at 20 kV joined by a purely resistive line (r = 0.05 p.u. on
/// 1 MVA), the slack at bus 1 at 1 p.u.: closed-form power flows.
pub const TWO_BUS: &str = "function mpc = twobus
mpc.version = '2';
mpc.baseMVA = 1;
mpc.bus = [
  1 3 0 0 0 0 1 1 0 20 1 1.1 0.9;
  2 1 0 0 0 0 1 1 0 20 1 1.1 0.9;
];
mpc.gen = [
  1 0 0 10 -10 1 1 1 10 0;
];
mpc.branch = [
  1 2 0.05 0 0 2 2 2 0 0 1 -360 360;
];
";
