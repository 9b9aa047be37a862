//! gridsim: a smart-grid distribution simulator.
//!
//! Data flows one way: [`network`] (physical model, file formats) →
//! [`math`] (per-unit model) → [`solver`] (Newton-Raphson) → [`results`].
//! [`powerflow`] wires the stages for a single power flow. See
//! ARCHITECTURE.md for the map and the invariants.

// Index loops mirror the equations they implement.
#![allow(clippy::needless_range_loop)]
// `!(x >= 0.0)` is deliberate: it also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod cli;
pub mod error;
pub mod input;
pub mod math;
pub mod network;
pub mod powerflow;
pub mod results;
pub mod solver;
pub mod timeseries;

pub use error::{Error, Result};
