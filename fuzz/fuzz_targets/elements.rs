//! The element-table reader on arbitrary text, against the shipped SimBench
//! MV rural network and its profile table.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

type Inputs = (
    gridsim::network::Network,
    gridsim::timeseries::profiles::ProfileTable,
);

fn inputs() -> &'static Inputs {
    static I: OnceLock<Inputs> = OnceLock::new();
    I.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let net =
            gridsim::network::read_network(&root.join("networks/simbench-mv-rural/network.m"))
                .unwrap();
        let p = gridsim::timeseries::profiles::read_profiles(
            &root.join("networks/simbench-mv-rural/profiles.csv.gz"),
        )
        .unwrap();
        (net, p)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (net, profiles) = inputs();
    let _ =
        gridsim::timeseries::elements::parse_elements(Path::new("fuzz.csv"), text, net, profiles);
});
