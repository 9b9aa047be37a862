//! The time-series solver: the current-injection fixed point where it
//! applies and converges fast, full Newton otherwise.
//!
//! Both end on the same convergence test (`max |ΔP|, |ΔQ| < tol`), so the
//! choice changes speed, not accuracy. A fixed-point attempt that stalls
//! leaves the starting voltages untouched and Newton starts from them.

use super::current_injection::{CurrentInjectionSolver, LaneVec, VoltageResponse, LANES};
use super::newton::{NewtonOptions, NewtonSolver, SolveReport};
use crate::error::Result;
use crate::math::{BusType, CsrMatrix};
use num_complex::Complex64;

/// Fixed-point iterations tried before falling back to Newton, for a
/// Newton limit of `max_iter`: one and a half times as many (a fixed-point
/// iteration costs a fraction of a Newton one; the default 20 gives 30).
pub fn fixed_point_max_iter(max_iter: usize) -> usize {
    (3 * max_iter).div_ceil(2)
}

/// Fixed point with Newton fallback, bound to one Ybus pattern.
#[derive(Debug)]
pub struct HybridSolver {
    fixed: Option<CurrentInjectionSolver>,
    /// Built on the first solve that needs it: most runs never fall back,
    /// and its symbolic analysis is a third of this solver's set-up.
    newton: Option<NewtonSolver>,
    bus_type: Vec<BusType>,
    /// Solves that needed Newton.
    pub newton_fallbacks: u64,
}

impl HybridSolver {
    /// Analyses `ybus` for the fixed point; Newton's analysis waits for
    /// the first solve that needs it (an error in it, such as a Ybus that
    /// does not match the buses, comes from that solve).
    pub fn new(ybus: &CsrMatrix, bus_type: &[BusType]) -> Result<HybridSolver> {
        // A breakdown of the pivot-free LU only disables the fast path.
        let fixed = CurrentInjectionSolver::new(ybus, bus_type).unwrap_or(None);
        Ok(HybridSolver {
            fixed,
            newton: None,
            bus_type: bus_type.to_vec(),
            newton_fallbacks: 0,
        })
    }

    /// Newton on `ybus`'s pattern, analysed on first use.
    fn newton(&mut self, ybus: &CsrMatrix) -> Result<&mut NewtonSolver> {
        if self.newton.is_none() {
            self.newton = Some(NewtonSolver::new(ybus, &self.bus_type)?);
        }
        Ok(self.newton.as_mut().expect("just built"))
    }

    /// Whether the fixed-point method is in use.
    pub fn uses_fixed_point(&self) -> bool {
        self.fixed.is_some()
    }

    /// Call after the Ybus values changed (same pattern).
    pub fn ybus_changed(&mut self, ybus: &CsrMatrix) {
        if let Some(f) = self.fixed.as_mut() {
            if f.refactor(ybus).is_err() {
                self.fixed = None;
            }
        }
    }

    /// Solves from the voltages in `v`; see [`NewtonSolver::solve`].
    pub fn solve(
        &mut self,
        ybus: &CsrMatrix,
        s_spec: &[Complex64],
        v: &mut [Complex64],
        opts: NewtonOptions,
    ) -> Result<SolveReport> {
        self.solve_with_current_loads(ybus, s_spec, &[], v, opts)
    }

    /// Like [`Self::solve`] with constant-current loads `s_i` (consumption at
    /// 1 p.u.; empty for none): the fixed point first (it includes them),
    /// Newton with them where it stalls or does not apply.
    pub fn solve_with_current_loads(
        &mut self,
        ybus: &CsrMatrix,
        s_spec: &[Complex64],
        s_i: &[Complex64],
        v: &mut [Complex64],
        opts: NewtonOptions,
    ) -> Result<SolveReport> {
        let s_i = current_loads(s_i);
        if let Some(f) = self.fixed.as_mut() {
            f.set_current_loads(s_i);
            if let Ok(r) = f.solve(s_spec, v, opts.tol, fixed_point_max_iter(opts.max_iter)) {
                if r.converged {
                    return Ok(r);
                }
            }
        }
        if self.fixed.is_some() {
            self.newton_fallbacks += 1;
        }
        self.newton(ybus)?
            .solve_with_current_loads(ybus, s_spec, s_i, v, opts)
    }

    /// The fixed point with injections that follow the voltage (see
    /// [`CurrentInjectionSolver::solve_responsive`]): the report when it
    /// converged with every set-point settled; None where the method does
    /// not apply or stalled (the voltages untouched, the response's moves
    /// made: the caller solves its own way from there). `s_i`: the
    /// constant-current loads, as for [`Self::solve_with_current_loads`].
    pub fn solve_responsive(
        &mut self,
        s_spec: &[Complex64],
        s_i: &[Complex64],
        v: &mut [Complex64],
        opts: NewtonOptions,
        response: &mut dyn VoltageResponse,
    ) -> Option<SolveReport> {
        let f = self.fixed.as_mut()?;
        f.set_current_loads(current_loads(s_i));
        let max_iter = fixed_point_max_iter(opts.max_iter);
        match f.solve_responsive(s_spec, v, opts.tol, max_iter, Some(response)) {
            Ok(r) if r.converged => Some(r),
            _ => None,
        }
    }

    /// Up to [`LANES`] solves at once with one [`VoltageResponse`] per lane
    /// (see [`CurrentInjectionSolver::solve_interleaved_responsive`]; the
    /// moved injections are written back to `s`): per lane the report where
    /// the fixed point converged with the response settled, None where it
    /// does not apply or stalled (that lane's voltages untouched; no Newton:
    /// the caller solves such a lane its own way). `s_i`: the
    /// constant-current loads, the same in every lane.
    #[allow(clippy::too_many_arguments)]
    pub fn solve_interleaved_responsive(
        &mut self,
        s: &mut LaneVec,
        s_i: &[Complex64],
        v: &mut LaneVec,
        a: usize,
        opts: NewtonOptions,
        responses: &mut [&mut dyn VoltageResponse],
    ) -> [Option<SolveReport>; LANES] {
        let Some(f) = self.fixed.as_mut() else {
            return [None; LANES];
        };
        f.set_current_loads(current_loads(s_i));
        let max_iter = fixed_point_max_iter(opts.max_iter);
        let out = f.solve_interleaved_responsive(s, v, a, opts.tol, max_iter, responses);
        out.map(|r| match r {
            Some(Ok(r)) if r.converged => Some(r),
            _ => None,
        })
    }

    /// Up to [`LANES`] independent solves at once on interleaved injections
    /// and voltages (see [`CurrentInjectionSolver::solve_interleaved`]) of
    /// the first `a` lanes; lanes the fixed point does not finish go to
    /// Newton one by one. Per lane: the outcome and whether Newton was
    /// needed. `s_i`: the constant-current loads, the same in every lane.
    /// Each lane's result equals [`Self::solve_with_current_loads`]'s.
    pub fn solve_interleaved(
        &mut self,
        ybus: &CsrMatrix,
        s: &LaneVec,
        s_i: &[Complex64],
        v: &mut LaneVec,
        a: usize,
        opts: NewtonOptions,
    ) -> [(Option<Result<SolveReport>>, bool); LANES] {
        let s_i = current_loads(s_i);
        let fixed = match self.fixed.as_mut() {
            Some(f) => {
                f.set_current_loads(s_i);
                f.solve_interleaved(s, v, a, opts.tol, fixed_point_max_iter(opts.max_iter))
            }
            None => [None; LANES],
        };
        let mut out: [(Option<Result<SolveReport>>, bool); LANES] = Default::default();
        for l in 0..a {
            if let Some(Ok(r)) = fixed[l] {
                if r.converged {
                    out[l] = (Some(Ok(r)), false);
                    continue;
                }
            }
            let fell_back = self.fixed.is_some();
            if fell_back {
                self.newton_fallbacks += 1;
            }
            let mut vl = v.lane(l);
            let r = self
                .newton(ybus)
                .and_then(|n| n.solve_with_current_loads(ybus, &s.lane(l), s_i, &mut vl, opts));
            v.set_lane(l, &vl);
            out[l] = (Some(r), fell_back);
        }
        out
    }
}

/// `s_i`, or nothing where every bus's constant-current load is zero (the
/// solvers then skip it altogether).
fn current_loads(s_i: &[Complex64]) -> &[Complex64] {
    match s_i.iter().all(|s| *s == Complex64::new(0.0, 0.0)) {
        true => &[],
        false => s_i,
    }
}
