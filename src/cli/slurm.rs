//! `gridsim slurm`: the batch scripts of a sharded run on a Slurm cluster —
//! a job array (one `gridsim run` per shard, which takes its shard from
//! `SLURM_ARRAY_TASK_ID`) and a merge job — and, with `--submit`, their
//! submission, the merge depending on every array task (`afterok`).

use super::shard::Shard;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Arguments of `gridsim slurm`.
#[derive(Debug, Clone)]
pub struct SlurmArgs {
    /// Scenario file.
    pub scenario: PathBuf,
    /// The merged results file.
    pub out: PathBuf,
    /// Number of shards (array tasks).
    pub shards: usize,
    /// CPUs (threads) per shard.
    pub cpus_per_task: usize,
    /// Slurm partition (default: the cluster's).
    pub partition: Option<String>,
    /// Time limit per task, e.g. "01:00:00".
    pub time: Option<String>,
    /// Submit with sbatch.
    pub submit: bool,
    /// Let the jobs overwrite existing shard and merged files.
    pub force: bool,
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::Usage(format!("{}: {e}", p.display())))
}

/// Single-quotes `s` for a shell.
fn sh(s: &Path) -> String {
    format!("'{}'", s.display().to_string().replace('\'', "'\\''"))
}

fn header(name: &str, log: &Path, a: &SlurmArgs) -> String {
    let mut o = format!(
        "#!/bin/bash\n#SBATCH --job-name={name}\n#SBATCH --output={}\n",
        log.display()
    );
    if let Some(p) = &a.partition {
        o += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(t) = &a.time {
        o += &format!("#SBATCH --time={t}\n");
    }
    o
}

/// Writes the array and merge scripts beside the output; submits them when
/// asked. Returns what it prints.
pub fn run(a: &SlurmArgs) -> Result<String> {
    if !(1..=super::shard::MAX_SHARDS).contains(&a.shards) {
        return Err(Error::Usage(format!(
            "--shards must be 1 to {}, found {}",
            super::shard::MAX_SHARDS,
            a.shards
        )));
    }
    if !(1..=1024).contains(&a.cpus_per_task) {
        return Err(Error::Usage(format!(
            "--cpus-per-task must be 1 to 1024, found {}",
            a.cpus_per_task
        )));
    }
    let exe =
        std::env::current_exe().map_err(|e| Error::Usage(format!("gridsim's own path: {e}")))?;
    let scenario = absolute(&a.scenario)?;
    if !scenario.is_file() {
        return Err(Error::Usage(format!(
            "{}: no such scenario file",
            a.scenario.display()
        )));
    }
    let out = absolute(&a.out)?;
    let stem = out
        .file_stem()
        .map_or_else(|| "gridsim".into(), |s| s.to_string_lossy().into_owned());
    let dir = out.parent().unwrap_or(Path::new("/")).to_path_buf();
    let force = if a.force { " --force" } else { "" };
    let mut array = header(
        &format!("gridsim-{stem}"),
        &dir.join(format!("{stem}.shard-%a.log")),
        a,
    );
    array += &format!(
        "#SBATCH --array=0-{}\n#SBATCH --cpus-per-task={}\nset -euo pipefail\n\
         # Task K runs shard K of {}; re-run one alone with sbatch --array=K this-file,\n\
         # then the merge job again. (The count is written here, not taken from\n\
         # SLURM_ARRAY_TASK_COUNT, which is 1 in a task submitted alone.)\n\
         exec {} run {} --out {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" \\\n  --threads \"${{SLURM_CPUS_PER_TASK:-1}}\" --quiet{force}\n",
        a.shards - 1,
        a.cpus_per_task,
        a.shards,
        sh(&exe),
        sh(&scenario),
        sh(&out),
        a.shards
    );
    let shard_files: Vec<String> = (0..a.shards)
        .map(|k| {
            sh(&Shard {
                index: k,
                count: a.shards,
            }
            .path(&out))
        })
        .collect();
    let mut merge = header(
        &format!("gridsim-{stem}-merge"),
        &dir.join(format!("{stem}.merge.log")),
        a,
    );
    merge += &format!(
        "set -euo pipefail\nexec {} merge {} --out {}{force}\n",
        sh(&exe),
        shard_files.join(" "),
        sh(&out)
    );
    let array_path = dir.join(format!("{stem}.array.sbatch"));
    let merge_path = dir.join(format!("{stem}.merge.sbatch"));
    use crate::results::output::{check, OutputKind, TempOutput};
    for (p, text) in [(&array_path, &array), (&merge_path, &merge)] {
        check(p, a.force, OutputKind::Script, &[&scenario])?;
        TempOutput::new(p, a.force)?.write_all(text.as_bytes())?;
    }
    let mut o = format!(
        "wrote {} and {}\n",
        array_path.display(),
        merge_path.display()
    );
    if a.submit {
        let job = sbatch(&[array_path.to_string_lossy().as_ref()])?;
        let dep = format!("--dependency=afterok:{job}");
        let merge_job = sbatch(&[&dep, merge_path.to_string_lossy().as_ref()])?;
        o += &format!(
            "submitted array job {job} ({} tasks) and merge job {merge_job} (after all of them)\n",
            a.shards
        );
    }
    Ok(o)
}

/// `sbatch --parsable ARGS`; the job id.
fn sbatch(args: &[&str]) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .output()
        .map_err(|e| {
            Error::Usage(format!(
                "cannot run sbatch: {e} (is Slurm installed and SLURM_CONF set?)"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Usage(format!(
            "sbatch failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.trim().split(';').next().unwrap_or("").to_string())
}
