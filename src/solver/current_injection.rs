//! Current-injection fixed point on a once-factorized admittance matrix
//! (the "implicit Z-bus Gauss" method; power-grid-model calls it
//! `iterative_current`).
//!
//! With the reference voltages `V_s` fixed and `I(V) = conj(S / V)` at the
//! PQ buses, each iteration solves `Y_LL V⁺ = I(V) − Y_Ls V_s` with the LU of
//! `Y_LL` computed once per set of admittances. After an iteration the
//! power mismatch at bus i is exactly `S_i (V_i − V⁺_i) / V_i`, so the
//! convergence test costs nothing; the final iterate is then checked with
//! the same full mismatch test as Newton (`max |ΔP|, |ΔQ|` from `Ybus·V`).
//!
//! The method handles PQ and reference buses only; networks with PV buses
//! (and constant-current loads) are left to Newton. Convergence is linear
//! with a rate that grows with loading; [`super::hybrid`] falls back to
//! Newton when it is slow.

use super::complex_lu::ComplexLu;
use super::newton::SolveReport;
use crate::error::Result;
use crate::math::{BusType, CsrMatrix};
use num_complex::Complex64;

const NONE: usize = usize::MAX;

/// Why a fixed-point solve stopped without converging.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stall {
    /// The iteration limit was reached.
    IterationLimit,
    /// The mismatch shrank too slowly (Newton will be faster).
    SlowContraction,
    /// Non-finite values appeared.
    NonFinite,
}

/// The fixed-point solver bound to one Ybus pattern and one set of bus types.
#[derive(Debug, Clone)]
pub struct CurrentInjectionSolver {
    /// Bus of each unknown, in pivot order.
    bus_of: Vec<usize>,
    lu: ComplexLu,
    /// Ybus entry of each LU input entry.
    lu_src: Vec<usize>,
    lu_vals: Vec<Complex64>,
    /// Per pivot position, couplings to reference buses: (Ybus entry, bus).
    known_ptr: Vec<usize>,
    known: Vec<(usize, usize)>,
    // Work vectors in pivot order: iterate, next iterate, injections, and
    // the reference buses' contribution to the right-hand side.
    x: Vec<Complex64>,
    xn: Vec<Complex64>,
    s: Vec<Complex64>,
    c: Vec<Complex64>,
}

impl CurrentInjectionSolver {
    /// Analyses and factors `Y_LL`. Returns `Ok(None)` when the method does
    /// not apply (PV buses, no PQ bus) and an error when the factorization
    /// breaks down.
    pub fn new(ybus: &CsrMatrix, bus_type: &[BusType]) -> Result<Option<CurrentInjectionSolver>> {
        let nb = bus_type.len();
        if bus_type.contains(&BusType::Pv) || ybus.rows() != nb || !ybus.is_csr() {
            return Ok(None);
        }
        let mut unknown = vec![NONE; nb];
        let mut pq = Vec::new();
        for (i, t) in bus_type.iter().enumerate() {
            if *t == BusType::Pq {
                unknown[i] = pq.len();
                pq.push(i);
            }
        }
        if pq.is_empty() {
            return Ok(None);
        }
        let indptr = ybus.indptr();
        let indptr = indptr.raw_storage();
        let indices = ybus.indices();
        let mut entries = Vec::new();
        let mut lu_src = Vec::new();
        for (u, &i) in pq.iter().enumerate() {
            for e in indptr[i]..indptr[i + 1] {
                let k = indices[e];
                if unknown[k] != NONE {
                    entries.push((u, unknown[k]));
                    lu_src.push(e);
                }
            }
        }
        let lu = ComplexLu::analyze(pq.len(), &entries)?;
        let n = pq.len();
        let bus_of: Vec<usize> = (0..n).map(|k| pq[lu.original(k)]).collect();
        let mut known_ptr = vec![0];
        let mut known = Vec::new();
        for &i in &bus_of {
            for e in indptr[i]..indptr[i + 1] {
                let k = indices[e];
                if bus_type[k] == BusType::Ref {
                    known.push((e, k));
                }
            }
            known_ptr.push(known.len());
        }
        let z = Complex64::new(0.0, 0.0);
        let mut s = CurrentInjectionSolver {
            bus_of,
            lu,
            lu_vals: vec![z; lu_src.len()],
            lu_src,
            known_ptr,
            known,
            x: vec![z; n],
            xn: vec![z; n],
            s: vec![z; n],
            c: vec![z; n],
        };
        s.refactor(ybus)?;
        Ok(Some(s))
    }

    /// Refactors after the Ybus values (not its pattern) changed.
    pub fn refactor(&mut self, ybus: &CsrMatrix) -> Result<()> {
        let data = ybus.data();
        for (v, &e) in self.lu_vals.iter_mut().zip(&self.lu_src) {
            *v = data[e];
        }
        self.lu.factor(&self.lu_vals)
    }

    /// Iterates from the voltages in `v` (reference buses fixed) until the
    /// power mismatch is below `tol` or `max_iter` iterations; leaves the
    /// last iterate in `v`. On success the report carries the full
    /// mismatch test's result.
    pub fn solve(
        &mut self,
        ybus: &CsrMatrix,
        s_spec: &[Complex64],
        v: &mut [Complex64],
        tol: f64,
        max_iter: usize,
    ) -> std::result::Result<SolveReport, (Stall, usize)> {
        let data = ybus.data();
        let n = self.bus_of.len();
        for k in 0..n {
            let b = self.bus_of[k];
            let mut acc = Complex64::new(0.0, 0.0);
            for &(e, bus) in &self.known[self.known_ptr[k]..self.known_ptr[k + 1]] {
                acc -= data[e] * v[bus];
            }
            self.c[k] = acc;
            self.s[k] = s_spec[b];
            self.x[k] = v[b];
        }
        let tol2 = tol * tol;
        let mut prev = f64::INFINITY;
        let mut it = 0;
        loop {
            it += 1;
            for k in 0..n {
                // conj(S / V) = conj(S) · V / |V|².
                let (s, x) = (self.s[k], self.x[k]);
                let d = x.norm_sqr();
                let num = s.conj() * x;
                self.xn[k] = Complex64::new(num.re / d, num.im / d) + self.c[k];
            }
            self.lu.solve_permuted(&mut self.xn);
            // Mismatch after this iteration: |S| · |V − V⁺| / |V|.
            let mut est: f64 = 0.0;
            for k in 0..n {
                let dx = (self.xn[k] - self.x[k]).norm_sqr();
                let m = self.s[k].norm_sqr() * dx / self.x[k].norm_sqr();
                est = est.max(m);
            }
            std::mem::swap(&mut self.x, &mut self.xn);
            if !est.is_finite() {
                return Err((Stall::NonFinite, it));
            }
            if est < tol2 {
                break;
            }
            if it >= max_iter {
                return Err((Stall::IterationLimit, it));
            }
            // Linear rate worse than 0.5 (0.25 on squares) after a few steps:
            // Newton's quadratic convergence wins.
            if it >= 4 && est > 0.25 * prev {
                return Err((Stall::SlowContraction, it));
            }
            prev = est;
        }
        for k in 0..n {
            v[self.bus_of[k]] = self.x[k];
        }
        let mis = pq_mismatch(ybus, s_spec, v, &self.bus_of);
        Ok(SolveReport {
            converged: mis < tol,
            iterations: it,
            max_mismatch_pu: mis,
        })
    }
}

/// `max |ΔP|, |ΔQ|` over the buses `buses` (Newton's convergence test
/// restricted to PQ buses, which are all the equations when there are no
/// PV buses).
pub fn pq_mismatch(
    ybus: &CsrMatrix,
    s_spec: &[Complex64],
    v: &[Complex64],
    buses: &[usize],
) -> f64 {
    let indptr = ybus.indptr();
    let indptr = indptr.raw_storage();
    let indices = ybus.indices();
    let data = ybus.data();
    let mut norm: f64 = 0.0;
    for &i in buses {
        let mut acc = Complex64::new(0.0, 0.0);
        for e in indptr[i]..indptr[i + 1] {
            acc += data[e] * v[indices[e]];
        }
        let mis = v[i] * acc.conj() - s_spec[i];
        if !(mis.re.is_finite() && mis.im.is_finite()) {
            return f64::NAN;
        }
        norm = norm.max(mis.re.abs()).max(mis.im.abs());
    }
    norm
}
