//! The HDF5 file of a hosting-capacity run (`gridsim hosting --out`): one
//! group `hosting` with a row per bus (`id` its dimension scale) and the
//! run's settings as root attributes.

use super::dimscale;
use super::output::{check, OutputKind, TempOutput};
use crate::error::{Error, Result};
use hdf5::types::VarLenUnicode;
use std::path::Path;

/// One bus's result.
pub struct HostingRow {
    /// Bus id.
    pub id: String,
    /// Nominal voltage, kV.
    pub vn_kv: f64,
    /// Hosting capacity, MW.
    pub hosting_mw: f64,
    /// What limits it.
    pub limit: String,
    /// Scenario runs made.
    pub runs: i64,
}

fn h5(path: &Path, e: hdf5::Error) -> Error {
    Error::Usage(format!("{}: HDF5 error: {e}", path.display()))
}

fn text(s: &str) -> VarLenUnicode {
    s.parse().unwrap_or_default()
}

/// Writes `rows` and the settings `attrs` to `out` (temporary name, then
/// renamed; an existing file only with `force`).
pub fn write(out: &Path, force: bool, attrs: &[(&str, String)], rows: &[HostingRow]) -> Result<()> {
    check(out, force, OutputKind::Results, &[])?;
    let temp = TempOutput::new(out, force)?;
    let p = temp.path().to_path_buf();
    {
        let f = hdf5::File::create(&p).map_err(|e| h5(&p, e))?;
        for (k, v) in attrs {
            f.new_attr::<VarLenUnicode>()
                .create(*k)
                .and_then(|a| a.write_scalar(&text(v)))
                .map_err(|e| h5(&p, e))?;
        }
        let g = f.create_group("hosting").map_err(|e| h5(&p, e))?;
        let ids: Vec<VarLenUnicode> = rows.iter().map(|r| text(&r.id)).collect();
        let id = g
            .new_dataset_builder()
            .with_data(&ids)
            .create("id")
            .map_err(|e| h5(&p, e))?;
        dimscale::set_scale(&id, &p)?;
        let num = |name: &str, unit: &str, v: Vec<f64>| -> Result<()> {
            let ds = g
                .new_dataset_builder()
                .with_data(&v)
                .create(name)
                .map_err(|e| h5(&p, e))?;
            ds.new_attr::<VarLenUnicode>()
                .create("unit")
                .and_then(|a| a.write_scalar(&text(unit)))
                .map_err(|e| h5(&p, e))?;
            dimscale::attach(&ds, &id, 0, &p)
        };
        num("vn_kv", "kV", rows.iter().map(|r| r.vn_kv).collect())?;
        num(
            "hosting_mw",
            "MW",
            rows.iter().map(|r| r.hosting_mw).collect(),
        )?;
        num("runs", "1", rows.iter().map(|r| r.runs as f64).collect())?;
        let limits: Vec<VarLenUnicode> = rows.iter().map(|r| text(&r.limit)).collect();
        let ds = g
            .new_dataset_builder()
            .with_data(&limits)
            .create("limit")
            .map_err(|e| h5(&p, e))?;
        dimscale::attach(&ds, &id, 0, &p)?;
        f.close().map_err(|e| h5(&p, e))?;
    }
    temp.commit()
}
