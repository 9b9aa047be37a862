//! Outputs never destroy inputs or non-files, `--force` replaces only what
//! the command itself writes, nothing is replaced without `--force` even if
//! it appears during a run, and a signal leaves no temporary file behind.

mod common;

use common::{gridsim, root, tmpdir};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fails_with(args: &[&str], expect: &str) {
    let o = gridsim(args);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
    assert!(e.contains(expect), "{args:?}: '{expect}' not in {e}");
}

/// A small study in `dir` (a copy of a shipped network and a 4-step scenario).
fn small_study(dir: &Path) -> PathBuf {
    let net = dir.join("net.toml");
    std::fs::copy(root().join("networks/cn_rural_10kv.toml"), &net).unwrap();
    let sc = dir.join("study.toml");
    std::fs::write(
        &sc,
        "network = \"net.toml\"\n[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 4\n",
    )
    .unwrap();
    sc
}

fn p(x: &Path) -> &str {
    x.to_str().unwrap()
}

/// `run`, `report` and `convert` refuse to write over one of their inputs,
/// or with `--force` over anything that is not what they write.
#[test]
fn force_never_destroys_an_input() {
    let dir = tmpdir("inputs");
    let sc = small_study(&dir);
    let net = dir.join("net.toml");
    let before = std::fs::read(&sc).unwrap();
    fails_with(
        &["run", p(&sc), "--out", p(&sc), "--force"],
        "is not a gridsim results file",
    );
    fails_with(
        &["run", p(&sc), "--out", p(&net), "--force"],
        "is not a gridsim results file",
    );
    assert_eq!(std::fs::read(&sc).unwrap(), before);
    let h5 = dir.join("r.h5");
    let o = gridsim(&["run", p(&sc), "--out", p(&h5), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A results file may be replaced by a new run with --force ...
    let o = gridsim(&["run", p(&sc), "--out", p(&h5), "--quiet", "--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // ... but never by a report, and a report never replaces a scenario.
    fails_with(
        &["report", p(&h5), "--out", p(&h5), "--force"],
        "would overwrite the input",
    );
    fails_with(
        &["report", p(&h5), "--out", p(&sc), "--force"],
        "is not a gridsim report",
    );
    fails_with(
        &["convert", p(&net), p(&net), "--force"],
        "would overwrite the input",
    );
    assert_eq!(std::fs::read(&sc).unwrap(), before);
    std::fs::remove_dir_all(&dir).ok();
}

/// Directories, devices and dangling links are never replaced, and that is
/// known before the run, not after it.
#[test]
fn outputs_must_be_regular_files() {
    let dir = tmpdir("special");
    let sc = small_study(&dir);
    fails_with(
        &["run", p(&sc), "--out", "/dev/null", "--force"],
        "is not a regular file",
    );
    fails_with(
        &["run", p(&sc), "--out", p(&dir), "--force"],
        "is not a regular file",
    );
    let link = dir.join("dangling.h5");
    std::os::unix::fs::symlink(dir.join("nowhere"), &link).unwrap();
    fails_with(&["run", p(&sc), "--out", p(&link)], "output file exists");
    fails_with(
        &["run", p(&sc), "--out", p(&link), "--force"],
        "symbolic link to nothing",
    );
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    std::fs::remove_dir_all(&dir).ok();
}

/// Without --force, a file that appears at the output path while a run is
/// going is not replaced: the run ends with an error and the file is kept.
#[test]
fn a_file_appearing_during_a_run_is_not_replaced() {
    let dir = tmpdir("race");
    let out = dir.join("year.h5");
    let sc = root().join("scenarios/urban_chp_oltc.toml");
    let child = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(["run", p(&sc), "--quiet", "--out", p(&out)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Appears once the run has started writing (or, on a very fast
    // machine, before it checked: an error either way).
    let t0 = std::time::Instant::now();
    while !tmp_files(&dir) && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::fs::write(&out, b"another program's file").unwrap();
    let o = child.wait_with_output().unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("appeared while gridsim ran") || e.contains("output file exists"),
        "{e}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"another program's file");
    assert!(!tmp_files(&dir), "a temporary file was left");
    std::fs::remove_dir_all(&dir).ok();
}

fn tmp_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().contains(".tmp-"))
}

/// SIGTERM and SIGINT during a run remove the temporary file (up to
/// hundreds of MB, space reserved) and exit with 130.
#[test]
fn a_signal_leaves_no_temporary_file() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let dir = tmpdir(&format!("signal{signal}"));
        let out = dir.join("year.h5");
        let sc = root().join("scenarios/urban_chp_oltc.toml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_gridsim"))
            .args(["run", p(&sc), "--quiet", "--out", p(&out)])
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !tmp_files(&dir) && t0.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(tmp_files(&dir), "the run never started writing");
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "signal {signal}");
        assert!(!tmp_files(&dir), "signal {signal} left a temporary file");
        assert!(!out.exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// A results file whose datasets disagree with its description (damaged or
/// crafted) is refused by `report` with a message, not a crash or a huge
/// allocation.
#[test]
fn report_refuses_a_damaged_results_file() {
    let dir = tmpdir("damaged");
    let sc = small_study(&dir);
    let h5 = dir.join("r.h5");
    let o = gridsim(&["run", p(&sc), "--out", p(&h5), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    {
        let f = hdf5::File::open_rw(&h5).unwrap();
        let g = f.group("scenarios/base/bus").unwrap();
        g.unlink("type").unwrap();
        g.new_dataset_builder()
            .with_data(&[1u8, 1, 1])
            .create("type")
            .unwrap();
    }
    let html = dir.join("r.html");
    fails_with(
        &["report", p(&h5), "--out", p(&html)],
        "damaged or not written by gridsim",
    );
    assert!(!html.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Ids with control characters are refused (a line break would break a
/// converted file, an escape sequence the terminal), and absurd thread
/// counts and solver flags fail at once.
#[test]
fn ids_and_flags_are_checked() {
    let dir = tmpdir("ids");
    let net = dir.join("n.toml");
    let text = std::fs::read_to_string(root().join("networks/cn_rural_10kv.toml")).unwrap();
    std::fs::write(
        &net,
        text.replace("id = \"M1\"", "id = \"M1\\n\\u001b[2J\""),
    )
    .unwrap();
    fails_with(
        &["pf", p(&net)],
        "is not an id (1 to 200 characters, no control characters)",
    );
    fails_with(
        &["convert", p(&net), p(&dir.join("n.m"))],
        "no control characters",
    );
    assert!(!dir.join("n.m").exists());
    let sc = small_study(&dir);
    let t0 = std::time::Instant::now();
    fails_with(
        &[
            "run",
            p(&sc),
            "--out",
            p(&dir.join("x.h5")),
            "--threads",
            "100000",
        ],
        "--threads must be 1 to 1024",
    );
    assert!(t0.elapsed().as_secs() < 5);
    fails_with(
        &[
            "pf",
            p(&root().join("networks/case33bw.m")),
            "--max-iter",
            "0",
        ],
        "--max-iter must be 1 to 1000",
    );
    fails_with(
        &["pf", p(&root().join("networks/case33bw.m")), "--tol", "nan"],
        "--tol must be between 0 and 1",
    );
    std::fs::remove_dir_all(&dir).ok();
}
