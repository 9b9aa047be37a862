//! The line-type library: built-in standard cables and overhead lines
//! (with sources, see `line_types.toml`), extendable by a file.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const BUILTIN: &str = include_str!("line_types.toml");

/// Electrical data of a line type.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LineType {
    /// Resistance at 20 °C, Ω/km.
    pub r_ohm_per_km: f64,
    /// Reactance, Ω/km.
    pub x_ohm_per_km: f64,
    /// Capacitance, nF/km.
    #[serde(default)]
    pub c_nf_per_km: f64,
    /// Continuous current rating, kA.
    #[serde(default)]
    pub max_i_ka: f64,
    /// "cable" or "overhead".
    #[serde(default = "unknown")]
    pub kind: String,
    /// Where the data come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn unknown() -> String {
    "unknown".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryFile {
    types: BTreeMap<String, LineType>,
}

/// Named line types.
#[derive(Debug, Clone, Default)]
pub struct LineTypeLibrary {
    types: BTreeMap<String, LineType>,
}

impl LineTypeLibrary {
    /// The library shipped with gridsim.
    pub fn builtin() -> Result<LineTypeLibrary> {
        let f: LibraryFile = toml::from_str(BUILTIN)
            .map_err(|e| Error::Usage(format!("built-in line types: {e}")))?;
        Ok(LineTypeLibrary { types: f.types })
    }

    /// Adds (or overrides) the types of a library file.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<()> {
        let text = crate::input::read_text(path)?;
        let f: LibraryFile =
            toml::from_str(&text).map_err(|e| crate::input::toml_error(path, &text, e))?;
        self.types.extend(f.types);
        Ok(())
    }

    /// Adds one type.
    pub fn insert(&mut self, name: String, t: LineType) {
        self.types.insert(name, t);
    }

    /// Looks a type up by name.
    pub fn get(&self, name: &str) -> Option<&LineType> {
        self.types.get(name)
    }

    /// All types.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &LineType)> {
        self.types.iter()
    }

    /// " (did you mean ...?)" for a misspelt name.
    pub fn suggest(&self, name: &str) -> String {
        let key = |s: &str| s.to_ascii_lowercase().replace([' ', '-', '_', '/'], "");
        let k = key(name);
        let close: Vec<&String> = self
            .types
            .keys()
            .filter(|t| {
                let kt = key(t);
                kt.contains(&k) || k.contains(&kt)
            })
            .take(3)
            .collect();
        if close.is_empty() {
            String::new()
        } else {
            format!(
                " (did you mean {}?)",
                close
                    .iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_library_parses_and_has_chinese_types() {
        let l = LineTypeLibrary::builtin().unwrap();
        for t in [
            "YJV22-8.7/15 3x240",
            "LGJ-120/20",
            "JKLYJ-10/185",
            "NA2XS2Y 1x185 RM/25 12/20 kV",
            "CABLE_CIGRE_MV",
        ] {
            let x = l.get(t).unwrap_or_else(|| panic!("{t}"));
            assert!(
                x.r_ohm_per_km > 0.0 && x.max_i_ka > 0.0 && x.source.is_some(),
                "{t}"
            );
        }
        assert!(l.suggest("lgj-120").contains("LGJ-120/20"));
    }
}
