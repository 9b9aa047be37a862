//! Newton-Raphson power flow in polar coordinates.
//!
//! Unknowns: the angle of every PV and PQ bus and the magnitude of every
//! PQ bus; equations: P mismatch at PV and PQ buses, Q mismatch at PQ buses
//! (MATPOWER's `newtonpf`). They are kept per bus, as one 2 × 2 block of
//! the Jacobian per admittance-matrix entry (a PV bus's magnitude row and
//! column hold only a diagonal that keeps it at zero), and factored by
//! [`BlockLu`]: minimum-degree order on the bus graph, pivoting inside the
//! blocks. Where a block pivot nearly vanishes, the same Jacobian goes to
//! faer's LU with partial pivoting ([`SparseLu`]) from then on. The
//! patterns and symbolic analyses are computed once; every iteration only
//! writes values into preallocated buffers and refactors numerically.

use super::block_lu::{Block, BlockLu};
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
    /// Block (unknown pair) of each PV and PQ bus, or NONE.
    blk: Vec<usize>,
    /// Whether the bus's magnitude is an unknown (PQ).
    pq: Vec<bool>,
    /// Per Ybus entry: its Jacobian block, NONE where a bus has no block.
    ysrc: Vec<usize>,
    /// Row of each Ybus entry (CSR expanded).
    yrow: Vec<usize>,
    /// Jacobian blocks: one per distinct (row, col) of `coords`.
    coords: Vec<(usize, usize)>,
    jval: Vec<Block>,
    /// The diagonal block of each block row.
    diag: Vec<usize>,
    lu: BlockLu,
    /// Partial-pivoting LU of the same Jacobian, made when a block pivot
    /// nearly vanished, used from then on.
    fallback: Option<Fallback>,
    // work buffers: mismatch / step (two per block), permutation work
    ibus: Vec<Complex64>,
    f: Vec<f64>,
    work: Vec<f64>,
    vm: Vec<f64>,
    va: Vec<f64>,
}

/// The Jacobian as a scalar CSC matrix for faer's pivoting LU.
#[derive(Debug)]
struct Fallback {
    lu: SparseLu,
    /// CSC position of scalar `q` of block `b`: `pos[4 * b + q]`.
    pos: Vec<usize>,
    val: Vec<f64>,
}

impl Fallback {
    fn new(n_blk: usize, coords: &[(usize, usize)]) -> Result<Fallback> {
        let mut entries: Vec<(usize, usize, usize)> = Vec::with_capacity(4 * coords.len());
        for (b, &(r, c)) in coords.iter().enumerate() {
            for q in 0..4 {
                entries.push((2 * c + q % 2, 2 * r + q / 2, 4 * b + q));
            }
        }
        entries.sort_unstable();
        let mut col_ptr = vec![0usize; 2 * n_blk + 1];
        let mut row_idx = Vec::with_capacity(entries.len());
        let mut pos = vec![0; entries.len()];
        for (p, &(c, r, slot)) in entries.iter().enumerate() {
            col_ptr[c + 1] += 1;
            row_idx.push(r);
            pos[slot] = p;
        }
        for c in 0..2 * n_blk {
            col_ptr[c + 1] += col_ptr[c];
        }
        let val = vec![0.0; row_idx.len()];
        let lu = SparseLu::analyze(2 * n_blk, col_ptr, row_idx)?;
        Ok(Fallback { lu, pos, val })
    }

    fn solve(&mut self, jval: &[Block], f: &mut [f64]) -> Result<()> {
        for (b, blk) in jval.iter().enumerate() {
            for q in 0..4 {
                self.val[self.pos[4 * b + q]] = blk[q];
            }
        }
        self.lu.factor(&self.val)?;
        self.lu.solve_in_place(f)
    }
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
        let mut blk = vec![NONE; nb];
        let mut n_blk = 0;
        for i in 0..nb {
            if matches!(bus_type[i], BusType::Pv | BusType::Pq) {
                blk[i] = n_blk;
                n_blk += 1;
            }
        }
        let pq: Vec<bool> = bus_type.iter().map(|t| *t == BusType::Pq).collect();
        let indptr = ybus.indptr();
        let indptr = indptr.raw_storage();
        let indices = ybus.indices();
        let mut yrow = vec![0; indices.len()];
        let mut ysrc = vec![NONE; indices.len()];
        let mut coords = Vec::with_capacity(indices.len() + n_blk);
        let mut diag = vec![NONE; n_blk];
        for i in 0..nb {
            for e in indptr[i]..indptr[i + 1] {
                yrow[e] = i;
                let k = indices[e];
                if blk[i] != NONE && blk[k] != NONE {
                    ysrc[e] = coords.len();
                    if i == k {
                        diag[blk[i]] = coords.len();
                    }
                    coords.push((blk[i], blk[k]));
                }
            }
        }
        // A bus without a Ybus diagonal still gets a (then singular) block.
        for b in 0..n_blk {
            if diag[b] == NONE {
                diag[b] = coords.len();
                coords.push((b, b));
            }
        }
        let lu = BlockLu::analyze(n_blk, &coords)?;
        Ok(NewtonSolver {
            nb,
            blk,
            pq,
            ysrc,
            yrow,
            jval: vec![[0.0; 4]; coords.len()],
            coords,
            diag,
            lu,
            fallback: None,
            ibus: vec![Complex64::new(0.0, 0.0); nb],
            f: vec![0.0; 2 * n_blk],
            work: vec![0.0; 2 * n_blk],
            vm: vec![0.0; nb],
            va: vec![0.0; nb],
        })
    }

    /// Number of unknowns (angles of PV and PQ buses, magnitudes of PQ buses).
    pub fn dim(&self) -> usize {
        self.diag.len()
            + (0..self.nb)
                .filter(|&i| self.pq[i] && self.blk[i] != NONE)
                .count()
    }

    /// Whether a nearly singular block pivot sent the solves to the
    /// pivoting LU.
    pub fn uses_pivoting_lu(&self) -> bool {
        self.fallback.is_some()
    }

    /// Non-zero 2 × 2 blocks of the Jacobian.
    pub fn jacobian_blocks(&self) -> usize {
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
            let b = self.blk[i];
            if b == NONE {
                continue;
            }
            let mut mis = v[i] * acc.conj() - s_spec[i];
            if !s_i.is_empty() {
                mis += s_i[i] * v[i].norm();
            }
            self.f[2 * b] = mis.re;
            finite &= mis.re.is_finite();
            norm = norm.max(mis.re.abs());
            if self.pq[i] {
                self.f[2 * b + 1] = mis.im;
                finite &= mis.im.is_finite();
                norm = norm.max(mis.im.abs());
            } else {
                self.f[2 * b + 1] = 0.0;
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
        self.jval.iter_mut().for_each(|x| *x = [0.0; 4]);
        for e in 0..indices.len() {
            let slot = self.ysrc[e];
            if slot == NONE {
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
            // Only PQ buses have a Q equation (row) and a magnitude (column).
            let (row_q, col_m) = (self.pq[i] as u8 as f64, self.pq[k] as u8 as f64);
            let t = &mut self.jval[slot];
            t[0] += ds_dva.re;
            t[1] += ds_dvm.re * col_m;
            t[2] += ds_dva.im * row_q;
            t[3] += ds_dvm.im * row_q * col_m;
        }
        // A PV bus's magnitude step is pinned to zero by a diagonal of the
        // size of its angle's, which keeps the block well scaled.
        for i in 0..self.nb {
            let b = self.blk[i];
            if b != NONE && !self.pq[i] {
                let d = &mut self.jval[self.diag[b]];
                d[3] = d[0].abs().max(1.0);
            }
        }
    }

    /// Solves `J x = f` in place in `f`, with the block LU unless a block
    /// pivot nearly vanished (then, and from then on, with the pivoting LU).
    fn solve_step(&mut self) -> Result<()> {
        if self.fallback.is_none() {
            match self.lu.factor(&self.jval) {
                Ok(()) => {
                    self.lu.solve_in_place(&mut self.f, &mut self.work);
                    return Ok(());
                }
                Err(_) => self.fallback = Some(Fallback::new(self.diag.len(), &self.coords)?),
            }
        }
        match self.fallback.as_mut() {
            Some(fb) => fb.solve(&self.jval, &mut self.f),
            None => Ok(()),
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
            for x in self.f.iter_mut() {
                *x = -*x;
            }
            self.solve_step()?;
            if self.f.iter().any(|x| !x.is_finite()) {
                return Err(Error::Numerical(format!(
                    "singular Jacobian at Newton iteration {it} (the network may be disconnected or ill-conditioned)"
                )));
            }
            for i in 0..self.nb {
                let b = self.blk[i];
                if b == NONE {
                    continue;
                }
                self.va[i] += self.f[2 * b];
                if self.pq[i] {
                    self.vm[i] += self.f[2 * b + 1];
                }
                v[i] = Complex64::from_polar(self.vm[i], self.va[i]);
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
