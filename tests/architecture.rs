//! The layering of ARCHITECTURE.md, checked on the sources: data flows one
//! way, network → math → solver → timeseries → results → cli, and no module
//! imports a later stage (doc comments may link to one).

use std::path::{Path, PathBuf};

const STAGES: [&str; 6] = ["network", "math", "solver", "timeseries", "results", "cli"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_stage_imports_a_later_one() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (k, stage) in STAGES.iter().enumerate() {
        let mut files = Vec::new();
        sources(&src.join(stage), &mut files);
        assert!(!files.is_empty(), "no sources under src/{stage}");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for later in &STAGES[k + 1..] {
                    // `crate::powerflow` wires math, solver and results for one
                    // power flow: a stage before results must not use it either.
                    let uses_later = code.contains(&format!("crate::{later}::"))
                        || code.contains(&format!("crate::{later};"))
                        || (k < 4 && code.contains("crate::powerflow"));
                    if uses_later {
                        violations.push(format!("{}:{}: {}", f.display(), n + 1, code));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the flow:\n{}",
        violations.join("\n")
    );
}
