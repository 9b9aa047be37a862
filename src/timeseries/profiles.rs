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
use crate::input::{excerpt, Lines};
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
    /// `columns[c][t]`, each `n_steps` long.
    columns: Vec<Vec<f64>>,
    /// First time label.
    pub first_time: Option<Timestamp>,
    /// The step the time labels advance by, seconds (checked on every
    /// row; None for a single row).
    pub label_step_s: Option<i64>,
}

impl ProfileTable {
    /// Column index of `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Whole column `c`.
    pub fn series(&self, c: usize) -> &[f64] {
        &self.columns[c]
    }

    /// Value of column `c` at step `t`.
    #[inline]
    pub fn value(&self, c: usize, t: usize) -> f64 {
        self.columns[c][t]
    }

    /// Builds a table from named columns of equal length.
    pub fn from_columns(named: Vec<(String, Vec<f64>)>) -> Result<ProfileTable> {
        let n_steps = named.first().map_or(0, |c| c.1.len());
        let mut index = HashMap::with_capacity(named.len());
        let (mut names, mut columns) = (Vec::new(), Vec::new());
        for (k, (name, col)) in named.into_iter().enumerate() {
            if col.len() != n_steps {
                return Err(Error::Usage(format!(
                    "profile '{name}' has {} values, expected {n_steps}",
                    col.len()
                )));
            }
            if index.insert(name.clone(), k).is_some() {
                return Err(Error::Usage(format!("duplicate profile name '{name}'")));
            }
            names.push(name);
            columns.push(col);
        }
        Ok(ProfileTable {
            names,
            index,
            n_steps,
            columns,
            first_time: None,
            label_step_s: None,
        })
    }
}

/// Opens a possibly gzip-compressed text file (see [`crate::input`]).
pub use crate::input::read_text;

/// Reads a profile CSV (gzip-compressed or not).
pub fn read_profiles(path: &Path) -> Result<ProfileTable> {
    let bytes = crate::input::read(path)?;
    parse_profile_bytes(path, &bytes)
}

/// `network()` and, where there is a path, [`read_profiles`] side by side
/// (on two threads where rayon's pool has them: reading a network and
/// decompressing and parsing a profile table take each other's time
/// otherwise). The network's error comes first, as when read in turn.
pub fn read_beside_profiles<N: Send>(
    network: impl FnOnce() -> Result<N> + Send,
    profiles: Option<&Path>,
) -> Result<(N, Option<ProfileTable>)> {
    let (net, table) = rayon::join(network, || profiles.map(read_profiles).transpose());
    Ok((net?, table?))
}

/// Parses profile CSV text (`path` for messages).
pub fn parse_profiles(path: &Path, text: &str) -> Result<ProfileTable> {
    parse_profile_bytes(path, text.as_bytes())
}

/// Bytes of text parsed at a time: half a megabyte, in a core's cache
/// while it is parsed; but at least [`PIECE_ROWS`] rows of a wide table
/// (the parts of a piece are appended column by column).
const PIECE_BYTES: usize = 1 << 19;

/// Rows a piece holds at least.
const PIECE_ROWS: usize = 64;

/// Parses a profile table from a file's bytes (`path` for messages): gzip
/// data (recognised by its magic bytes) or text, which must be UTF-8. A file with
/// no quotes is parsed a piece of lines at a time, each piece while the
/// next is inflated (on two threads where rayon's pool has them); the
/// text is never whole in memory. A quote anywhere sends the whole text
/// to the CSV reader instead.
pub fn parse_profile_bytes(path: &Path, bytes: &[u8]) -> Result<ProfileTable> {
    let mut lines = Lines::new(path, bytes, PIECE_BYTES);
    let (mut piece, mut next) = (String::new(), String::new());
    lines.next_piece(&mut piece)?;
    if piece.contains('"') {
        return quoted_table(path, bytes);
    }
    let head = piece.find('\n').map_or(piece.len(), |i| i + 1);
    let header = Header::read(path, &mut csv_reader(&piece[..head]))?;
    let layout = header.layout(path);
    let mut rows = layout.empty();
    let mut parts = Vec::new();
    let (mut skip, mut first) = (head, 2);
    loop {
        let body = &piece[skip..];
        let (more, parsed) = rayon::join(
            || lines.next_piece(&mut next),
            || layout.plain_rows(body, first, &mut parts),
        );
        parsed?;
        let n_rows: usize = parts.iter().map(|p| p.1.len()).sum();
        if first == 2 && n_rows > 0 {
            let row_bytes = (body.len() / n_rows).max(1);
            reserve(&mut rows, row_bytes, lines.expected_bytes());
            lines.set_piece_bytes(PIECE_BYTES.max(row_bytes.saturating_mul(PIECE_ROWS)));
        }
        for part in &mut parts {
            for (col, values) in rows.0.iter_mut().zip(&part.0) {
                col.extend_from_slice(values);
            }
            rows.1.append(&mut part.1);
        }
        let Some(line) = more? else { break };
        if next.contains('"') {
            return quoted_table(path, bytes);
        }
        std::mem::swap(&mut piece, &mut next);
        (skip, first) = (0, line);
    }
    header.table(path, rows)
}

/// Room in `rows` for the rows a text of `expected` bytes holds if all
/// are `row_bytes` long (those of the first piece), 2 % more: the columns
/// are then not moved while they grow. No more than twice `expected` in
/// bytes (the file's own statement, which may be wrong: the columns grow
/// as needed either way).
fn reserve(rows: &mut Rows, row_bytes: usize, expected: u64) {
    let n = expected / row_bytes as u64;
    let size = (rows.0.len() * 8 + std::mem::size_of::<(Timestamp, usize)>()) as u64;
    let want = (n + n / 50 + 16).min(2 * expected / size) as usize;
    rows.0.iter_mut().for_each(|c| c.reserve(want));
    rows.1.reserve(want);
}

/// The profile table of a file with quotes, read whole by the csv crate.
fn quoted_table(path: &Path, bytes: &[u8]) -> Result<ProfileTable> {
    let mut text = String::new();
    Lines::new(path, bytes, usize::MAX).next_piece(&mut text)?;
    let mut rdr = csv_reader(&text);
    let header = Header::read(path, &mut rdr)?;
    let rows = header.layout(path).csv_rows(&mut rdr)?;
    header.table(path, rows)
}

/// A CSV reader of `text` as profile tables are read: a header, fields
/// trimmed.
fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// A profile table's header: its fields, the time column and the value
/// columns (every other but a `step` column), checked.
struct Header {
    fields: csv::StringRecord,
    time_col: usize,
    step_col: Option<usize>,
    value_cols: Vec<usize>,
}

impl Header {
    /// The header `rdr` starts with.
    fn read(path: &Path, rdr: &mut csv::Reader<&[u8]>) -> Result<Header> {
        let fields = rdr
            .headers()
            .map_err(|e| Error::parse(path, 1, format!("bad CSV header: {e}")))?
            .clone();
        if fields.len() < 2 {
            // Not quoted: a file that is no CSV table (a password file, say)
            // is not echoed.
            return Err(Error::parse(
                path,
                1,
                "not a profile table: the first line must be a CSV header with a time column and at least one profile",
            ));
        }
        let lower: Vec<String> = fields.iter().map(|h| h.to_ascii_lowercase()).collect();
        let time_col = lower
            .iter()
            .position(|h| matches!(h.as_str(), "time" | "timestamp" | "datetime" | "date"))
            .unwrap_or(0);
        let step_col = lower.iter().position(|h| h == "step");
        let value_cols: Vec<usize> = (0..fields.len())
            .filter(|&c| c != time_col && Some(c) != step_col)
            .collect();
        let mut seen = HashMap::new();
        for &c in &value_cols {
            let name = &fields[c];
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
        Ok(Header {
            fields,
            time_col,
            step_col,
            value_cols,
        })
    }

    fn layout<'a>(&'a self, path: &'a Path) -> Layout<'a> {
        Layout {
            path,
            headers: &self.fields,
            time_col: self.time_col,
            step_col: self.step_col,
            value_cols: &self.value_cols,
        }
    }

    /// The table of the rows read under this header, its time labels
    /// checked.
    fn table(&self, path: &Path, rows: Rows) -> Result<ProfileTable> {
        let (columns, times) = rows;
        if times.is_empty() {
            return Err(Error::parse(path, 2, "the profile table has no rows"));
        }
        let names = self.value_cols.iter().map(|&c| self.fields[c].to_string());
        let mut t = ProfileTable::from_columns(names.zip(columns).collect())?;
        // Every column has a value per row; a table of none still has rows.
        t.n_steps = times.len();
        t.first_time = times.first().map(|x| x.0);
        t.label_step_s = label_step(path, &self.fields[self.time_col], &times)?;
        Ok(t)
    }
}

/// Columns and time labels (with their line numbers) of a profile table's rows.
type Rows = (Vec<Vec<f64>>, Vec<(Timestamp, usize)>);

/// Where a profile table's columns are.
struct Layout<'a> {
    path: &'a Path,
    headers: &'a csv::StringRecord,
    time_col: usize,
    step_col: Option<usize>,
    value_cols: &'a [usize],
}

impl Layout<'_> {
    /// One row's time label and values, appended.
    fn row(&self, line: usize, fields: &[&str], out: &mut Rows) -> Result<()> {
        let (path, headers) = (self.path, self.headers);
        if fields.len() != headers.len() {
            return Err(Error::parse(
                path,
                line,
                format!(
                    "{} fields, but the header has {}",
                    fields.len(),
                    headers.len()
                ),
            ));
        }
        let label = fields[self.time_col];
        let ts = Timestamp::parse(label).ok_or_else(|| {
            Error::parse(
                path,
                line,
                format!(
                    "column '{}': time label '{}' is neither ISO-8601 nor dd.mm.yyyy HH:MM",
                    excerpt(&headers[self.time_col]),
                    excerpt(label)
                ),
            )
        })?;
        out.1.push((ts, line));
        for (k, &c) in self.value_cols.iter().enumerate() {
            out.0[k].push(cell_value(path, line, &headers[c], fields[c])?);
        }
        Ok(())
    }

    /// A row read in one pass over its bytes where every value is a plain
    /// decimal ([`plain_decimal`]: no white space, no exponent) and the
    /// time label has no white space around it, appended (the `step`
    /// column's cell, if any, is passed over, as [`Self::row`] does); false,
    /// with nothing appended, for any other row, which [`Self::row`] then
    /// reads as fields (or reports). `vals` is scratch space.
    fn plain_row(&self, line_no: usize, line: &str, vals: &mut Vec<f64>, out: &mut Rows) -> bool {
        let b = line.as_bytes();
        let n = self.headers.len();
        let (mut label, mut at) = ("", 0);
        vals.clear();
        for c in 0..n {
            if c == self.time_col || Some(c) == self.step_col {
                let len = b[at..]
                    .iter()
                    .position(|&x| x == b',')
                    .unwrap_or(b.len() - at);
                if c == self.time_col {
                    label = &line[at..at + len];
                }
                at += len;
            } else {
                let Some((x, len)) = plain_decimal_prefix(&b[at..]) else {
                    return false;
                };
                vals.push(x);
                at += len;
            }
            match (b.get(at), c + 1 == n) {
                (Some(b','), false) => at += 1,
                (None, true) => {}
                _ => return false,
            }
        }
        if trim_field(label).len() != label.len() {
            return false;
        }
        let Some(ts) = Timestamp::parse(label) else {
            return false;
        };
        out.1.push((ts, line_no));
        for (col, &x) in out.0.iter_mut().zip(vals.iter()) {
            col.push(x);
        }
        true
    }

    /// No rows yet.
    fn empty(&self) -> Rows {
        (vec![Vec::new(); self.value_cols.len()], Vec::new())
    }

    /// Rows of quoted CSV, by the csv crate.
    fn csv_rows(&self, rdr: &mut csv::Reader<&[u8]>) -> Result<Rows> {
        let mut out = self.empty();
        for (row, rec) in rdr.records().enumerate() {
            let line = row + 2;
            let rec =
                rec.map_err(|e| Error::parse(self.path, line, format!("bad CSV record: {e}")))?;
            let fields: Vec<&str> = rec.iter().collect();
            self.row(line, &fields, &mut out)?;
        }
        Ok(out)
    }

    /// Rows of unquoted CSV from line `first` on, into `parts` (what
    /// they held is dropped; their room is kept): lines split at commas,
    /// fields trimmed, empty lines skipped (as the csv crate does); a body
    /// of more than 64 kB is cut at line boundaries and parsed in parallel,
    /// a part each, in order (the first error in line order is reported).
    fn plain_rows(&self, body: &str, first: usize, parts: &mut Vec<Rows>) -> Result<()> {
        let n_parts = if body.len() > (1 << 16) { 4 } else { 1 };
        // (first line, its text)
        let mut chunks: Vec<(usize, &str)> = Vec::with_capacity(n_parts);
        let (mut rest, mut line) = (body, first);
        for k in (1..=n_parts).rev() {
            let cut = if k == 1 {
                rest.len()
            } else {
                let at = (rest.len() / k).max(1).min(rest.len());
                rest[at..].find('\n').map_or(rest.len(), |i| at + i + 1)
            };
            let (chunk, tail) = rest.split_at(cut);
            chunks.push((line, chunk));
            line += chunk.bytes().filter(|&b| b == b'\n').count();
            rest = tail;
        }
        parts.resize_with(n_parts, || self.empty());
        use rayon::prelude::*;
        let done: Vec<Result<()>> = chunks
            .par_iter()
            .zip(parts.par_iter_mut())
            .map(|(&(first, chunk), out)| {
                out.0.iter_mut().for_each(Vec::clear);
                out.1.clear();
                let mut fields: Vec<&str> = Vec::with_capacity(self.headers.len());
                let mut vals: Vec<f64> = Vec::with_capacity(self.headers.len());
                for (i, l) in chunk.split('\n').enumerate() {
                    let l = l.strip_suffix('\r').unwrap_or(l);
                    if l.is_empty() || self.plain_row(first + i, l, &mut vals, out) {
                        continue;
                    }
                    fields.clear();
                    split_fields(l, &mut fields);
                    self.row(first + i, &fields, out)?;
                }
                Ok(())
            })
            .collect();
        done.into_iter().collect()
    }
}

/// `line` split at its commas into `out`, each field trimmed as
/// `str::trim` trims it (a byte loop: fields are short, and a search for a
/// `char` costs more per field than the field itself).
fn split_fields<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    let mut start = 0;
    for (i, &c) in line.as_bytes().iter().enumerate() {
        if c == b',' {
            out.push(trim_field(&line[start..i]));
            start = i + 1;
        }
    }
    out.push(trim_field(&line[start..]));
}

/// A field without leading or trailing white space: ASCII white space
/// first, the rest of Unicode's (and the vertical tab, which `trim_ascii`
/// keeps) only where such a character is left at either end.
fn trim_field(field: &str) -> &str {
    let t = field.trim_ascii();
    let odd = |c: u8| c >= 0x80 || c == 0x0b;
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(&a), Some(&z)) if odd(a) || odd(z) => t.trim(),
        _ => t,
    }
}

/// Powers of ten exactly representable as `f64`.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A plain decimal (`[+-]digits[.digits]`, at most 15 digits) as `str::parse`
/// gives it, else None. Such a number is `m / 10^e` with `m < 2^53` and
/// `10^e` both exact, so the one correctly rounded division is the correctly
/// rounded value (Clinger's fast path, which `str::parse` also takes, after
/// the general checks for exponents, infinities and long mantissas that
/// most cells of a profile table do not need).
fn plain_decimal(cell: &str) -> Option<f64> {
    match plain_decimal_prefix(cell.as_bytes()) {
        Some((x, len)) if len == cell.len() => Some(x),
        _ => None,
    }
}

/// The plain decimal [`plain_decimal`] reads at the start of `b`, up to the
/// first byte it does not take (a 16th digit, a second point, anything
/// else), and the number of bytes it read; None if no digit was read.
#[inline]
fn plain_decimal_prefix(b: &[u8]) -> Option<(f64, usize)> {
    let (negative, sign) = match b.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let (mut m, mut n_digits, mut point) = (0u64, 0usize, None);
    let mut end = sign;
    for &c in &b[sign..] {
        match c {
            b'0'..=b'9' if n_digits < 15 => {
                m = m * 10 + u64::from(c - b'0');
                n_digits += 1;
            }
            b'.' if point.is_none() => point = Some(end),
            _ => break,
        }
        end += 1;
    }
    if n_digits == 0 {
        return None;
    }
    let decimals = point.map_or(0, |i| end - i - 1);
    let x = m as f64 / EXACT_POW10.get(decimals)?;
    Some((if negative { -x } else { x }, end))
}

/// A profile cell: a finite number, or an error naming line and column.
fn cell_value(path: &Path, line: usize, column: &str, cell: &str) -> Result<f64> {
    if let Some(x) = plain_decimal(cell) {
        return Ok(x);
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(Error::parse(
            path,
            line,
            format!(
                "column '{}': value {} is not finite",
                excerpt(column),
                excerpt(cell)
            ),
        )),
        Err(_) => Err(Error::parse(
            path,
            line,
            format!(
                "column '{}': '{}' is not a number",
                excerpt(column),
                excerpt(cell)
            ),
        )),
    }
}

/// The step the labels advance by: the most common positive difference
/// between consecutive labels, which every difference must equal except
/// at a daylight-saving change (one hour repeated or skipped: the step
/// minus or plus 3600 s). A label that breaks the rule is an error naming
/// its line: a mistyped label would otherwise change every energy.
fn label_step(path: &Path, column: &str, times: &[(Timestamp, usize)]) -> Result<Option<i64>> {
    let diffs: Vec<i64> = times.windows(2).map(|w| w[1].0 .0 - w[0].0 .0).collect();
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for &d in diffs.iter().filter(|&&d| d > 0) {
        *counts.entry(d).or_default() += 1;
    }
    let Some(step) = counts
        .iter()
        .max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d)))
        .map(|(d, _)| *d)
    else {
        return match times.len() {
            0 | 1 => Ok(None),
            _ => Err(Error::parse(
                path,
                times[1].1,
                format!(
                    "column '{}': the time labels do not advance",
                    excerpt(column)
                ),
            )),
        };
    };
    for (k, &d) in diffs.iter().enumerate() {
        if d != step && d != step - 3600 && d != step + 3600 {
            return Err(Error::parse(
                path,
                times[k + 1].1,
                format!(
                    "column '{}': time label {} is {d} s after the one before; the table advances by {step} s (a daylight-saving change by {} or {} s)",
                    excerpt(column),
                    times[k + 1].0,
                    step - 3600,
                    step + 3600
                ),
            ));
        }
    }
    Ok(Some(step))
}

#[cfg(test)]
mod tests {
    /// Pseudo-random numbers (a 64-bit LCG's high bits) from `seed`.
    fn numbers(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 11
        }
    }

    /// The fast path gives exactly what `str::parse` gives, or leaves the
    /// cell to it: edge cases, and two million random decimals of every
    /// length and position of the point.
    #[test]
    fn plain_decimals_parse_as_str_parse_does() {
        let same = |c: &str| match plain_decimal(c) {
            Some(x) => {
                let want: f64 = c
                    .parse()
                    .unwrap_or_else(|_| panic!("{c:?} taken but not a number"));
                assert_eq!(x.to_bits(), want.to_bits(), "{c:?}");
                true
            }
            None => false,
        };
        for c in [
            "0",
            "-0",
            "-0.0",
            "+1",
            "5.",
            ".5",
            "-.5",
            "0.276685",
            "-0.067519",
            "000001.5",
        ] {
            assert!(same(c), "{c:?} should take the fast path");
        }
        for c in [
            "",
            "-",
            "+",
            ".",
            "-.",
            "1e5",
            "1.5e-3",
            "inf",
            "NaN",
            "1..2",
            "1.2.3",
            "--1",
            " 1",
            "1 ",
            "0x10",
            "1234567890123456",
            "0.1234567890123456",
            "1_0",
        ] {
            assert!(!same(c), "{c:?} should be left to str::parse");
        }
        assert!(
            !same(&format!("1.{}", "0".repeat(23))),
            "more than 15 digits"
        );
        assert!(same(&format!("1.{}", "0".repeat(14))));
        let mut next = numbers(7);
        let mut taken = 0;
        for _ in 0..2_000_000 {
            let n = 1 + (next() % 17) as usize;
            let mut c: String = (0..n)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let at = (next() % (n as u64 + 2)) as usize;
            if at <= n {
                c.insert(at, '.');
            }
            if next().is_multiple_of(2) {
                c.insert(0, '-');
            }
            taken += usize::from(same(&c));
        }
        assert!(taken > 1_000_000, "fast path taken {taken} times");
    }

    /// Rows read in one pass (`Layout::plain_row`) give exactly what the
    /// CSV reader gives (a quoted header sends the same table through it):
    /// plain rows and rows the one pass leaves to the field splitter (white
    /// space, exponents, long mantissas, signs), labels and values.
    #[test]
    fn plain_rows_read_as_the_csv_reader_does() {
        let mut next = numbers(11);
        let odd = [
            " 0.5",
            "1e-3",
            "0.12345678901234567",
            "+.25",
            "-7",
            "3.",
            "2 ",
        ];
        // Three layouts: the time label first, after a step column, between
        // two values.
        let mut texts = [
            String::from("time,a,b,c\n"),
            String::from("step,time,a,b,c\n"),
            String::from("a,time,b,c\n"),
        ];
        for t in 0..2880 {
            let mut cells = Vec::new();
            for _ in 0..3 {
                let cell = match next() % 8 {
                    0 => odd[(next() % odd.len() as u64) as usize].to_string(),
                    _ => format!(
                        "{:.*}",
                        (next() % 9) as usize,
                        (next() % 100_000) as f64 / 997.0
                    ),
                };
                cells.push(cell);
            }
            let (h, m) = (t / 4 % 24, t % 4 * 15);
            let label = format!("2016-01-{:02}T{h:02}:{m:02}:00", 1 + t / 96);
            let label = if t % 50 == 7 {
                format!(" {label}")
            } else {
                label
            };
            let step = if t % 70 == 3 { "x" } else { "7" };
            texts[0] += &format!("{label},{}\n", cells.join(","));
            texts[1] += &format!("{step},{label},{}\n", cells.join(","));
            texts[2] += &format!("{},{label},{},{}\n", cells[0], cells[1], cells[2]);
        }
        let path = Path::new("p.csv");
        for text in &texts {
            let fast = parse_profiles(path, text).unwrap();
            let csv = parse_profiles(path, &text.replacen("time", "\"time\"", 1)).unwrap();
            assert_eq!(fast.n_steps, 2880);
            assert_eq!((fast.n_steps, &fast.names), (csv.n_steps, &csv.names));
            assert_eq!(fast.first_time, csv.first_time);
            assert_eq!(fast.label_step_s, csv.label_step_s);
            for c in 0..3 {
                let bits =
                    |t: &ProfileTable| t.series(c).iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fast), bits(&csv), "column {c}");
            }
        }
    }

    #[test]
    fn fields_split_and_trimmed_as_str_trim_does() {
        let lines = [
            "",
            ",",
            " a , b ,c,",
            "2016-01-01 00:00,0.5,\t1e-3 ",
            "\u{a0}1.5\u{a0},\u{3000}2\u{2003}, 3\u{0b}",
            "\u{0b}\u{85}x\u{85}",
            "é, ü ,\r",
            "1,,2, ,",
        ];
        for l in lines {
            let mut got = Vec::new();
            split_fields(l, &mut got);
            let want: Vec<&str> = l.split(',').map(str::trim).collect();
            assert_eq!(got, want, "{l:?}");
        }
    }
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
    fn the_step_is_checked_on_every_label() {
        let hourly = |labels: &[&str]| {
            let mut text = String::from("time,x\n");
            for l in labels {
                text.push_str(&format!("{l},1\n"));
            }
            parse_profiles(Path::new("p.csv"), &text)
        };
        // Hourly with the autumn DST hour repeated: still hourly.
        let t = hourly(&[
            "2016-10-30 01:00",
            "2016-10-30 02:00",
            "2016-10-30 02:00",
            "2016-10-30 03:00",
        ])
        .unwrap();
        assert_eq!(t.label_step_s, Some(3600));
        // A repeated first label (DST) no longer makes it "15 minutes".
        let t = hourly(&[
            "2016-10-30 02:00",
            "2016-10-30 02:00",
            "2016-10-30 03:00",
            "2016-10-30 04:00",
        ])
        .unwrap();
        assert_eq!(t.label_step_s, Some(3600));
        // One mistyped label is an error naming its line.
        let e = hourly(&[
            "2016-01-01 00:00",
            "2016-01-03 01:00",
            "2016-01-01 02:00",
            "2016-01-01 03:00",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "p.csv:3: column 'time': time label 2016-01-03T01:00:00 is 176400 s after"
            ),
            "{e}"
        );
        let e = hourly(&["2016-01-01 00:00", "2016-01-01 00:00"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("do not advance"), "{e}");
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
