//! Shards: one run's scenarios split over N independent processes (a Slurm
//! job array, a Kubernetes indexed job), each writing its own file, merged
//! afterwards by `gridsim merge`.
//!
//! The split is deterministic: scenarios sorted by estimated cost (steps ×
//! buses, largest first; ties by file order), each given to the shard with
//! the least work so far (lowest index on ties) — the longest-processing-
//! time rule, within 4/3 of the best possible balance.

use crate::error::{Error, Result};
use crate::timeseries::runner::Scenario;
use std::path::{Path, PathBuf};

/// Shard `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 0 to count − 1.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

/// Most shards of one run.
pub const MAX_SHARDS: usize = 10_000;

impl Shard {
    /// `K/N` (K from 0 to N − 1).
    pub fn parse(s: &str) -> std::result::Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard '{s}': expected K/N, e.g. 0/8"))?;
        let k: usize = k
            .trim()
            .parse()
            .map_err(|_| format!("--shard '{s}': K is not a number"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard '{s}': N is not a number"))?;
        Shard::new(k, n).map_err(|e| format!("--shard '{s}': {e}"))
    }

    fn new(index: usize, count: usize) -> std::result::Result<Shard, String> {
        if !(1..=MAX_SHARDS).contains(&count) || index >= count {
            return Err(format!(
                "need 0 ≤ K < N ≤ {MAX_SHARDS}, found K = {index}, N = {count}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Slurm array task (`SLURM_ARRAY_TASK_ID` less
    /// `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`), or of a
    /// Kubernetes indexed job (`JOB_COMPLETION_INDEX` of `GRIDSIM_SHARDS`);
    /// None outside both.
    pub fn from_env() -> Result<Option<Shard>> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let num = |k: &str, v: String| -> Result<usize> {
            v.trim()
                .parse()
                .map_err(|_| Error::Usage(format!("{k}='{v}' is not a number")))
        };
        let (index, count) = match (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
            (Some(id), Some(count)) => {
                let min = match var("SLURM_ARRAY_TASK_MIN") {
                    Some(m) => num("SLURM_ARRAY_TASK_MIN", m)?,
                    None => 0,
                };
                let id = num("SLURM_ARRAY_TASK_ID", id)?;
                (
                    id.checked_sub(min).unwrap_or(usize::MAX),
                    num("SLURM_ARRAY_TASK_COUNT", count)?,
                )
            }
            _ => match (var("JOB_COMPLETION_INDEX"), var("GRIDSIM_SHARDS")) {
                (Some(i), Some(n)) => (num("JOB_COMPLETION_INDEX", i)?, num("GRIDSIM_SHARDS", n)?),
                _ => return Ok(None),
            },
        };
        Shard::new(index, count)
            .map(Some)
            .map_err(|e| Error::Usage(format!("shard from the environment: {e}")))
    }

    /// The file shard K of N writes for `out`: `NAME.shard-K-of-N.h5`
    /// beside it (indices zero-padded to N's width).
    pub fn path(&self, out: &Path) -> PathBuf {
        let w = (self.count - 1).to_string().len();
        let stem = out
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let name = format!(
            "{stem}.shard-{:0w$}-of-{:0w$}.h5",
            self.index,
            self.count,
            w = w
        );
        out.with_file_name(name)
    }
}

/// Estimated cost of a scenario: steps × buses.
pub fn cost(sc: &Scenario) -> f64 {
    sc.n_steps as f64 * sc.network.buses.len() as f64
}

/// The shard of each of `costs` among `n` (longest processing time first).
pub fn assign(costs: &[f64], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]).then(a.cmp(&b)));
    let mut load = vec![0.0f64; n];
    let mut shard = vec![0; costs.len()];
    for i in order {
        let k = (0..n)
            .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        load[k] += costs[i];
        shard[i] = k;
    }
    shard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_paths() {
        assert_eq!(Shard::parse("3/8").unwrap(), Shard { index: 3, count: 8 });
        assert!(Shard::parse("8/8").is_err() && Shard::parse("x").is_err());
        let s = Shard {
            index: 3,
            count: 12,
        };
        assert_eq!(
            s.path(Path::new("out/all.h5")),
            PathBuf::from("out/all.shard-03-of-12.h5")
        );
    }

    #[test]
    fn six_unequal_scenarios_balance_within_20_percent() {
        // A study of 6 scenarios of unequal size on 3 shards.
        let costs = [9.0, 7.0, 6.0, 5.0, 4.0, 3.0];
        let a = assign(&costs, 3);
        let mut load = [0.0; 3];
        for (i, &k) in a.iter().enumerate() {
            load[k] += costs[i];
        }
        let (lo, hi) = (
            load.iter().cloned().fold(f64::MAX, f64::min),
            load.iter().cloned().fold(0.0, f64::max),
        );
        assert!(hi <= 1.2 * lo, "{load:?}");
        assert_eq!(a, assign(&costs, 3), "deterministic");
    }
}
