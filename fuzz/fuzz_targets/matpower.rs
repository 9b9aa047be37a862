//! The MATPOWER interpreter and importer on arbitrary text: an error or a
//! network, never a crash; a network that solves holds no NaN.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(net) = gridsim::network::matpower::parse_case(Path::new("fuzz.m"), &text) {
        if net.buses.len() <= 2000 {
            let opts = gridsim::powerflow::PfOptions::default();
            if let Ok(r) = gridsim::powerflow::solve(&net, &opts) {
                assert!(!r.converged || r.bus.vm_pu.iter().all(|v| v.is_finite()));
            }
        }
    }
});
