//! Nothing but a home for gridsim's criterion benchmarks (`powerflow.rs`,
//! `timeseries.rs`, `profiles.rs`): `cargo bench -p gridsim-benches`.
