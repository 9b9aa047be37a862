//! Profile tables: named columns of normalized factors, one row per step.
//!
//! CSV (optionally gzip-compressed, recognised by a `.gz` name or the gzip
//! magic bytes) with a header. The time column is the one named `time`
//! (also `timestamp`, `datetime`, `date`), else the first column; its
//! labels must parse (ISO-8601 or `dd.mm.yyyy HH:MM`) but do not place
//! rows: row k is step k. A column named `step` is an index and ignored.
//! Every other column is a profile of finite numbers.

use super::time::Timestamp;
use crate::error::{Error, Result};
use crate::input::excerpt;
use std::collections::HashMap;
use std::path::Path;

/// Profiles in memory, column-major.
#[derive(Debug, Clone)]
pub struct ProfileTable {
    /// Column names, in file order (time and step columns excluded).
    pub names: Vec<String>,
    index: HashMap<String, usize>,
    /// Number of rows (steps).
    pub n_steps: usize,
    /// `data[c * n_steps + t]`.
    data: Vec<f64>,
    /// First time label.
    pub first_time: Option<Timestamp>,
    /// Interval between the first two labels, seconds.
    pub label_step_s: Option<i64>,
}

impl ProfileTable {
    /// Column index of `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Whole column `c`.
    pub fn series(&self, c: usize) -> &[f64] {
        &self.data[c * self.n_steps..(c + 1) * self.n_steps]
    }

    /// Value of column `c` at step `t`.
    #[inline]
    pub fn value(&self, c: usize, t: usize) -> f64 {
        self.data[c * self.n_steps + t]
    }

    /// Builds a table from named columns of equal length.
    pub fn from_columns(columns: Vec<(String, Vec<f64>)>) -> Result<ProfileTable> {
        let n_steps = columns.first().map_or(0, |c| c.1.len());
        let mut t = ProfileTable {
            names: Vec::new(),
            index: HashMap::new(),
            n_steps,
            data: Vec::with_capacity(n_steps * columns.len()),
            first_time: None,
            label_step_s: None,
        };
        for (name, col) in columns {
            if col.len() != n_steps {
                return Err(Error::Usage(format!(
                    "profile '{name}' has {} values, expected {n_steps}",
                    col.len()
                )));
            }
            if t.index.insert(name.clone(), t.names.len()).is_some() {
                return Err(Error::Usage(format!("duplicate profile name '{name}'")));
            }
            t.names.push(name);
            t.data.extend(col);
        }
        Ok(t)
    }
}

/// Opens a possibly gzip-compressed text file (see [`crate::input`]).
pub use crate::input::read_text;

/// Reads a profile CSV.
pub fn read_profiles(path: &Path) -> Result<ProfileTable> {
    let text = read_text(path)?;
    parse_profiles(path, &text)
}

/// Parses profile CSV text (`path` for messages).
pub fn parse_profiles(path: &Path, text: &str) -> Result<ProfileTable> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| Error::parse(path, 1, format!("bad CSV header: {e}")))?
        .clone();
    if headers.is_empty() {
        return Err(Error::parse(path, 1, "empty CSV header"));
    }
    let lower: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    let time_col = lower
        .iter()
        .position(|h| matches!(h.as_str(), "time" | "timestamp" | "datetime" | "date"))
        .unwrap_or(0);
    let step_col = lower.iter().position(|h| h == "step");
    let value_cols: Vec<usize> = (0..headers.len())
        .filter(|&c| c != time_col && Some(c) != step_col)
        .collect();
    let mut seen = HashMap::new();
    for &c in &value_cols {
        let name = &headers[c];
        if name.is_empty() {
            return Err(Error::parse(
                path,
                1,
                format!("column {} has an empty name", c + 1),
            ));
        }
        if seen.insert(name.to_string(), c).is_some() {
            return Err(Error::parse(
                path,
                1,
                format!("duplicate column '{}'", excerpt(name)),
            ));
        }
    }
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); value_cols.len()];
    let mut first_time = None;
    let mut second_time = None;
    for (row, rec) in rdr.records().enumerate() {
        let line = row + 2;
        let rec = rec.map_err(|e| Error::parse(path, line, format!("bad CSV record: {e}")))?;
        if rec.len() != headers.len() {
            return Err(Error::parse(
                path,
                line,
                format!("{} fields, but the header has {}", rec.len(), headers.len()),
            ));
        }
        let label = &rec[time_col];
        let ts = Timestamp::parse(label).ok_or_else(|| {
            Error::parse(
                path,
                line,
                format!(
                    "column '{}': time label '{}' is neither ISO-8601 nor dd.mm.yyyy HH:MM",
                    excerpt(&headers[time_col]),
                    excerpt(label)
                ),
            )
        })?;
        if row == 0 {
            first_time = Some(ts);
        } else if row == 1 {
            second_time = Some(ts);
        }
        for (k, &c) in value_cols.iter().enumerate() {
            let s = &rec[c];
            let v: f64 = s.parse().map_err(|_| {
                Error::parse(
                    path,
                    line,
                    format!(
                        "column '{}': '{}' is not a number",
                        excerpt(&headers[c]),
                        excerpt(s)
                    ),
                )
            })?;
            if !v.is_finite() {
                return Err(Error::parse(
                    path,
                    line,
                    format!(
                        "column '{}': value {} is not finite",
                        excerpt(&headers[c]),
                        excerpt(s)
                    ),
                ));
            }
            cols[k].push(v);
        }
    }
    let named = value_cols
        .iter()
        .zip(cols)
        .map(|(&c, v)| (headers[c].to_string(), v))
        .collect();
    let mut t = ProfileTable::from_columns(named)?;
    if t.n_steps == 0 {
        return Err(Error::parse(path, 2, "the profile table has no rows"));
    }
    t.first_time = first_time;
    t.label_step_s = match (first_time, second_time) {
        (Some(a), Some(b)) if b.0 > a.0 => Some(b.0 - a.0),
        _ => None,
    };
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_simbench_style() {
        let t = parse_profiles(
            Path::new("p.csv"),
            "step,time,A_pload,PV\n0,01.01.2016 00:00,0.5,0\n1,01.01.2016 00:15,0.25,0.1\n",
        )
        .unwrap();
        assert_eq!(t.names, vec!["A_pload", "PV"]);
        assert_eq!(t.n_steps, 2);
        assert_eq!(t.series(t.column("PV").unwrap()), &[0.0, 0.1]);
        assert_eq!(t.label_step_s, Some(900));
    }

    #[test]
    fn repeated_dst_labels_do_not_drop_rows() {
        let t = parse_profiles(
            Path::new("p.csv"),
            "time,x\n30.10.2016 02:45,1\n30.10.2016 02:00,2\n30.10.2016 02:15,3\n",
        )
        .unwrap();
        assert_eq!(t.series(0), &[1.0, 2.0, 3.0]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse_profiles(
            Path::new("p.csv"),
            "time,x\n2016-01-01T00:00,1\n2016-01-01T00:15,abc\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "p.csv:3: column 'x': 'abc' is not a number");
        let e = parse_profiles(Path::new("p.csv"), "time,x\nnoon,1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.csv:2: column 'time': time label 'noon'"),
            "{e}"
        );
        let e = parse_profiles(Path::new("p.csv"), "time,x\n2016-01-01,1,2\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.csv:2:"), "{e}");
        let e = parse_profiles(Path::new("p.csv"), "time,x,x\n2016-01-01,1,2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate column 'x'"), "{e}");
        let e = parse_profiles(Path::new("p.csv"), "time,x\n2016-01-01,NaN\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not finite"), "{e}");
    }
}
