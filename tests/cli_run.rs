//! The CLI as a batch user meets it: the run summary, solver flags with a
//! scenario file, warnings that name their scenario, clear errors for files
//! that are not results, `pf` in a pipe.

mod common;
use common::{gridsim, root, tmpdir};
use std::path::Path;
use std::process::{Command, Stdio};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The Chinese county feeder study, `steps` steps, into `out`, with `extra` flags.
fn run_county(out: &Path, steps: &str, extra: &[&str]) -> std::process::Output {
    let sc = root().join("scenarios/cn_county_feeder.toml");
    let mut args = vec!["run", s(&sc), "--steps", steps, "--quiet", "--out", s(out)];
    args.extend_from_slice(extra);
    gridsim(&args)
}

#[test]
fn summary_json_matches_the_results_file() {
    let dir = tmpdir("summary");
    let (out, js) = (dir.join("r.h5"), dir.join("r.json"));
    let o = run_county(&out, "96", &["--summary-json", s(&js)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&js).unwrap()).unwrap();
    let f = hdf5::File::open(&out).unwrap();
    let list = v["scenarios"].as_array().unwrap();
    assert_eq!(list.len(), f.dataset("scenario_names").unwrap().size());
    for sc in list {
        let name = sc["name"].as_str().unwrap();
        assert_eq!(sc["steps"], 96);
        let kpi = f.group(&format!("scenarios/{name}/kpi")).unwrap();
        let loss: f64 = kpi.attr("loss_mwh").unwrap().read_scalar().unwrap();
        // serde_json's default float parser may be one unit in the last place off.
        let json_loss = sc["kpi"]["loss_mwh"].as_f64().unwrap();
        assert!(
            (json_loss - loss).abs() <= 4.0 * f64::EPSILON * loss.abs(),
            "{name}"
        );
        let run = f.group(&format!("scenarios/{name}/run")).unwrap();
        let taps: i64 = run.attr("tap_changes").unwrap().read_scalar().unwrap();
        assert_eq!(sc["tap_changes"].as_i64().unwrap(), taps, "{name}");
    }
    assert!(v["solve_and_write_seconds"].as_f64().unwrap() > 0.0);
    // Never over an existing summary without --force.
    let o = run_county(&dir.join("r2.h5"), "4", &["--summary-json", s(&js)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `--tol`/`--max-iter` override the scenario file's `[solver]`; the
/// warnings then name each scenario, and `compare` repeats them.
#[test]
fn solver_flags_override_scenario_files_and_warnings_name_scenarios() {
    let dir = tmpdir("flags");
    let out = dir.join("r.h5");
    let o = run_county(&out, "8", &["--max-iter", "1", "--tol", "1e-14"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: scenario 'base': 8 step(s) did not converge"),
        "{err}"
    );
    let o = gridsim(&["compare", s(&out)]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("warning: scenario 'base': 8 step(s) did not converge"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compare_and_report_refuse_files_that_are_not_results() {
    let dir = tmpdir("notresults");
    let text = dir.join("notes.h5");
    std::fs::write(&text, "just text").unwrap();
    let other = dir.join("other.h5");
    hdf5::File::create(&other)
        .unwrap()
        .create_group("x")
        .unwrap();
    for (file, why) in [
        (&text, "not an HDF5 file"),
        (&other, "an HDF5 file, but not a gridsim results file"),
        (&dir.join("missing.h5"), "no such file"),
    ] {
        for cmd in [
            vec!["compare", s(file)],
            vec!["report", s(file), "--out", s(&dir.join("r.html"))],
        ] {
            let o = gridsim(&cmd);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{err}");
            assert!(err.contains(&format!("{}: {why}", file.display())), "{err}");
            assert!(!err.contains("H5Fopen"), "{err}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The network and the profile table are read side by side, but errors
/// come as when they were read in turn: with both files broken, the
/// network's; with only the profile table broken, its own (file and line);
/// the same through a scenario file.
#[test]
fn inputs_read_side_by_side_report_errors_in_order() {
    let dir = tmpdir("side-by-side");
    let (net, bad_net) = (root().join("networks/ieee33.toml"), dir.join("net.m"));
    std::fs::write(&bad_net, "mpc.bus = [1 2 3;\n").unwrap();
    let (elements, profiles) = (dir.join("elements.csv"), dir.join("profiles.csv"));
    std::fs::write(
        &elements,
        "name,bus,p_mw,q_mvar,profile\nl1,2,0.1,0.05,h0\n",
    )
    .unwrap();
    std::fs::write(
        &profiles,
        "time,h0\n2016-01-01T00:00:00,0.5\n2016-01-01T00:15:00,x\n",
    )
    .unwrap();
    let quick = |net: &Path| {
        gridsim(&[
            "run",
            "--network",
            s(net),
            "--elements",
            s(&elements),
            "--profiles",
            s(&profiles),
            "--out",
            s(&dir.join("o.h5")),
            "--quiet",
        ])
    };
    let toml = |net: &Path| {
        let sc = dir.join("s.toml");
        std::fs::write(
            &sc,
            format!(
                "network = \"{}\"\nelements = \"elements.csv\"\nprofiles = \"profiles.csv\"\n\
                 [period]\nstart = \"2016-01-01T00:00:00\"\nstep_minutes = 15\nsteps = 2\n",
                net.display()
            ),
        )
        .unwrap();
        gridsim(&["run", s(&sc), "--out", s(&dir.join("o.h5")), "--quiet"])
    };
    for run in [&quick as &dyn Fn(&Path) -> std::process::Output, &toml] {
        let o = run(&bad_net);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(&format!("{}:1", bad_net.display())), "{err}");
        assert!(!err.contains("profiles.csv"), "{err}");
        let o = run(&net);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(&format!("{}:3", profiles.display())), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `pf` reports its solve time, and in a pipe closed early it ends quietly.
#[test]
fn pf_reports_its_time_and_survives_a_closed_pipe() {
    let case = root().join("networks/cn_rural_10kv.toml");
    let o = gridsim(&["pf", s(&case)]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(" ms") && text.contains("solved in"), "{text}");
    let o = gridsim(&["pf", s(&case), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["solve_time_s"].as_f64().unwrap() > 0.0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(["pf", s(&case)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}

/// A file with grid totals only still gives a report (KPIs, energy, CO2)
/// that says which plots need the element series.
#[test]
fn report_of_a_totals_only_file_says_what_is_missing() {
    let dir = tmpdir("totals-report");
    let out = dir.join("t.h5");
    let o = run_county(&out, "96", &["--series", "totals"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = dir.join("t.html");
    let o = gridsim(&["report", s(&out), "--out", s(&html)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("run with <code>--series all</code>"));
    assert!(page.contains("Energy per scenario") && page.contains("Grid losses (MWh)"));
    // The scenario file is in the report, folded.
    assert!(page.contains("<details><summary>Settings and assumptions"));
    std::fs::remove_dir_all(&dir).ok();
}
