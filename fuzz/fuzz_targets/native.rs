//! The native TOML network reader on arbitrary text: an error or a network,
//! never a crash; a converged power flow holds no NaN.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(net) = gridsim::network::native::parse_network(Path::new("fuzz.toml"), text) {
        if net.buses.len() <= 2000 {
            let opts = gridsim::powerflow::PfOptions::default();
            if let Ok(r) = gridsim::powerflow::solve(&net, &opts) {
                assert!(!r.converged || r.bus.vm_pu.iter().all(|v| v.is_finite()));
            }
        }
    }
});
