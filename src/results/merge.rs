//! `gridsim merge`: the shard files of one run (`gridsim run --shard K/N`)
//! joined into the file a one-machine run writes.
//!
//! Checked first: every file a shard of the same run (same fingerprint:
//! scenario file, options, gridsim version, scenario list, shard count),
//! every shard present exactly once. Then each scenario group is copied
//! whole (`H5Ocopy`: datasets, chunks and attributes byte for byte) in the
//! run's scenario order, its dimension scales re-attached in the new file
//! (references do not survive a copy), and the KPIs measured against the
//! study's reference scenario recomputed from the totals (a shard may not
//! hold the reference).

use super::dimscale;
use super::output::{check, OutputKind, TempOutput};
use crate::error::{Error, Result};
use crate::timeseries::kpi::ReferenceTotals;
use hdf5::types::VarLenUnicode;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};

fn h5(path: &Path, e: hdf5::Error) -> Error {
    Error::Usage(format!("{}: HDF5 error: {e}", path.display()))
}

/// What a shard file says about itself.
struct ShardInfo {
    path: PathBuf,
    file: hdf5::File,
    index: i64,
    count: i64,
    fingerprint: String,
    version: String,
    all: Vec<String>,
    mine: Vec<String>,
}

fn text_attr(f: &hdf5::File, name: &str) -> Option<String> {
    f.attr(name)
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .ok()
        .map(|s| s.as_str().to_string())
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn read_shard(path: &Path) -> Result<ShardInfo> {
    let file = super::hdf5::open_results(path)?;
    let num = |n: &str| file.attr(n).and_then(|a| a.read_scalar::<i64>()).ok();
    let (Some(index), Some(count)) = (num("shard_index"), num("shard_count")) else {
        return Err(Error::Usage(format!(
            "{}: not a shard file (written without --shard)",
            path.display()
        )));
    };
    Ok(ShardInfo {
        index,
        count,
        fingerprint: text_attr(&file, "shard_fingerprint").unwrap_or_default(),
        version: text_attr(&file, "gridsim_version").unwrap_or_default(),
        all: lines(&text_attr(&file, "shard_all_scenarios").unwrap_or_default()),
        mine: lines(&text_attr(&file, "shard_scenarios").unwrap_or_default()),
        path: path.to_path_buf(),
        file,
    })
}

/// Every shard of one run, once: else an error naming what is missing,
/// duplicated or different.
fn check_set(shards: &[ShardInfo]) -> Result<()> {
    let first = &shards[0];
    let mut problems = Vec::new();
    for s in &shards[1..] {
        if s.count != first.count
            || s.fingerprint != first.fingerprint
            || s.version != first.version
        {
            problems.push(format!(
                "{} is from another run than {} (shards {} vs {}, gridsim {} vs {}, or different inputs or options)",
                s.path.display(),
                first.path.display(),
                s.count,
                first.count,
                s.version,
                first.version
            ));
        }
    }
    let mut seen: BTreeMap<i64, &Path> = BTreeMap::new();
    for s in shards {
        if let Some(p) = seen.insert(s.index, &s.path) {
            problems.push(format!(
                "shard {} twice: {} and {}",
                s.index,
                p.display(),
                s.path.display()
            ));
        }
    }
    let missing: Vec<i64> = (0..first.count).filter(|k| !seen.contains_key(k)).collect();
    if !missing.is_empty() {
        let have: Vec<&String> = shards.iter().flat_map(|s| &s.mine).collect();
        let lost: Vec<&str> = first
            .all
            .iter()
            .filter(|n| !have.contains(n))
            .map(String::as_str)
            .collect();
        problems.push(format!(
            "missing shard(s) {} of {} (scenarios not in any file given: {}); re-run them, e.g. gridsim run ... --shard {}/{}",
            missing.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", "),
            first.count,
            if lost.is_empty() { "none".to_string() } else { lost.join(", ") },
            missing[0],
            first.count
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid {
            source_name: "gridsim merge".into(),
            problems,
        })
    }
}

/// Copies the root attributes of `src` but the shard's own.
fn copy_root_attrs(src: &hdf5::File, dst: &hdf5::File, path: &Path) -> Result<()> {
    for name in src.attr_names().map_err(|e| h5(path, e))? {
        if name.starts_with("shard_") {
            continue;
        }
        let a = src.attr(&name).map_err(|e| h5(path, e))?;
        if let Ok(v) = a.read_scalar::<i64>() {
            dst.new_attr::<i64>()
                .create(name.as_str())
                .and_then(|x| x.write_scalar(&v))
        } else if let Ok(v) = a.read_scalar::<f64>() {
            dst.new_attr::<f64>()
                .create(name.as_str())
                .and_then(|x| x.write_scalar(&v))
        } else {
            let v: VarLenUnicode = a.read_scalar().map_err(|e| h5(path, e))?;
            dst.new_attr::<VarLenUnicode>()
                .create(name.as_str())
                .and_then(|x| x.write_scalar(&v))
        }
        .map_err(|e| h5(path, e))?;
    }
    Ok(())
}

/// `H5Ocopy` of `/scenarios/<name>` from `src` to `dst`.
fn copy_group(src: &hdf5::File, dst: &hdf5::Group, name: &str, path: &Path) -> Result<()> {
    let from = CString::new(format!("scenarios/{name}"))
        .map_err(|_| Error::Usage(format!("bad scenario name {name:?}")))?;
    let to = CString::new(name).map_err(|_| Error::Usage(format!("bad scenario name {name:?}")))?;
    let p = hdf5_sys::h5p::H5P_DEFAULT;
    // SAFETY: both ids are open (file and group); the names are
    // NUL-terminated strings that outlive the call.
    let status =
        unsafe { hdf5_sys::h5o::H5Ocopy(src.id(), from.as_ptr(), dst.id(), to.as_ptr(), p, p) };
    if status < 0 {
        return Err(Error::Usage(format!(
            "{}: cannot copy scenario '{name}'",
            path.display()
        )));
    }
    Ok(())
}

/// Re-attaches the dimension scales of a copied element or grid group: its
/// `time` and `id` datasets are scales; a 2-D series is (time, id), a 1-D
/// dataset in `grid` is over time, elsewhere over id (a description).
fn reattach_scales(g: &hdf5::Group, path: &Path) -> Result<()> {
    let names = g.member_names().map_err(|e| h5(path, e))?;
    let open = |n: &str| g.dataset(n).ok();
    let (time, id) = (open("time"), open("id"));
    let scale_attrs = ["DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"];
    for n in &names {
        if let Some(ds) = open(n) {
            for a in scale_attrs {
                if ds.attr(a).is_ok() {
                    ds.delete_attr(a).map_err(|e| h5(path, e))?;
                }
            }
        }
    }
    for s in [&time, &id].into_iter().flatten() {
        dimscale::set_scale(s, path)?;
    }
    let is_grid = g.name().ends_with("/grid");
    for n in names.iter().filter(|n| *n != "time" && *n != "id") {
        let Some(ds) = open(n) else { continue };
        match (ds.ndim(), &time, &id) {
            (2, Some(t), Some(i)) => {
                dimscale::attach(&ds, t, 0, path)?;
                dimscale::attach(&ds, i, 1, path)?;
            }
            (1, Some(t), _) if is_grid => dimscale::attach(&ds, t, 0, path)?,
            (1, _, Some(i)) if !is_grid => dimscale::attach(&ds, i, 0, path)?,
            _ => {}
        }
    }
    Ok(())
}

/// The KPIs against the reference, recomputed from each scenario's totals.
fn reference_kpis(dst: &hdf5::File, names: &[String], path: &Path) -> Result<()> {
    let kpi = |n: &str| {
        dst.group(&format!("scenarios/{n}/kpi"))
            .map_err(|e| h5(path, e))
    };
    let get = |g: &hdf5::Group, k: &str| g.attr(k).and_then(|a| a.read_scalar::<f64>()).ok();
    let totals = |g: &hdf5::Group| -> Option<ReferenceTotals> {
        Some(ReferenceTotals {
            co2_total_t: get(g, "co2_total_t")?,
            co2_grid_marginal_t: get(g, "co2_grid_marginal_t")?,
            co2_chp_t: get(g, "co2_chp_t")?,
            co2_boiler_t: get(g, "co2_boiler_t")?,
            primary_energy_mwh: get(g, "primary_energy_mwh")?,
        })
    };
    let mut reference = None;
    for n in names {
        let g = kpi(n)?;
        let is_ref = g
            .attr("reference_scenario")
            .and_then(|a| a.read_scalar::<i64>())
            .ok()
            == Some(1);
        if is_ref {
            reference = totals(&g);
        }
    }
    let Some(r) = reference else { return Ok(()) };
    for n in names {
        let g = kpi(n)?;
        let Some(own) = totals(&g) else { continue };
        let (co2, co2_marginal, pe) = own.relative_to(&r);
        for (k, v) in [
            ("co2_avoided_t", co2),
            ("co2_avoided_marginal_t", co2_marginal),
            ("primary_energy_saved_mwh", pe),
        ] {
            g.attr(k)
                .and_then(|a| a.write_scalar(&v))
                .map_err(|e| h5(path, e))?;
        }
    }
    Ok(())
}

/// Merges `inputs` into `out`; returns what it prints.
pub fn merge(inputs: &[PathBuf], out: &Path, force: bool) -> Result<String> {
    if inputs.is_empty() {
        return Err(Error::Usage("gridsim merge: give the shard files".into()));
    }
    let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    check(out, force, OutputKind::Results, &refs)?;
    let mut shards = inputs
        .iter()
        .map(|p| read_shard(p))
        .collect::<Result<Vec<_>>>()?;
    check_set(&shards)?;
    shards.sort_by_key(|s| s.index);
    let temp = TempOutput::new(out, force)?;
    let tmp = temp.path().to_path_buf();
    {
        let dst = hdf5::File::create(&tmp).map_err(|e| h5(&tmp, e))?;
        copy_root_attrs(&shards[0].file, &dst, &tmp)?;
        let root = dst.create_group("scenarios").map_err(|e| h5(&tmp, e))?;
        let all = shards[0].all.clone();
        for name in &all {
            let s = shards
                .iter()
                .find(|s| s.mine.contains(name))
                .ok_or_else(|| Error::Usage(format!("scenario '{name}' is in no shard file")))?;
            copy_group(&s.file, &root, name, &s.path)?;
            let g = root.group(name).map_err(|e| h5(&tmp, e))?;
            for sub in g.groups().map_err(|e| h5(&tmp, e))? {
                reattach_scales(&sub, &tmp)?;
            }
        }
        reference_kpis(&dst, &all, &tmp)?;
        let names: Vec<VarLenUnicode> = all.iter().map(|n| n.parse().unwrap_or_default()).collect();
        let ds = dst
            .new_dataset_builder()
            .with_data(&names)
            .create("scenario_names")
            .map_err(|e| h5(&tmp, e))?;
        dimscale::set_scale(&ds, &tmp)?;
        dst.close().map_err(|e| h5(&tmp, e))?;
    }
    temp.commit()?;
    Ok(format!(
        "merged {} shard file(s), {} scenario(s), into {}",
        shards.len(),
        shards[0].all.len(),
        out.display()
    ))
}
