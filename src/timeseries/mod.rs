//! Time series: profiles, element tables, the time axis and the runner.

pub mod elements;
pub mod profiles;
pub mod runner;
pub mod time;
