//! Every hostile input of the reliability review, run as a user would
//! (`gridsim` in a child process) under `ulimit -v 4000000` (4 GB of
//! address space): each ends within 30 s with a clear error (exit 1, a
//! message on stderr) and no output file — no crash, abort, hang or
//! runaway allocation.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs gridsim with `args` in `dir` under a 4 GB address-space limit;
/// returns exit code and stderr, failing the test after 30 s.
fn limited(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gridsim"));
    cmd.args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 4_000_000 * 1024,
                rlim_max: 4_000_000 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status.code(), err);
        }
        if t0.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("gridsim {args:?} ran longer than 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn scenario(body: &str) -> String {
    let net = root().join("networks/cn_rural_10kv.toml");
    format!("network = {:?}\n{body}", net.to_str().unwrap())
}

const PERIOD: &str = "[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 4\n";

#[test]
fn every_hostile_input_ends_with_a_clear_error_within_limits() {
    let dir = std::env::temp_dir().join(format!("gridsim-hostile-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let case = std::fs::read_to_string(root().join("networks/case33bw.m")).unwrap();
    let native = std::fs::read_to_string(root().join("networks/cn_rural_10kv.toml")).unwrap();
    let n = 5000;
    let mut files: Vec<(String, String)> = vec![
        (
            "nest-paren.m".into(),
            format!("{case}\nx = {}1{};", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "nest-bracket.m".into(),
            format!("{case}\nx = {}1{};", "[".repeat(n), "]".repeat(n)),
        ),
        (
            "nest-sqrt.m".into(),
            format!("{case}\nx = {}1{};", "sqrt(".repeat(n), ")".repeat(n)),
        ),
        (
            "minus.m".into(),
            format!("{case}\nx = {}1;", "-".repeat(50_000)),
        ),
        (
            "huge-index.m".into(),
            format!("{case}\nmpc.bus(999999999, 1) = 1;"),
        ),
        (
            "big-index.m".into(),
            format!("{case}\nmpc.bus(3e7, 1) = 1;"),
        ),
        (
            "tiny-step.m".into(),
            format!("{case}\nmpc.bus(1:1e-300:2, 1) = 1;"),
        ),
        (
            "tiny-tap.m".into(),
            case.replacen(
                "0\t0\t0\t0\t1\t-360\t360",
                "0\t0\t1e-300\t0\t1\t-360\t360",
                1,
            ),
        ),
        (
            "tiny-base.m".into(),
            case.replace("mpc.baseMVA = 10;", "mpc.baseMVA = 1e-308;")
                .replace("mpc.baseMVA = 100;", "mpc.baseMVA = 1e-308;"),
        ),
        (
            "base.toml".into(),
            native.replace("base_mva = 10.0", "base_mva = 1e-308"),
        ),
        (
            "angle.toml".into(),
            native.replace("vm_pu = 1.02", "vm_pu = 1.02\nva_degree = nan"),
        ),
    ];
    let scenarios = [
        (
            "[period]\nstart = \"2025-01-01T00:00:00\"\nstep_minutes = 1.5e17\nsteps = 10\n",
            "step-huge",
        ),
        (
            "[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 9223372036854775807\n",
            "steps-max",
        ),
        (
            "[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 1000000000\n",
            "steps-1e9",
        ),
        (
            "[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 100000000\n",
            "steps-1e8",
        ),
        ("[site]\nlatitude = nan\n", "site-nan"),
        ("[site]\nlongitude = inf\n", "site-inf"),
        (
            "[[pv]]\nname = \"p\"\nbus = \"M3\"\nkwp = -1\n",
            "pv-negative",
        ),
        ("[[pv]]\nname = \"p\"\nbus = \"M3\"\nkwp = nan\n", "pv-nan"),
        (
            "[[pv]]\nname = \"p\"\nbus = \"M3\"\nkwp = 10\ninverter_mva = nan\n",
            "inverter-nan",
        ),
        (
            "[[pv]]\nname = \"p\"\nbus = \"M3\"\nkwp = 10\ntilt_degree = nan\n",
            "tilt-nan",
        ),
        (
            "[[load]]\nname = \"l\"\nbus = \"M3\"\nclass = \"residential\"\nannual_mwh = inf\n",
            "load-inf",
        ),
        ("[emissions]\ngrid_t_per_mwh = nan\n", "emission-nan"),
        ("profiles = \"/dev/zero\"\n", "dev-zero"),
        ("profiles = \"/etc/passwd\"\n", "passwd"),
    ];
    for (body, tag) in scenarios {
        // `profiles` must come before the tables; period last unless given.
        let text = if body.starts_with("[period]") {
            scenario(body)
        } else if body.starts_with("profiles") {
            scenario(&format!("{body}{PERIOD}"))
        } else {
            scenario(&format!("{PERIOD}{body}"))
        };
        files.push((format!("{tag}.toml"), text));
    }
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
        let is_scenario = name.ends_with(".toml") && text.starts_with("network = ");
        let out = dir.join("out.h5");
        let (code, err) = if is_scenario {
            limited(&dir, &["run", name, "--out", "out.h5", "--quiet"])
        } else {
            limited(&dir, &["pf", name])
        };
        assert_eq!(code, Some(1), "{name}: exit {code:?}, stderr:\n{err}");
        assert!(
            err.starts_with("error:") && err.len() < 20_000,
            "{name}: {err}"
        );
        println!(
            "{name}: {}",
            err.lines().take(2).collect::<Vec<_>>().join(" / ")
        );
        assert!(!out.exists(), "{name} left an output file");
        assert!(
            !std::fs::read_dir(&dir).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp-")),
            "{name} left a temporary file"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
