//! Inputs named by scenario files: only regular files, bounded sizes (also
//! after decompression), content quoted only as short sanitized excerpts,
//! and `--confine DIR` for running files written by others.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gridsim-in-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn p(x: &Path) -> &str {
    x.to_str().unwrap()
}

/// `gridsim [pre...] run SCENARIO --out OUT` on a scenario naming `profiles`.
fn run_with_profiles(dir: &Path, profiles: &str, pre: &[&str]) -> (Option<i32>, String) {
    let sc = dir.join("s.toml");
    let net = root().join("networks/cn_rural_10kv.toml");
    std::fs::write(
        &sc,
        format!(
            "network = {:?}\nprofiles = {profiles:?}\n[period]\nstart = \"2025-01-01T00:00:00\"\nsteps = 2\n",
            p(&net)
        ),
    )
    .unwrap();
    let out = dir.join("x.h5");
    let mut args: Vec<&str> = pre.to_vec();
    args.extend(["run", p(&sc), "--out", p(&out)]);
    let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.exists(), o.status.success());
    let _ = std::fs::remove_file(&out);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A file that is not a profile table is never echoed: at most a short,
/// escaped excerpt of it appears in the message.
#[test]
fn a_secret_file_named_as_profiles_is_not_echoed() {
    let dir = tmpdir("secret");
    let secret = dir.join("shadow");
    let hash = "$6$SECRETSALT$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::fs::write(&secret, format!("root:{hash}:19000:0:99999:7:::\nx:y\n")).unwrap();
    let (code, e) = run_with_profiles(&dir, p(&secret), &[]);
    assert_eq!(code, Some(1), "{e}");
    assert!(!e.contains(hash), "the file's content was echoed: {e}");
    assert!(!e.contains("abcdefghijklmnopqrstuvwxyz"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Devices, FIFOs and directories are refused without reading them.
#[test]
fn special_files_are_refused_without_reading() {
    let dir = tmpdir("special");
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(p(&fifo)).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for f in ["/dev/zero", p(&fifo), p(&dir)] {
        let (code, e) = run_with_profiles(&dir, f, &[]);
        assert_eq!(code, Some(1), "{f}: {e}");
        assert!(e.contains("not a regular file"), "{f}: {e}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A small gzip file that decompresses to more than 1 GiB is refused once
/// the limit is passed, not decompressed to the end.
#[test]
fn a_gzip_bomb_is_refused() {
    let dir = tmpdir("bomb");
    let bomb = dir.join("bomb.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&bomb).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(b"time,x\n").unwrap();
    let block = vec![b'0'; 1 << 20];
    for _ in 0..1100 {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 20 << 20);
    let (code, e) = run_with_profiles(&dir, p(&bomb), &[]);
    assert_eq!(code, Some(1), "{e}");
    assert!(e.contains("decompresses to more than"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// With `--confine DIR`, files outside DIR (absolute paths, `..`, links
/// leading out) are refused; the shipped study runs confined to the
/// repository.
#[test]
fn confine_keeps_inputs_inside_a_folder() {
    let dir = tmpdir("confine");
    let outside = tmpdir("confine-outside");
    let csv = outside.join("p.csv");
    std::fs::write(&csv, "time,x\n2025-01-01T00:00,1\n2025-01-01T00:15,1\n").unwrap();
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&csv, &link).unwrap();
    let up = format!(
        "../{}/p.csv",
        outside.file_name().unwrap().to_str().unwrap()
    );
    for profiles in [p(&csv), "link.csv", up.as_str()] {
        let (code, e) = run_with_profiles(&dir, profiles, &["--confine", p(&dir)]);
        assert_eq!(code, Some(1), "{profiles}: {e}");
        assert!(
            e.contains("outside the folder inputs are confined to"),
            "{profiles}: {e}"
        );
    }
    // Unconfined, the same file is read.
    let (code, e) = run_with_profiles(&dir, p(&csv), &[]);
    assert_eq!(code, Some(0), "{e}");
    let o = Command::new(env!("CARGO_BIN_EXE_gridsim"))
        .current_dir(root())
        .args([
            "--confine",
            ".",
            "run",
            "scenarios/cn_county_feeder.toml",
            "--steps",
            "2",
        ])
        .args(["--out", p(&dir.join("ok.h5")), "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&outside).ok();
}
