//! Power-flow solvers. They see only the math model: a Ybus, bus types,
//! specified injections and voltages, all per unit.

pub mod block_lu;
pub mod complex_lu;
pub mod current_injection;
pub mod elimination;
pub mod hybrid;
pub mod newton;
pub mod sparse_lu;

pub use current_injection::VoltageResponse;
pub use hybrid::HybridSolver;
pub use newton::{NewtonOptions, NewtonSolver, SolveReport};
