//! HDF5 results file: streaming writer.
//!
//! Layout (see README "Results file"):
//! - root attributes `gridsim_version`, `created`, `command_line`, `scenario_file_sha256`;
//! - `/network/bus/{id, base_kv, name, type}`, `/network/branch/{id, kind,
//!   from, to, rating_mva, in_service, length_km}`: the first scenario's
//!   network (branch ids as UTF-8 strings: the file's ids);
//! - `/scenarios/<name>/time` (ISO-8601 strings) and groups `bus/`, `branch/`, `grid/`
//!   with `steps × elements` datasets, chunked along time, shuffle + deflate,
//!   each with a `unit` attribute; `bus/` and `branch/` also describe the
//!   scenario's own network as `/network` does (a variant may change it).
//!
//! The file is written under a temporary name beside the output and renamed
//! when complete; dropping an unfinished writer removes the temporary file.
//! An existing output is never replaced without `force`.

use super::output::{OutputKind, TempOutput};
use crate::error::{Error, Result};
use crate::timeseries::rows::RowSlice;
use crate::timeseries::runner::{Block, Layout};
use crate::timeseries::time::Timestamp;
use hdf5::types::VarLenUnicode;
use ndarray::{s, ArrayView1, ArrayView2};
use std::path::{Path, PathBuf};

/// Metadata written as root attributes.
#[derive(Debug, Clone, Default)]
pub struct RunMeta {
    /// The command line that produced the file.
    pub command_line: String,
    /// SHA-256 of the scenario file, or empty.
    pub scenario_file_sha256: String,
}

fn h5err(path: &Path, e: hdf5::Error) -> Error {
    Error::Usage(format!("{}: HDF5 error: {e}", path.display()))
}

/// A time label as stored in `time` (ISO-8601, 19 characters for years
/// 0–9999; room for more).
pub type TimeLabel = hdf5::types::FixedAscii<24>;

/// The time labels of a results group (`time`), from this version's
/// fixed-length strings or earlier versions' variable-length ones.
pub fn read_time_labels(g: &hdf5::Group) -> hdf5::Result<Vec<String>> {
    let ds = g.dataset("time")?;
    match ds.read_raw::<TimeLabel>() {
        Ok(v) => Ok(v.iter().map(|t| t.as_str().to_string()).collect()),
        Err(_) => Ok(ds
            .read_raw::<VarLenUnicode>()?
            .iter()
            .map(|t| t.as_str().to_string())
            .collect()),
    }
}

/// A dataset of element ids: UTF-8 strings (this version's branch ids), or
/// earlier versions' 1-based branch rows, read as `branch K`.
pub fn read_strings(f: &hdf5::File, name: &str) -> hdf5::Result<Vec<String>> {
    let ds = f.dataset(name)?;
    match ds.read_raw::<VarLenUnicode>() {
        Ok(v) => Ok(v.iter().map(|t| t.as_str().to_string()).collect()),
        Err(_) => Ok(ds
            .read_raw::<u64>()?
            .iter()
            .map(|n| format!("branch {n}"))
            .collect()),
    }
}

fn vlu(s: &str) -> VarLenUnicode {
    // Strings with NUL bytes cannot be stored; replace them.
    s.replace('\0', " ").parse().unwrap_or_default()
}

/// Floating-point type of the per-element series (`bus/`, `branch/`, `unit/`):
/// the runner records them in this precision. The per-step totals in
/// `grid/` are always 64-bit.
pub use crate::timeseries::rows::RowPrecision as Precision;

/// Filter applied to every time series chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Raw chunks: fastest to write and to read.
    #[default]
    None,
    /// Byte shuffle + LZF (fast; readable by h5py, which ships the filter).
    Lzf,
    /// Byte shuffle + deflate (gzip) at the given level 1–9: smallest, slowest.
    Gzip(u8),
}

/// How the time series are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StorageOptions {
    /// Float type of the per-element series.
    pub precision: Precision,
    /// Chunk filter.
    pub compression: Compression,
}

impl std::str::FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "none" => Ok(Compression::None),
            "lzf" => Ok(Compression::Lzf),
            "gzip" => Ok(Compression::Gzip(1)),
            _ => match s.strip_prefix("gzip=").map(str::parse::<u8>) {
                Some(Ok(l)) if (1..=9).contains(&l) => Ok(Compression::Gzip(l)),
                _ => Err(format!(
                    "unknown compression '{s}' (expected none, lzf, gzip or gzip=1..9)"
                )),
            },
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Compression::None => write!(f, "none"),
            Compression::Lzf => write!(f, "shuffle+lzf"),
            Compression::Gzip(l) => write!(f, "shuffle+gzip={l}"),
        }
    }
}

/// Picks one series out of a block.
type Getter = fn(&Block) -> RowSlice<'_>;

/// One scenario's datasets.
struct ScenarioSets {
    n_steps: usize,
    /// Series, their getters, and whether they follow [`Precision`].
    f64_sets: Vec<(hdf5::Dataset, Getter, bool)>,
    converged: hdf5::Dataset,
    iterations: hdf5::Dataset,
}

/// Streaming writer of a results file.
pub struct ResultsWriter {
    file: Option<hdf5::File>,
    /// The temporary file (removed unless committed by `finish`).
    temp: Option<TempOutput>,
    tmp: PathBuf,
    scenarios: Vec<ScenarioSets>,
    names: Vec<String>,
    storage: StorageOptions,
    /// Conversion buffer for single-precision series.
    buf32: Vec<f32>,
    /// Whether the series' space was reserved (before the first block).
    reserved: bool,
}

fn put_attr(loc: &hdf5::Location, name: &str, value: &str, path: &Path) -> Result<()> {
    let a = loc
        .new_attr::<VarLenUnicode>()
        .create(name)
        .map_err(|e| h5err(path, e))?;
    a.write_scalar(&vlu(value)).map_err(|e| h5err(path, e))
}

impl ResultsWriter {
    /// Checks that a results file can be started at `out` (see
    /// [`super::output::check`]: an existing file only with `force`, and
    /// only a results file), as [`Self::create`] does first; lets a caller
    /// fail before any work.
    pub fn check_output(out: &Path, force: bool) -> Result<()> {
        super::output::check(out, force, OutputKind::Results, &[])
    }

    /// Starts a results file at `out` (written to a temporary name first).
    pub fn create(
        out: &Path,
        force: bool,
        meta: &RunMeta,
        layout: &Layout,
        storage: StorageOptions,
    ) -> Result<ResultsWriter> {
        Self::check_output(out, force)?;
        let temp = TempOutput::new(out, force)?;
        let tmp = temp.path().to_path_buf();
        // No chunk cache: every block write covers whole chunks, which HDF5
        // then writes straight from our buffer instead of copying them
        // through a freshly allocated cache entry.
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.chunk_cache(0, 0, 1.0))
            .create(&tmp)
            .map_err(|e| h5err(&tmp, e))?;
        let w = ResultsWriter {
            file: Some(file),
            temp: Some(temp),
            tmp: tmp.clone(),
            scenarios: Vec::new(),
            names: Vec::new(),
            storage,
            buf32: Vec::new(),
            reserved: false,
        };
        let f = w.file.as_ref().expect("open");
        put_attr(f, "gridsim_version", env!("CARGO_PKG_VERSION"), &tmp)?;
        put_attr(f, "created", &now_iso(), &tmp)?;
        put_attr(f, "command_line", &meta.command_line, &tmp)?;
        put_attr(f, "scenario_file_sha256", &meta.scenario_file_sha256, &tmp)?;
        let prec = match storage.precision {
            Precision::F64 => "float64",
            Precision::F32 => "float32",
        };
        put_attr(f, "series_precision", prec, &tmp)?;
        put_attr(
            f,
            "series_compression",
            &storage.compression.to_string(),
            &tmp,
        )?;
        let bus = f.create_group("network/bus").map_err(|e| h5err(&tmp, e))?;
        let branch = f
            .create_group("network/branch")
            .map_err(|e| h5err(&tmp, e))?;
        write_description(&bus, &branch, layout, &tmp)?;
        write_units(f, "network/unit", layout, &tmp)?;
        Ok(w)
    }

    /// Adds a scenario group; returns its handle for [`Self::write_block`].
    pub fn add_scenario(
        &mut self,
        name: &str,
        layout: &Layout,
        start: Timestamp,
        step_s: i64,
        n_steps: usize,
    ) -> Result<usize> {
        let tmp = self.tmp.clone();
        if self.names.iter().any(|n| n == name) {
            return Err(Error::Usage(format!("duplicate scenario name '{name}'")));
        }
        self.names.push(name.to_string());
        let f = self.file.as_ref().expect("open");
        let g = f
            .create_group(&format!("scenarios/{name}"))
            .map_err(|e| h5err(&tmp, e))?;
        // Fixed-length ASCII: a year of labels is written in one piece
        // (variable-length strings cost about 14 ms here).
        let mut times: Vec<TimeLabel> = Vec::with_capacity(n_steps);
        for k in 0..n_steps {
            let label = Timestamp(start.0 + step_s * k as i64).to_string();
            times.push(TimeLabel::from_ascii(&label).map_err(|e| {
                Error::Usage(format!("time label '{label}' cannot be stored: {e}"))
            })?);
        }
        let ds = g
            .new_dataset_builder()
            .with_data(ArrayView1::from(&times))
            .create("time")
            .map_err(|e| h5err(&tmp, e))?;
        put_attr(&ds, "unit", "ISO-8601 local time", &tmp)?;
        put_attr(&g, "step_seconds", &step_s.to_string(), &tmp)?;

        let nb = layout.bus_id.len();
        let nbr = layout.branch_from.len();
        let bus = g.create_group("bus").map_err(|e| h5err(&tmp, e))?;
        let branch = g.create_group("branch").map_err(|e| h5err(&tmp, e))?;
        write_description(&bus, &branch, layout, &tmp)?;
        let grid = g.create_group("grid").map_err(|e| h5err(&tmp, e))?;
        write_units(&g, "unit", layout, &tmp)?;
        let unit = g.group("unit").map_err(|e| h5err(&tmp, e))?;
        let nu = Some(layout.unit_name.len());

        let (nb, nbr) = (Some(nb), Some(nbr));
        let specs: [(&hdf5::Group, &str, &str, Option<usize>, Getter); 26] = [
            (&bus, "vm_pu", "p.u.", nb, |b| b.vm_pu.as_slice()),
            (&bus, "va_degree", "degree", nb, |b| b.va_degree.as_slice()),
            (&bus, "p_mw", "MW", nb, |b| b.bus_p_mw.as_slice()),
            (&bus, "q_mvar", "Mvar", nb, |b| b.bus_q_mvar.as_slice()),
            (&branch, "p_from_mw", "MW", nbr, |b| b.p_from_mw.as_slice()),
            (&branch, "q_from_mvar", "Mvar", nbr, |b| {
                b.q_from_mvar.as_slice()
            }),
            (&branch, "p_to_mw", "MW", nbr, |b| b.p_to_mw.as_slice()),
            (&branch, "q_to_mvar", "Mvar", nbr, |b| {
                b.q_to_mvar.as_slice()
            }),
            (&branch, "i_ka", "kA", nbr, |b| b.i_ka.as_slice()),
            (&branch, "loading_percent", "%", nbr, |b| {
                b.loading_percent.as_slice()
            }),
            (&grid, "p_slack_mw", "MW", None, |b| {
                RowSlice::F64(&b.p_slack_mw)
            }),
            (&grid, "q_slack_mvar", "Mvar", None, |b| {
                RowSlice::F64(&b.q_slack_mvar)
            }),
            (&grid, "p_loss_mw", "MW", None, |b| {
                RowSlice::F64(&b.p_loss_mw)
            }),
            (&grid, "p_load_mw", "MW", None, |b| {
                RowSlice::F64(&b.p_load_mw)
            }),
            (&grid, "p_gen_mw", "MW", None, |b| {
                RowSlice::F64(&b.p_gen_mw)
            }),
            (&grid, "p_storage_mw", "MW", None, |b| {
                RowSlice::F64(&b.p_storage_mw)
            }),
            (&grid, "co2_t", "t", None, |b| RowSlice::F64(&b.co2_t)),
            (&unit, "p_mw", "MW", nu, |b| b.unit_p_mw.as_slice()),
            (&unit, "q_mvar", "Mvar", nu, |b| b.unit_q_mvar.as_slice()),
            (&unit, "heat_mw", "MW_th", nu, |b| b.unit_heat_mw.as_slice()),
            (&unit, "fuel_mw", "MW", nu, |b| b.unit_fuel_mw.as_slice()),
            (&unit, "boiler_heat_mw", "MW_th", nu, |b| {
                b.unit_boiler_heat_mw.as_slice()
            }),
            (&unit, "boiler_fuel_mw", "MW", nu, |b| {
                b.unit_boiler_fuel_mw.as_slice()
            }),
            (&unit, "co2_t", "t", nu, |b| b.unit_co2_t.as_slice()),
            (&unit, "curtailed_mw", "MW", nu, |b| {
                b.unit_curtailed_mw.as_slice()
            }),
            (&unit, "soc_percent", "%", nu, |b| {
                b.unit_soc_percent.as_slice()
            }),
        ];
        let mut f64_sets = Vec::new();
        let comp = self.storage.compression;
        for (grp, dname, unit, ncols, get) in specs {
            let single = ncols.is_some() && self.storage.precision == Precision::F32;
            let ds = if single {
                new_series::<f32>(grp, dname, n_steps, ncols, comp, &tmp)?
            } else {
                new_series::<f64>(grp, dname, n_steps, ncols, comp, &tmp)?
            };
            put_attr(&ds, "unit", unit, &tmp)?;
            f64_sets.push((ds, get, single));
        }
        let mm = new_series::<f64>(&grid, "max_mismatch_pu", n_steps, None, comp, &tmp)?;
        put_attr(&mm, "unit", "p.u.", &tmp)?;
        f64_sets.push((mm, |b: &Block| RowSlice::F64(&b.max_mismatch_pu), false));
        let converged = new_series::<u8>(&grid, "converged", n_steps, None, comp, &tmp)?;
        put_attr(&converged, "unit", "1 = converged", &tmp)?;
        let iterations = new_series::<u32>(&grid, "iterations", n_steps, None, comp, &tmp)?;
        put_attr(&iterations, "unit", "", &tmp)?;
        self.scenarios.push(ScenarioSets {
            n_steps,
            f64_sets,
            converged,
            iterations,
        });
        Ok(self.scenarios.len() - 1)
    }

    /// Reserves disk blocks for the raw series of every scenario (without
    /// changing the file's size), so that streaming the chunks in does not
    /// allocate block by block: about a quarter less kernel time for a
    /// large file on ext4. Only a hint; any failure is ignored. Raw sizes
    /// are known only without compression.
    fn reserve_space(&self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            if self.storage.compression != Compression::None {
                return;
            }
            let mut bytes = 0u64;
            for sc in &self.scenarios {
                let sets = sc.f64_sets.iter().map(|x| &x.0);
                for ds in sets.chain([&sc.converged, &sc.iterations]) {
                    let size = ds.dtype().map(|t| t.size()).unwrap_or(0);
                    bytes += (ds.size() * size) as u64;
                }
            }
            let Ok(f) = std::fs::OpenOptions::new().write(true).open(&self.tmp) else {
                return;
            };
            let Ok(start) = f.metadata().map(|m| m.len()) else {
                return;
            };
            if let (Ok(off), Ok(len)) = (i64::try_from(start), i64::try_from(bytes)) {
                if len > 0 {
                    // SAFETY: plain system call on an open descriptor; the
                    // file's contents and size are not changed (KEEP_SIZE).
                    let _ = unsafe {
                        libc::fallocate(f.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, off, len)
                    };
                }
            }
        }
    }

    /// Writes one block of scenario `sid`.
    pub fn write_block(&mut self, sid: usize, b: &Block) -> Result<()> {
        if !self.reserved {
            self.reserve_space();
            self.reserved = true;
        }
        let tmp = self.tmp.clone();
        let sc = &self.scenarios[sid];
        let (r0, r1) = (b.start_step, b.start_step + b.n);
        if r1 > sc.n_steps {
            return Err(Error::Usage("block beyond the scenario's steps".into()));
        }
        // Whole chunks of unfiltered datasets go in as raw chunks.
        let direct =
            (self.storage.compression == Compression::None).then(|| chunk_rows(sc.n_steps));
        for (ds, get, single) in &sc.f64_sets {
            // Rows recorded in the file's precision go as they are.
            match (get(b), *single) {
                (RowSlice::F32(x), true) => write_rows(ds, x, r0, r1, direct, &tmp)?,
                (RowSlice::F64(x), false) => write_rows(ds, x, r0, r1, direct, &tmp)?,
                (RowSlice::F64(x), true) => {
                    self.buf32.clear();
                    self.buf32.extend(x.iter().map(|&v| v as f32));
                    write_rows(ds, &self.buf32, r0, r1, direct, &tmp)?;
                }
                (RowSlice::F32(_), false) => {
                    return Err(Error::Usage(format!(
                        "{}: results recorded in single precision cannot fill a \
                         double-precision file (run with the file's precision)",
                        tmp.display()
                    )))
                }
            }
        }
        write_rows(&sc.converged, &b.converged, r0, r1, direct, &tmp)?;
        write_rows(&sc.iterations, &b.iterations, r0, r1, direct, &tmp)?;
        Ok(())
    }

    /// Writes scalar attributes on `/scenarios/<name>/<group>` (created if needed).
    pub fn scenario_attrs(&self, name: &str, group: &str, values: &[(&str, f64)]) -> Result<()> {
        let f = self.file.as_ref().expect("open");
        let path = format!("scenarios/{name}/{group}");
        let g = match f.group(&path) {
            Ok(g) => g,
            Err(_) => f.create_group(&path).map_err(|e| h5err(&self.tmp, e))?,
        };
        for (key, value) in values {
            let a = g
                .new_attr::<f64>()
                .create(*key)
                .map_err(|e| h5err(&self.tmp, e))?;
            a.write_scalar(value).map_err(|e| h5err(&self.tmp, e))?;
        }
        Ok(())
    }

    /// Closes the file and moves it to the output path.
    pub fn finish(mut self) -> Result<()> {
        self.scenarios.clear();
        if let Some(f) = self.file.as_ref() {
            let names: Vec<VarLenUnicode> = self.names.iter().map(|s| vlu(s)).collect();
            write_1d(f, "scenario_names", &names, "", &self.tmp)?;
        }
        if let Some(f) = self.file.take() {
            f.close().map_err(|e| h5err(&self.tmp, e))?;
        }
        match self.temp.take() {
            Some(t) => t.commit(),
            None => Ok(()),
        }
    }
}

impl Drop for ResultsWriter {
    fn drop(&mut self) {
        // Close the file before the temporary output removes it.
        self.scenarios.clear();
        self.file.take();
        self.temp.take();
    }
}

/// Rows per chunk: one runner block, so each block write fills whole chunks.
fn chunk_rows(n_steps: usize) -> usize {
    crate::timeseries::runner::BLOCK_STEPS.min(n_steps).max(1)
}

fn new_series<T: hdf5::H5Type>(
    g: &hdf5::Group,
    name: &str,
    n_steps: usize,
    ncols: Option<usize>,
    comp: Compression,
    path: &Path,
) -> Result<hdf5::Dataset> {
    let rows = chunk_rows(n_steps);
    let mut b = g.new_dataset::<T>();
    if ncols != Some(0) {
        b = match comp {
            Compression::None => b,
            Compression::Lzf => b.shuffle().lzf(),
            Compression::Gzip(l) => b.shuffle().deflate(l),
        };
    }
    let r = match ncols {
        None => b.chunk(rows).shape(n_steps).create(name),
        // HDF5 cannot chunk an empty dimension.
        Some(0) => b.shape((n_steps, 0)).create(name),
        Some(c) => b.chunk((rows, c)).shape((n_steps, c)).create(name),
    };
    r.map_err(|e| h5err(path, e))
}

/// Writes rows `r0..r1` of `ds` from `data` (row-major). Rows that fill
/// exactly one chunk of an unfiltered dataset go to the file as that
/// chunk's bytes (`H5Dwrite_chunk`: no selection, no copy); others through
/// the normal write.
fn write_rows<T: hdf5::H5Type + Copy>(
    ds: &hdf5::Dataset,
    data: &[T],
    r0: usize,
    r1: usize,
    direct_rows: Option<usize>,
    path: &Path,
) -> Result<()> {
    let n = r1 - r0;
    if let Some(rows) = direct_rows {
        if n == rows && r0.is_multiple_of(rows) && !data.is_empty() && data.len().is_multiple_of(n)
        {
            let offset: [hdf5_sys::h5::hsize_t; 2] = [r0 as u64, 0];
            let bytes = std::mem::size_of_val(data);
            // SAFETY: `ds` is an open dataset whose chunk is `rows` rows of
            // the full width and whose file type is `T` (native layout), so
            // `data` (n × width values of T, contiguous) is exactly the raw
            // bytes of the chunk at `offset`; HDF5 only reads `bytes` bytes.
            let status = unsafe {
                hdf5_sys::h5d::H5Dwrite_chunk(
                    ds.id(),
                    hdf5_sys::h5p::H5P_DEFAULT,
                    0,
                    offset.as_ptr(),
                    bytes,
                    data.as_ptr() as *const std::ffi::c_void,
                )
            };
            if status < 0 {
                return Err(Error::Usage(format!(
                    "{}: HDF5 could not write a chunk of {} at row {r0}",
                    path.display(),
                    ds.name()
                )));
            }
            return Ok(());
        }
    }
    if ds.ndim() == 1 {
        ds.write_slice(ArrayView1::from(data), s![r0..r1])
    } else {
        let ncols = data.len().checked_div(n).unwrap_or(0);
        if ncols == 0 {
            return Ok(());
        }
        let view =
            ArrayView2::from_shape((n, ncols), data).map_err(|e| Error::Usage(e.to_string()))?;
        ds.write_slice(view, s![r0..r1, ..])
    }
    .map_err(|e| h5err(path, e))
}

fn write_1d<T: hdf5::H5Type>(
    g: &hdf5::Group,
    name: &str,
    data: &[T],
    unit: &str,
    path: &Path,
) -> Result<()> {
    let ds = g
        .new_dataset_builder()
        .with_data(ArrayView1::from(data))
        .create(name)
        .map_err(|e| h5err(path, e))?;
    if !unit.is_empty() {
        put_attr(&ds, "unit", unit, path)?;
    }
    Ok(())
}

/// The buses and branches of a network: ids, names, nominal voltages and
/// types; branch kinds, ends, ratings, state and lengths.
fn write_description(
    bus: &hdf5::Group,
    branch: &hdf5::Group,
    layout: &Layout,
    tmp: &Path,
) -> Result<()> {
    write_1d(bus, "id", &layout.bus_id, "", tmp)?;
    write_1d(bus, "base_kv", &layout.bus_base_kv, "kV", tmp)?;
    let names: Vec<VarLenUnicode> = layout.bus_name.iter().map(|s| vlu(s)).collect();
    write_1d(bus, "name", &names, "", tmp)?;
    let types = "1 PQ, 2 PV, 3 REF, 4 isolated";
    write_1d(bus, "type", &layout.bus_type, types, tmp)?;
    let ids: Vec<VarLenUnicode> = layout.branch_id.iter().map(|s| vlu(s)).collect();
    write_1d(branch, "id", &ids, "", tmp)?;
    let kinds: Vec<VarLenUnicode> = layout.branch_kind.iter().map(|s| vlu(s)).collect();
    write_1d(
        branch,
        "kind",
        &kinds,
        "line, transformer or regulator",
        tmp,
    )?;
    write_1d(branch, "from", &layout.branch_from, "", tmp)?;
    write_1d(branch, "to", &layout.branch_to, "", tmp)?;
    write_1d(branch, "rating_mva", &layout.branch_rating_mva, "MVA", tmp)?;
    let state = "1 = in service";
    write_1d(branch, "in_service", &layout.branch_in_service, state, tmp)?;
    let km = "km (0 where unknown: transformers, per-unit branches)";
    write_1d(branch, "length_km", &layout.branch_length_km, km, tmp)?;
    Ok(())
}

fn write_units(parent: &hdf5::Group, path: &str, layout: &Layout, tmp: &Path) -> Result<()> {
    let g = parent.create_group(path).map_err(|e| h5err(tmp, e))?;
    let names: Vec<VarLenUnicode> = layout.unit_name.iter().map(|s| vlu(s)).collect();
    let tech: Vec<VarLenUnicode> = layout.unit_technology.iter().map(|s| vlu(s)).collect();
    write_1d(&g, "id", &names, "", tmp)?;
    write_1d(&g, "technology", &tech, "", tmp)?;
    write_1d(&g, "bus", &layout.unit_bus, "", tmp)?;
    Ok(())
}

fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    format!("{}Z", Timestamp(secs))
}
