//! The profile CSV reader on arbitrary text: an error or a table of finite
//! numbers, never a crash.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = gridsim::timeseries::profiles::parse_profiles(Path::new("fuzz.csv"), text) {
        for c in 0..t.names.len() {
            assert!(t.series(c).iter().all(|x| x.is_finite()));
        }
    }
});
