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

use super::dimscale;
use super::output::{OutputKind, TempOutput};
use crate::error::{Error, Result};
use crate::timeseries::rows::{RowPrecision, RowSlice, RowsKept};
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
    /// The scenario file's text, or empty.
    pub scenario_file_text: String,
}

fn h5err(path: &Path, e: hdf5::Error) -> Error {
    Error::Usage(format!("{}: HDF5 error: {e}", path.display()))
}

/// A time label as stored in `time` (ISO-8601, 19 characters for years
/// 0–9999; room for more).
pub type TimeLabel = hdf5::types::FixedAscii<24>;

/// The local time labels (ISO-8601, no offset) of a scenario group: from
/// `grid/time` (seconds since step 0, CF units naming the local start) of
/// this layout, or the `time` strings of earlier versions.
pub fn read_time_labels(g: &hdf5::Group) -> hdf5::Result<Vec<String>> {
    if let Ok(ds) = g.dataset("grid/time") {
        let units: VarLenUnicode = ds.attr("units")?.read_scalar()?;
        let start = units
            .as_str()
            .strip_prefix("seconds since ")
            .and_then(Timestamp::parse)
            .ok_or_else(|| {
                hdf5::Error::from(format!("grid/time: units '{units}' not understood"))
            })?;
        let t = ds.read_raw::<i64>()?;
        return Ok(t
            .iter()
            .map(|s| Timestamp(start.0 + s).to_string())
            .collect());
    }
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

/// Opens a results file for reading, with a message a user understands
/// when it is missing, not HDF5, or not a gridsim results file of this
/// layout.
pub fn open_results(path: &Path) -> Result<hdf5::File> {
    let not_results = |why: &str| {
        Error::Usage(format!(
            "{}: {why}; give a results file written by `gridsim run`",
            path.display()
        ))
    };
    if !path.is_file() {
        return Err(not_results("no such file"));
    }
    let f = hdf5::File::open(path).map_err(|_| not_results("not an HDF5 file"))?;
    if !f.link_exists("scenario_names") {
        return Err(not_results("an HDF5 file, but not a gridsim results file"));
    }
    let version = f
        .attr("layout_version")
        .and_then(|a| a.read_scalar::<i64>())
        .unwrap_or(1);
    if version != LAYOUT_VERSION {
        return Err(Error::Usage(format!(
            "{}: results layout {version}; this gridsim reads layout {LAYOUT_VERSION} \
             (run the scenarios again with this version)",
            path.display()
        )));
    }
    Ok(f)
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Precision {
    /// IEEE single (about 7 significant digits), the default.
    #[default]
    F32,
    /// IEEE double.
    F64,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.parse::<RowPrecision>()? {
            RowPrecision::F64 => Ok(Precision::F64),
            _ => Ok(Precision::F32),
        }
    }
}

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
    /// Which per-element series are kept.
    pub series: SeriesSelection,
}

impl StorageOptions {
    /// The per-element rows the runner records, in the file's precision:
    /// only the kinds kept (a line or a transformer series needs the
    /// branch rows), none where no per-element series is kept
    /// (`--series totals`).
    pub fn rows_kept(&self) -> RowsKept {
        let precision = match self.precision {
            Precision::F32 => RowPrecision::F32,
            Precision::F64 => RowPrecision::F64,
        };
        let s = self.series;
        RowsKept {
            precision,
            bus: s.bus,
            branch: s.line || s.transformer,
            unit: s.unit,
            load: s.load,
        }
    }

    /// "float32" or "float64".
    pub fn precision_name(&self) -> &'static str {
        match self.precision {
            Precision::F64 => "float64",
            Precision::F32 => "float32",
        }
    }
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

/// Which per-element series a results file keeps (`--series`). The grid
/// totals, the KPIs and every element group's description (ids, buses,
/// ratings) are always written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesSelection {
    /// `bus/` series.
    pub bus: bool,
    /// `line/` series.
    pub line: bool,
    /// `transformer/` series (regulators included).
    pub transformer: bool,
    /// `load/` series.
    pub load: bool,
    /// `unit/` series.
    pub unit: bool,
}

impl Default for SeriesSelection {
    fn default() -> Self {
        SeriesSelection::ALL
    }
}

impl SeriesSelection {
    /// Every element kind.
    pub const ALL: SeriesSelection = SeriesSelection {
        bus: true,
        line: true,
        transformer: true,
        load: true,
        unit: true,
    };
    /// Grid totals and KPIs only.
    pub const TOTALS: SeriesSelection = SeriesSelection {
        bus: false,
        line: false,
        transformer: false,
        load: false,
        unit: false,
    };

    fn kinds(&self) -> [(&'static str, bool); 5] {
        [
            ("bus", self.bus),
            ("line", self.line),
            ("transformer", self.transformer),
            ("load", self.load),
            ("unit", self.unit),
        ]
    }
}

impl std::str::FromStr for SeriesSelection {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "all" => return Ok(SeriesSelection::ALL),
            "totals" => return Ok(SeriesSelection::TOTALS),
            _ => {}
        }
        let mut sel = SeriesSelection::TOTALS;
        for kind in s.split(',').map(str::trim) {
            let flag = match kind {
                "bus" => &mut sel.bus,
                "line" => &mut sel.line,
                "transformer" => &mut sel.transformer,
                "load" => &mut sel.load,
                "unit" => &mut sel.unit,
                _ => {
                    return Err(format!(
                        "unknown series '{kind}' (expected all, totals, or a comma-separated \
                         list of bus, line, transformer, load, unit)"
                    ))
                }
            };
            *flag = true;
        }
        Ok(sel)
    }
}

impl std::fmt::Display for SeriesSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == SeriesSelection::ALL {
            return write!(f, "all");
        }
        let kinds: Vec<&str> = self.kinds().iter().filter(|k| k.1).map(|k| k.0).collect();
        if kinds.is_empty() {
            write!(f, "totals")
        } else {
            write!(f, "{}", kinds.join(","))
        }
    }
}

/// What a scenario group says about its scenario and time axis.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioHeader<'a> {
    /// Group name.
    pub name: &'a str,
    /// What the scenario is.
    pub description: &'a str,
    /// Local time of step 0.
    pub start: Timestamp,
    /// Step length, seconds.
    pub step_s: i64,
    /// Steps.
    pub n_steps: usize,
    /// Steps per runner block (`Scenario::block_steps`): one chunk of each
    /// series holds one block.
    pub block_steps: usize,
    /// Time zone of the local times, hours east of UTC (None: unknown).
    pub utc_offset_h: Option<f64>,
    /// Where the model is simpler than the inputs asked (`Scenario::notes`).
    pub notes: &'a [String],
}

impl ScenarioHeader<'_> {
    /// `+hh:mm` of the time zone, or "" when unknown.
    fn offset(&self) -> String {
        match self.utc_offset_h {
            Some(h) => {
                let m = (h * 60.0).round() as i64;
                let sign = if m < 0 { '-' } else { '+' };
                format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
            None => String::new(),
        }
    }

    /// CF-convention units of the `time` coordinate (seconds since step 0,
    /// local time with its UTC offset), which xarray decodes to datetimes.
    fn time_units(&self) -> String {
        let start = self.start.to_string().replace('T', " ");
        format!("seconds since {start}{}", self.offset())
    }
}

/// Picks one series out of a block.
type Getter = fn(&Block) -> RowSlice<'_>;

/// One dataset of a scenario: where its rows come from and how they go in.
struct Series {
    ds: hdf5::Dataset,
    get: Getter,
    /// Stored in single precision (per-element series of an f32 file).
    single: bool,
    /// The block columns it keeps (None: all, in order).
    cols: Option<std::sync::Arc<[usize]>>,
}

/// One scenario's datasets.
struct ScenarioSets {
    n_steps: usize,
    block_steps: usize,
    series: Vec<Series>,
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
    /// Conversion and gathering buffers.
    buf32: Vec<f32>,
    buf64: Vec<f64>,
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

fn put_num<T: hdf5::H5Type>(loc: &hdf5::Location, name: &str, v: T, path: &Path) -> Result<()> {
    let a = loc
        .new_attr::<T>()
        .create(name)
        .map_err(|e| h5err(path, e))?;
    a.write_scalar(&v).map_err(|e| h5err(path, e))
}

/// Version of the results layout (2: element groups with dimension scales).
pub const LAYOUT_VERSION: i64 = 2;

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
            buf64: Vec::new(),
            reserved: false,
        };
        let f = w.file.as_ref().expect("open");
        put_num(f, "layout_version", LAYOUT_VERSION, &tmp)?;
        put_attr(f, "gridsim_version", env!("CARGO_PKG_VERSION"), &tmp)?;
        put_attr(f, "created", &now_iso(), &tmp)?;
        put_attr(f, "command_line", &meta.command_line, &tmp)?;
        put_attr(f, "scenario_file_sha256", &meta.scenario_file_sha256, &tmp)?;
        put_attr(f, "scenario_file_text", &meta.scenario_file_text, &tmp)?;
        let prec = match storage.precision {
            Precision::F64 => "float64",
            Precision::F32 => "float32",
        };
        put_attr(f, "series_precision", prec, &tmp)?;
        let comp = storage.compression.to_string();
        put_attr(f, "series_compression", &comp, &tmp)?;
        put_attr(f, "series", &storage.series.to_string(), &tmp)?;
        Ok(w)
    }

    /// Adds a scenario group; returns its handle for [`Self::write_block`].
    pub fn add_scenario(&mut self, h: &ScenarioHeader, layout: &Layout) -> Result<usize> {
        let tmp = self.tmp.clone();
        if self.names.iter().any(|n| n == h.name) {
            return Err(Error::Usage(format!(
                "duplicate scenario name '{}'",
                h.name
            )));
        }
        self.names.push(h.name.to_string());
        let f = self.file.as_ref().expect("open");
        let g = f
            .create_group(&format!("scenarios/{}", h.name))
            .map_err(|e| h5err(&tmp, e))?;
        put_attr(&g, "description", h.description, &tmp)?;
        put_num(&g, "step_seconds", h.step_s, &tmp)?;
        put_num(&g, "n_steps", h.n_steps as i64, &tmp)?;
        put_attr(&g, "start", &format!("{}{}", h.start, h.offset()), &tmp)?;
        put_num(&g, "utc_offset_h", h.utc_offset_h.unwrap_or(f64::NAN), &tmp)?;
        put_attr(&g, "notes", &h.notes.join("\n"), &tmp)?;
        let mut series = Vec::new();
        let ctx = GroupCtx {
            h,
            comp: self.storage.compression,
            precision: self.storage.precision,
            tmp: &tmp,
        };
        for (kind, keep) in self.storage.series.kinds() {
            let grp = g.create_group(kind).map_err(|e| h5err(&tmp, e))?;
            let ids = describe(kind, &grp, layout, &tmp)?;
            if keep {
                let time = ctx.time_scale(&grp)?;
                for spec in element_series(kind, layout) {
                    series.push(ctx.series(&grp, &time, Some(&ids), spec)?);
                }
            }
        }
        let grid = g.create_group("grid").map_err(|e| h5err(&tmp, e))?;
        let time = ctx.time_scale(&grid)?;
        for spec in grid_series() {
            series.push(ctx.series(&grid, &time, None, spec)?);
        }
        let conv = new_series::<u8>(
            &grid,
            "converged",
            (h.n_steps, h.block_steps),
            None,
            ctx.comp,
            &tmp,
        )?;
        put_attr(&conv, "unit", "1 = converged", &tmp)?;
        dimscale::attach(&conv, &time, 0, &tmp)?;
        let iters = new_series::<u32>(
            &grid,
            "iterations",
            (h.n_steps, h.block_steps),
            None,
            ctx.comp,
            &tmp,
        )?;
        put_attr(&iters, "unit", "1", &tmp)?;
        dimscale::attach(&iters, &time, 0, &tmp)?;
        self.scenarios.push(ScenarioSets {
            n_steps: h.n_steps,
            block_steps: h.block_steps,
            series,
            converged: conv,
            iterations: iters,
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
                let sets = sc.series.iter().map(|x| &x.ds);
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
        let direct = (self.storage.compression == Compression::None)
            .then(|| chunk_rows(sc.n_steps, sc.block_steps));
        for s in &sc.series {
            let cols = s.cols.as_deref();
            // Rows recorded in the file's precision, all columns, go as they are.
            match (s.get)(b) {
                RowSlice::F32(x) if s.single && cols.is_none() => {
                    write_rows(&s.ds, x, r0, r1, direct, &tmp)?
                }
                RowSlice::F64(x) if !s.single && cols.is_none() => {
                    write_rows(&s.ds, x, r0, r1, direct, &tmp)?
                }
                RowSlice::F32(x) if s.single => {
                    gather(x, b.n, cols, |v| v, &mut self.buf32);
                    write_rows(&s.ds, &self.buf32, r0, r1, direct, &tmp)?
                }
                RowSlice::F64(x) if s.single => {
                    gather(x, b.n, cols, |v| v as f32, &mut self.buf32);
                    write_rows(&s.ds, &self.buf32, r0, r1, direct, &tmp)?
                }
                RowSlice::F32(_) => {
                    return Err(Error::Usage(format!(
                        "{}: results recorded in single precision cannot fill a \
                         double-precision file (run with the file's precision)",
                        tmp.display()
                    )))
                }
                RowSlice::F64(x) => {
                    gather(x, b.n, cols, |v| v, &mut self.buf64);
                    write_rows(&s.ds, &self.buf64, r0, r1, direct, &tmp)?
                }
            }
        }
        write_rows(&sc.converged, &b.converged, r0, r1, direct, &tmp)?;
        write_rows(&sc.iterations, &b.iterations, r0, r1, direct, &tmp)?;
        Ok(())
    }

    /// Writes scalar attributes (f64 values, i64 counts) on
    /// `/scenarios/<name>/<group>` (created if needed).
    pub fn scenario_attrs<T: hdf5::H5Type + Copy>(
        &self,
        name: &str,
        group: &str,
        values: &[(&str, T)],
    ) -> Result<()> {
        let f = self.file.as_ref().expect("open");
        let path = format!("scenarios/{name}/{group}");
        let g = match f.group(&path) {
            Ok(g) => g,
            Err(_) => f.create_group(&path).map_err(|e| h5err(&self.tmp, e))?,
        };
        for (key, value) in values {
            put_num(&g, key, *value, &self.tmp)?;
        }
        Ok(())
    }

    /// Writes integer attributes on the file's root.
    pub fn root_counts(&self, values: &[(&str, i64)]) -> Result<()> {
        let f = self.file.as_ref().expect("open");
        for (key, value) in values {
            put_num(f, key, *value, &self.tmp)?;
        }
        Ok(())
    }

    /// Writes text attributes on `/scenarios/<name>/<group>`, or on the
    /// root when `name` is empty.
    pub fn text_attrs(&self, name: &str, group: &str, values: &[(&str, &str)]) -> Result<()> {
        let f = self.file.as_ref().expect("open");
        let path = format!("scenarios/{name}/{group}");
        let g = if name.is_empty() {
            f.group("/").map_err(|e| h5err(&self.tmp, e))?
        } else {
            match f.group(&path) {
                Ok(g) => g,
                Err(_) => f.create_group(&path).map_err(|e| h5err(&self.tmp, e))?,
            }
        };
        for (key, value) in values {
            put_attr(&g, key, value, &self.tmp)?;
        }
        Ok(())
    }

    /// Closes the file and moves it to the output path.
    pub fn finish(mut self) -> Result<()> {
        self.scenarios.clear();
        if let Some(f) = self.file.as_ref() {
            let names: Vec<VarLenUnicode> = self.names.iter().map(|s| vlu(s)).collect();
            let ds = write_1d(f, "scenario_names", &names, "", &self.tmp)?;
            dimscale::set_scale(&ds, &self.tmp)?;
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
fn chunk_rows(n_steps: usize, block_steps: usize) -> usize {
    block_steps.min(n_steps).max(1)
}

fn new_series<T: hdf5::H5Type>(
    g: &hdf5::Group,
    name: &str,
    (n_steps, block_steps): (usize, usize),
    ncols: Option<usize>,
    comp: Compression,
    path: &Path,
) -> Result<hdf5::Dataset> {
    let rows = chunk_rows(n_steps, block_steps);
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
) -> Result<hdf5::Dataset> {
    let ds = g
        .new_dataset_builder()
        .with_data(ArrayView1::from(data))
        .create(name)
        .map_err(|e| h5err(path, e))?;
    if !unit.is_empty() {
        put_attr(&ds, "unit", unit, path)?;
    }
    Ok(ds)
}

/// One series of a group: name, unit, source and the block columns kept.
struct SeriesSpec {
    name: &'static str,
    unit: &'static str,
    get: Getter,
    /// Columns of the block row kept (None: all); None also for 1-D series.
    cols: Option<std::sync::Arc<[usize]>>,
    /// Columns in the file (None: a 1-D series over time).
    width: Option<usize>,
    /// Whether the series follows the file's [`Precision`].
    per_element: bool,
}

fn spec(name: &'static str, unit: &'static str, width: Option<usize>, get: Getter) -> SeriesSpec {
    SeriesSpec {
        name,
        unit,
        get,
        cols: None,
        width,
        per_element: width.is_some(),
    }
}

/// Branch columns of one results group: lines, or transformers and regulators.
fn branch_cols(layout: &Layout, transformers: bool) -> std::sync::Arc<[usize]> {
    (0..layout.branch_kind.len())
        .filter(|&k| (layout.branch_kind[k] == "line") != transformers)
        .collect()
}

/// The series of element group `kind`.
fn element_series(kind: &str, layout: &Layout) -> Vec<SeriesSpec> {
    let nb = Some(layout.bus_id.len());
    let nu = Some(layout.unit_name.len());
    let nl = Some(layout.loads.id.len());
    match kind {
        "bus" => vec![
            spec("vm_pu", "p.u.", nb, |b| b.vm_pu.as_slice()),
            spec("va_degree", "degree", nb, |b| b.va_degree.as_slice()),
            spec("p_mw", "MW", nb, |b| b.bus_p_mw.as_slice()),
            spec("q_mvar", "Mvar", nb, |b| b.bus_q_mvar.as_slice()),
        ],
        "line" | "transformer" => {
            let cols = branch_cols(layout, kind == "transformer");
            let w = Some(cols.len());
            let mut v = vec![
                spec("p_from_mw", "MW", w, |b| b.p_from_mw.as_slice()),
                spec("q_from_mvar", "Mvar", w, |b| b.q_from_mvar.as_slice()),
                spec("p_to_mw", "MW", w, |b| b.p_to_mw.as_slice()),
                spec("q_to_mvar", "Mvar", w, |b| b.q_to_mvar.as_slice()),
                spec("i_ka", "kA", w, |b| b.i_ka.as_slice()),
                spec("loading_percent", "%", w, |b| b.loading_percent.as_slice()),
            ];
            for s in &mut v {
                s.cols = Some(cols.clone());
            }
            if kind == "transformer" {
                // Recorded for the transformers only, in this order.
                let mut tap = spec("tap_pos", "1", w, |b| RowSlice::F64(&b.tap_pos));
                tap.per_element = false;
                v.push(tap);
            }
            v
        }
        "load" => vec![
            spec("p_mw", "MW", nl, |b| b.load_p_mw.as_slice()),
            spec("q_mvar", "Mvar", nl, |b| b.load_q_mvar.as_slice()),
        ],
        _ => vec![
            spec("p_mw", "MW", nu, |b| b.unit_p_mw.as_slice()),
            spec("q_mvar", "Mvar", nu, |b| b.unit_q_mvar.as_slice()),
            spec("heat_mw", "MW_th", nu, |b| b.unit_heat_mw.as_slice()),
            spec("fuel_mw", "MW", nu, |b| b.unit_fuel_mw.as_slice()),
            spec("boiler_heat_mw", "MW_th", nu, |b| {
                b.unit_boiler_heat_mw.as_slice()
            }),
            spec("boiler_fuel_mw", "MW", nu, |b| {
                b.unit_boiler_fuel_mw.as_slice()
            }),
            spec("co2_t", "t", nu, |b| b.unit_co2_t.as_slice()),
            spec("curtailed_mw", "MW", nu, |b| b.unit_curtailed_mw.as_slice()),
            spec("soc_percent", "%", nu, |b| b.unit_soc_percent.as_slice()),
            spec("cooling_mw", "MW", nu, |b| b.unit_cooling_mw.as_slice()),
            spec("chiller_p_mw", "MW", nu, |b| b.unit_chiller_p_mw.as_slice()),
        ],
    }
}

/// The per-step grid totals (always 64-bit).
fn grid_series() -> Vec<SeriesSpec> {
    vec![
        spec("p_slack_mw", "MW", None, |b| RowSlice::F64(&b.p_slack_mw)),
        spec("q_slack_mvar", "Mvar", None, |b| {
            RowSlice::F64(&b.q_slack_mvar)
        }),
        spec("p_loss_mw", "MW", None, |b| RowSlice::F64(&b.p_loss_mw)),
        spec("p_load_mw", "MW", None, |b| RowSlice::F64(&b.p_load_mw)),
        spec("p_gen_mw", "MW", None, |b| RowSlice::F64(&b.p_gen_mw)),
        spec("p_storage_mw", "MW", None, |b| {
            RowSlice::F64(&b.p_storage_mw)
        }),
        spec("co2_t", "t", None, |b| RowSlice::F64(&b.co2_t)),
        spec("max_mismatch_pu", "p.u.", None, |b| {
            RowSlice::F64(&b.max_mismatch_pu)
        }),
    ]
}

/// What creating a scenario's groups needs.
struct GroupCtx<'a> {
    h: &'a ScenarioHeader<'a>,
    comp: Compression,
    precision: Precision,
    tmp: &'a Path,
}

impl GroupCtx<'_> {
    /// The group's `time` coordinate: seconds since step 0 (CF units).
    fn time_scale(&self, g: &hdf5::Group) -> Result<hdf5::Dataset> {
        let step = self.h.step_s;
        let t: Vec<i64> = (0..self.h.n_steps as i64).map(|k| k * step).collect();
        let ds = write_1d(g, "time", &t, "", self.tmp)?;
        put_attr(&ds, "units", &self.h.time_units(), self.tmp)?;
        put_attr(&ds, "calendar", "standard", self.tmp)?;
        put_attr(&ds, "long_name", "start of the step", self.tmp)?;
        dimscale::set_scale(&ds, self.tmp)?;
        Ok(ds)
    }

    /// Creates one series dataset with its unit and dimension scales.
    fn series(
        &self,
        g: &hdf5::Group,
        time: &hdf5::Dataset,
        ids: Option<&hdf5::Dataset>,
        sp: SeriesSpec,
    ) -> Result<Series> {
        let single = sp.per_element && self.precision == Precision::F32;
        let (n, w, c, p) = (
            (self.h.n_steps, self.h.block_steps),
            sp.width,
            self.comp,
            self.tmp,
        );
        let ds = if single {
            new_series::<f32>(g, sp.name, n, w, c, p)?
        } else {
            new_series::<f64>(g, sp.name, n, w, c, p)?
        };
        put_attr(&ds, "unit", sp.unit, p)?;
        dimscale::attach(&ds, time, 0, p)?;
        if let (Some(ids), Some(_)) = (ids, w) {
            dimscale::attach(&ds, ids, 1, p)?;
        }
        Ok(Series {
            ds,
            get: sp.get,
            single,
            cols: sp.cols,
        })
    }
}

/// Copies rows of `x` (`n` rows) into `out`, keeping `cols` of each row
/// (all when None) and converting each value; consecutive columns are
/// copied as runs.
fn gather<S: Copy, T>(
    x: &[S],
    n: usize,
    cols: Option<&[usize]>,
    conv: impl Fn(S) -> T,
    out: &mut Vec<T>,
) {
    out.clear();
    let Some(cols) = cols else {
        out.extend(x.iter().map(|&v| conv(v)));
        return;
    };
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for &c in cols {
        match runs.last_mut() {
            Some(r) if r.end == c => r.end += 1,
            _ => runs.push(c..c + 1),
        }
    }
    let width = x.len().checked_div(n).unwrap_or(0);
    for row in x.chunks_exact(width.max(1)).take(n) {
        for r in &runs {
            out.extend(row[r.clone()].iter().map(|&v| conv(v)));
        }
    }
}

/// Writes the description of element group `kind` (ids as its dimension
/// scale, every other dataset attached to it); returns the id scale.
fn describe(kind: &str, g: &hdf5::Group, layout: &Layout, tmp: &Path) -> Result<hdf5::Dataset> {
    let strings = |v: &[String]| -> Vec<VarLenUnicode> { v.iter().map(|s| vlu(s)).collect() };
    let pick = |cols: &[usize], v: &[u64]| -> Vec<u64> { cols.iter().map(|&c| v[c]).collect() };
    let pickf = |cols: &[usize], v: &[f64]| -> Vec<f64> { cols.iter().map(|&c| v[c]).collect() };
    let mut attached = Vec::new();
    let id = match kind {
        "bus" => {
            let id = write_1d(g, "id", &layout.bus_id, "", tmp)?;
            attached.push(write_1d(g, "name", &strings(&layout.bus_name), "", tmp)?);
            attached.push(write_1d(g, "base_kv", &layout.bus_base_kv, "kV", tmp)?);
            let types = "1 PQ, 2 PV, 3 REF, 4 isolated";
            attached.push(write_1d(g, "type", &layout.bus_type, types, tmp)?);
            id
        }
        "line" | "transformer" => {
            let cols = branch_cols(layout, kind == "transformer");
            let ids: Vec<String> = cols.iter().map(|&c| layout.branch_id[c].clone()).collect();
            let id = write_1d(g, "id", &strings(&ids), "", tmp)?;
            let (from, to) = match kind {
                "line" => ("from_bus", "to_bus"),
                _ => ("hv_bus", "lv_bus"),
            };
            attached.push(write_1d(
                g,
                from,
                &pick(&cols, &layout.branch_from),
                "",
                tmp,
            )?);
            attached.push(write_1d(g, to, &pick(&cols, &layout.branch_to), "", tmp)?);
            let rating = pickf(&cols, &layout.branch_rating_mva);
            let rating_unit = "MVA (0 = no rating)";
            attached.push(write_1d(g, "rating_mva", &rating, rating_unit, tmp)?);
            let state: Vec<u8> = cols.iter().map(|&c| layout.branch_in_service[c]).collect();
            attached.push(write_1d(g, "in_service", &state, "1 = in service", tmp)?);
            if kind == "line" {
                let km = pickf(&cols, &layout.branch_length_km);
                attached.push(write_1d(g, "length_km", &km, "km (0 = unknown)", tmp)?);
            } else {
                let kinds: Vec<String> = cols
                    .iter()
                    .map(|&c| layout.branch_kind[c].clone())
                    .collect();
                let what = "transformer or regulator";
                attached.push(write_1d(g, "kind", &strings(&kinds), what, tmp)?);
            }
            id
        }
        "load" => {
            let l = &layout.loads;
            let id = write_1d(g, "id", &strings(&l.id), "", tmp)?;
            let kinds: Vec<String> = l.kind.iter().map(|k| k.to_string()).collect();
            let what = "load, storage or sgen (p_mw and q_mvar: drawn from the grid)";
            attached.push(write_1d(g, "kind", &strings(&kinds), what, tmp)?);
            attached.push(write_1d(g, "bus", &l.bus, "", tmp)?);
            id
        }
        _ => {
            let id = write_1d(g, "id", &strings(&layout.unit_name), "", tmp)?;
            let tech = strings(&layout.unit_technology);
            attached.push(write_1d(g, "technology", &tech, "", tmp)?);
            attached.push(write_1d(g, "bus", &layout.unit_bus, "", tmp)?);
            id
        }
    };
    dimscale::set_scale(&id, tmp)?;
    for ds in &attached {
        dimscale::attach(ds, &id, 0, tmp)?;
    }
    Ok(id)
}

fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    format!("{}Z", Timestamp(secs))
}
