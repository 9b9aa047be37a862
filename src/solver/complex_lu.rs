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

use crate::error::{Error, Result};
use num_complex::Complex64;
use std::collections::BinaryHeap;

/// Complex LU with a fixed, symmetric fill pattern.
#[derive(Debug, Clone)]
pub struct ComplexLu {
    n: usize,
    /// `perm[k]`: original index of the k-th pivot.
    perm: Vec<usize>,
    /// `pos[i]`: pivot position of original index `i`.
    pos: Vec<usize>,
    /// Pattern of column k of L (rows) = row k of U (columns), in pivot
    /// positions, all greater than k: `pat_idx[pat_ptr[k]..pat_ptr[k+1]]`.
    pat_ptr: Vec<usize>,
    pat_idx: Vec<usize>,
    /// Values: diagonals at `0..n`, then L entries (same order as `pat_idx`)
    /// at `n..n+m`, then U entries at `n+m..n+2m`.
    val: Vec<Complex64>,
    /// Per pivot k, the updates `val[t] -= val[a] * val[b]`.
    upd_ptr: Vec<usize>,
    upd: Vec<[u32; 3]>,
    /// 1 / pivot.
    inv_diag: Vec<Complex64>,
    /// U entries divided by their row's pivot (pattern order).
    u_scaled: Vec<Complex64>,
    /// Largest magnitude in each pivot's original row and column (for the
    /// breakdown test).
    scale: Vec<f64>,
    /// For each entry of the input pattern (as passed to `analyze`), its slot.
    input_slot: Vec<u32>,
    /// The factors split into real and imaginary parts (for the lane kernels):
    /// L, U and 1/pivot.
    split: SplitFactors,
}

/// L, U and 1/pivot with real and imaginary parts in separate arrays.
#[derive(Debug, Clone, Default)]
pub struct SplitFactors {
    /// Re and Im of L entries (pattern order).
    pub l: (Vec<f64>, Vec<f64>),
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
        // Adjacency (symmetrised, no self loops).
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(r, c) in entries {
            if r >= n || c >= n {
                return Err(Error::Numerical("matrix entry out of range".into()));
            }
            if r != c {
                adj[r].push(c);
                adj[c].push(r);
            }
        }
        for a in adj.iter_mut() {
            a.sort_unstable();
            a.dedup();
        }
        // Minimum degree elimination on the graph (ties: lowest index).
        let mut eliminated = vec![false; n];
        let mut heap: BinaryHeap<std::cmp::Reverse<(usize, usize)>> = (0..n)
            .map(|i| std::cmp::Reverse((adj[i].len(), i)))
            .collect();
        let mut perm = Vec::with_capacity(n);
        let mut pattern: Vec<Vec<usize>> = Vec::with_capacity(n);
        while let Some(std::cmp::Reverse((deg, p))) = heap.pop() {
            if eliminated[p] || deg != adj[p].len() {
                continue;
            }
            eliminated[p] = true;
            perm.push(p);
            let nbrs = std::mem::take(&mut adj[p]);
            for &a in &nbrs {
                let list = &mut adj[a];
                if let Ok(k) = list.binary_search(&p) {
                    list.remove(k);
                }
                for &b in &nbrs {
                    if b != a {
                        if let Err(k) = list.binary_search(&b) {
                            list.insert(k, b);
                        }
                    }
                }
            }
            for &a in &nbrs {
                heap.push(std::cmp::Reverse((adj[a].len(), a)));
            }
            pattern.push(nbrs);
        }
        if perm.len() != n {
            return Err(Error::Numerical("ordering failed".into()));
        }
        // Reorder by height in the elimination tree (leaves first, then
        // their parents, ...): a topological order of the tree, so the fill
        // is the same, but consecutive pivots of one height are independent
        // and the sweeps no longer wait on one long chain per feeder.
        let (perm, pattern) = {
            let mut pos0 = vec![0usize; n];
            for (k, &p) in perm.iter().enumerate() {
                pos0[p] = k;
            }
            let mut height = vec![0usize; n];
            for k in 0..n {
                if let Some(parent) = pattern[k].iter().map(|&o| pos0[o]).min() {
                    height[parent] = height[parent].max(height[k] + 1);
                }
            }
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&k| (height[k], k));
            let perm: Vec<usize> = order.iter().map(|&k| perm[k]).collect();
            let pattern: Vec<Vec<usize>> = order
                .iter()
                .map(|&k| std::mem::take(&mut pattern[k]))
                .collect();
            (perm, pattern)
        };
        let mut pos = vec![0usize; n];
        for (k, &p) in perm.iter().enumerate() {
            pos[p] = k;
        }
        let mut pat_ptr = Vec::with_capacity(n + 1);
        let mut pat_idx = Vec::new();
        pat_ptr.push(0);
        for nbrs in &pattern {
            let mut v: Vec<usize> = nbrs.iter().map(|&o| pos[o]).collect();
            v.sort_unstable();
            pat_idx.extend_from_slice(&v);
            pat_ptr.push(pat_idx.len());
        }
        let m = pat_idx.len();
        // Slot lookup for (row, col) in pivot positions.
        let slot = |r: usize, c: usize| -> Option<usize> {
            if r == c {
                return Some(r);
            }
            let (k, other, base) = if r > c { (c, r, n) } else { (r, c, n + m) };
            let s = &pat_idx[pat_ptr[k]..pat_ptr[k + 1]];
            s.binary_search(&other).ok().map(|i| base + pat_ptr[k] + i)
        };
        let mut upd_ptr = Vec::with_capacity(n + 1);
        let mut upd = Vec::new();
        upd_ptr.push(0);
        for k in 0..n {
            let s = &pat_idx[pat_ptr[k]..pat_ptr[k + 1]];
            for (ia, &i) in s.iter().enumerate() {
                for (jb, &j) in s.iter().enumerate() {
                    let t = slot(i, j).ok_or_else(|| {
                        Error::Numerical("fill pattern is not closed (internal error)".into())
                    })?;
                    let a = n + pat_ptr[k] + ia;
                    let b = n + m + pat_ptr[k] + jb;
                    upd.push([t as u32, a as u32, b as u32]);
                }
            }
            upd_ptr.push(upd.len());
        }
        let mut input_slot = Vec::with_capacity(entries.len());
        for &(r, c) in entries {
            let s = slot(pos[r], pos[c])
                .ok_or_else(|| Error::Numerical("entry outside the pattern".into()))?;
            input_slot.push(s as u32);
        }
        if n + 2 * m > u32::MAX as usize {
            return Err(Error::Numerical(
                "matrix too large for the fixed-pattern LU".into(),
            ));
        }
        Ok(ComplexLu {
            n,
            perm,
            pos,
            pat_ptr,
            pat_idx,
            val: vec![Complex64::new(0.0, 0.0); n + 2 * m],
            upd_ptr,
            upd,
            inv_diag: vec![Complex64::new(0.0, 0.0); n],
            u_scaled: vec![Complex64::new(0.0, 0.0); m],
            scale: vec![0.0; n],
            input_slot,
            split: SplitFactors::default(),
        })
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Entries of L plus U (off-diagonal) after fill.
    pub fn fill_nnz(&self) -> usize {
        2 * self.pat_idx.len()
    }

    /// Pivot position of original unknown `i`.
    pub fn position(&self, i: usize) -> usize {
        self.pos[i]
    }

    /// Original unknown at pivot position `k`.
    pub fn original(&self, k: usize) -> usize {
        self.perm[k]
    }

    /// Factors the matrix whose values are `values`, in the order of the
    /// entries given to [`Self::analyze`] (duplicates are summed).
    pub fn factor(&mut self, values: &[Complex64]) -> Result<()> {
        let n = self.n;
        if values.len() != self.input_slot.len() {
            return Err(Error::Numerical(
                "value count does not match the pattern".into(),
            ));
        }
        self.val
            .iter_mut()
            .for_each(|x| *x = Complex64::new(0.0, 0.0));
        self.scale.iter_mut().for_each(|x| *x = 0.0);
        for (&s, &x) in self.input_slot.iter().zip(values) {
            self.val[s as usize] += x;
        }
        let m = self.pat_idx.len();
        for k in 0..n {
            let mut sc = self.val[k].norm_sqr();
            for e in self.pat_ptr[k]..self.pat_ptr[k + 1] {
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
                    self.perm[k]
                )));
            }
            let inv = piv.inv();
            self.inv_diag[k] = inv;
            for e in self.pat_ptr[k]..self.pat_ptr[k + 1] {
                self.val[n + e] *= inv;
            }
            for u in &self.upd[self.upd_ptr[k]..self.upd_ptr[k + 1]] {
                let d = self.val[u[1] as usize] * self.val[u[2] as usize];
                self.val[u[0] as usize] -= d;
            }
        }
        // U scaled by the inverse pivots (row k by 1/pivot k): the backward
        // sweep then multiplies the right-hand side, not the running sum,
        // which shortens its dependency chain along the tree.
        for k in 0..n {
            for e in self.pat_ptr[k]..self.pat_ptr[k + 1] {
                self.u_scaled[e] = self.inv_diag[k] * self.val[n + m + e];
            }
        }
        let split = |v: &[Complex64]| -> (Vec<f64>, Vec<f64>) {
            (
                v.iter().map(|x| x.re).collect(),
                v.iter().map(|x| x.im).collect(),
            )
        };
        self.split = SplitFactors {
            l: split(&self.val[n..n + m]),
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
        let n = self.n;
        assert_eq!(x.len(), n, "right-hand side of the wrong length");
        let m = self.pat_idx.len();
        let lv = &self.val[n..n + m];
        for k in 0..n {
            let xk = x[k];
            let r = self.pat_ptr[k]..self.pat_ptr[k + 1];
            for (&i, &l) in self.pat_idx[r.clone()].iter().zip(&lv[r]) {
                x[i] -= l * xk;
            }
        }
        for k in (0..n).rev() {
            let mut s = x[k] * self.inv_diag[k];
            let r = self.pat_ptr[k]..self.pat_ptr[k + 1];
            for (&j, &u) in self.pat_idx[r.clone()].iter().zip(&self.u_scaled[r]) {
                s -= u * x[j];
            }
            x[k] = s;
        }
    }

    /// The pattern: column k of L (= row k of U) holds the positions
    /// `idx[ptr[k]..ptr[k+1]]`.
    pub fn pattern(&self) -> (&[usize], &[usize]) {
        (&self.pat_ptr, &self.pat_idx)
    }

    /// The factors split into real and imaginary parts.
    pub fn split_factors(&self) -> &SplitFactors {
        &self.split
    }

    /// Solves `A x = b` in place, `x` in the original order; `work` must
    /// have the matrix's dimension.
    pub fn solve_in_place(&self, x: &mut [Complex64], work: &mut [Complex64]) {
        for (k, &p) in self.perm.iter().enumerate() {
            work[k] = x[p];
        }
        self.solve_permuted(work);
        for (k, &p) in self.perm.iter().enumerate() {
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
