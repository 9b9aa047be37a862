//! Per-element result rows of a block, kept in the precision they will be
//! stored in: the runner converts each value once, when it records it, and
//! the results writer hands the rows to HDF5 as they are.

use crate::solver::current_injection::LANES;

/// Precision of the per-element result rows (bus, branch and unit series).
/// Grid totals are always kept in double precision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RowPrecision {
    /// IEEE single (about 7 significant digits: |V| to 6e-8 p.u.), half the
    /// size and half the write time; the default.
    #[default]
    F32,
    /// IEEE double (about 16 significant digits).
    F64,
}

impl std::str::FromStr for RowPrecision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f64" | "float64" | "double" => Ok(RowPrecision::F64),
            "f32" | "float32" | "single" => Ok(RowPrecision::F32),
            _ => Err(format!("unknown precision '{s}' (expected f64 or f32)")),
        }
    }
}

/// Rows of one per-element series (`step × element`, row-major).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    single: bool,
    f64: Vec<f64>,
    f32: Vec<f32>,
}

/// A borrowed view of [`Rows`] (or of a grid total) in its precision.
#[derive(Debug, Clone, Copy)]
pub enum RowSlice<'a> {
    /// Double-precision values.
    F64(&'a [f64]),
    /// Single-precision values.
    F32(&'a [f32]),
}

impl RowSlice<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            RowSlice::F64(x) => x.len(),
            RowSlice::F32(x) => x.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as f64.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            RowSlice::F64(x) => x[i],
            RowSlice::F32(x) => x[i] as f64,
        }
    }
}

impl Rows {
    /// Empties the rows and sets their precision (capacity is kept).
    pub fn clear(&mut self, precision: RowPrecision) {
        self.single = precision == RowPrecision::F32;
        self.f64.clear();
        self.f32.clear();
    }

    /// Makes room for `n` values in all, so that recording never reallocates.
    pub fn reserve_total(&mut self, n: usize) {
        if self.single {
            self.f32.reserve_exact(n.saturating_sub(self.f32.len()));
        } else {
            self.f64.reserve_exact(n.saturating_sub(self.f64.len()));
        }
    }

    /// Number of values recorded.
    pub fn len(&self) -> usize {
        if self.single {
            self.f32.len()
        } else {
            self.f64.len()
        }
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if self.single {
            self.f32.push(x as f32);
        } else {
            self.f64.push(x);
        }
    }

    /// Appends a row.
    pub fn extend_from_slice(&mut self, xs: &[f64]) {
        if self.single {
            self.f32.extend(xs.iter().map(|&x| x as f32));
        } else {
            self.f64.extend_from_slice(xs);
        }
    }

    /// Appends lane `l` of lane-interleaved values as a row.
    pub fn extend_lane(&mut self, xs: &[[f64; LANES]], l: usize) {
        if self.single {
            self.f32.extend(xs.iter().map(|x| x[l] as f32));
        } else {
            self.f64.extend(xs.iter().map(|x| x[l]));
        }
    }

    /// Appends `n` NaN values (a step without results).
    pub fn push_nan(&mut self, n: usize) {
        if self.single {
            self.f32.resize(self.f32.len() + n, f32::NAN);
        } else {
            self.f64.resize(self.f64.len() + n, f64::NAN);
        }
    }

    /// The values in their precision.
    pub fn as_slice(&self) -> RowSlice<'_> {
        if self.single {
            RowSlice::F32(&self.f32)
        } else {
            RowSlice::F64(&self.f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_precision() {
        let mut r = Rows::default();
        for (p, single) in [(RowPrecision::F32, true), (RowPrecision::F64, false)] {
            r.clear(p);
            r.push(1.0 + 1e-12);
            r.extend_from_slice(&[2.0, 3.0]);
            r.extend_lane(&[[4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]], 1);
            r.push_nan(2);
            assert_eq!(r.len(), 7);
            let s = r.as_slice();
            assert_eq!(matches!(s, RowSlice::F32(_)), single);
            let got: Vec<f64> = (0..s.len()).map(|i| s.get(i)).collect();
            assert_eq!(got[0] == 1.0, single);
            assert_eq!(&got[1..5], &[2.0, 3.0, 5.0, 9.0]);
            assert!(got[5].is_nan() && got[6].is_nan());
        }
    }
}
