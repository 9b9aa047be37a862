//! MATPOWER import errors and export round trips.

use gridsim::network::matpower::{parse_case, read_case, write_case};
use gridsim::powerflow::{self, PfOptions};
use std::path::{Path, PathBuf};

fn case(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/matpower/cases")
        .join(p)
}

const SMALL: &str = "function mpc = small
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
\t1\t3\t0\t0\t0\t0\t1\t1\t0\t12.5\t1\t1.1\t0.9;
\t2\t1\t40\t20\t0\t0\t1\t1\t0\t12.5\t1\t1.1\t0.9;
\t3\t1\t40\t20\t0\t0\t1\t1\t0\t12.5\t1\t1.1\t0.9;
];
mpc.gen = [
\t1\t0\t0\t10\t-10\t1.02\t100\t1\t10\t0;
];
mpc.branch = [
\t1\t2\t0.01\t0.05\t0\t0\t0\t0\t0\t0\t1\t-360\t360;
\t2\t3\t0.01\t0.05\t0\t0\t0\t0\t0\t0\t1\t-360\t360;
];
";

fn err_of(text: &str) -> String {
    parse_case(Path::new("bad.m"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn small_case_parses_and_solves() {
    let net = parse_case(Path::new("small.m"), SMALL).unwrap();
    assert_eq!(net.buses.len(), 3);
    let r = powerflow::solve_converged(&net, &PfOptions::default()).unwrap();
    assert!(r.total_loss_mw > 0.0);
}

#[test]
fn unknown_bus_names_line_row_and_column() {
    let e = err_of(&SMALL.replace("\t2\t3\t0.01", "\t2\t99\t0.01"));
    assert!(
        e.contains("bad.m:14: branch row 2 (T_BUS): bus 99 does not exist"),
        "{e}"
    );
}

#[test]
fn all_problems_reported_together() {
    let text = SMALL
        .replace("\t2\t3\t0.01", "\t2\t99\t0.01")
        .replace("\t3\t1\t40", "\t3\t7\t40")
        .replace("\t1\t0\t0\t10", "\t5\t0\t0\t10");
    let e = err_of(&text);
    assert!(e.contains("3 problems"), "{e}");
    assert!(e.contains("bus row 3 (BUS_TYPE): bus type 7"), "{e}");
    assert!(
        e.contains("gen row 1 (GEN_BUS): bus 5 does not exist"),
        "{e}"
    );
}

#[test]
fn duplicate_bus_and_zero_impedance() {
    let e = err_of(&SMALL.replace("\t3\t1\t40", "\t2\t1\t40"));
    assert!(
        e.contains("bad.m:7: bus row 3 (BUS_I): duplicate bus number 2"),
        "{e}"
    );
    let e = err_of(&SMALL.replace("0.01\t0.05", "0\t0"));
    assert!(
        e.contains("(BR_R/BR_X): |r| + |x| = 0e0 p.u. is below 1e-9"),
        "{e}"
    );
    // Values that overflow the per-unit model are refused too.
    let e = err_of(&SMALL.replace("0.01\t0.05", "1e-300\t1e-300"));
    assert!(e.contains("is below 1e-9"), "{e}");
}

/// A base power or a tap ratio that would overflow the per-unit model
/// (1e-308 MVA, TAP = 1e-300) is an error, not a NaN solution.
#[test]
fn base_power_and_tap_out_of_range_are_rejected() {
    let e = err_of(&SMALL.replace("mpc.baseMVA = 100", "mpc.baseMVA = 1e-308"));
    assert!(
        e.contains("baseMVA must be between 0.001 and 1e6, found 1e-308"),
        "{e}"
    );
    let e = err_of(&SMALL.replace(
        "\t1\t2\t0.01\t0.05\t0\t0\t0\t0\t0\t0\t1",
        "\t1\t2\t0.01\t0.05\t0\t0\t0\t0\t1e-300\t0\t1",
    ));
    assert!(
        e.contains(
            "branch row 1 (TAP): tap ratio 1e-300 must be 0 (none) or between 0.001 and 1000"
        ),
        "{e}"
    );
}

#[test]
fn nan_value_is_rejected() {
    let e = err_of(&SMALL.replace(
        "\t40\t20\t0\t0\t1\t1\t0\t12.5\t1\t1.1\t0.9;\n\t3",
        "\tNaN\t20\t0\t0\t1\t1\t0\t12.5\t1\t1.1\t0.9;\n\t3",
    ));
    assert!(e.contains("bus row 2 (PD): value NaN is not finite"), "{e}");
}

#[test]
fn syntax_errors_have_line_numbers() {
    let e = err_of(&SMALL.replace("mpc.baseMVA = 100;", "mpc.baseMVA = 100 +;"));
    assert!(e.starts_with("bad.m:3:"), "{e}");
    let e = err_of(&SMALL.replace("\t2\t3\t0.01\t0.05", "\t2\t3\t0.01"));
    assert!(e.starts_with("bad.m:14:") && e.contains("columns"), "{e}");
    let e = err_of(&format!("{SMALL}\nfor k = 1:3\n mpc.bus(k, 3) = 0;\nend\n"));
    assert!(e.starts_with("bad.m:17:") && e.contains("'for'"), "{e}");
    let e = err_of(&format!(
        "{SMALL}\nmpc.bus(:, 3) = mpc.bus(:, 3) * scale;\n"
    ));
    assert!(
        e.starts_with("bad.m:17:") && e.contains("undefined variable 'scale'"),
        "{e}"
    );
}

#[test]
fn missing_matrices_and_columns() {
    let e = err_of("function mpc = x\nmpc.baseMVA = 100;\n");
    assert!(e.contains("no 'mpc.bus'"), "{e}");
    let e = err_of(&SMALL.replace("mpc.baseMVA = 100;", ""));
    assert!(e.contains("baseMVA"), "{e}");
    let e = err_of(&SMALL.replace("\t1\t0\t0\t10\t-10\t1.02\t100\t1\t10\t0;", "\t1\t0\t0;"));
    assert!(e.contains("'mpc.gen' has 3 columns"), "{e}");
}

#[test]
fn island_without_source_is_an_error() {
    let text = SMALL.replace(
        "\t2\t3\t0.01\t0.05\t0\t0\t0\t0\t0\t0\t1",
        "\t2\t3\t0.01\t0.05\t0\t0\t0\t0\t0\t0\t0",
    );
    let net = parse_case(Path::new("bad.m"), &text).unwrap();
    let e = powerflow::solve(&net, &PfOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("island of 1 bus (3) has no reference bus"),
        "{e}"
    );
}

#[test]
fn missing_file_is_an_io_error() {
    let e = read_case(Path::new("/nonexistent/x.m"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("/nonexistent/x.m:"), "{e}");
}

#[test]
fn export_round_trips_every_case() {
    for entry in std::fs::read_dir(case("")).unwrap() {
        let path = entry.unwrap().path();
        let net = read_case(&path).unwrap();
        let text = write_case(&net);
        let back = parse_case(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(net, back, "{}", path.display());
        let opts = PfOptions::default();
        let a = powerflow::solve_converged(&net, &opts).unwrap();
        let b = powerflow::solve_converged(&back, &opts).unwrap();
        assert_eq!(a, b, "{}", path.display());
    }
}

/// Control flow in a case file (MATPOWER's post-processing blocks, with
/// logical operators such as `&`) is refused by name and line: the lexer
/// reads every operator, so the message is about the `if`, not a character.
#[test]
fn control_flow_is_refused_by_name_and_line() {
    let text = SMALL.replace(
        "mpc.baseMVA = 100;",
        "mpc.baseMVA = 100;\nif mpc.baseMVA > 0 & ~isempty(mpc.baseMVA) | 1 ~= 2\n  mpc.baseMVA = 10;\nend",
    );
    assert!(text.contains("if mpc"), "test case not built");
    let e = err_of(&text);
    let line = text.lines().position(|l| l.starts_with("if ")).unwrap() + 1;
    assert!(
        e.contains(&format!("bad.m:{line}")) && e.contains("unsupported construct 'if'"),
        "{e}"
    );
}
