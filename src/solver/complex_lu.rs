//! Sparse complex LU for matrices with a symmetric pattern (admittance
//! matrices), without pivoting, with a fill pattern fixed once.
//!
//! [`ComplexLu::analyze`] orders the unknowns by minimum degree (for a radial
//! feeder: leaves first, no fill at all), computes the filled pattern and
//! flattens the numeric elimination into a list of slot updates. Every
//! [`ComplexLu::factor`] then runs that list over a flat value array, and
//! [`ComplexLu::solve_in_place`] does the two triangular sweeps. The factors
//! are also kept split into real and imaginary parts for the batched
//! kernels of `current_injection`. Nothing is allocated per solve.
//!
//! Without pivoting the factorization relies on the matrix being (close to)
//! diagonally dominant, which bus admittance matrices of real grids are; a
//! pivot that vanishes relative to its row is reported as an error so that
//! callers can fall back to a pivoting solver.

use super::elimination::Elimination;
use crate::error::{Error, Result};
use num_complex::Complex64;

/// Complex LU with a fixed, symmetric fill pattern.
#[derive(Debug, Clone)]
pub struct ComplexLu {
    /// Order, fill pattern and update list.
    elim: Elimination,
    /// Values: diagonals at `0..n`, then L entries (same order as the
    /// pattern) at `n..n+m`, then U entries at `n+m..n+2m`.
    val: Vec<Complex64>,
    /// 1 / pivot.
    inv_diag: Vec<Complex64>,
    /// U entries divided by their row's pivot (pattern order).
    u_scaled: Vec<Complex64>,
    /// Largest magnitude in each pivot's original row and column (for the
    /// breakdown test).
    scale: Vec<f64>,
    /// The factors split into real and imaginary parts (for the lane kernels):
    /// L by rows, U and 1/pivot.
    split: SplitFactors,
    /// L by rows: row `i` holds the columns `l_row_col[l_row_ptr[i]..l_row_ptr[i + 1]]`
    /// (ascending), taken from the pattern entries `l_row_src[..]`.
    l_row_ptr: Vec<usize>,
    l_row_col: Vec<usize>,
    l_row_src: Vec<usize>,
}

/// L, U and 1/pivot with real and imaginary parts in separate arrays.
#[derive(Debug, Clone, Default)]
pub struct SplitFactors {
    /// Re and Im of L entries by rows (the order of [`ComplexLu::l_rows`]).
    pub l_rows: (Vec<f64>, Vec<f64>),
    /// Re and Im of U entries divided by their row's pivot (pattern order).
    pub u: (Vec<f64>, Vec<f64>),
    /// Re and Im of 1/pivot.
    pub inv_diag: (Vec<f64>, Vec<f64>),
}

impl ComplexLu {
    /// Analyses an `n × n` matrix given by its entries' coordinates
    /// `(row, col)`; the pattern is symmetrised. The order of `entries` is
    /// the order in which [`Self::factor`] expects the values.
    pub fn analyze(n: usize, entries: &[(usize, usize)]) -> Result<ComplexLu> {
        let elim = Elimination::analyze(n, entries)?;
        let m = elim.m();
        // Column k of L holds rows after k: a counting sort by row keeps each
        // row's columns ascending.
        let mut l_row_ptr = vec![0usize; n + 1];
        for &i in &elim.pat_idx {
            l_row_ptr[i + 1] += 1;
        }
        for i in 0..n {
            l_row_ptr[i + 1] += l_row_ptr[i];
        }
        let mut next = l_row_ptr.clone();
        let (mut l_row_col, mut l_row_src) = (vec![0; m], vec![0; m]);
        for k in 0..n {
            for e in elim.pat_ptr[k]..elim.pat_ptr[k + 1] {
                let i = elim.pat_idx[e];
                (l_row_col[next[i]], l_row_src[next[i]]) = (k, e);
                next[i] += 1;
            }
        }
        Ok(ComplexLu {
            elim,
            val: vec![Complex64::new(0.0, 0.0); n + 2 * m],
            inv_diag: vec![Complex64::new(0.0, 0.0); n],
            u_scaled: vec![Complex64::new(0.0, 0.0); m],
            scale: vec![0.0; n],
            split: SplitFactors::default(),
            l_row_ptr,
            l_row_col,
            l_row_src,
        })
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.elim.n
    }

    /// Entries of L plus U (off-diagonal) after fill.
    pub fn fill_nnz(&self) -> usize {
        2 * self.elim.pat_idx.len()
    }

    /// Pivot position of original unknown `i`.
    pub fn position(&self, i: usize) -> usize {
        self.elim.pos[i]
    }

    /// Original unknown at pivot position `k`.
    pub fn original(&self, k: usize) -> usize {
        self.elim.perm[k]
    }

    /// Factors the matrix whose values are `values`, in the order of the
    /// entries given to [`Self::analyze`] (duplicates are summed).
    pub fn factor(&mut self, values: &[Complex64]) -> Result<()> {
        let n = self.elim.n;
        if values.len() != self.elim.input_slot.len() {
            return Err(Error::Numerical(
                "value count does not match the pattern".into(),
            ));
        }
        self.val
            .iter_mut()
            .for_each(|x| *x = Complex64::new(0.0, 0.0));
        self.scale.iter_mut().for_each(|x| *x = 0.0);
        for (&s, &x) in self.elim.input_slot.iter().zip(values) {
            self.val[s as usize] += x;
        }
        let m = self.elim.pat_idx.len();
        for k in 0..n {
            let mut sc = self.val[k].norm_sqr();
            for e in self.elim.pat_ptr[k]..self.elim.pat_ptr[k + 1] {
                sc = sc
                    .max(self.val[n + e].norm_sqr())
                    .max(self.val[n + m + e].norm_sqr());
            }
            self.scale[k] = sc.sqrt();
        }
        for k in 0..n {
            let piv = self.val[k];
            let mag = piv.norm();
            if !(mag > 1e-13 * self.scale[k]) || !mag.is_finite() {
                return Err(Error::Numerical(format!(
                    "zero pivot at unknown {} in the fixed-pattern LU",
                    self.elim.perm[k]
                )));
            }
            let inv = piv.inv();
            self.inv_diag[k] = inv;
            for e in self.elim.pat_ptr[k]..self.elim.pat_ptr[k + 1] {
                self.val[n + e] *= inv;
            }
            for u in &self.elim.upd[self.elim.upd_ptr[k]..self.elim.upd_ptr[k + 1]] {
                let d = self.val[u[1] as usize] * self.val[u[2] as usize];
                self.val[u[0] as usize] -= d;
            }
        }
        // U scaled by the inverse pivots (row k by 1/pivot k): the backward
        // sweep then multiplies the right-hand side, not the running sum,
        // which shortens its dependency chain along the tree.
        for k in 0..n {
            for e in self.elim.pat_ptr[k]..self.elim.pat_ptr[k + 1] {
                self.u_scaled[e] = self.inv_diag[k] * self.val[n + m + e];
            }
        }
        let split = |v: &[Complex64]| -> (Vec<f64>, Vec<f64>) {
            (
                v.iter().map(|x| x.re).collect(),
                v.iter().map(|x| x.im).collect(),
            )
        };
        let l_rows: Vec<Complex64> = self.l_row_src.iter().map(|&e| self.val[n + e]).collect();
        self.split = SplitFactors {
            l_rows: split(&l_rows),
            u: split(&self.u_scaled),
            inv_diag: split(&self.inv_diag),
        };
        Ok(())
    }

    /// Solves `A x = b` in place, with `x` in pivot order (see
    /// [`Self::position`]).
    ///
    /// # Panics
    /// If `x` does not have the matrix's dimension.
    pub fn solve_permuted(&self, x: &mut [Complex64]) {
        let n = self.elim.n;
        assert_eq!(x.len(), n, "right-hand side of the wrong length");
        let m = self.elim.pat_idx.len();
        let lv = &self.val[n..n + m];
        for k in 0..n {
            let xk = x[k];
            let r = self.elim.pat_ptr[k]..self.elim.pat_ptr[k + 1];
            for (&i, &l) in self.elim.pat_idx[r.clone()].iter().zip(&lv[r]) {
                x[i] -= l * xk;
            }
        }
        for k in (0..n).rev() {
            let mut s = x[k] * self.inv_diag[k];
            let r = self.elim.pat_ptr[k]..self.elim.pat_ptr[k + 1];
            for (&j, &u) in self.elim.pat_idx[r.clone()].iter().zip(&self.u_scaled[r]) {
                s -= u * x[j];
            }
            x[k] = s;
        }
    }

    /// The pattern: column k of L (= row k of U) holds the positions
    /// `idx[ptr[k]..ptr[k+1]]`.
    pub fn pattern(&self) -> (&[usize], &[usize]) {
        (&self.elim.pat_ptr, &self.elim.pat_idx)
    }

    /// L's pattern by rows: row `i` (pivot order) holds the columns
    /// `col[ptr[i]..ptr[i+1]]`, ascending, whose values are
    /// [`SplitFactors::l_rows`] at the same positions. A forward sweep that
    /// gathers each row in this order subtracts exactly what the
    /// column-wise sweep of [`Self::solve_permuted`] does, in the same order.
    pub fn l_rows(&self) -> (&[usize], &[usize]) {
        (&self.l_row_ptr, &self.l_row_col)
    }

    /// The factors split into real and imaginary parts.
    pub fn split_factors(&self) -> &SplitFactors {
        &self.split
    }

    /// Solves `A x = b` in place, `x` in the original order; `work` must
    /// have the matrix's dimension.
    pub fn solve_in_place(&self, x: &mut [Complex64], work: &mut [Complex64]) {
        for (k, &p) in self.elim.perm.iter().enumerate() {
            work[k] = x[p];
        }
        self.solve_permuted(work);
        for (k, &p) in self.elim.perm.iter().enumerate() {
            x[p] = work[k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(re: f64, im: f64) -> Complex64 {
        Complex64::new(re, im)
    }

    /// Dense reference: A x for a list of entries.
    fn matvec(n: usize, e: &[(usize, usize)], v: &[Complex64], x: &[Complex64]) -> Vec<Complex64> {
        let mut y = vec![c(0.0, 0.0); n];
        for (k, &(r, col)) in e.iter().enumerate() {
            y[r] += v[k] * x[col];
        }
        y
    }

    #[test]
    fn solves_meshed_unsymmetric_system() {
        // A 6-node ring with a chord and unsymmetric values.
        let n = 6;
        let mut e = Vec::new();
        let mut v = Vec::new();
        let edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (1, 4)];
        for i in 0..n {
            e.push((i, i));
            v.push(c(10.0 + i as f64, -30.0));
        }
        for (k, &(a, b)) in edges.iter().enumerate() {
            e.push((a, b));
            v.push(c(-2.0 - 0.1 * k as f64, 7.0));
            e.push((b, a));
            v.push(c(-1.5, 6.0 + 0.2 * k as f64));
        }
        let mut lu = ComplexLu::analyze(n, &e).expect("analyze");
        lu.factor(&v).expect("factor");
        let x_true: Vec<Complex64> = (0..n).map(|i| c(1.0 + i as f64, -0.5 * i as f64)).collect();
        let mut b = matvec(n, &e, &v, &x_true);
        let mut work = vec![c(0.0, 0.0); n];
        lu.solve_in_place(&mut b, &mut work);
        for i in 0..n {
            assert!(
                (b[i] - x_true[i]).norm() < 1e-12,
                "{i}: {} vs {}",
                b[i],
                x_true[i]
            );
        }
        assert!(lu.fill_nnz() > 2 * edges.len());
        // The permuted solve is the same solve.
        let xq: Vec<Complex64> = (0..n).map(|i| c(i as f64, 0.3)).collect();
        let mut bq = matvec(n, &e, &v, &xq);
        let mut perm: Vec<Complex64> = (0..n).map(|k| bq[lu.original(k)]).collect();
        lu.solve_permuted(&mut perm);
        lu.solve_in_place(&mut bq, &mut work);
        for k in 0..n {
            assert_eq!(perm[k], bq[lu.original(k)]);
        }
    }

    #[test]
    fn tree_has_no_fill() {
        let n = 50;
        let mut e = Vec::new();
        for i in 0..n {
            e.push((i, i));
            if i > 0 {
                let parent = (i - 1) / 3;
                e.push((i, parent));
                e.push((parent, i));
            }
        }
        let lu = ComplexLu::analyze(n, &e).expect("analyze");
        assert_eq!(lu.fill_nnz(), 2 * (n - 1));
    }

    #[test]
    fn zero_pivot_is_an_error() {
        let e = [(0, 0), (0, 1), (1, 0), (1, 1)];
        let v = [c(0.0, 0.0), c(1.0, 0.0), c(1.0, 0.0), c(0.0, 0.0)];
        let mut lu = ComplexLu::analyze(2, &e).expect("analyze");
        assert!(lu.factor(&v).is_err());
    }
}
