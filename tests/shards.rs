//! Sharded runs: `run --shard K/N` files merged by `gridsim merge` equal the
//! one-machine file dataset by dataset, bit for bit; incomplete or mixed
//! sets are refused; and the same end to end on a real single-node Slurm
//! cluster (job array + afterok merge, a lost shard re-run alone).

mod common;
use common::{gridsim, root, tmpdir};
use std::path::{Path, PathBuf};
use std::process::Command;

const STEPS: &str = "96";

fn scenario() -> PathBuf {
    root().join("scenarios/rural_chp_renewables.toml")
}

fn run(args: &[&str]) {
    let o = gridsim(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The raw bytes of every dataset (strings as text) and the values of every
/// attribute but dimension-scale references and the run's time stamp and
/// command line, keyed by path.
fn contents(path: &Path) -> Vec<(String, Vec<u8>)> {
    use hdf5::types::{TypeDescriptor as T, VarLenUnicode};
    let f = hdf5::File::open(path).unwrap();
    let mut out = Vec::new();
    let mut stack = vec![f.group("/").unwrap()];
    while let Some(g) = stack.pop() {
        for name in g.member_names().unwrap() {
            let full = format!("{}/{name}", g.name().trim_end_matches('/'));
            if let Ok(sub) = g.group(&name) {
                stack.push(sub);
                continue;
            }
            let ds = g.dataset(&name).unwrap();
            let bytes = match ds.dtype().unwrap().to_descriptor().unwrap() {
                T::VarLenUnicode => ds
                    .read_raw::<VarLenUnicode>()
                    .unwrap()
                    .iter()
                    .flat_map(|s| s.as_str().bytes().chain([0]))
                    .collect(),
                T::Float(hdf5::types::FloatSize::U4) => ds
                    .read_raw::<f32>()
                    .unwrap()
                    .iter()
                    .flat_map(|x| x.to_bits().to_le_bytes())
                    .collect(),
                T::Float(_) => ds
                    .read_raw::<f64>()
                    .unwrap()
                    .iter()
                    .flat_map(|x| x.to_bits().to_le_bytes())
                    .collect(),
                T::Unsigned(hdf5::types::IntSize::U1) => ds.read_raw::<u8>().unwrap(),
                T::Unsigned(_) => ds
                    .read_raw::<u32>()
                    .unwrap()
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect(),
                T::Integer(_) => ds
                    .read_raw::<i64>()
                    .unwrap()
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect(),
                other => panic!("{full}: unexpected type {other:?}"),
            };
            out.push((full.clone(), bytes));
            for a in ds.attr_names().unwrap() {
                if a != "DIMENSION_LIST" && a != "REFERENCE_LIST" {
                    out.push((format!("{full}@{a}"), attr_bytes(&ds.attr(&a).unwrap())));
                }
            }
        }
        for a in g.attr_names().unwrap() {
            if a != "created" && a != "command_line" {
                out.push((
                    format!("{}@{a}", g.name()),
                    attr_bytes(&g.attr(&a).unwrap()),
                ));
            }
        }
    }
    out.sort();
    out
}

fn attr_bytes(a: &hdf5::Attribute) -> Vec<u8> {
    if let Ok(v) = a.read_scalar::<f64>() {
        v.to_bits().to_le_bytes().to_vec()
    } else if let Ok(v) = a.read_scalar::<i64>() {
        v.to_le_bytes().to_vec()
    } else if let Ok(v) = a.read_scalar::<hdf5::types::VarLenUnicode>() {
        v.as_str().as_bytes().to_vec()
    } else {
        a.read_raw::<hdf5::types::VarLenUnicode>()
            .map(|v| {
                v.iter()
                    .flat_map(|s| s.as_str().bytes().chain([0]))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn assert_same(a: &Path, b: &Path) {
    let (x, y) = (contents(a), contents(b));
    let keys = |v: &[(String, Vec<u8>)]| v.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&x), keys(&y), "different objects");
    for ((k, u), (_, v)) in x.iter().zip(&y) {
        assert!(
            u == v,
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    assert!(
        x.iter().filter(|p| !p.0.contains('@')).count() > 400,
        "{} datasets",
        x.len()
    );
}

#[test]
fn merged_shards_equal_the_one_machine_file() {
    let dir = tmpdir("shards");
    let (one, all) = (dir.join("one.h5"), dir.join("all.h5"));
    let sc = scenario();
    let sc = sc.to_str().unwrap();
    run(&[
        "run",
        sc,
        "--steps",
        STEPS,
        "--out",
        one.to_str().unwrap(),
        "--quiet",
    ]);
    for k in 0..3 {
        let shard = format!("{k}/3");
        run(&[
            "run",
            sc,
            "--steps",
            STEPS,
            "--out",
            all.to_str().unwrap(),
            "--quiet",
            "--shard",
            &shard,
        ]);
    }
    let shard = |k: usize| dir.join(format!("all.shard-{k}-of-3.h5"));
    // A missing shard is named, with the scenarios it held.
    let o = gridsim(&[
        "merge",
        shard(0).to_str().unwrap(),
        shard(2).to_str().unwrap(),
        "--out",
        all.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("missing shard(s) 1 of 3") && e.contains("pv-plus-12mw"),
        "{e}"
    );
    assert!(!all.exists());
    // A shard of another run (fewer steps) is refused.
    let other = dir.join("other.h5");
    run(&[
        "run",
        sc,
        "--steps",
        "48",
        "--out",
        other.to_str().unwrap(),
        "--quiet",
        "--shard",
        "1/3",
    ]);
    let o = gridsim(&[
        "merge",
        shard(0).to_str().unwrap(),
        dir.join("other.shard-1-of-3.h5").to_str().unwrap(),
        shard(2).to_str().unwrap(),
        "--out",
        all.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is from another run"));
    // The complete set merges into the one-machine file.
    let files: Vec<String> = (0..3)
        .map(|k| shard(k).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["merge"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--out", all.to_str().unwrap()]);
    run(&args);
    assert_same(&one, &all);
    std::fs::remove_dir_all(&dir).ok();
}

/// Stops the single-node Slurm when the test ends, passed or not.
struct SlurmCluster(PathBuf);

impl Drop for SlurmCluster {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/slurm/stop.sh"))
            .env("SLURM_CI_DIR", &self.0)
            .status();
    }
}

#[test]
#[ignore = "starts a single-node Slurm (root, Debian slurm-wlm and munge); `make test` runs it"]
fn a_slurm_array_and_merge_give_the_one_machine_file() {
    let dir = tmpdir("slurm");
    let state = dir.join("slurm-ci");
    let start = Command::new(root().join("scripts/slurm/start.sh"))
        .env("SLURM_CI_DIR", &state)
        .output()
        .unwrap();
    assert!(
        start.status.success(),
        "cannot start a single-node Slurm: {}{}",
        String::from_utf8_lossy(&start.stdout),
        String::from_utf8_lossy(&start.stderr)
    );
    let cluster = SlurmCluster(state.clone());
    let conf = state.join("slurm.conf");
    let gridsim_env = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
            .args(args)
            .env("SLURM_CONF", &conf)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let wait = |ids: &[&str]| {
        let o = Command::new(root().join("scripts/slurm/wait.sh"))
            .args(ids)
            .env("SLURM_CI_DIR", &state)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "jobs {ids:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    // A scenario file with --steps baked in: the array tasks run it as is.
    let text = std::fs::read_to_string(scenario())
        .unwrap()
        .replace("steps = 35136", "steps = 96");
    let sc = root().join(format!("scenarios/.slurm-test-{}.toml", std::process::id()));
    std::fs::write(&sc, text).unwrap();
    let (one, all) = (dir.join("one.h5"), dir.join("all.h5"));
    run(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        one.to_str().unwrap(),
        "--quiet",
    ]);
    let out = gridsim_env(&[
        "slurm",
        sc.to_str().unwrap(),
        "--out",
        all.to_str().unwrap(),
        "--shards",
        "3",
        "--submit",
    ]);
    let ids: Vec<&str> = out
        .split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty())
        .collect();
    assert!(ids.len() >= 2, "{out}");
    wait(&[ids[0], ids[1]]);
    assert_same(&one, &all);
    // A lost shard re-run alone (sbatch --array=1) completes the set again.
    std::fs::remove_file(dir.join("all.shard-1-of-3.h5")).unwrap();
    std::fs::remove_file(&all).unwrap();
    let sbatch = |args: &[&str]| {
        let o = Command::new("sbatch")
            .arg("--parsable")
            .args(args)
            .env("SLURM_CONF", &conf)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let again = sbatch(&["--array=1", dir.join("all.array.sbatch").to_str().unwrap()]);
    let dep = format!("--dependency=afterok:{again}");
    let merge = sbatch(&[&dep, dir.join("all.merge.sbatch").to_str().unwrap()]);
    wait(&[&again, &merge]);
    assert_same(&one, &all);
    // A region's archetype runs as a two-task array, joined afterwards,
    // equal the one-process sizing.
    let region = dir.join("region.toml");
    let text = std::fs::read_to_string(root().join("regions/cn_county.toml"))
        .unwrap()
        .replace("../scenarios/", &format!("{}/scenarios/", root().display()));
    std::fs::write(&region, text).unwrap();
    let r = region.to_str().unwrap();
    let bin = env!("CARGO_BIN_EXE_gridsim");
    let runs = dir.join("runs.json");
    let cmd = format!(
        "'{bin}' region '{r}' --steps 96 --runs-out '{}'",
        runs.display()
    );
    let array = sbatch(&["--array=0-1", "--output=/dev/null", "--wrap", &cmd]);
    wait(&[&array]);
    let shards: Vec<String> = (0..2)
        .map(|k| {
            dir.join(format!("runs.shard-{k}-of-2.json"))
                .display()
                .to_string()
        })
        .collect();
    let whole = gridsim_env(&["region", r, "--steps", "96", "--format", "csv"]);
    let joined = gridsim_env(&[
        "region", r, "--steps", "96", "--format", "csv", "--runs", &shards[0], &shards[1],
    ]);
    assert_eq!(joined, whole);
    std::fs::remove_file(&sc).ok();
    drop(cluster); // stops the daemons while their pid files exist
    std::fs::remove_dir_all(&dir).ok();
}
