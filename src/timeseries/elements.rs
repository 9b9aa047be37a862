//! Element tables: which loads, generators and storage units follow which profile.
//!
//! CSV with at least the columns `kind` (`load`, `sgen` = generator
//! injecting P, `storage`), `name`, `bus` (bus id of the network file),
//! `p_mw`, `q_mvar`, `p_profile_col`, `q_profile_col` (empty = constant);
//! other columns are ignored. The value at step t is rated × factor.
//! Signs: loads and storage consume (pandapower's load convention, storage
//! p > 0 = charging); sgens inject.

use super::profiles::{read_text, ProfileTable};
use crate::error::{Error, Result};
use crate::input::excerpt;
use crate::network::Network;
use std::path::Path;

/// What an element does with its power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementKind {
    /// Consumes P and Q.
    Load,
    /// Injects P and Q (static generator: PV, wind, CHP, ...).
    Sgen,
    /// Consumes P when charging (negative = discharging).
    Storage,
}

/// One row of an element table, resolved against a network and profiles.
#[derive(Debug, Clone)]
pub struct Element {
    /// Kind.
    pub kind: ElementKind,
    /// Name.
    pub name: String,
    /// Bus index in the network.
    pub bus: usize,
    /// Rated active power, MW.
    pub p_mw: f64,
    /// Rated reactive power, Mvar.
    pub q_mvar: f64,
    /// Profile column scaling P (None = constant).
    pub p_col: Option<usize>,
    /// Profile column scaling Q (None = constant).
    pub q_col: Option<usize>,
}

impl Element {
    /// Active power at step `t` in the element's own sign convention, MW.
    #[inline]
    pub fn p_at(&self, profiles: &ProfileTable, t: usize) -> f64 {
        match self.p_col {
            Some(c) => self.p_mw * profiles.value(c, t),
            None => self.p_mw,
        }
    }

    /// Reactive power at step `t`, Mvar.
    #[inline]
    pub fn q_at(&self, profiles: &ProfileTable, t: usize) -> f64 {
        match self.q_col {
            Some(c) => self.q_mvar * profiles.value(c, t),
            None => self.q_mvar,
        }
    }

    /// Whether the element draws power in the load convention.
    pub fn consumes(&self) -> bool {
        self.kind != ElementKind::Sgen
    }
}

const REQUIRED: [&str; 7] = [
    "kind",
    "name",
    "bus",
    "p_mw",
    "q_mvar",
    "p_profile_col",
    "q_profile_col",
];

/// Reads an element table and resolves buses and profile columns; all
/// problems are collected and reported together.
pub fn read_elements(path: &Path, net: &Network, profiles: &ProfileTable) -> Result<Vec<Element>> {
    let text = read_text(path)?;
    parse_elements(path, &text, net, profiles)
}

/// Parses element-table text (`path` for messages).
pub fn parse_elements(
    path: &Path,
    text: &str,
    net: &Network,
    profiles: &ProfileTable,
) -> Result<Vec<Element>> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| Error::parse(path, 1, format!("bad CSV header: {e}")))?
        .clone();
    let mut col = [0usize; 7];
    for (k, name) in REQUIRED.iter().enumerate() {
        col[k] = headers.iter().position(|h| h == *name).ok_or_else(|| {
            Error::parse(
                path,
                1,
                format!(
                    "missing required column '{name}' (needs {})",
                    REQUIRED.join(", ")
                ),
            )
        })?;
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let buses = net.bus_lookup();
    for (row, rec) in rdr.records().enumerate() {
        let line = row + 2;
        let rec = rec.map_err(|e| Error::parse(path, line, format!("bad CSV record: {e}")))?;
        let at = |field: &str, msg: String| format!("{}:{line}: {field}: {msg}", path.display());
        let kind = match &rec[col[0]] {
            "load" => ElementKind::Load,
            "sgen" => ElementKind::Sgen,
            "storage" => ElementKind::Storage,
            other => {
                problems.push(at(
                    "kind",
                    format!("'{}' is not load, sgen or storage", excerpt(other)),
                ));
                continue;
            }
        };
        let name = rec[col[1]].to_string();
        let bus_ref = match rec[col[2]].parse::<u64>() {
            Ok(n) => crate::network::BusRef::Number(n),
            Err(_) => crate::network::BusRef::Name(rec[col[2]].to_string()),
        };
        let bus = match buses.find(&bus_ref) {
            Some(b) => b,
            None => {
                problems.push(at(
                    "bus",
                    format!(
                        "'{}' is not a bus of network '{}'",
                        excerpt(&rec[col[2]]),
                        net.name
                    ),
                ));
                continue;
            }
        };
        let mut num = |k: usize, field: &str| -> f64 {
            match rec[col[k]].parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    problems.push(at(
                        field,
                        format!("'{}' is not a finite number", excerpt(&rec[col[k]])),
                    ));
                    0.0
                }
            }
        };
        let p_mw = num(3, "p_mw");
        let q_mvar = num(4, "q_mvar");
        let mut prof = |k: usize, field: &str| -> Option<usize> {
            let s = &rec[col[k]];
            if s.is_empty() {
                return None;
            }
            let c = profiles.column(s);
            if c.is_none() {
                problems.push(at(
                    field,
                    format!(
                        "profile column '{}' is not in the profile table",
                        excerpt(s)
                    ),
                ));
            }
            c
        };
        let p_col = prof(5, "p_profile_col");
        let q_col = prof(6, "q_profile_col");
        out.push(Element {
            kind,
            name,
            bus,
            p_mw,
            q_mvar,
            p_col,
            q_col,
        });
    }
    if !problems.is_empty() {
        return Err(Error::Invalid {
            source_name: path.display().to_string(),
            problems,
        });
    }
    Ok(out)
}
