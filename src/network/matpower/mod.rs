//! MATPOWER case files (`.m`, format version 2, and version 1): import and export.
//!
//! Import runs the file through a small interpreter ([`interp`]) so that the
//! statements real case files execute after their matrices (unit
//! conversions, power-factor arithmetic) take effect, then builds a
//! [`Network`] ([`import`]). Export writes a plain version-2 file.

pub mod export;
pub mod import;
pub mod interp;
pub mod lexer;

use crate::error::Result;
use crate::network::Network;
use std::path::Path;

/// Reads a MATPOWER case file.
pub fn read_case(path: &Path) -> Result<Network> {
    let bytes = crate::input::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    parse_case(path, &text)
}

/// Parses MATPOWER case text; `path` is used in messages and for the case name.
pub fn parse_case(path: &Path, text: &str) -> Result<Network> {
    let ws = interp::run(path, text)?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "case".to_string());
    import::network_from_workspace(&ws, path, &name)
}

pub use export::write_case;
