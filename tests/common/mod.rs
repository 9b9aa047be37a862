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
