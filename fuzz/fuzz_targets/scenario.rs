//! The scenario reader and builder on arbitrary text, placed in the
//! repository's `scenarios/` folder so that the shipped scenarios (the seed
//! corpus) find their networks and profiles; at most 8 steps are built.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/fuzz.toml");
    let _ = gridsim::timeseries::scenario::parse_scenarios(&path, text, Some(8));
});
