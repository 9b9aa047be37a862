//! Scenario comparison: KPIs of every scenario in one or more results
//! files, with deltas against a baseline scenario.

use super::kpi::KPI_NAMES;
use crate::error::{Error, Result};
use hdf5::types::VarLenUnicode;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// KPIs of the scenarios of one or more results files, in run order.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Scenario names as shown: the scenario's name, prefixed with its
    /// file's name (`a.h5:base`) where several files share a name.
    pub scenarios: Vec<String>,
    /// Where each scenario is stored: results file and scenario group.
    pub sources: Vec<(PathBuf, String)>,
    /// KPI names (columns).
    pub kpis: Vec<String>,
    /// `values[s][k]`.
    pub values: Vec<Vec<f64>>,
    /// Index of the baseline scenario.
    pub baseline: usize,
    /// Each scenario's notes: where its model is simpler than its inputs
    /// asked (the group's `notes` attribute, one per line; none in files
    /// written before it existed).
    pub notes: Vec<Vec<String>>,
}

fn h5(path: &Path, e: hdf5::Error) -> Error {
    Error::Usage(format!("{}: {e}", path.display()))
}

/// Reads the scenario names of a results file, in run order.
pub fn scenario_names(file: &hdf5::File, path: &Path) -> Result<Vec<String>> {
    let ds = file.dataset("scenario_names").map_err(|_| {
        Error::Usage(format!(
            "{}: not a gridsim results file (no /scenario_names)",
            path.display()
        ))
    })?;
    let names: Vec<VarLenUnicode> = ds.read_raw().map_err(|e| h5(path, e))?;
    Ok(names.into_iter().map(|s| s.as_str().to_string()).collect())
}

/// Counts of a run compared next to the KPIs (`scenarios/<s>/run`).
pub const RUN_COUNTS: [&str; 3] = ["tap_changes", "control_not_settled", "newton_fallbacks"];

/// Accounting settings stored beside the KPIs (1 or 0; files without them
/// read as 1, 0).
pub const KPI_SETTINGS: [(&str, f64); 3] = [
    ("emission_factors_given", 1.0),
    ("exports_credited", 0.0),
    ("reference_scenario", 0.0),
];

/// The KPIs and run counts of scenario `s` of an open results file.
fn read_kpis(file: &hdf5::File, path: &Path, s: &str) -> Result<Vec<f64>> {
    let group = |name: &str| {
        file.group(&format!("scenarios/{s}/{name}"))
            .map_err(|e| h5(path, e))
    };
    let (kpi, run) = (group("kpi")?, group("run")?);
    let mut v: Vec<f64> = KPI_NAMES
        .iter()
        .map(|k| {
            kpi.attr(k)
                .and_then(|a| a.read_scalar::<f64>())
                .unwrap_or(f64::NAN)
        })
        .collect();
    v.extend(RUN_COUNTS.iter().map(|k| {
        run.attr(k)
            .and_then(|a| a.read_scalar::<i64>())
            .map_or(f64::NAN, |n| n as f64)
    }));
    v.extend(KPI_SETTINGS.iter().map(|(k, default)| {
        kpi.attr(k)
            .and_then(|a| a.read_scalar::<i64>())
            .map_or(*default, |n| n as f64)
    }));
    Ok(v)
}

/// Reads the KPIs of every scenario in `paths` (one file or several, e.g.
/// runs of different networks or option sets); `baseline` names a scenario
/// as shown (default: the first).
pub fn read(paths: &[PathBuf], baseline: Option<&str>) -> Result<Comparison> {
    if paths.is_empty() {
        return Err(Error::Usage("name at least one results file".into()));
    }
    let mut sources = Vec::new();
    let mut values = Vec::new();
    let mut notes = Vec::new();
    for path in paths {
        let file = super::hdf5::open_results(path)?;
        for s in scenario_names(&file, path)? {
            values.push(read_kpis(&file, path, &s)?);
            notes.push(read_notes(&file, &s));
            sources.push((path.clone(), s));
        }
    }
    let mut seen = std::collections::HashSet::new();
    let clash = sources.iter().any(|(_, s)| !seen.insert(s.clone()));
    let scenarios: Vec<String> = sources
        .iter()
        .map(|(p, s)| {
            if clash {
                let f = p
                    .file_name()
                    .map_or(String::new(), |f| f.to_string_lossy().into_owned());
                format!("{f}:{s}")
            } else {
                s.clone()
            }
        })
        .collect();
    let unique: std::collections::HashSet<&String> = scenarios.iter().collect();
    if unique.len() != scenarios.len() {
        return Err(Error::Usage(format!(
            "two scenarios would both be shown as '{}': give each results file once, with distinct file names",
            scenarios.iter().find(|s| scenarios.iter().filter(|x| x == s).count() > 1).cloned().unwrap_or_default()
        )));
    }
    let baseline = match baseline {
        None => 0,
        Some(b) => scenarios.iter().position(|s| s == b).ok_or_else(|| {
            Error::Usage(format!(
                "--baseline '{b}' is not a scenario of the results (scenarios: {})",
                scenarios.join(", ")
            ))
        })?,
    };
    Ok(Comparison {
        scenarios,
        sources,
        kpis: KPI_NAMES
            .iter()
            .chain(&RUN_COUNTS)
            .chain(KPI_SETTINGS.iter().map(|s| &s.0))
            .map(|s| s.to_string())
            .collect(),
        values,
        baseline,
        notes,
    })
}

/// Scenario `s`'s notes (`scenarios/<s>` attribute `notes`, one per line).
fn read_notes(file: &hdf5::File, s: &str) -> Vec<String> {
    let text = file
        .group(&format!("scenarios/{s}"))
        .and_then(|g| g.attr("notes"))
        .and_then(|a| a.read_scalar::<VarLenUnicode>());
    match text {
        Ok(t) => t.as_str().lines().map(str::to_string).collect(),
        Err(_) => Vec::new(),
    }
}

/// Scenario notes as warnings, each distinct note once with the scenarios
/// it concerns (a study's variants usually share theirs):
/// `scenarios 'a', 'b': note`.
pub fn notes_by_scenario<'a>(notes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut grouped: Vec<(&str, Vec<&str>)> = Vec::new();
    for (name, note) in notes {
        match grouped.iter_mut().find(|(n, _)| *n == note) {
            Some((_, names)) => names.push(name),
            None => grouped.push((note, vec![name])),
        }
    }
    (grouped.into_iter())
        .map(|(note, names)| {
            let plural = if names.len() == 1 { "" } else { "s" };
            format!("scenario{plural} '{}': {note}", names.join("', '"))
        })
        .collect()
}

/// A CSV field: quoted when it holds a comma, quote or line break; a
/// leading `= + - @` (which spreadsheets run as a formula) is escaped with
/// a quote character, as OWASP recommends.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// KPIs shown in the table and markdown formats (CSV and JSON hold all).
pub const KEY_KPIS: [&str; 16] = [
    // The grid.
    "loss_mwh",
    "loss_percent",
    "min_vm_pu",
    "max_vm_pu",
    "hours_voltage_violation",
    "max_loading_percent",
    "tap_changes",
    "curtailed_mwh",
    // Energy and CO2 on the study's boundary.
    "energy_served_mwh",
    "import_mwh",
    "export_mwh",
    "renewable_share_percent",
    "heat_demand_mwh",
    "pes_percent",
    "co2_total_t",
    "co2_avoided_t",
];

/// Annual average overall energy utilisation a natural-gas distributed
/// energy (CHP/CCHP) plant must exceed in China: 70 %, the guideline of
/// NDRC, MOF, MOHURD and NEA on natural-gas distributed energy (2011,
/// 发改能源〔2011〕2196号); the figure is GB 51131-2016's (electricity +
/// heating + cooling supplied) / fuel (LHV).
pub const CHP_UTILISATION_MIN_PERCENT: f64 = 70.0;

/// Whether more of a KPI is better (+1), worse (−1) or neither (0).
pub type Merit = i8;

/// Plain-language name, unit and merit of a KPI or run count (the key
/// itself, no unit and no merit for an unknown key).
pub fn kpi_label(key: &str) -> (&str, &'static str, Merit) {
    match key {
        "energy_served_mwh" => ("Energy served", "MWh", 0),
        "import_mwh" => ("Import from the upstream grid", "MWh", -1),
        "export_mwh" => ("Export to the upstream grid", "MWh", 0),
        "generation_mwh" => ("Local generation", "MWh", 1),
        "renewable_mwh" => ("Renewable generation", "MWh", 1),
        "loss_mwh" => ("Grid losses", "MWh", -1),
        "loss_percent" => ("Losses, share of energy served", "%", -1),
        "min_vm_pu" => ("Lowest bus voltage", "p.u.", 0),
        "max_vm_pu" => ("Highest bus voltage", "p.u.", 0),
        "hours_voltage_violation" => ("Hours with a voltage outside the band", "h", -1),
        "hours_overvoltage" => ("Hours with a voltage above the band", "h", -1),
        "bus_hours_voltage_violation" => ("Bus-hours outside the band", "h", -1),
        "hours_overload" => ("Hours with an overloaded line or transformer", "h", -1),
        "max_loading_percent" => ("Highest line or transformer loading", "%", -1),
        "peak_import_mw" => ("Peak import", "MW", -1),
        "renewable_share_percent" => ("Renewable share of energy served", "%", 1),
        "curtailed_mwh" => ("Curtailed generation", "MWh", -1),
        "tap_changes" => ("Tap changes", "", -1),
        "pes_percent" => ("Primary energy savings of CHP", "%", 1),
        "co2_total_t" => ("CO2 emitted", "t", -1),
        "co2_grid_t" => ("CO2 of the grid exchange", "t", -1),
        "co2_export_t" => ("CO2 credit of exports (at the grid factor)", "t", 0),
        "net_import_mwh" => ("Net import (import − export)", "MWh", 0),
        "heat_demand_mwh" => ("Heat demand served", "MWh", 0),
        "heat_pump_heat_mwh" => ("Heat from heat pumps", "MWh", 0),
        "heat_pump_electricity_mwh" => ("Electricity of heat pumps", "MWh", 0),
        "chp_electricity_mwh" => ("CHP electricity", "MWh", 0),
        "chp_heat_mwh" => ("CHP heat", "MWh", 0),
        "chp_fuel_mwh" => ("CHP fuel", "MWh", 0),
        "boiler_heat_mwh" => ("Boiler heat", "MWh", 0),
        "boiler_fuel_mwh" => ("Boiler fuel", "MWh", 0),
        "cooling_demand_mwh" => ("Cooling demand served", "MWh", 0),
        "absorption_cooling_mwh" => ("Cooling from absorption chillers (CCHP)", "MWh", 0),
        "absorption_heat_mwh" => ("CHP heat driving absorption chillers", "MWh", 0),
        "electric_cooling_mwh" => ("Cooling from electric chillers", "MWh", 0),
        "chiller_electricity_mwh" => ("Electricity of electric chillers", "MWh", 0),
        "chp_heating_mwh" => ("Heating served by CHP", "MWh", 0),
        "chp_energy_utilisation_percent" => {
            ("Overall energy utilisation of CHP/CCHP (GB 51131)", "%", 1)
        }
        "chp_primary_energy_ratio" => ("Primary energy ratio of CHP/CCHP", "", 1),
        "primary_energy_mwh" => ("Primary energy (non-renewable)", "MWh", -1),
        "primary_energy_saved_mwh" => ("Primary energy saved against the reference", "MWh", 1),
        "co2_chp_t" => ("CO2 of CHP fuel", "t", -1),
        "co2_boiler_t" => ("CO2 of boiler fuel", "t", -1),
        "co2_grid_marginal_t" => ("CO2 of the net exchange at the marginal factor", "t", -1),
        "co2_avoided_t" => ("CO2 avoided against the reference scenario", "t", 1),
        "co2_avoided_marginal_t" => ("CO2 avoided, grid at its marginal factor", "t", 1),
        "steps_not_converged" => ("Steps not converged", "", -1),
        "control_not_settled" => ("Steps with unsettled controllers", "", -1),
        _ => (key, "", 0),
    }
}

impl Comparison {
    /// Scenario `s`'s value of `kpi` (NaN when unknown).
    pub fn value(&self, s: usize, kpi: &str) -> f64 {
        self.kpis
            .iter()
            .position(|k| k == kpi)
            .map_or(f64::NAN, |k| self.values[s][k])
    }

    /// Delta of scenario `s` against the baseline.
    pub fn delta(&self, s: usize, kpi: &str) -> f64 {
        self.value(s, kpi) - self.value(self.baseline, kpi)
    }

    /// CSV (RFC 4180): one row per scenario; every KPI and its delta.
    /// Names are quoted where needed and kept from being read as
    /// spreadsheet formulas.
    pub fn to_csv(&self) -> String {
        let mut o = String::from("scenario");
        for k in &self.kpis {
            let _ = write!(o, ",{k},{k}_delta");
        }
        o.push('\n');
        for (s, name) in self.scenarios.iter().enumerate() {
            o.push_str(&csv_field(name));
            for k in &self.kpis {
                let _ = write!(
                    o,
                    ",{},{}",
                    fmt_csv(self.value(s, k)),
                    fmt_csv(self.delta(s, k))
                );
            }
            o.push('\n');
        }
        o
    }

    /// JSON: `{"baseline": ..., "scenarios": [{"name":..., "kpi": {...}, "delta": {...}}]}`.
    pub fn to_json(&self) -> String {
        let num = |x: f64| {
            if x.is_finite() {
                serde_json::json!(x)
            } else {
                serde_json::Value::Null
            }
        };
        let rows: Vec<serde_json::Value> = self
            .scenarios
            .iter()
            .enumerate()
            .map(|(s, name)| {
                let kpi: serde_json::Map<String, serde_json::Value> = self
                    .kpis
                    .iter()
                    .map(|k| (k.clone(), num(self.value(s, k))))
                    .collect();
                let delta: serde_json::Map<String, serde_json::Value> = self
                    .kpis
                    .iter()
                    .map(|k| (k.clone(), num(self.delta(s, k))))
                    .collect();
                serde_json::json!({"name": name, "kpi": kpi, "delta": delta})
            })
            .collect();
        serde_json::json!({"baseline": self.scenarios[self.baseline], "scenarios": rows})
            .to_string()
    }

    /// Aligned text table of the key KPIs, deltas in parentheses.
    pub fn to_table(&self) -> String {
        self.render(false)
    }

    /// Markdown table of the key KPIs with deltas.
    pub fn to_markdown(&self) -> String {
        self.render(true)
    }

    fn render(&self, md: bool) -> String {
        let mut cells: Vec<Vec<String>> = Vec::new();
        let mut header = vec!["scenario".to_string()];
        header.extend(KEY_KPIS.iter().map(|k| k.to_string()));
        cells.push(header);
        for (s, name) in self.scenarios.iter().enumerate() {
            let name = if md {
                name.replace('\\', "\\\\").replace('|', "\\|")
            } else {
                name.clone()
            };
            let mut row = vec![if s == self.baseline {
                format!("{name} (baseline)")
            } else {
                name
            }];
            for k in KEY_KPIS {
                let v = self.value(s, k);
                let d = self.delta(s, k);
                row.push(if s == self.baseline || !d.is_finite() {
                    fmt_num(v)
                } else {
                    format!(
                        "{} ({}{})",
                        fmt_num(v),
                        if d >= 0.0 { "+" } else { "" },
                        fmt_num(d)
                    )
                });
            }
            cells.push(row);
        }
        let ncol = cells[0].len();
        let widths: Vec<usize> = (0..ncol)
            .map(|c| {
                cells
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut o = String::new();
        for (i, r) in cells.iter().enumerate() {
            if md {
                o.push('|');
                for (c, cell) in r.iter().enumerate() {
                    let _ = write!(o, " {:w$} |", cell, w = widths[c]);
                }
                o.push('\n');
                if i == 0 {
                    o.push('|');
                    for (c, w) in widths.iter().enumerate() {
                        let _ = write!(
                            o,
                            "{}{}|",
                            if c == 0 { ":" } else { "" },
                            "-".repeat(w + 2 - usize::from(c == 0))
                        );
                    }
                    o.push('\n');
                }
            } else {
                for (c, cell) in r.iter().enumerate() {
                    if c == 0 {
                        let _ = write!(o, "{:<w$}", cell, w = widths[c]);
                    } else {
                        let _ = write!(o, "  {:>w$}", cell, w = widths[c]);
                    }
                }
                o.push('\n');
            }
        }
        for w in self.warnings() {
            let _ = writeln!(o, "{}warning: {w}", if md { "\n" } else { "" });
        }
        for c in self.chp_criteria() {
            let _ = writeln!(o, "{}criterion: {c}", if md { "\n" } else { "" });
        }
        o
    }

    /// The acceptance criterion of gas CCHP plants in China, per scenario
    /// with trigeneration (CHP fuel and absorption cooling): annual average
    /// overall energy utilisation at least [`CHP_UTILISATION_MIN_PERCENT`],
    /// pass or fail, in words.
    pub fn chp_criteria(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (s, name) in self.scenarios.iter().enumerate() {
            let u = self.value(s, "chp_energy_utilisation_percent");
            let cchp = self.value(s, "chp_fuel_mwh") > 0.0
                && self.value(s, "absorption_cooling_mwh") > 0.0;
            if !(cchp && u.is_finite()) {
                continue;
            }
            let verdict = if u >= CHP_UTILISATION_MIN_PERCENT {
                "passes"
            } else {
                "fails"
            };
            out.push(format!(
                "scenario '{name}': overall energy utilisation of its CCHP {} % {verdict} the ≥ {CHP_UTILISATION_MIN_PERCENT} % of China's natural-gas distributed energy guideline (NDRC/MOF/MOHURD/NEA 2011); primary energy ratio {}",
                fmt_num(u),
                fmt_num(self.value(s, "chp_primary_energy_ratio"))
            ));
        }
        out
    }

    /// Scenarios whose numbers rest on steps that did not converge or
    /// controllers that had not settled, or on a model simpler than their
    /// inputs asked (their notes), in words.
    pub fn warnings(&self) -> Vec<String> {
        let notes = self.scenarios.iter().zip(&self.notes);
        let mut w = notes_by_scenario(
            notes.flat_map(|(name, n)| n.iter().map(move |n| (name.as_str(), n.as_str()))),
        );
        for (s, name) in self.scenarios.iter().enumerate() {
            let bad = self.value(s, "steps_not_converged");
            if bad > 0.0 {
                w.push(format!(
                    "scenario '{name}': {bad} step(s) did not converge (left out of the KPIs)"
                ));
            }
            if self.value(s, "emission_factors_given") == 0.0 {
                w.push(format!(
                    "scenario '{name}' states no emission factors ([emissions]): its CO2 figures are 0, not measured"
                ));
            }
            for (kpi, what, table) in [
                ("heat_demand_mwh", "heat", "[[heat]]"),
                ("cooling_demand_mwh", "cooling", "[[cooling]]"),
            ] {
                let (own, base) = (self.value(s, kpi), self.value(self.baseline, kpi));
                if (own - base).abs() > 1e-6 * own.abs().max(base.abs()).max(1.0) {
                    w.push(format!(
                        "scenario '{name}' serves {} MWh of {what}, the baseline '{}' {} MWh: their CO2 and primary energy are not on one boundary (declare the {what} as {table} sites every scenario serves)",
                        fmt_num(own),
                        self.scenarios[self.baseline],
                        fmt_num(base)
                    ));
                }
            }
            let unsettled = self.value(s, "control_not_settled");
            if unsettled > 0.0 {
                w.push(format!(
                    "scenario '{name}': in {unsettled} step(s) the Q(U)/P(U) controllers had not settled"
                ));
            }
        }
        w
    }
}

fn fmt_csv(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// Compact number formatting: 4 significant digits, no exponent for usual magnitudes.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.3}")
    } else if a >= 0.001 {
        format!("{x:.4}")
    } else {
        format!("{x:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::notes_by_scenario;

    #[test]
    fn shared_notes_are_listed_once_with_their_scenarios() {
        let w = notes_by_scenario([("a", "x"), ("b", "y"), ("c", "x")]);
        assert_eq!(w, ["scenarios 'a', 'c': x", "scenario 'b': y"]);
        assert!(notes_by_scenario([]).is_empty());
    }
}
