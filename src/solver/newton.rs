//! Newton-Raphson power flow in polar coordinates.
//!
//! Unknowns: the angle of every PV and PQ bus, then the magnitude of every
//! PQ bus; equations: P mismatch at PV and PQ buses, then Q mismatch at PQ
//! buses (MATPOWER's `newtonpf` ordering). The Jacobian's sparsity pattern
//! and the LU's symbolic analysis are computed once in
//! [`NewtonSolver::new`]; every iteration only writes values into
//! preallocated buffers and refactors numerically.

use super::sparse_lu::SparseLu;
use crate::error::{Error, Result};
use crate::math::{BusType, CsrMatrix};
use num_complex::Complex64;

/// Newton options.
#[derive(Debug, Clone, Copy)]
pub struct NewtonOptions {
    /// Convergence tolerance on the infinity norm of the mismatch, p.u.
    pub tol: f64,
    /// Maximum number of iterations (Jacobian updates).
    pub max_iter: usize,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        NewtonOptions {
            tol: 1e-8,
            max_iter: 20,
        }
    }
}

/// Outcome of a solve; the voltages are written into the caller's vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveReport {
    /// Whether the mismatch fell below the tolerance.
    pub converged: bool,
    /// Newton updates performed.
    pub iterations: usize,
    /// Infinity norm of the mismatch at the final iterate, p.u.
    pub max_mismatch_pu: f64,
}

const NONE: usize = usize::MAX;

/// Newton-Raphson solver bound to one Ybus pattern and one set of bus types.
#[derive(Debug)]
pub struct NewtonSolver {
    nb: usize,
    /// Angle unknown (and P equation) index per bus, or NONE.
    ang: Vec<usize>,
    /// Magnitude unknown (and Q equation) index per bus, or NONE.
    mag: Vec<usize>,
    /// Per Ybus entry: positions in the Jacobian value array of
    /// (dP/dθ, dP/d|V|, dQ/dθ, dQ/d|V|), NONE where absent.
    jpos: Vec<[usize; 4]>,
    /// Row of each Ybus entry (CSR expanded).
    yrow: Vec<usize>,
    jval: Vec<f64>,
    lu: SparseLu,
    dim: usize,
    // work buffers
    ibus: Vec<Complex64>,
    f: Vec<f64>,
    vm: Vec<f64>,
    va: Vec<f64>,
}

impl NewtonSolver {
    /// Analyses the Jacobian structure for `ybus` and `bus_type`.
    pub fn new(ybus: &CsrMatrix, bus_type: &[BusType]) -> Result<NewtonSolver> {
        let nb = bus_type.len();
        if ybus.rows() != nb || ybus.cols() != nb || !ybus.is_csr() {
            return Err(Error::Numerical(
                "Ybus must be a square CSR matrix matching the buses".into(),
            ));
        }
        let mut ang = vec![NONE; nb];
        let mut mag = vec![NONE; nb];
        let mut n = 0;
        // MATPOWER order: pv then pq for angles.
        for t in [BusType::Pv, BusType::Pq] {
            for i in 0..nb {
                if bus_type[i] == t {
                    ang[i] = n;
                    n += 1;
                }
            }
        }
        for i in 0..nb {
            if bus_type[i] == BusType::Pq {
                mag[i] = n;
                n += 1;
            }
        }
        let dim = n;
        // Collect Jacobian entries (row, col, ybus entry, slot).
        let indptr = ybus.indptr();
        let indptr = indptr.raw_storage();
        let indices = ybus.indices();
        let nnz_y = indices.len();
        let mut yrow = vec![0; nnz_y];
        let mut entries: Vec<(usize, usize, usize, usize)> = Vec::with_capacity(4 * nnz_y);
        for i in 0..nb {
            for e in indptr[i]..indptr[i + 1] {
                yrow[e] = i;
                let k = indices[e];
                let rows = [ang[i], ang[i], mag[i], mag[i]];
                let cols = [ang[k], mag[k], ang[k], mag[k]];
                for s in 0..4 {
                    if rows[s] != NONE && cols[s] != NONE {
                        entries.push((cols[s], rows[s], e, s));
                    }
                }
            }
        }
        entries.sort_unstable();
        let mut col_ptr = vec![0usize; dim + 1];
        let mut row_idx = Vec::with_capacity(entries.len());
        let mut jpos = vec![[NONE; 4]; nnz_y];
        for (p, &(c, r, e, s)) in entries.iter().enumerate() {
            col_ptr[c + 1] += 1;
            row_idx.push(r);
            jpos[e][s] = p;
        }
        for c in 0..dim {
            col_ptr[c + 1] += col_ptr[c];
        }
        // Every unknown must appear in the pattern (structural diagonal).
        let nnz_j = row_idx.len();
        let lu = SparseLu::analyze(dim, col_ptr, row_idx)?;
        Ok(NewtonSolver {
            nb,
            ang,
            mag,
            jpos,
            yrow,
            jval: vec![0.0; nnz_j],
            lu,
            dim,
            ibus: vec![Complex64::new(0.0, 0.0); nb],
            f: vec![0.0; dim],
            vm: vec![0.0; nb],
            va: vec![0.0; nb],
        })
    }

    /// Size of the Jacobian.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Non-zeros of the Jacobian.
    pub fn jacobian_nnz(&self) -> usize {
        self.jval.len()
    }

    /// Computes `ibus = Ybus·V` and the mismatch vector; returns its
    /// infinity norm, NaN when any entry is not finite (`f64::max` drops
    /// NaN, so a NaN entry must not be folded in silently).
    fn mismatch(
        &mut self,
        ybus: &CsrMatrix,
        s_spec: &[Complex64],
        s_i: &[Complex64],
        v: &[Complex64],
    ) -> f64 {
        let indptr = ybus.indptr();
        let indptr = indptr.raw_storage();
        let indices = ybus.indices();
        let data = ybus.data();
        let mut norm: f64 = 0.0;
        let mut finite = true;
        for i in 0..self.nb {
            let mut acc = Complex64::new(0.0, 0.0);
            for e in indptr[i]..indptr[i + 1] {
                acc += data[e] * v[indices[e]];
            }
            self.ibus[i] = acc;
            let mut mis = v[i] * acc.conj() - s_spec[i];
            if !s_i.is_empty() {
                mis += s_i[i] * v[i].norm();
            }
            if self.ang[i] != NONE {
                self.f[self.ang[i]] = mis.re;
                finite &= mis.re.is_finite();
                norm = norm.max(mis.re.abs());
            }
            if self.mag[i] != NONE {
                self.f[self.mag[i]] = mis.im;
                finite &= mis.im.is_finite();
                norm = norm.max(mis.im.abs());
            }
        }
        if finite {
            norm
        } else {
            f64::NAN
        }
    }

    fn fill_jacobian(&mut self, ybus: &CsrMatrix, s_i: &[Complex64], v: &[Complex64]) {
        let indices = ybus.indices();
        let data = ybus.data();
        let j = Complex64::new(0.0, 1.0);
        for e in 0..indices.len() {
            let pos = self.jpos[e];
            if pos == [NONE; 4] {
                continue;
            }
            let i = self.yrow[e];
            let k = indices[e];
            let y = data[e];
            let vi = v[i];
            let vk = v[k];
            let vk_norm = vk / vk.norm();
            let yvk_conj = (y * vk).conj();
            let (mut ds_dva, mut ds_dvm) = (-j * vi * yvk_conj, vi * (y * vk_norm).conj());
            if i == k {
                let ic = self.ibus[i].conj();
                ds_dva += j * vi * ic;
                ds_dvm += ic * vk_norm;
                if !s_i.is_empty() {
                    // d(s_i·|V|)/d|V| for constant-current loads.
                    ds_dvm += s_i[i];
                }
            }
            let vals = [ds_dva.re, ds_dvm.re, ds_dva.im, ds_dvm.im];
            for s in 0..4 {
                if pos[s] != NONE {
                    self.jval[pos[s]] = vals[s];
                }
            }
        }
    }

    /// Runs Newton from the voltages in `v`, leaving the final iterate there.
    ///
    /// Returns an error only for numerical breakdown (singular Jacobian,
    /// non-finite values); non-convergence is reported in the
    /// [`SolveReport`].
    pub fn solve(
        &mut self,
        ybus: &CsrMatrix,
        s_spec: &[Complex64],
        v: &mut [Complex64],
        opts: NewtonOptions,
    ) -> Result<SolveReport> {
        self.solve_with_current_loads(ybus, s_spec, &[], v, opts)
    }

    /// Like [`Self::solve`] with constant-current loads `s_i` (consumption
    /// at 1 p.u., proportional to |V|); an empty slice means none.
    pub fn solve_with_current_loads(
        &mut self,
        ybus: &CsrMatrix,
        s_spec: &[Complex64],
        s_i: &[Complex64],
        v: &mut [Complex64],
        opts: NewtonOptions,
    ) -> Result<SolveReport> {
        for i in 0..self.nb {
            self.vm[i] = v[i].norm();
            self.va[i] = v[i].arg();
        }
        let mut norm = self.mismatch(ybus, s_spec, s_i, v);
        let mut it = 0;
        // Written so that a NaN mismatch never counts as converged.
        let converged = |n: f64| n < opts.tol;
        while !converged(norm) && it < opts.max_iter {
            if !norm.is_finite() {
                break;
            }
            it += 1;
            self.fill_jacobian(ybus, s_i, v);
            self.lu.factor(&self.jval)?;
            for x in self.f.iter_mut() {
                *x = -*x;
            }
            self.lu.solve_in_place(&mut self.f)?;
            if self.f.iter().any(|x| !x.is_finite()) {
                return Err(Error::Numerical(format!(
                    "singular Jacobian at Newton iteration {it} (the network may be disconnected or ill-conditioned)"
                )));
            }
            for i in 0..self.nb {
                if self.ang[i] != NONE {
                    self.va[i] += self.f[self.ang[i]];
                }
                if self.mag[i] != NONE {
                    self.vm[i] += self.f[self.mag[i]];
                }
                if self.ang[i] != NONE || self.mag[i] != NONE {
                    v[i] = Complex64::from_polar(self.vm[i], self.va[i]);
                }
            }
            norm = self.mismatch(ybus, s_spec, s_i, v);
        }
        Ok(SolveReport {
            converged: converged(norm),
            iterations: it,
            max_mismatch_pu: norm,
        })
    }
}
