//! Results in engineering units, derived from a solved math model.

pub mod compare;
pub mod elements;
pub mod hdf5;
pub mod kpi;
pub mod powerflow;
pub mod report;

pub use powerflow::PowerFlowResult;
