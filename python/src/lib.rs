//! `gridsim._gridsim`: the Rust side of the Python package. Thin: every
//! function calls the gridsim library (`gridsim::cli::api`, `gridsim::cli::run`)
//! with the GIL released, and turns its errors into Python exceptions that
//! carry the same file/line/element/field messages. The Python modules in
//! `python/gridsim/` build pandas and xarray objects on top.

use gridsim::cli::api;
use gridsim::error::Error;
use gridsim::powerflow::PfOptions;
use gridsim::results::PowerFlowResult;
use gridsim::solver::NewtonOptions;
use numpy::IntoPyArray;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

pyo3::create_exception!(
    _gridsim,
    GridsimError,
    PyException,
    "An input gridsim cannot use, or a run that failed; the message names the file, line, element and field."
);
pyo3::create_exception!(
    _gridsim,
    NotConvergedError,
    GridsimError,
    "The power flow did not converge (the message gives the iterations and the last mismatch)."
);

fn py_err(e: Error) -> PyErr {
    match e {
        Error::NotConverged { .. } => NotConvergedError::new_err(e.to_string()),
        other => GridsimError::new_err(other.to_string()),
    }
}

/// The native format's tables of a network file (any format gridsim
/// reads), as JSON text.
#[pyfunction]
fn network_json(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    py.detach(|| api::network_json(&path)).map_err(py_err)
}

fn options(tol: f64, max_iter: usize, flat_start: bool) -> PfOptions {
    PfOptions {
        newton: NewtonOptions { tol, max_iter },
        flat_start,
    }
}

/// A table of columns: numbers as NumPy arrays that take over the Rust
/// vectors (no copy), ids as lists of str.
struct Table<'py> {
    dict: Bound<'py, PyDict>,
}

impl<'py> Table<'py> {
    fn new(py: Python<'py>) -> Self {
        Table {
            dict: PyDict::new(py),
        }
    }
    fn num(self, name: &str, v: Vec<f64>) -> PyResult<Self> {
        let py = self.dict.py();
        self.dict.set_item(name, v.into_pyarray(py))?;
        Ok(self)
    }
    fn opt(self, name: &str, v: Vec<Option<f64>>) -> PyResult<Self> {
        let v = v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect();
        self.num(name, v)
    }
    fn ids<T: IntoPyObject<'py> + Clone>(self, name: &str, v: Vec<T>) -> PyResult<Self> {
        self.dict.set_item(name, v)?;
        Ok(self)
    }
}

/// The result tables of a power flow (pandapower's column names).
fn result_tables<'py>(py: Python<'py>, r: PowerFlowResult) -> PyResult<Bound<'py, PyDict>> {
    let t = PyDict::new(py);
    let b = r.bus;
    let bus = Table::new(py)
        .ids("id", b.id)?
        .num("vm_pu", b.vm_pu)?
        .num("va_degree", b.va_degree)?;
    t.set_item("bus", bus.dict)?;
    let l = r.line;
    let line = Table::new(py)
        .ids("id", l.id)?
        .ids("from_bus", l.from_bus)?
        .ids("to_bus", l.to_bus)?
        .num("p_from_mw", l.p_from_mw)?
        .num("q_from_mvar", l.q_from_mvar)?
        .num("p_to_mw", l.p_to_mw)?
        .num("q_to_mvar", l.q_to_mvar)?
        .num("pl_mw", l.pl_mw)?
        .num("ql_mvar", l.ql_mvar)?
        .num("i_from_ka", l.i_from_ka)?
        .num("i_to_ka", l.i_to_ka)?
        .num("i_ka", l.i_ka)?
        .opt("loading_percent", l.loading_percent)?;
    t.set_item("line", line.dict)?;
    let x = r.transformer;
    let trafo = Table::new(py)
        .ids("id", x.id)?
        .ids("kind", x.kind)?
        .ids("hv_bus", x.hv_bus)?
        .ids("lv_bus", x.lv_bus)?
        .num("p_hv_mw", x.p_hv_mw)?
        .num("q_hv_mvar", x.q_hv_mvar)?
        .num("p_lv_mw", x.p_lv_mw)?
        .num("q_lv_mvar", x.q_lv_mvar)?
        .num("pl_mw", x.pl_mw)?
        .num("ql_mvar", x.ql_mvar)?
        .num("i_hv_ka", x.i_hv_ka)?
        .num("i_lv_ka", x.i_lv_ka)?
        .opt("loading_percent", x.loading_percent)?
        .opt("tap_pos", x.tap_pos)?;
    t.set_item("trafo", trafo.dict)?;
    let ld = r.load;
    let load = Table::new(py)
        .ids("id", ld.id)?
        .ids("bus", ld.bus)?
        .num("p_mw", ld.p_mw)?
        .num("q_mvar", ld.q_mvar)?;
    t.set_item("load", load.dict)?;
    let g = r.gen;
    let gen = Table::new(py)
        .ids("id", g.id)?
        .ids("bus", g.bus)?
        .num("p_mw", g.p_mw)?
        .num("q_mvar", g.q_mvar)?;
    t.set_item("gen", gen.dict)?;
    let br = r.branch;
    let branch = Table::new(py)
        .ids("id", br.id)?
        .ids("from_bus", br.from)?
        .ids("to_bus", br.to)?
        .num("p_from_mw", br.p_from_mw)?
        .num("q_from_mvar", br.q_from_mvar)?
        .num("p_to_mw", br.p_to_mw)?
        .num("q_to_mvar", br.q_to_mvar)?;
    t.set_item("branch", branch.dict)?;
    Ok(t)
}

/// The summary and tables of a converged power flow.
fn result_dict<'py>(
    py: Python<'py>,
    r: PowerFlowResult,
    secs: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("converged", r.converged)?;
    d.set_item("iterations", r.iterations)?;
    d.set_item("max_mismatch_pu", r.max_mismatch_pu)?;
    d.set_item("total_loss_mw", r.total_loss_mw)?;
    d.set_item("shunt_p_mw", r.shunt_p_mw)?;
    d.set_item("solve_time_s", secs)?;
    d.set_item("tables", result_tables(py, r)?)?;
    Ok(d)
}

/// Power flow of a network file.
#[pyfunction]
fn solve_file<'py>(
    py: Python<'py>,
    path: PathBuf,
    tol: f64,
    max_iter: usize,
    flat_start: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (r, secs) = py
        .detach(|| {
            let net = gridsim::network::read_network(&path)?;
            api::solve_timed(&net, &options(tol, max_iter, flat_start))
        })
        .map_err(py_err)?;
    result_dict(py, r, secs)
}

/// Power flow of a network given as the native format's tables (JSON);
/// `label` names it in messages and is where a `line_types` file is looked for.
#[pyfunction]
fn solve_tables<'py>(
    py: Python<'py>,
    tables_json: String,
    label: PathBuf,
    tol: f64,
    max_iter: usize,
    flat_start: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (r, secs) = py
        .detach(|| {
            let net = api::network_from_json(&tables_json, &label)?;
            api::solve_timed(&net, &options(tol, max_iter, flat_start))
        })
        .map_err(py_err)?;
    result_dict(py, r, secs)
}

/// Runs a scenario file (`path`), or scenario JSON (`scenario_json`, the
/// schema of the TOML files, relative paths from `base_dir`), into the
/// HDF5 file `out`; returns the run's summary text.
#[pyfunction]
#[pyo3(signature = (out, threads, force, path=None, scenario_json=None, base_dir=None, steps=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    out: PathBuf,
    threads: usize,
    force: bool,
    path: Option<PathBuf>,
    scenario_json: Option<String>,
    base_dir: Option<PathBuf>,
    steps: Option<usize>,
) -> PyResult<String> {
    if !(1..=1024).contains(&threads) {
        return Err(GridsimError::new_err(format!(
            "threads must be 1 to 1024, found {threads}"
        )));
    }
    let args = gridsim::cli::run::RunArgs {
        scenario: path.clone(),
        network: None,
        elements: None,
        profiles: None,
        steps,
        out,
        threads,
        quiet: true,
        force,
        tol: None,
        max_iter: None,
        command_line: "gridsim (Python) run".into(),
        storage: Default::default(),
        summary_json: None,
        shard: None,
    };
    py.detach(|| match (path, scenario_json) {
        (Some(_), None) => gridsim::cli::run::run(&args),
        (None, Some(json)) => {
            let label = base_dir
                .unwrap_or_else(|| PathBuf::from("."))
                .join("scenario (Python dict).toml");
            let text = api::toml_text_of_json(&json, &label.display().to_string())?;
            gridsim::cli::run::run_text(&label, &text, &args)
        }
        _ => Err(Error::Usage(
            "run: give a scenario file path or a scenario dict, not both".into(),
        )),
    })
    .map_err(py_err)
}

/// The gridsim version of the extension.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _gridsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("GridsimError", m.py().get_type::<GridsimError>())?;
    m.add("NotConvergedError", m.py().get_type::<NotConvergedError>())?;
    m.add_function(wrap_pyfunction!(network_json, m)?)?;
    m.add_function(wrap_pyfunction!(solve_file, m)?)?;
    m.add_function(wrap_pyfunction!(solve_tables, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
