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

/// Systems solved together by [`CurrentInjectionSolver::solve_lanes`].
pub const LANES: usize = 4;

/// Outcome of one fixed-point solve: a report, or why and after how many
/// iterations it stalled (the voltages are then left untouched).
pub type FixedPointResult = std::result::Result<SolveReport, (Stall, usize)>;

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
    /// |S|² and 1/|V|² of the current iterate.
    s2: Vec<f64>,
    inv_d: Vec<f64>,
    // The same, one entry per lane (allocated on first use).
    xl: Vec<[Complex64; LANES]>,
    xnl: Vec<[Complex64; LANES]>,
    sl: Vec<[Complex64; LANES]>,
    cl: Vec<[Complex64; LANES]>,
    s2l: Vec<[f64; LANES]>,
    inv_dl: Vec<[f64; LANES]>,
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
            s2: vec![0.0; n],
            inv_d: vec![0.0; n],
            s2l: Vec::new(),
            inv_dl: Vec::new(),
            xl: Vec::new(),
            xnl: Vec::new(),
            sl: Vec::new(),
            cl: Vec::new(),
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
    ) -> FixedPointResult {
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
            self.s2[k] = s_spec[b].norm_sqr();
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
                let inv = 1.0 / x.norm_sqr();
                self.inv_d[k] = inv;
                self.xn[k] = s.conj() * x * inv + self.c[k];
            }
            self.lu.solve_permuted(&mut self.xn);
            // Mismatch after this iteration: |S| · |V − V⁺| / |V|.
            let mut est: f64 = 0.0;
            for k in 0..n {
                let dx = (self.xn[k] - self.x[k]).norm_sqr();
                let m = self.s2[k] * dx * self.inv_d[k];
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

impl CurrentInjectionSolver {
    /// Runs up to [`LANES`] independent solves (same admittances, their own
    /// injections `s_spec[l]` and voltages `v[l]`) in lockstep. Each lane
    /// performs exactly the arithmetic of [`Self::solve`] and stops on its
    /// own, so its result equals a solve on its own, bit for bit.
    ///
    /// # Panics
    /// If more than [`LANES`] lanes are given or `s_spec` and `v` differ in length.
    pub fn solve_lanes(
        &mut self,
        ybus: &CsrMatrix,
        s_spec: &[&[Complex64]],
        v: &mut [&mut [Complex64]],
        tol: f64,
        max_iter: usize,
    ) -> [Option<FixedPointResult>; LANES] {
        let a = s_spec.len();
        assert!(a <= LANES && v.len() == a, "lane count");
        let data = ybus.data();
        let n = self.bus_of.len();
        let z = Complex64::new(0.0, 0.0);
        for buf in [&mut self.xl, &mut self.xnl, &mut self.sl, &mut self.cl] {
            buf.resize(n, [z; LANES]);
        }
        self.s2l.resize(n, [0.0; LANES]);
        self.inv_dl.resize(n, [0.0; LANES]);
        // Lanes beyond `a` (and finished lanes) iterate on harmless values.
        let idle = (z, Complex64::new(1.0, 0.0), Complex64::new(1.0, 0.0));
        for k in 0..n {
            let b = self.bus_of[k];
            for l in 0..LANES {
                if l < a {
                    let mut acc = z;
                    for &(e, bus) in &self.known[self.known_ptr[k]..self.known_ptr[k + 1]] {
                        acc -= data[e] * v[l][bus];
                    }
                    self.cl[k][l] = acc;
                    self.sl[k][l] = s_spec[l][b];
                    self.s2l[k][l] = s_spec[l][b].norm_sqr();
                    self.xl[k][l] = v[l][b];
                } else {
                    (self.sl[k][l], self.cl[k][l], self.xl[k][l]) = idle;
                    self.s2l[k][l] = 0.0;
                }
            }
        }
        let tol2 = tol * tol;
        let mut running = [false; LANES];
        running[..a].iter_mut().for_each(|r| *r = true);
        let mut prev = [f64::INFINITY; LANES];
        let mut it = [0usize; LANES];
        let mut out: [Option<FixedPointResult>; LANES] = [None; LANES];
        while running.iter().any(|&r| r) {
            for k in 0..n {
                for l in 0..LANES {
                    let (s, x) = (self.sl[k][l], self.xl[k][l]);
                    let inv = 1.0 / x.norm_sqr();
                    self.inv_dl[k][l] = inv;
                    self.xnl[k][l] = s.conj() * x * inv + self.cl[k][l];
                }
            }
            self.lu.solve_lanes(&mut self.xnl);
            let mut est = [0.0f64; LANES];
            for k in 0..n {
                for l in 0..LANES {
                    let dx = (self.xnl[k][l] - self.xl[k][l]).norm_sqr();
                    let m = self.s2l[k][l] * dx * self.inv_dl[k][l];
                    est[l] = est[l].max(m);
                }
            }
            std::mem::swap(&mut self.xl, &mut self.xnl);
            for l in 0..a {
                if !running[l] {
                    continue;
                }
                it[l] += 1;
                let stop = if !est[l].is_finite() {
                    Some(Err((Stall::NonFinite, it[l])))
                } else if est[l] < tol2 {
                    for k in 0..n {
                        v[l][self.bus_of[k]] = self.xl[k][l];
                    }
                    let mis = pq_mismatch(ybus, s_spec[l], v[l], &self.bus_of);
                    Some(Ok(SolveReport {
                        converged: mis < tol,
                        iterations: it[l],
                        max_mismatch_pu: mis,
                    }))
                } else if it[l] >= max_iter {
                    Some(Err((Stall::IterationLimit, it[l])))
                } else if it[l] >= 4 && est[l] > 0.25 * prev[l] {
                    Some(Err((Stall::SlowContraction, it[l])))
                } else {
                    prev[l] = est[l];
                    None
                };
                if let Some(r) = stop {
                    out[l] = Some(r);
                    running[l] = false;
                    for k in 0..n {
                        (self.sl[k][l], self.cl[k][l], self.xl[k][l]) = idle;
                        self.s2l[k][l] = 0.0;
                    }
                }
            }
        }
        out
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
