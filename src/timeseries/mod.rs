//! Time series: profiles, element tables, the time axis and the runner.

pub mod accounting;
pub mod cchp;
pub mod controllers;
pub mod cooling;
pub mod der;
pub mod elements;
pub mod growth;
pub mod heat;
pub mod hosting;
pub mod irradiance;
pub mod kpi;
pub mod loads;
pub mod profiles;
pub mod record;
pub mod rows;
pub mod runner;
pub mod scenario;
pub mod synthetic;
pub mod time;
pub mod turbines;
pub mod weather;
