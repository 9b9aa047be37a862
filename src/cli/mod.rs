//! Implementations of the `gridsim` subcommands. `main.rs` parses the
//! command line and calls these; they load inputs, run the pipeline and
//! format output.

pub mod api;
pub mod hosting;
pub mod pf;
pub mod plan;
pub mod progress;
pub mod region;
pub mod run;
pub mod shard;
pub mod slurm;

use crate::error::{Error, Result};
use crate::network::{matpower, native};
use std::path::Path;

pub use crate::network::{network_format, read_network as load_network, NetworkFormat};

/// `gridsim convert IN OUT`: a network to MATPOWER `.m` or native `.toml`
/// (from `.m`, `.toml` or pandapower `.json`; a pandapower grid keeps its
/// ids, names, line types and lengths in the native file).
pub fn convert(input: &Path, output: &Path, force: bool) -> Result<String> {
    let out_format = network_format(output)?;
    let kind = crate::results::output::OutputKind::Network;
    crate::results::output::check(output, force, kind, &[input])?;
    let net = load_network(input)?;
    let text = match (network_format(input)?, out_format) {
        (_, NetworkFormat::Pandapower) => {
            return Err(Error::Usage(format!(
                "{}: gridsim does not write pandapower files (write .m or .toml)",
                output.display()
            )))
        }
        (NetworkFormat::Pandapower, NetworkFormat::Native) => {
            toml::to_string(&crate::network::pandapower::read_file(input)?)
                .map_err(|e| Error::Usage(format!("{}: {e}", output.display())))?
        }
        (_, NetworkFormat::Matpower) => {
            if let Some(l) = net.loads.iter().find(|l| l.i_share != 0.0) {
                return Err(Error::Usage(format!(
                    "{}: the load at bus {} has a constant-current (ZIP 'i') share, which MATPOWER cannot express",
                    input.display(),
                    net.buses[l.bus].name.clone().unwrap_or_else(|| net.buses[l.bus].id.to_string())
                )));
            }
            matpower::write_case(&net)
        }
        (_, NetworkFormat::Native) => native::export::write_native(&net)?,
    };
    crate::results::output::TempOutput::new(output, force)?.write_all(text.as_bytes())?;
    Ok(format!(
        "wrote {} ({} buses, {} branches)",
        output.display(),
        net.buses.len(),
        net.branches.len()
    ))
}

/// `gridsim info FILE`: a summary of a network.
pub fn info(path: &Path) -> Result<String> {
    match network_format(path)? {
        NetworkFormat::Matpower => Ok(native::info::network_summary(&matpower::read_case(path)?)),
        NetworkFormat::Native => {
            let (f, _) = native::read_file(path)?;
            let mut lib = native::line_types::LineTypeLibrary::builtin()?;
            if let Some(extra) = &f.network.line_types {
                lib.extend_from_file(&path.parent().unwrap_or(Path::new(".")).join(extra))?;
            }
            for (n, t) in &f.line_types {
                lib.insert(n.clone(), t.clone());
            }
            let net = native::read_network(path)?;
            Ok(native::info::native_summary(&f, &lib, &net))
        }
        NetworkFormat::Pandapower => {
            let f = crate::network::pandapower::read_file(path)?;
            let lib = native::library(&f, path.parent().unwrap_or(Path::new(".")))?;
            let net = crate::network::pandapower::read_network(path)?;
            Ok(native::info::native_summary(&f, &lib, &net))
        }
    }
}
