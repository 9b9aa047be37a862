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
