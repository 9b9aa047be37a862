//! Implementations of the `gridsim` subcommands. `main.rs` parses the
//! command line and calls these; they load inputs, run the pipeline and
//! format output.

pub mod pf;
pub mod run;

use crate::error::{Error, Result};
use crate::network::{matpower, Network};
use std::path::Path;

/// Loads a network file, choosing the reader by extension.
pub fn load_network(path: &Path) -> Result<Network> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
    {
        Some(ext) if ext == "m" => matpower::read_case(path),
        _ => Err(Error::Usage(format!(
            "{}: unknown network file type (expected a MATPOWER .m file)",
            path.display()
        ))),
    }
}
