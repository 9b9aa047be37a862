//! Deliberately broken inputs: thousands of random mutations of real files
//! must give a clear error or a valid model, never a panic (and a solved
//! model never silently holds NaN).

use gridsim::network::matpower::parse_case;
use gridsim::powerflow::{self, PfOptions};
use gridsim::timeseries::weather::Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One random edit: delete, insert, replace a character, duplicate or drop a line, truncate.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().max(1);
    let pick = |rng: &mut Rng, n: usize| ((rng.uniform() * n as f64) as usize).min(n - 1);
    const ALPHABET: &[char] = &[
        '0', '1', '9', '.', '-', '+', '*', '/', '^', '(', ')', '[', ']', '{', '}', ';', ',', '=',
        ':', '\'', '"', '%', ' ', '\n', '\t', 'e', 'x', 'I', 'N', '\u{0}', 'é',
    ];
    let mut out = chars.clone();
    match (rng.uniform() * 6.0) as usize {
        0 => {
            out.remove(pick(rng, n));
        }
        1 => out.insert(pick(rng, n), ALPHABET[pick(rng, ALPHABET.len())]),
        2 => {
            let i = pick(rng, n);
            out[i] = ALPHABET[pick(rng, ALPHABET.len())];
        }
        3 => {
            let lines: Vec<&str> = text.lines().collect();
            let i = pick(rng, lines.len().max(1));
            let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            if !l.is_empty() {
                let dup = l[i].clone();
                l.insert(i, dup);
            }
            return l.join("\n");
        }
        4 => {
            let lines: Vec<&str> = text.lines().collect();
            let i = pick(rng, lines.len().max(1));
            let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            if !l.is_empty() {
                l.remove(i);
            }
            return l.join("\n");
        }
        _ => out.truncate(pick(rng, n)),
    }
    out.into_iter().collect()
}

#[test]
fn mutated_matpower_files_never_panic() {
    let mut rng = Rng::new(20261123);
    let mut ok = 0;
    let mut errors = 0;
    for case in ["case9", "case33bw", "case141", "case533mt_lo"] {
        let text =
            std::fs::read_to_string(root().join(format!("tests/data/matpower/cases/{case}.m")))
                .unwrap();
        for _ in 0..150 {
            let mut t = text.clone();
            for _ in 0..1 + (rng.uniform() * 3.0) as usize {
                t = mutate(&t, &mut rng);
            }
            let r = catch_unwind(AssertUnwindSafe(|| {
                let net = parse_case(Path::new("bad.m"), &t)?;
                powerflow::solve(&net, &PfOptions::default())
            }));
            match r {
                Err(_) => panic!("panic on a mutation of {case}:\n{t}"),
                Ok(Ok(res)) => {
                    ok += 1;
                    if res.converged {
                        assert!(
                            res.bus.vm_pu.iter().all(|v| v.is_finite()),
                            "NaN in a converged result"
                        );
                    }
                }
                Ok(Err(e)) => {
                    errors += 1;
                    let m = e.to_string();
                    assert!(!m.is_empty());
                    if let gridsim::Error::Parse { .. } = e {
                        assert!(m.starts_with("bad.m:"), "parse error without location: {m}");
                    }
                }
            }
        }
    }
    println!(
        "{ok} mutated files solved or reported non-convergence, {errors} rejected with an error"
    );
    assert!(errors > 50 && ok > 10);
}

#[test]
fn mutated_native_files_never_panic() {
    let mut rng = Rng::new(7);
    let text = std::fs::read_to_string(root().join("networks/cn_urban_10kv_ring.toml")).unwrap();
    let dir = std::env::temp_dir().join(format!("gridsim-mut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    let mut errors = 0;
    for _ in 0..300 {
        let t = mutate(&text, &mut rng);
        std::fs::write(&p, &t).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            let net = gridsim::cli::load_network(&p)?;
            powerflow::solve(&net, &PfOptions::default())
        }));
        match r {
            Err(_) => panic!("panic on a mutated native file:\n{t}"),
            Ok(Err(e)) => {
                errors += 1;
                assert!(
                    e.to_string().contains("bad.toml"),
                    "error without the file name: {e}"
                );
            }
            Ok(Ok(_)) => {}
        }
    }
    assert!(errors > 30);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn mutated_profile_and_scenario_files_never_panic() {
    let mut rng = Rng::new(99);
    let dir = std::env::temp_dir().join(format!("gridsim-mutsc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prof =
        "time,a,b\n2016-01-01T00:00,1.0,0.5\n2016-01-01T00:15,0.8,0.4\n2016-01-01T00:30,0.9,0.1\n";
    for _ in 0..300 {
        let t = mutate(prof, &mut rng);
        let r = catch_unwind(|| {
            gridsim::timeseries::profiles::parse_profiles(Path::new("p.csv"), &t).map(|_| ())
        });
        assert!(r.is_ok(), "panic on profile:\n{t}");
    }
    let sc = std::fs::read_to_string(root().join("scenarios/cn_county_feeder.toml")).unwrap();
    let p = root()
        .join("scenarios")
        .join(format!(".mutated-{}.toml", std::process::id()));
    for _ in 0..150 {
        let t = mutate(&sc, &mut rng);
        std::fs::write(&p, &t).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            gridsim::timeseries::scenario::load_scenarios(&p, Some(4)).map(|_| ())
        }));
        assert!(r.is_ok(), "panic on scenario:\n{t}");
    }
    std::fs::remove_file(&p).ok();
    std::fs::remove_dir_all(&dir).ok();
}

/// `gridsim pf` on a MATPOWER file holding `body` after a valid small case
/// header: the exit code and stderr (a child process, so that a stack
/// overflow or an abort would show as a failed exit, not kill the tests).
fn pf_on_case(tag: &str, body: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("gridsim-hostile-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("hostile.m");
    let case = std::fs::read_to_string(root().join("networks/case33bw.m")).unwrap();
    std::fs::write(&p, format!("{case}\n{body}\n")).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(["pf", p.to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (o.status.code(), err)
}

/// Deep nesting (parentheses, brackets, function calls, unary signs) is an
/// error naming the line, not a stack overflow.
#[test]
fn deeply_nested_expressions_are_an_error_not_a_crash() {
    let n = 5000;
    let cases = [
        format!("x = {}1{};", "(".repeat(n), ")".repeat(n)),
        format!("x = {}1{};", "[".repeat(n), "]".repeat(n)),
        format!("x = {}1{};", "sqrt(".repeat(n), ")".repeat(n)),
        format!("x = {}1;", "-".repeat(50_000)),
    ];
    for (k, body) in cases.iter().enumerate() {
        let (code, err) = pf_on_case(&format!("nest{k}"), body);
        assert_eq!(code, Some(1), "case {k}: {err}");
        assert!(
            err.contains("hostile.m:") && err.contains("nested more than 200 levels"),
            "case {k}: {err}"
        );
    }
}

/// Tiny files that ask for huge matrices are refused before allocating;
/// an absurd range is an error, not a panic.
#[test]
fn tiny_files_cannot_ask_for_unbounded_memory() {
    for (k, (body, expect)) in [
        ("mpc.bus(999999999, 1) = 1;", "more than 20000000 elements"),
        ("mpc.bus(3e7, 1) = 1;", "more than 20000000 elements"),
        ("mpc.bus(1:1e-300:2, 1) = 1;", "more than 20000000 elements"),
        (
            "x = mpc.bus(ones(1, 10), :);",
            "unsupported function 'ones'",
        ),
        ("x = mpc.bus^2;", "matrix power"),
    ]
    .iter()
    .enumerate()
    {
        let (code, err) = pf_on_case(&format!("big{k}"), body);
        assert_eq!(code, Some(1), "{body}: {err}");
        assert!(err.contains(expect), "{body}: {err}");
        assert!(err.len() < 10_000, "{body}: a {} byte message", err.len());
    }
}

/// Indexed assignments change the matrix in place: a file of thousands of
/// them (5 KB of MATLAB used to take 28 s, copying the matrix each time)
/// reads like any other, and a case with many bad rows lists 50 problems
/// and counts the rest instead of printing every one.
#[test]
fn many_indexed_assignments_and_many_problems() {
    let body: String = (0..3000)
        .map(|k| format!("mpc.bus({}, 3) = 0.0{};\n", k % 33 + 1, k % 7))
        .collect();
    let (code, err) = pf_on_case("assign", &body);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = pf_on_case("problems", "mpc.bus(5000, 1) = 0;");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("... and"), "{err}");
    assert!(err.lines().count() < 60, "{} lines", err.lines().count());
}
