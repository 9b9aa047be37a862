//! The profile CSV reader on arbitrary bytes (gzip data, inflated a piece
//! at a time, or text): an error or a table of finite numbers, never a
//! crash.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.csv");
    if let Ok(t) = gridsim::timeseries::profiles::parse_profile_bytes(path, data) {
        for c in 0..t.names.len() {
            assert!(t.series(c).iter().all(|x| x.is_finite()));
        }
    }
});
