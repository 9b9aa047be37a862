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
//! Constant-current loads (`S = s_i |V|`, consumption at 1 p.u.) inject
//! `−conj(s_i) V/|V|`, a term of the right-hand side like the constant-power
//! one; constant-impedance loads are part of `Y`. The method handles PQ and
//! reference buses only; networks with PV buses are left to Newton. Convergence is linear
//! with a rate that grows with loading; [`super::hybrid`] falls back to
//! Newton when it is slow.

use super::complex_lu::{ComplexLu, SplitFactors};
use super::newton::SolveReport;
use crate::error::Result;
use crate::math::{BusType, CsrMatrix};
use num_complex::Complex64;

const NONE: usize = usize::MAX;

/// How many entries ahead a loop that reads or writes a [`LaneVec`] out of
/// order asks for them ([`LaneVec::prefetch`]): the solver's gathers from and
/// scatter to bus order, the result kernel's branch ends, the booking of
/// profile elements.
pub const PREFETCH_AHEAD: usize = 16;

/// Systems solved together by [`CurrentInjectionSolver::solve_lanes`].
pub const LANES: usize = 4;

/// One entry of a [`LaneVec`]: the real and imaginary parts of every lane,
/// together in one 64-byte cache line (a bus's voltage or injection is
/// read and written whole, often out of order: one line instead of two).
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LaneComplex {
    /// Real parts, one per lane.
    pub re: [f64; LANES],
    /// Imaginary parts, one per lane.
    pub im: [f64; LANES],
}

/// Complex values of [`LANES`] independent systems, interleaved: entry `i`
/// (`v[i]`) holds the real (`v[i].re[l]`) and imaginary (`v[i].im[l]`)
/// part of every lane `l`, so that a whole row moves as one vector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LaneVec {
    entries: Vec<LaneComplex>,
}

impl LaneVec {
    /// `n` entries, every lane equal to `x[i]`.
    pub fn splat(x: &[Complex64]) -> LaneVec {
        LaneVec {
            entries: x
                .iter()
                .map(|c| LaneComplex {
                    re: [c.re; LANES],
                    im: [c.im; LANES],
                })
                .collect(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True without entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `i` of lane `l`.
    #[inline]
    pub fn get(&self, i: usize, l: usize) -> Complex64 {
        Complex64::new(self[i].re[l], self[i].im[l])
    }

    /// Lane `l` as a vector.
    pub fn lane(&self, l: usize) -> Vec<Complex64> {
        (0..self.len()).map(|i| self.get(i, l)).collect()
    }

    /// Asks the CPU to fetch entry `i` into its caches (a hint: nothing
    /// happens where `i` is out of range or the target has no such hint).
    #[inline(always)]
    pub fn prefetch(&self, i: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let p = self.entries.as_ptr().wrapping_add(i).cast::<i8>();
            // SAFETY: a prefetch never faults and reads nothing the program
            // sees, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }

    /// Sets lane `l` from `x`.
    pub fn set_lane(&mut self, l: usize, x: &[Complex64]) {
        for (e, c) in self.entries.iter_mut().zip(x) {
            e.re[l] = c.re;
            e.im[l] = c.im;
        }
    }
}

impl std::ops::Index<usize> for LaneVec {
    type Output = LaneComplex;
    #[inline]
    fn index(&self, i: usize) -> &LaneComplex {
        &self.entries[i]
    }
}

impl std::ops::IndexMut<usize> for LaneVec {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut LaneComplex {
        &mut self.entries[i]
    }
}

/// Injections that follow their bus voltage (inverter Q(U) and P(U)
/// curves), settled together with the power flow: after every fixed-point
/// iteration the solver shows the iterate's voltage magnitudes, and the
/// response moves its injections toward its curves.
pub trait VoltageResponse {
    /// With `vm(bus)` the magnitude of the iterate's voltage at `bus`, p.u.,
    /// moves injections by calling `shift(bus, ds)` (ds in p.u., generation
    /// positive) and returns whether any set-point was still outside its
    /// tolerance of its curve (the solve does not end while one is).
    fn respond(
        &mut self,
        vm: &dyn Fn(usize) -> f64,
        shift: &mut dyn FnMut(usize, Complex64),
    ) -> bool;
}

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

/// What to do after an iteration whose squared mismatch estimate is `est`.
enum Move {
    /// Below the tolerance: accept the iterate (the full test follows).
    Accept,
    /// Give up for this reason.
    Stop(Stall),
    /// Iterate again.
    Continue,
}

/// The slowest contraction a solve accepts: from iteration `from_it` on,
/// a squared mismatch estimate above `rate2` times the one before stops it.
#[derive(Debug, Clone, Copy)]
struct Contraction {
    rate2: f64,
    from_it: usize,
}

/// A plain solve: a rate worse than 0.5 (0.25 on squares) after a few
/// iterations hands over to Newton, whose quadratic convergence then wins.
const SLOW_PLAIN: Contraction = Contraction {
    rate2: 0.25,
    from_it: 4,
};

/// While a [`VoltageResponse`] moves injections the mismatch shrinks more
/// slowly (each move disturbs the voltages): only a rate worse than 0.9
/// after ten iterations stops it (the alternative, one power flow per
/// move, costs more than a slow joint iteration; the iteration limit
/// bounds it).
const SLOW_RESPONSIVE: Contraction = Contraction {
    rate2: 0.81,
    from_it: 10,
};

/// The stopping rule shared by the single and the batched solve: `est` and
/// `prev` are squared mismatch estimates of iterations `it` and `it - 1`.
fn next_move(
    est: f64,
    prev: f64,
    it: usize,
    tol2: f64,
    max_iter: usize,
    slow: Contraction,
) -> Move {
    if !est.is_finite() {
        Move::Stop(Stall::NonFinite)
    } else if est < tol2 {
        Move::Accept
    } else if it >= max_iter {
        Move::Stop(Stall::IterationLimit)
    } else if it >= slow.from_it && est > slow.rate2 * prev {
        Move::Stop(Stall::SlowContraction)
    } else {
        Move::Continue
    }
}

/// The fixed-point solver bound to one Ybus pattern and one set of bus types.
#[derive(Debug, Clone)]
pub struct CurrentInjectionSolver {
    /// Bus of each unknown, in pivot order.
    bus_of: Vec<usize>,
    /// Pivot position of each bus ([`NONE`] for reference and isolated buses).
    pos_of: Vec<usize>,
    lu: ComplexLu,
    /// Ybus entry of each LU input entry.
    lu_src: Vec<usize>,
    lu_vals: Vec<Complex64>,
    /// Per pivot position, couplings to reference buses: (Ybus value, bus),
    /// the values copied from the Ybus last factored.
    known_ptr: Vec<usize>,
    known: Vec<(Complex64, usize)>,
    /// The Ybus entry of each of `known` (refreshed by `refactor`).
    known_src: Vec<usize>,
    /// Per pivot position, the Ybus entries of its row that couple to
    /// unknowns: (Ybus value, pivot position of the column), CSR order; the
    /// values copied in this order from the Ybus last factored, so that the
    /// mismatch test reads them in one pass instead of gathering them from
    /// the Ybus's bus order (on large grids a cache miss per entry).
    row_ptr: Vec<usize>,
    row: Vec<(Complex64, usize)>,
    /// The Ybus entry of each of `row` (refreshed by `refactor`).
    row_src: Vec<usize>,
    // Work vectors in pivot order: iterate, next iterate, injections, and
    // the reference buses' contribution to the right-hand side.
    x: Vec<Complex64>,
    xn: Vec<Complex64>,
    s: Vec<Complex64>,
    c: Vec<Complex64>,
    /// |S|² and 1/|V|² of the current iterate.
    s2: Vec<f64>,
    inv_d: Vec<f64>,
    /// The same for batched solves (allocated on first use).
    lanes: Lanes,
    /// Unknowns with a constant-current load, ascending: pivot position,
    /// `s_i` (consumption at 1 p.u., p.u.) and `|s_i|`
    /// ([`CurrentInjectionSolver::set_current_loads`]).
    current: Vec<(usize, Complex64, f64)>,
}

/// Work vectors of a batched solve, real and imaginary parts apart, one
/// value per lane for each unknown (pivot order). On a large grid these
/// vectors outgrow the caches, so the kernel keeps as few of them as it can:
/// 1/|V|² is recomputed where it is needed, and the reference buses'
/// contribution `c` is kept only for the unknowns coupled to them.
#[derive(Debug, Clone, Default)]
struct Lanes {
    xr: Vec<[f64; LANES]>,
    xi: Vec<[f64; LANES]>,
    xnr: Vec<[f64; LANES]>,
    xni: Vec<[f64; LANES]>,
    sr: Vec<[f64; LANES]>,
    si: Vec<[f64; LANES]>,
    s2: Vec<[f64; LANES]>,
    /// The unknowns coupled to a reference bus, ascending, with `c` (Re, Im).
    known: Vec<(usize, [f64; LANES], [f64; LANES])>,
    /// Accepted iterates awaiting the final test (S and c of a lane do
    /// not change during a call).
    dr: Vec<[f64; LANES]>,
    di: Vec<[f64; LANES]>,
}

impl Lanes {
    fn resize(&mut self, n: usize) {
        for b in [
            &mut self.xr,
            &mut self.xi,
            &mut self.xnr,
            &mut self.xni,
            &mut self.sr,
            &mut self.si,
            &mut self.s2,
            &mut self.dr,
            &mut self.di,
        ] {
            b.resize(n, [0.0; LANES]);
        }
    }

    /// Makes lane `q` iterate on harmless values: no injections from the
    /// flat voltage, and lane 0's reference voltages (it converges to the
    /// grid's no-load voltages).
    fn idle(&mut self, q: usize) {
        for k in 0..self.xr.len() {
            self.sr[k][q] = 0.0;
            self.si[k][q] = 0.0;
            self.s2[k][q] = 0.0;
            self.xr[k][q] = 1.0;
            self.xi[k][q] = 0.0;
        }
        for (_, cr, ci) in &mut self.known {
            (cr[q], ci[q]) = (cr[0], ci[0]);
        }
    }
}

/// Lane `l`'s response after an iteration, as
/// [`CurrentInjectionSolver::solve_responsive`] shows it the iterate and
/// applies its moves, in the same arithmetic; whether it is still unsettled.
fn respond_lane(
    pos_of: &[usize],
    ln: &mut Lanes,
    response: &mut dyn VoltageResponse,
    l: usize,
    v: &LaneVec,
) -> bool {
    let Lanes {
        xr, xi, sr, si, s2, ..
    } = ln;
    let (xr, xi) = (&*xr, &*xi);
    let vm = |bus: usize| match pos_of[bus] {
        NONE => v.get(bus, l).norm(),
        k => Complex64::new(xr[k][l], xi[k][l]).norm(),
    };
    let mut shift = |bus: usize, ds: Complex64| {
        let k = pos_of[bus];
        if k != NONE {
            sr[k][l] += ds.re;
            si[k][l] += ds.im;
            s2[k][l] = sr[k][l] * sr[k][l] + si[k][l] * si[k][l];
        }
    };
    response.respond(&vm, &mut shift)
}

/// One fixed-point iteration of every lane: right-hand sides, the two
/// sweeps, and each lane's mismatch estimate (squared). Written in real
/// arithmetic that repeats, operation for operation, what
/// [`CurrentInjectionSolver::solve`] does with complex numbers, so each lane's
/// result is bit-identical to a single solve. The forward sweep gathers
/// each row of L as its right-hand side is formed (one pass instead of two;
/// the same subtractions in the same order as the column-wise sweep).
#[inline(always)]
fn lane_iteration_impl(
    lu: &LaneLu,
    ln: &mut Lanes,
    current: &[(usize, Complex64, f64)],
) -> [f64; LANES] {
    let Lanes {
        xr,
        xi,
        xnr,
        xni,
        sr,
        si,
        s2,
        known,
        ..
    } = ln;
    let n = xr.len();
    let ((lre, lim), (ure, uim), (dre, dim)) = (&lu.f.l_rows, &lu.f.u, &lu.f.inv_diag);
    let mut known = known.iter().peekable();
    let mut loads = current.iter().peekable();
    for k in 0..n {
        let (mut ar, mut ai) = ([0.0; LANES], [0.0; LANES]);
        let mut inv = [0.0; LANES];
        for q in 0..LANES {
            let (x_r, x_i) = (xr[k][q], xi[k][q]);
            let (s_r, s_i) = (sr[k][q], si[k][q]);
            inv[q] = 1.0 / (x_r * x_r + x_i * x_i);
            // conj(S)·V / |V|² (+ c and − conj(s_i)·V/|V| below)
            let pr = s_r * x_r - (-s_i) * x_i;
            let pi = s_r * x_i + (-s_i) * x_r;
            ar[q] = pr * inv[q];
            ai[q] = pi * inv[q];
        }
        if let Some((_, cr, ci)) = known.next_if(|c| c.0 == k) {
            for q in 0..LANES {
                ar[q] += cr[q];
                ai[q] += ci[q];
            }
        }
        if let Some(&(_, s_load, _)) = loads.next_if(|c| c.0 == k) {
            let (gr, gi) = (s_load.re, -s_load.im);
            for q in 0..LANES {
                let (x_r, x_i) = (xr[k][q], xi[k][q]);
                let m = inv[q].sqrt();
                ar[q] -= (gr * x_r - gi * x_i) * m;
                ai[q] -= (gr * x_i + gi * x_r) * m;
            }
        }
        for e in lu.row_ptr[k]..lu.row_ptr[k + 1] {
            let j = lu.row_col[e];
            let (lr, li) = (lre[e], lim[e]);
            let (br, bi) = (xnr[j], xni[j]);
            for q in 0..LANES {
                ar[q] -= lr * br[q] - li * bi[q];
                ai[q] -= lr * bi[q] + li * br[q];
            }
        }
        xnr[k] = ar;
        xni[k] = ai;
    }
    // The estimate is taken as each unknown is final (a maximum: the same
    // in any order).
    let mut est = [0.0f64; LANES];
    let mut loads = current.iter().rev().peekable();
    for k in (0..n).rev() {
        // x_k / pivot − Σ (U_kj / pivot) x_j: the division is off the
        // dependency chain.
        let (ar, ai) = (xnr[k], xni[k]);
        let (dr, di) = (dre[k], dim[k]);
        let mut tr = [0.0; LANES];
        let mut ti = [0.0; LANES];
        for q in 0..LANES {
            tr[q] = ar[q] * dr - ai[q] * di;
            ti[q] = ar[q] * di + ai[q] * dr;
        }
        for e in lu.ptr[k]..lu.ptr[k + 1] {
            let j = lu.idx[e];
            let (ur, ui) = (ure[e], uim[e]);
            let (br, bi) = (xnr[j], xni[j]);
            for q in 0..LANES {
                tr[q] -= ur * br[q] - ui * bi[q];
                ti[q] -= ur * bi[q] + ui * br[q];
            }
        }
        xnr[k] = tr;
        xni[k] = ti;
        let (mut inv, mut dx) = ([0.0; LANES], [0.0; LANES]);
        for q in 0..LANES {
            let (x_r, x_i) = (xr[k][q], xi[k][q]);
            // 1/|V|² of the iterate, as the forward pass computed it.
            inv[q] = 1.0 / (x_r * x_r + x_i * x_i);
            let (d_r, d_i) = (tr[q] - x_r, ti[q] - x_i);
            dx[q] = d_r * d_r + d_i * d_i;
            est[q] = larger(est[q], s2[k][q] * dx[q] * inv[q]);
        }
        // Outside the lanes' loop, which then compiles to vector code.
        if let Some(&(_, _, a)) = loads.next_if(|c| c.0 == k) {
            for q in 0..LANES {
                let w = (s2[k][q] * inv[q]).sqrt() + a;
                est[q] = larger(est[q], w * w * dx[q]);
            }
        }
    }
    est
}

/// `acc.max(x)` for an `acc` that is never NaN (a running maximum that
/// starts at a number), written as one comparison so that a loop over the
/// lanes compiles to a vector maximum (`f64::max`'s NaN rule does not): a
/// NaN `x` leaves `acc` as `f64::max` does.
#[inline(always)]
pub fn larger(acc: f64, x: f64) -> f64 {
    if x > acc {
        x
    } else {
        acc
    }
}

/// `acc.min(x)` for an `acc` that is never NaN, as [`larger`] is for `max`.
#[inline(always)]
pub fn smaller(acc: f64, x: f64) -> f64 {
    if x < acc {
        x
    } else {
        acc
    }
}

/// The LU as the lane kernel reads it: the pattern (column k of L = row k
/// of U), L's rows, and the split factors.
struct LaneLu<'a> {
    ptr: &'a [usize],
    idx: &'a [usize],
    row_ptr: &'a [usize],
    row_col: &'a [usize],
    f: &'a SplitFactors,
}

impl<'a> LaneLu<'a> {
    fn of(lu: &'a ComplexLu) -> LaneLu<'a> {
        let (ptr, idx) = lu.pattern();
        let (row_ptr, row_col) = lu.l_rows();
        LaneLu {
            ptr,
            idx,
            row_ptr,
            row_col,
            f: lu.split_factors(),
        }
    }
}

/// [`lane_iteration_impl`] compiled for AVX2 (no FMA, so results are the
/// same as the baseline build's).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lane_iteration_avx2(
    lu: &LaneLu,
    ln: &mut Lanes,
    current: &[(usize, Complex64, f64)],
) -> [f64; LANES] {
    lane_iteration_impl(lu, ln, current)
}

/// [`CurrentInjectionSolver::final_mismatch`] for the accepted iterates of
/// all lanes at once (lanes without one compute garbage that is ignored).
#[inline(always)]
fn lane_mismatch_impl(
    row_ptr: &[usize],
    row: &[(Complex64, usize)],
    ln: &Lanes,
    current: &[(usize, Complex64, f64)],
) -> [f64; LANES] {
    let mut norm = [0.0f64; LANES];
    let mut finite = [true; LANES];
    let mut known = ln.known.iter().peekable();
    let mut loads = current.iter().peekable();
    for k in 0..ln.dr.len() {
        let mut ar = [0.0f64; LANES];
        let mut ai = [0.0f64; LANES];
        for &(y, p) in &row[row_ptr[k]..row_ptr[k + 1]] {
            let (yr, yi) = (y.re, y.im);
            let (xr, xi) = (ln.dr[p], ln.di[p]);
            for q in 0..LANES {
                ar[q] += yr * xr[q] - yi * xi[q];
                ai[q] += yr * xi[q] + yi * xr[q];
            }
        }
        // c is zero where absent: subtracting it would change nothing.
        if let Some((_, cr, ci)) = known.next_if(|c| c.0 == k) {
            for q in 0..LANES {
                ar[q] -= cr[q];
                ai[q] -= ci[q];
            }
        }
        let (xr, xi) = (&ln.dr[k], &ln.di[k]);
        let (mut mr, mut mi) = ([0.0f64; LANES], [0.0f64; LANES]);
        for q in 0..LANES {
            mr[q] = (xr[q] * ar[q] + xi[q] * ai[q]) - ln.sr[k][q];
            mi[q] = (xi[q] * ar[q] - xr[q] * ai[q]) - ln.si[k][q];
        }
        // Outside the lanes' loops, which then compile to vector code.
        if let Some(&(_, si, _)) = loads.next_if(|c| c.0 == k) {
            for q in 0..LANES {
                let vm = xr[q].hypot(xi[q]);
                mr[q] += si.re * vm;
                mi[q] += si.im * vm;
            }
        }
        for q in 0..LANES {
            finite[q] &= mr[q].is_finite() & mi[q].is_finite();
            norm[q] = larger(larger(norm[q], mr[q].abs()), mi[q].abs());
        }
    }
    for q in 0..LANES {
        if !finite[q] {
            norm[q] = f64::NAN;
        }
    }
    norm
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lane_mismatch_avx2(
    row_ptr: &[usize],
    row: &[(Complex64, usize)],
    ln: &Lanes,
    current: &[(usize, Complex64, f64)],
) -> [f64; LANES] {
    lane_mismatch_impl(row_ptr, row, ln, current)
}

fn lane_mismatch(
    row_ptr: &[usize],
    row: &[(Complex64, usize)],
    ln: &Lanes,
    current: &[(usize, Complex64, f64)],
) -> [f64; LANES] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { lane_mismatch_avx2(row_ptr, row, ln, current) };
        }
    }
    lane_mismatch_impl(row_ptr, row, ln, current)
}

fn lane_iteration(
    lu: &LaneLu,
    ln: &mut Lanes,
    current: &[(usize, Complex64, f64)],
) -> [f64; LANES] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { lane_iteration_avx2(lu, ln, current) };
        }
    }
    lane_iteration_impl(lu, ln, current)
}

/// Keeps the iterates of the lanes `accepted` this iteration for the final
/// test (they stop iterating): all lanes at once by exchanging the
/// buffers (the usual case, no copy), else lane by lane in one pass.
fn keep_accepted(ln: &mut Lanes, accepted: &[bool; LANES]) {
    if accepted.iter().all(|&x| x) {
        std::mem::swap(&mut ln.dr, &mut ln.xr);
        std::mem::swap(&mut ln.di, &mut ln.xi);
    } else if accepted.iter().any(|&x| x) {
        for k in 0..ln.xr.len() {
            for l in 0..LANES {
                if accepted[l] {
                    ln.dr[k][l] = ln.xr[k][l];
                    ln.di[k][l] = ln.xi[k][l];
                }
            }
        }
    }
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
        let z = Complex64::new(0.0, 0.0);
        let (mut known_ptr, mut known, mut known_src) = (vec![0], Vec::new(), Vec::new());
        let (mut row_ptr, mut row, mut row_src) = (vec![0], Vec::new(), Vec::new());
        for &i in &bus_of {
            for e in indptr[i]..indptr[i + 1] {
                let k = indices[e];
                if bus_type[k] == BusType::Ref {
                    known.push((z, k));
                    known_src.push(e);
                } else if unknown[k] != NONE {
                    row.push((z, lu.position(unknown[k])));
                    row_src.push(e);
                }
            }
            known_ptr.push(known.len());
            row_ptr.push(row.len());
        }
        let mut pos_of = vec![NONE; nb];
        for (k, &b) in bus_of.iter().enumerate() {
            pos_of[b] = k;
        }
        let mut s = CurrentInjectionSolver {
            bus_of,
            pos_of,
            lu,
            lu_vals: vec![z; lu_src.len()],
            lu_src,
            known_ptr,
            known,
            known_src,
            row_ptr,
            row,
            row_src,
            x: vec![z; n],
            xn: vec![z; n],
            s: vec![z; n],
            c: vec![z; n],
            s2: vec![0.0; n],
            inv_d: vec![0.0; n],
            lanes: Lanes::default(),
            current: Vec::new(),
        };
        s.refactor(ybus)?;
        Ok(Some(s))
    }

    /// Refactors after the Ybus values (not its pattern) changed. The
    /// solves work with the Ybus last given here or to [`Self::new`]: its
    /// LU, and the copies of its values the mismatch tests read.
    pub fn refactor(&mut self, ybus: &CsrMatrix) -> Result<()> {
        let data = ybus.data();
        for (v, &e) in self.lu_vals.iter_mut().zip(&self.lu_src) {
            *v = data[e];
        }
        for (r, &e) in self.row.iter_mut().zip(&self.row_src) {
            r.0 = data[e];
        }
        for (c, &e) in self.known.iter_mut().zip(&self.known_src) {
            c.0 = data[e];
        }
        self.lu.factor(&self.lu_vals)
    }

    /// The constant-current loads the next solves include: `s_i` per bus
    /// (consumption at 1 p.u., p.u.; empty for none), as Newton's
    /// `solve_with_current_loads` takes them. The mismatch tests then count
    /// what they draw at the solved voltage.
    pub fn set_current_loads(&mut self, s_i: &[Complex64]) {
        self.current.clear();
        if s_i.is_empty() {
            return;
        }
        for (k, &b) in self.bus_of.iter().enumerate() {
            let s = s_i[b];
            if s != Complex64::new(0.0, 0.0) {
                self.current.push((k, s, s.norm()));
            }
        }
    }

    /// Iterates from the voltages in `v` (reference buses fixed) until the
    /// power mismatch is below `tol` or `max_iter` iterations; leaves the
    /// last iterate in `v`. On success the report carries the full
    /// mismatch test's result.
    pub fn solve(
        &mut self,
        s_spec: &[Complex64],
        v: &mut [Complex64],
        tol: f64,
        max_iter: usize,
    ) -> FixedPointResult {
        self.solve_responsive(s_spec, v, tol, max_iter, None)
    }

    /// [`Self::solve`] with injections that follow the voltage: `response`
    /// moves them after every iteration, and the solve ends only when the
    /// mismatch is below `tol` and every set-point has settled on its curve
    /// (the report's mismatch is that of the moved injections). On a stall
    /// the voltages are left untouched, the response's moves are not.
    pub fn solve_responsive(
        &mut self,
        s_spec: &[Complex64],
        v: &mut [Complex64],
        tol: f64,
        max_iter: usize,
        mut response: Option<&mut dyn VoltageResponse>,
    ) -> FixedPointResult {
        let n = self.bus_of.len();
        for k in 0..n {
            let b = self.bus_of[k];
            let mut acc = Complex64::new(0.0, 0.0);
            for &(y, bus) in &self.known[self.known_ptr[k]..self.known_ptr[k + 1]] {
                acc -= y * v[bus];
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
            let mut current = self.current.iter().peekable();
            for k in 0..n {
                // conj(S / V) = conj(S) · V / |V|², plus c where the unknown
                // is coupled to a reference bus (as the lane kernel does),
                // less conj(s_i) · V / |V| where it has a constant-current load.
                let (s, x) = (self.s[k], self.x[k]);
                let inv = 1.0 / x.norm_sqr();
                self.inv_d[k] = inv;
                self.xn[k] = s.conj() * x * inv;
                if self.known_ptr[k] != self.known_ptr[k + 1] {
                    self.xn[k] += self.c[k];
                }
                if let Some(&(_, si, _)) = current.next_if(|c| c.0 == k) {
                    self.xn[k] -= si.conj() * x * inv.sqrt();
                }
            }
            self.lu.solve_permuted(&mut self.xn);
            // Mismatch after this iteration: |S| · |V − V⁺| / |V| (to first
            // order, plus |s_i| · |V − V⁺| for a constant-current load).
            let mut est: f64 = 0.0;
            for k in 0..n {
                let dx = (self.xn[k] - self.x[k]).norm_sqr();
                let m = self.s2[k] * dx * self.inv_d[k];
                est = est.max(m);
            }
            for &(k, _, si_abs) in &self.current {
                let dx = (self.xn[k] - self.x[k]).norm_sqr();
                let w = (self.s2[k] * self.inv_d[k]).sqrt() + si_abs;
                est = est.max(w * w * dx);
            }
            std::mem::swap(&mut self.x, &mut self.xn);
            let unsettled = match response.as_deref_mut() {
                Some(r) => self.respond(r, v),
                None => false,
            };
            let slow = match response.is_some() {
                true => SLOW_RESPONSIVE,
                false => SLOW_PLAIN,
            };
            match next_move(est, prev, it, tol2, max_iter, slow) {
                Move::Accept if !unsettled => break,
                Move::Accept if it >= max_iter => return Err((Stall::IterationLimit, it)),
                // Injections moved after the voltages had settled: the
                // contraction test starts again.
                Move::Accept => prev = f64::INFINITY,
                Move::Stop(why) => return Err((why, it)),
                Move::Continue => prev = est,
            }
        }
        for k in 0..n {
            v[self.bus_of[k]] = self.x[k];
        }
        let mis = self.final_mismatch();
        Ok(SolveReport {
            converged: mis < tol,
            iterations: it,
            max_mismatch_pu: mis,
        })
    }
}

impl CurrentInjectionSolver {
    /// Shows `response` the iterate's voltage magnitudes (reference and
    /// isolated buses from `v`) and applies its moves to the injections;
    /// whether it is still unsettled.
    fn respond(&mut self, response: &mut dyn VoltageResponse, v: &[Complex64]) -> bool {
        let (pos_of, x) = (&self.pos_of, &self.x);
        let vm = |bus: usize| match pos_of[bus] {
            NONE => v[bus].norm(),
            k => x[k].norm(),
        };
        let (s, s2) = (&mut self.s, &mut self.s2);
        let mut shift = |bus: usize, ds: Complex64| {
            let k = pos_of[bus];
            if k != NONE {
                s[k] += ds;
                s2[k] = s[k].norm_sqr();
            }
        };
        response.respond(&vm, &mut shift)
    }

    /// Newton's test at the iterate in `self.x`: `max |ΔP|, |ΔQ|` over the
    /// PQ buses from the full Ybus rows (unknown columns from the iterate,
    /// reference columns through `c`). NaN if any mismatch is not finite.
    /// Written in the same real arithmetic as the lane version.
    fn final_mismatch(&self) -> f64 {
        let mut norm: f64 = 0.0;
        let mut finite = true;
        let mut current = self.current.iter().peekable();
        for k in 0..self.bus_of.len() {
            let (mut ar, mut ai) = (0.0, 0.0);
            for &(y, p) in &self.row[self.row_ptr[k]..self.row_ptr[k + 1]] {
                let (yr, yi) = (y.re, y.im);
                let (xr, xi) = (self.x[p].re, self.x[p].im);
                ar += yr * xr - yi * xi;
                ai += yr * xi + yi * xr;
            }
            ar -= self.c[k].re;
            ai -= self.c[k].im;
            let (xr, xi) = (self.x[k].re, self.x[k].im);
            let mut mr = (xr * ar + xi * ai) - self.s[k].re;
            let mut mi = (xi * ar - xr * ai) - self.s[k].im;
            if let Some(&(_, si, _)) = current.next_if(|c| c.0 == k) {
                // What the constant-current load draws at this voltage.
                let vm = xr.hypot(xi);
                mr += si.re * vm;
                mi += si.im * vm;
            }
            finite &= mr.is_finite() && mi.is_finite();
            norm = norm.max(mr.abs()).max(mi.abs());
        }
        if finite {
            norm
        } else {
            f64::NAN
        }
    }

    /// Runs up to [`LANES`] independent solves (same admittances, their own
    /// injections `s_spec[l]` and voltages `v[l]`) in lockstep. Each lane
    /// performs exactly the arithmetic of [`Self::solve`] and stops on its
    /// own, so its result equals a solve on its own, bit for bit.
    ///
    /// # Panics
    /// If more than [`LANES`] lanes are given or `s_spec` and `v` differ in length.
    pub fn solve_lanes(
        &mut self,
        s_spec: &[&[Complex64]],
        v: &mut [&mut [Complex64]],
        tol: f64,
        max_iter: usize,
    ) -> [Option<FixedPointResult>; LANES] {
        let a = s_spec.len();
        assert!(a <= LANES && v.len() == a, "lane count");
        let nb = s_spec.first().map_or(0, |x| x.len());
        let mut s = LaneVec::splat(&vec![Complex64::new(0.0, 0.0); nb]);
        let mut vv = s.clone();
        for l in 0..a {
            s.set_lane(l, s_spec[l]);
            vv.set_lane(l, v[l]);
        }
        let out = self.solve_interleaved(&s, &mut vv, a, tol, max_iter);
        for (l, vl) in v.iter_mut().enumerate() {
            vl.copy_from_slice(&vv.lane(l));
        }
        out
    }

    /// [`Self::solve_lanes`] on interleaved injections `s` and voltages `v`
    /// (bus order) of the first `a` lanes; the other lanes are ignored and
    /// left as they are.
    ///
    /// # Panics
    /// If `a` exceeds [`LANES`].
    pub fn solve_interleaved(
        &mut self,
        s: &LaneVec,
        v: &mut LaneVec,
        a: usize,
        tol: f64,
        max_iter: usize,
    ) -> [Option<FixedPointResult>; LANES] {
        self.solve_interleaved_impl(s, v, a, tol, max_iter, &mut [])
    }

    /// [`Self::solve_interleaved`] with one [`VoltageResponse`] per lane
    /// (`responses[l]` for lane `l`, one for each of the first `a` lanes),
    /// each lane settling its response as [`Self::solve_responsive`] does,
    /// with the same arithmetic. The moved injections are written back to
    /// `s` (every lane), so that the caller books what was solved.
    ///
    /// # Panics
    /// If `responses` does not hold one response per lane solved.
    #[allow(clippy::too_many_arguments)]
    pub fn solve_interleaved_responsive(
        &mut self,
        s: &mut LaneVec,
        v: &mut LaneVec,
        a: usize,
        tol: f64,
        max_iter: usize,
        responses: &mut [&mut dyn VoltageResponse],
    ) -> [Option<FixedPointResult>; LANES] {
        assert_eq!(responses.len(), a, "one response per lane");
        let out = self.solve_interleaved_impl(s, v, a, tol, max_iter, responses);
        let ln = &self.lanes;
        for (k, &b) in self.bus_of.iter().enumerate() {
            for l in 0..a {
                s[b].re[l] = ln.sr[k][l];
                s[b].im[l] = ln.si[k][l];
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn solve_interleaved_impl(
        &mut self,
        s: &LaneVec,
        v: &mut LaneVec,
        a: usize,
        tol: f64,
        max_iter: usize,
        responses: &mut [&mut dyn VoltageResponse],
    ) -> [Option<FixedPointResult>; LANES] {
        assert!(a <= LANES, "lane count");
        let n = self.bus_of.len();
        let ln = &mut self.lanes;
        ln.resize(n);
        ln.known.clear();
        for (k, &b) in self.bus_of.iter().enumerate() {
            // The buses' order is not the pivots' (on a large grid each
            // entry a cache miss): fetch a few pivots ahead.
            if let Some(&ahead) = self.bus_of.get(k + PREFETCH_AHEAD) {
                s.prefetch(ahead);
                v.prefetch(ahead);
            }
            let (sr, si) = (s[b].re, s[b].im);
            ln.sr[k] = sr;
            ln.si[k] = si;
            ln.xr[k] = v[b].re;
            ln.xi[k] = v[b].im;
            for q in 0..LANES {
                ln.s2[k][q] = sr[q] * sr[q] + si[q] * si[q];
            }
            let coupled = &self.known[self.known_ptr[k]..self.known_ptr[k + 1]];
            if coupled.is_empty() {
                continue;
            }
            let (mut cr, mut ci) = ([0.0; LANES], [0.0; LANES]);
            for &(y, bus) in coupled {
                let (yr, yi) = (y.re, y.im);
                let (vr, vi) = (v[bus].re, v[bus].im);
                // acc -= y · v, as Complex64 computes it.
                for q in 0..LANES {
                    cr[q] -= yr * vr[q] - yi * vi[q];
                    ci[q] -= yr * vi[q] + yi * vr[q];
                }
            }
            ln.known.push((k, cr, ci));
        }
        for l in a..LANES {
            ln.idle(l);
        }
        let lu = LaneLu::of(&self.lu);
        let tol2 = tol * tol;
        let mut running = [false; LANES];
        running[..a].iter_mut().for_each(|r| *r = true);
        let mut prev = [f64::INFINITY; LANES];
        let mut it = [0usize; LANES];
        let mut out: [Option<FixedPointResult>; LANES] = [None; LANES];
        let mut pending = [false; LANES];
        while running.iter().any(|&r| r) {
            let est = lane_iteration(&lu, ln, &self.current);
            std::mem::swap(&mut ln.xr, &mut ln.xnr);
            std::mem::swap(&mut ln.xi, &mut ln.xni);
            let mut accepted = [false; LANES];
            for l in 0..a {
                if !running[l] {
                    continue;
                }
                it[l] += 1;
                let unsettled = match responses.get_mut(l) {
                    Some(r) => respond_lane(&self.pos_of, ln, &mut **r, l, v),
                    None => false,
                };
                // A finished lane keeps iterating on its own values (finite
                // or not, lanes never mix) until the others are done.
                let slow = match responses.is_empty() {
                    true => SLOW_PLAIN,
                    false => SLOW_RESPONSIVE,
                };
                match next_move(est[l], prev[l], it[l], tol2, max_iter, slow) {
                    Move::Accept if unsettled && it[l] >= max_iter => {
                        out[l] = Some(Err((Stall::IterationLimit, it[l])));
                        running[l] = false;
                    }
                    // Injections moved after the voltages had settled.
                    Move::Accept if unsettled => prev[l] = f64::INFINITY,
                    Move::Continue => prev[l] = est[l],
                    Move::Stop(why) => {
                        out[l] = Some(Err((why, it[l])));
                        running[l] = false;
                    }
                    Move::Accept => {
                        accepted[l] = true;
                        pending[l] = true;
                        running[l] = false;
                    }
                }
            }
            keep_accepted(ln, &accepted);
        }
        if pending.iter().any(|&p| p) {
            let mis = lane_mismatch(&self.row_ptr, &self.row, ln, &self.current);
            // Every lane accepted (the usual case): whole rows at once.
            let whole = pending.iter().all(|&p| p);
            if whole {
                for (k, &b) in self.bus_of.iter().enumerate() {
                    if let Some(&ahead) = self.bus_of.get(k + PREFETCH_AHEAD) {
                        v.prefetch(ahead);
                    }
                    v[b].re = ln.dr[k];
                    v[b].im = ln.di[k];
                }
            }
            for l in 0..a {
                if !pending[l] {
                    continue;
                }
                if !whole {
                    for (k, &b) in self.bus_of.iter().enumerate() {
                        v[b].re[l] = ln.dr[k][l];
                        v[b].im[l] = ln.di[k][l];
                    }
                }
                out[l] = Some(Ok(SolveReport {
                    converged: mis[l] < tol,
                    iterations: it[l],
                    max_mismatch_pu: mis[l],
                }));
            }
        }
        out
    }
}
