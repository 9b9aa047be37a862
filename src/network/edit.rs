//! Changes to a network by element id: what a scenario variant's `[grid]`
//! table asks for (reconductor a line, replace a transformer, open or
//! close a switch, add or remove elements, define a line type).
//!
//! Edits work on the native description of the network (a MATPOWER case
//! is described as the native file `gridsim convert` would write), which is
//! then read exactly as a file would be: an edited network and the same
//! edits made by hand in the file give the same [`Network`], bit for bit.

use super::native::{self, NetworkFile, Source};
use super::{read_network, Network, NetworkFormat};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Element kinds a `[grid]` table can name (the native file's tables).
pub const KINDS: [&str; 14] = [
    "bus",
    "line",
    "transformer",
    "regulator",
    "switch",
    "branch",
    "load",
    "shunt",
    "ext_grid",
    "generator",
    "chp",
    "pv",
    "wind",
    "storage",
];

/// A scenario's changes to its network (`[grid]`, or `[variant.grid]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridEdits {
    /// Fields to change, by kind and id: `set.line."main 3" = { type = "JKLYJ-240" }`.
    #[serde(default)]
    pub set: BTreeMap<String, BTreeMap<String, toml::Table>>,
    /// New elements by kind, written as in the network file.
    #[serde(default)]
    pub add: BTreeMap<String, Vec<toml::Table>>,
    /// Ids of elements to take out, by kind.
    #[serde(default)]
    pub remove: BTreeMap<String, Vec<String>>,
    /// Line types defined (or redefined) for this scenario, by name.
    #[serde(default)]
    pub line_types: BTreeMap<String, toml::Table>,
}

impl GridEdits {
    /// Whether there is nothing to change.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
            && self.add.is_empty()
            && self.remove.is_empty()
            && self.line_types.is_empty()
    }

    /// Adds `other`'s edits after these (a variant's after the base file's):
    /// field changes merge, additions and removals accumulate.
    pub fn extend(&mut self, other: &GridEdits) {
        for (kind, by_id) in &other.set {
            let mine = self.set.entry(kind.clone()).or_default();
            for (id, fields) in by_id {
                let t = mine.entry(id.clone()).or_default();
                t.extend(fields.clone());
            }
        }
        for (kind, items) in &other.add {
            self.add
                .entry(kind.clone())
                .or_default()
                .extend(items.iter().cloned());
        }
        for (kind, ids) in &other.remove {
            self.remove
                .entry(kind.clone())
                .or_default()
                .extend(ids.iter().cloned());
        }
        self.line_types.extend(other.line_types.clone());
    }
}

/// Reads the network at `path` and applies `edits`; `label` names the
/// edits in messages (e.g. "variant 'reconductor'"). Every problem is
/// reported, naming the kind, id and field.
pub fn read_edited(path: &Path, edits: &GridEdits, label: &str) -> Result<Network> {
    if edits.is_empty() {
        return read_network(path);
    }
    let text = match super::network_format(path)? {
        NetworkFormat::Native => crate::input::read_text(path)?,
        NetworkFormat::Matpower => native::export::write_native(&read_network(path)?)?,
        NetworkFormat::Pandapower => toml::to_string(&super::pandapower::read_file(path)?)
            .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?,
    };
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::parse(path, 1, e.message().to_string()))?;
    let name = format!("{} as changed by {label}", path.display());
    let problems = apply(&mut doc, edits);
    if !problems.is_empty() {
        return Err(Error::invalid_in(&name, problems));
    }
    let edited = toml::to_string(&doc)
        .map_err(|e| Error::Usage(format!("{name}: cannot describe the network: {e}")))?;
    let f: NetworkFile =
        toml::from_str(&edited).map_err(|e| Error::Usage(format!("{name}: {}", e.message())))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let lib = native::library(&f, dir)?;
    native::to_network(&f, &lib, &Source { name, text: None })
}

/// Applies `edits` to a native network document; returns the problems.
pub fn apply(doc: &mut toml::Table, edits: &GridEdits) -> Vec<String> {
    let mut problems = Vec::new();
    for kind in edits
        .set
        .keys()
        .chain(edits.add.keys())
        .chain(edits.remove.keys())
    {
        if !KINDS.contains(&kind.as_str()) {
            problems.push(format!(
                "grid: '{kind}' is not an element kind (one of {})",
                KINDS.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    for (kind, ids) in &edits.remove {
        let arr = elements(doc, kind);
        for id in ids {
            match position(arr, id) {
                Some(k) => {
                    arr.remove(k);
                }
                None => problems.push(format!("grid.remove.{kind}: no {kind} '{id}' to remove")),
            }
        }
    }
    for (kind, by_id) in &edits.set {
        for (id, fields) in by_id {
            let what = format!("grid.set.{kind}.'{id}'");
            if fields.contains_key("id") {
                problems.push(format!(
                    "{what}: an element's id cannot be changed (remove it and add a new one)"
                ));
                continue;
            }
            let arr = elements(doc, kind);
            let Some(k) = position(arr, id) else {
                problems.push(format!("{what}: no {kind} '{id}' in the network"));
                continue;
            };
            let element = arr[k].as_table_mut().expect("elements are tables");
            element.extend(fields.clone());
            let element = element.clone();
            problems.extend(check_element(kind, &element, &what));
        }
    }
    for (kind, items) in &edits.add {
        for (n, item) in items.iter().enumerate() {
            let id = item.get("id").and_then(|v| v.as_str());
            let what = match id {
                Some(id) => format!("grid.add.{kind}.'{id}'"),
                None => format!("grid.add.{kind} #{}", n + 1),
            };
            let arr = elements(doc, kind);
            if id.is_some_and(|id| position(arr, id).is_some()) {
                problems.push(format!(
                    "{what}: the network already has a {kind} with this id"
                ));
                continue;
            }
            arr.push(toml::Value::Table(item.clone()));
            problems.extend(check_element(kind, item, &what));
        }
    }
    if !edits.line_types.is_empty() {
        let types = doc
            .entry("line_types")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(types) = types.as_table_mut() {
            for (name, t) in &edits.line_types {
                types.insert(name.clone(), toml::Value::Table(t.clone()));
            }
        }
    }
    problems
}

/// The array of elements of `kind` in `doc` (created empty if absent).
fn elements<'a>(doc: &'a mut toml::Table, kind: &str) -> &'a mut Vec<toml::Value> {
    let v = doc
        .entry(kind.to_string())
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    if !v.is_array() {
        *v = toml::Value::Array(Vec::new());
    }
    v.as_array_mut().expect("just made an array")
}

fn position(arr: &[toml::Value], id: &str) -> Option<usize> {
    arr.iter()
        .position(|e| e.get("id").and_then(|v| v.as_str()) == Some(id))
}

/// Checks one element's fields as the network reader would read them
/// (names, types, required fields), so that the message names the element.
fn check_element(kind: &str, element: &toml::Table, what: &str) -> Option<String> {
    let mut probe = toml::Table::new();
    let mut header = toml::Table::new();
    header.insert("name".into(), toml::Value::String("probe".into()));
    probe.insert("network".into(), toml::Value::Table(header));
    probe.insert(
        kind.to_string(),
        toml::Value::Array(vec![toml::Value::Table(element.clone())]),
    );
    let text = match toml::to_string(&probe) {
        Ok(t) => t,
        Err(e) => return Some(format!("{what}: {e}")),
    };
    toml::from_str::<NetworkFile>(&text)
        .err()
        .map(|e| format!("{what}: {}", e.message()))
}
