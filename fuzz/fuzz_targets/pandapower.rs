//! The pandapower JSON importer on arbitrary text: an error or a network,
//! never a crash; a converged power flow holds no NaN.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.json");
    let Ok(f) = gridsim::network::pandapower::parse(path, text) else {
        return;
    };
    let Ok(lib) = gridsim::network::native::library(&f, Path::new(".")) else {
        return;
    };
    let src = gridsim::network::native::Source {
        name: "fuzz.json".into(),
        text: None,
    };
    if let Ok(net) = gridsim::network::native::to_network(&f, &lib, &src) {
        if net.buses.len() <= 2000 {
            let opts = gridsim::powerflow::PfOptions::default();
            if let Ok(r) = gridsim::powerflow::solve(&net, &opts) {
                assert!(!r.converged || r.bus.vm_pu.iter().all(|v| v.is_finite()));
            }
        }
    }
});
