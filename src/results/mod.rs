//! Results in engineering units, derived from a solved math model.

pub mod compare;
pub mod dimscale;
pub mod elements;
pub mod hdf5;
pub mod hosting_file;
pub mod merge;
pub mod output;
pub mod plan;
pub mod powerflow;
pub mod region;
pub mod reinforce;
pub mod report;

/// The KPIs (accumulated by the time-series runner; read here by compare and report).
pub use crate::timeseries::kpi;
pub use powerflow::PowerFlowResult;
