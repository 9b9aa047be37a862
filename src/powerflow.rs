//! The single power-flow pipeline: network → math model → Newton → results.

use crate::error::{Error, Result};
use crate::math::MathModel;
use crate::network::Network;
use crate::results::PowerFlowResult;
use crate::solver::{NewtonOptions, NewtonSolver};

/// Options of a single power flow.
#[derive(Debug, Clone, Copy, Default)]
pub struct PfOptions {
    /// Newton settings.
    pub newton: NewtonOptions,
    /// Start from |V| = 1 and the reference angle instead of the file's voltages.
    pub flat_start: bool,
}

/// Solves the power flow of `net`.
///
/// Returns the result even when Newton did not converge (with
/// `converged == false`), so callers can report the last iterate's
/// mismatch; [`solve_converged`] turns that into an error.
pub fn solve(net: &Network, opts: &PfOptions) -> Result<PowerFlowResult> {
    let math = MathModel::build(net)?;
    let mut solver = NewtonSolver::new(&math.ybus, &math.bus_type)?;
    let mut v = if opts.flat_start {
        math.flat_start()
    } else {
        math.v_init.clone()
    };
    let s_i: &[_] = if net.has_voltage_dependent_loads() {
        &math.s_load_i
    } else {
        &[]
    };
    let report =
        solver.solve_with_current_loads(&math.ybus, &math.s_spec, s_i, &mut v, opts.newton)?;
    Ok(PowerFlowResult::from_solution(net, &math, &v, report))
}

/// Like [`solve`], but non-convergence is an error.
pub fn solve_converged(net: &Network, opts: &PfOptions) -> Result<PowerFlowResult> {
    let r = solve(net, opts)?;
    if !r.converged {
        return Err(Error::NotConverged {
            iterations: r.iterations,
            max_mismatch_pu: r.max_mismatch_pu,
        });
    }
    Ok(r)
}
