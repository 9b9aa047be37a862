//! Output files, written safely.
//!
//! - An output is written under a temporary name beside it and renamed
//!   when complete; an unfinished one is removed (on error, on drop, and on
//!   Ctrl-C / SIGTERM / SIGHUP once [`remove_temporaries_on_signals`] is
//!   installed).
//! - Without `--force` an existing file is never replaced, not even one
//!   that appears while the command runs (the final step links the new
//!   file in place, which fails if the name exists).
//! - With `--force` only a file of the kind the command writes is replaced
//!   (a gridsim results file, a gridsim report, a network file that is not
//!   the input): never a scenario, network or profile file given by
//!   mistake, never a directory, device, FIFO or socket. The old file is
//!   removed just before the new one is renamed to its name.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a command writes, so that `--force` replaces only that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// An HDF5 results file of `gridsim run`.
    Results,
    /// An HTML report of `gridsim report`.
    Report,
    /// A network file of `gridsim convert`.
    Network,
    /// A JSON run summary of `gridsim run --summary-json`.
    Summary,
    /// A batch script of `gridsim slurm`.
    Script,
    /// An Excel workbook of `gridsim region`.
    Workbook,
    /// A CSV table of `gridsim region`.
    RegionCsv,
    /// A shard's computed jobs of `gridsim region --runs-out`.
    RegionRuns,
}

impl OutputKind {
    /// Whether an existing file with these first bytes is of this kind.
    fn recognises(self, head: &[u8]) -> bool {
        match self {
            OutputKind::Results => head.starts_with(b"\x89HDF\r\n\x1a\n"),
            OutputKind::Report => {
                head.starts_with(b"<!DOCTYPE html>") && contains(head, b"gridsim report")
            }
            OutputKind::Network => true,
            OutputKind::Summary => contains(head, b"\"gridsim_version\""),
            OutputKind::Script => head.starts_with(b"#!/bin/bash\n#SBATCH --job-name=gridsim"),
            OutputKind::Workbook => head.starts_with(b"PK\x03\x04"),
            OutputKind::RegionCsv => head.starts_with(b"programme,metric,label,unit,year,"),
            OutputKind::RegionRuns => head.starts_with(b"{\"fingerprint\":"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            OutputKind::Results => "a gridsim results file (HDF5)",
            OutputKind::Report => "a gridsim report",
            OutputKind::Network => "a network file",
            OutputKind::Summary => "a gridsim run summary (JSON)",
            OutputKind::Script => "a gridsim batch script",
            OutputKind::Workbook => "an Excel workbook",
            OutputKind::RegionCsv => "a gridsim region table (CSV)",
            OutputKind::RegionRuns => "a gridsim region runs file (JSON)",
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Checks that `out` may be written by a command producing `kind` from
/// `inputs`: a file name in an existing directory; if something is there,
/// only with `force`, only a regular file, only one of `kind`, never one of
/// the inputs. Call it before any work, so that a long run does not fail
/// at its end.
pub fn check(out: &Path, force: bool, kind: OutputKind, inputs: &[&Path]) -> Result<()> {
    let name = out.display();
    if out.file_name().is_none() {
        return Err(Error::Usage(format!("{name}: not a file path")));
    }
    let dir = parent(out);
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: directory does not exist",
            dir.display()
        )));
    }
    if let Some(input) = inputs.iter().find(|i| same_file(out, i) || *i == &out) {
        return Err(Error::Usage(format!(
            "{name}: the output would overwrite the input {}",
            input.display()
        )));
    }
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(());
    };
    if !force {
        return Err(Error::Usage(format!(
            "{name}: output file exists; use --force to overwrite it"
        )));
    }
    let real = std::fs::metadata(out);
    if meta.file_type().is_symlink() && real.is_err() {
        return Err(Error::Usage(format!(
            "{name}: is a symbolic link to nothing; remove it first"
        )));
    }
    if !real.is_ok_and(|m| m.is_file()) {
        return Err(Error::Usage(format!(
            "{name}: is not a regular file (a directory, device, FIFO or socket); --force replaces only files"
        )));
    }
    let mut head = vec![0u8; 512];
    let n = std::fs::File::open(out)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|e| Error::io(out, e))?;
    if n > 0 && !kind.recognises(&head[..n]) {
        return Err(Error::Usage(format!(
            "{name}: is not {}; --force replaces only that (remove the file yourself if it is meant to go)",
            kind.describe()
        )));
    }
    Ok(())
}

fn parent(out: &Path) -> &Path {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Temporary files to remove when a signal ends the process.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every registered temporary file and exits with 130 on Ctrl-C,
/// SIGTERM or SIGHUP (the handler runs on its own thread). Installed once
/// by the command-line program; a second call is a no-op.
pub fn remove_temporaries_on_signals() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(list) = TEMPORARIES.lock() {
            for p in list.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
        eprintln!("interrupted: temporary files removed, no output written");
        std::process::exit(130);
    });
}

/// An output being written under a temporary name beside `out`.
#[derive(Debug)]
pub struct TempOutput {
    tmp: PathBuf,
    out: PathBuf,
    force: bool,
    done: bool,
}

impl TempOutput {
    /// A temporary name for `out` (registered for removal on signals).
    pub fn new(out: &Path, force: bool) -> Result<TempOutput> {
        let fname = out
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{}: not a file path", out.display())))?
            .to_string_lossy();
        let tmp = parent(out).join(format!(".{fname}.tmp-{}", std::process::id()));
        if let Ok(mut list) = TEMPORARIES.lock() {
            list.push(tmp.clone());
        }
        Ok(TempOutput {
            tmp,
            out: out.to_path_buf(),
            force,
            done: false,
        })
    }

    /// The temporary path to write.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the finished temporary file to the output name: replacing an
    /// existing file only with `force`, else failing if one appeared.
    pub fn commit(mut self) -> Result<()> {
        let r = if self.force {
            // The old file goes first: renaming over it makes ext4 write the
            // new file back before the rename returns (its replace-via-rename
            // heuristic; 1 s for a 1.4 GB results file), which renaming to a
            // free name does not. The name is free only for that moment.
            if std::fs::symlink_metadata(&self.out).is_ok_and(|m| m.is_file()) {
                let _ = std::fs::remove_file(&self.out);
            }
            std::fs::rename(&self.tmp, &self.out)
        } else {
            std::fs::hard_link(&self.tmp, &self.out).and_then(|_| std::fs::remove_file(&self.tmp))
        };
        match r {
            Ok(()) => {
                self.done = true;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::Usage(format!(
                "{}: a file of this name appeared while gridsim ran; not replaced (use --force)",
                self.out.display()
            ))),
            Err(e) => Err(Error::io(&self.out, e)),
        }
    }

    /// Writes `bytes` to the temporary file and commits it.
    pub fn write_all(self, bytes: &[u8]) -> Result<()> {
        std::fs::write(&self.tmp, bytes).map_err(|e| Error::io(&self.tmp, e))?;
        self.commit()
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
        if let Ok(mut list) = TEMPORARIES.lock() {
            list.retain(|p| p != &self.tmp);
        }
    }
}
