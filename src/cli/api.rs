//! Entry points for embedding gridsim (the Python package in `python/`):
//! a network as the native format's tables (JSON), a network from such
//! tables, a timed power flow, and scenario-file text from JSON. Every
//! network and scenario goes through the same readers and checks as the
//! files the CLI reads, so errors name the element and field alike.

use crate::error::{Error, Result};
use crate::network::{matpower, native, network_format, pandapower, Network, NetworkFormat};
use crate::powerflow::{self, PfOptions};
use crate::results::PowerFlowResult;
use std::path::Path;

/// The native format's tables of the network at `path` (any format gridsim
/// reads), as JSON: `{"network": {...}, "bus": [{...}, ...], "line": ...}`.
/// Native and pandapower files keep their ids, types and engineering
/// units; a MATPOWER case is its per-unit branches.
pub fn network_json(path: &Path) -> Result<String> {
    let file = match network_format(path)? {
        NetworkFormat::Native => native::read_file(path)?.0,
        NetworkFormat::Pandapower => pandapower::read_file(path)?,
        NetworkFormat::Matpower => {
            let text = native::export::write_native(&matpower::read_case(path)?)?;
            native::parse_file(path, &text)?
        }
    };
    serde_json::to_string(&file).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}

/// The TOML text of a JSON document (objects, arrays, strings, numbers,
/// booleans; no nulls).
pub fn toml_text_of_json(json: &str, what: &str) -> Result<String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::Usage(format!("{what}: {e}")))?;
    let t = toml::Value::try_from(v).map_err(|e| Error::Usage(format!("{what}: {e}")))?;
    toml::to_string(&t).map_err(|e| Error::Usage(format!("{what}: {e}")))
}

/// A network from the native format's tables as JSON; `label` names it in
/// messages (element and field, no line: the text is generated) and its
/// folder is where a `line_types` file is looked for.
pub fn network_from_json(json: &str, label: &Path) -> Result<Network> {
    let name = label.display().to_string();
    let text = toml_text_of_json(json, &name)?;
    let f = native::parse_file(label, &text)?;
    let lib = native::library(&f, label.parent().unwrap_or(Path::new(".")))?;
    native::to_network(&f, &lib, &native::Source { name, text: None })
}

/// A power flow and the seconds it took (model build included); an error
/// when it does not converge.
pub fn solve_timed(net: &Network, opts: &PfOptions) -> Result<(PowerFlowResult, f64)> {
    if !(opts.newton.tol > 0.0 && opts.newton.tol < 1.0) {
        return Err(Error::Usage(format!(
            "tol must be between 0 and 1 p.u., found {}",
            opts.newton.tol
        )));
    }
    if !(1..=1000).contains(&opts.newton.max_iter) {
        return Err(Error::Usage(format!(
            "max_iter must be 1 to 1000, found {}",
            opts.newton.max_iter
        )));
    }
    let t0 = std::time::Instant::now();
    let res = powerflow::solve(net, opts)?;
    let secs = t0.elapsed().as_secs_f64();
    if !res.converged {
        return Err(Error::NotConverged {
            iterations: res.iterations,
            max_mismatch_pu: res.max_mismatch_pu,
        });
    }
    Ok((res, secs))
}
