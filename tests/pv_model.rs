//! gridsim's irradiance chain against pvlib on the same inputs
//! (tests/data/der/pvlib_irradiance.csv, made by tools/der/pvlib_reference.py
//! with pvlib 0.16.1): extraterrestrial irradiance, Haurwitz clear sky,
//! Erbs decomposition and Hay–Davies plane-of-array irradiance.

mod common;
use common::root;
use gridsim::timeseries::irradiance::{
    erbs, extraterrestrial_w_m2, haurwitz_ghi, poa_hay_davies, Geometry,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn irradiance_chain_equals_pvlib() {
    let text = std::fs::read_to_string(root().join("tests/data/der/pvlib_irradiance.csv")).unwrap();
    let mut rows = 0;
    let mut worst_poa = 0.0f64;
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        let [doy, zen, saz, tilt, paz, ghi, dni_extra, clear, dni, dhi, poa] = v[..] else {
            panic!("bad row {line}")
        };
        let extra = extraterrestrial_w_m2(doy);
        assert!(close(extra, dni_extra), "doy {doy}: {extra} vs {dni_extra}");
        assert!(close(haurwitz_ghi(zen), clear), "zenith {zen}");
        let bd = erbs(ghi, zen, extra);
        assert!(close(bd.dni, dni) && close(bd.dhi, dhi), "{line}: {bd:?}");
        let g = Geometry {
            zenith_deg: zen,
            sun_azimuth_deg: saz,
            tilt_deg: tilt,
            surface_azimuth_deg: paz,
        };
        let ours = poa_hay_davies(g, ghi, bd, extra, 0.2);
        worst_poa = worst_poa.max((ours - poa).abs() / poa.abs().max(1.0));
        rows += 1;
    }
    assert_eq!(rows, 9720);
    // The issue asks for 1 %; the same formulas give rounding only.
    assert!(
        worst_poa < 1e-9,
        "largest relative POA deviation {worst_poa:e}"
    );
}

/// Annual yield (kWh/kWp) and tilt gain of a PV unit at a site, from the
/// scenario machinery's own weather (seed 1, year 2019, 15-minute steps).
fn yield_kwh_per_kwp(lat: f64, lon: f64, utc: f64, tilt: f64) -> (f64, [f64; 12]) {
    use gridsim::timeseries::der::{pv_availability, PvSpec};
    use gridsim::timeseries::time::Timestamp;
    use gridsim::timeseries::weather::{TemperatureClimate, TemperatureProcess};
    let start = Timestamp::parse("2019-01-01T00:00:00").unwrap();
    let n = 35040;
    let mut temp = TemperatureProcess::new(1, TemperatureClimate::central_europe(9.5), 900);
    let t: Vec<f64> = (0..n)
        .map(|k| temp.at(Timestamp(start.0 + 900 * k as i64)))
        .collect();
    let spec: PvSpec = toml::from_str(&format!(
        "name = 'pv'\nbus = 1\nkwp = 1000\ntilt_degree = {tilt}\nazimuth_degree = 180"
    ))
    .unwrap();
    let site = gridsim::timeseries::weather::SolarSite::new(lat, lon, utc, None);
    let p = pv_availability(&spec, &site, &t, start, 900, 1);
    let mut months = [0.0; 12];
    for (k, x) in p.iter().enumerate() {
        let m = Timestamp(start.0 + 900 * k as i64).month() as usize - 1;
        months[m] += x * 0.25;
    }
    (months.iter().sum(), months)
}

/// Central Germany (51.3° N, 30° south, the default cloudiness from DWD's
/// monthly means): annual yield 950–1,100 kWh/kWp and tilt gain 1.10–1.16,
/// as the issue asks; December a sixth or less of July. Henan (34.7° N,
/// same cloudiness model) 1,100–1,250 kWh/kWp.
#[test]
fn pv_yields_and_tilt_gain_are_realistic() {
    let (y30, months) = yield_kwh_per_kwp(51.3, 9.5, 1.0, 30.0);
    let (y0, _) = yield_kwh_per_kwp(51.3, 9.5, 1.0, 0.0);
    assert!((950.0..=1100.0).contains(&y30), "yield {y30:.0} kWh/kWp");
    let gain = y30 / y0;
    assert!((1.10..=1.16).contains(&gain), "tilt gain {gain:.3}");
    assert!(
        months[11] < months[6] / 6.0,
        "December {} vs July {}",
        months[11],
        months[6]
    );
    let (henan, _) = yield_kwh_per_kwp(34.7, 113.6, 8.0, 30.0);
    assert!(
        (1100.0..=1250.0).contains(&henan),
        "Henan yield {henan:.0} kWh/kWp"
    );
}
