//! Wind power from the shipped turbine library against windpowerlib on the
//! same wind series (tests/data/der/windpowerlib_power.csv, made by
//! tools/der/windpowerlib_reference.py with windpowerlib 0.2.2).

mod common;
use common::root;
use gridsim::timeseries::turbines::PowerCurve;

#[test]
fn power_curves_equal_windpowerlib() {
    let text =
        std::fs::read_to_string(root().join("tests/data/der/windpowerlib_power.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let curves: Vec<PowerCurve> = header[1..]
        .iter()
        .map(|t| PowerCurve::named(t).unwrap())
        .collect();
    let mut energy = vec![(0.0, 0.0); curves.len()];
    for line in lines {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        for (k, c) in curves.iter().enumerate() {
            let ours = c.power_kw_at(v[0]);
            assert!(
                (ours - v[k + 1]).abs() <= 1e-9 * v[k + 1].abs().max(1.0),
                "{} at {} m/s: {ours} vs {}",
                header[k + 1],
                v[0],
                v[k + 1]
            );
            energy[k].0 += ours;
            energy[k].1 += v[k + 1];
        }
    }
    // Capacity factors equal (the issue asks for 2 points).
    for (k, c) in curves.iter().enumerate() {
        let n = 8760.0 * c.rated_kw();
        let (ours, theirs) = (energy[k].0 / n, energy[k].1 / n);
        assert!(
            (ours - theirs).abs() < 1e-9,
            "{}: {ours} vs {theirs}",
            header[k + 1]
        );
    }
}

/// Two turbines of a site see correlated but distinct wind (they shared one
/// series before), and the default season makes January windier than July.
#[test]
fn turbines_of_a_site_differ_and_winter_is_windier() {
    use gridsim::timeseries::der::{wind_availability, WindCurve, WindSpec};
    use gridsim::timeseries::time::Timestamp;
    use gridsim::timeseries::weather::WindClimate;
    let spec: WindSpec = toml::from_str(
        "name = 'w'\nbus = 1\nrated_mw = 2.35\nturbine_type = 'E-82/2350'\nhub_height_m = 108",
    )
    .unwrap();
    let curve = WindCurve::of(&spec).unwrap();
    let climate = WindClimate::new(11, None);
    let start = Timestamp::parse("2019-01-01T00:00:00").unwrap();
    let n = 35040;
    let a = wind_availability(&spec, &curve, &climate, 1, start, 900, n);
    let b = wind_availability(&spec, &curve, &climate, 2, start, 900, n);
    assert_ne!(a, b);
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let (ma, mb) = (mean(&a), mean(&b));
    let cov: f64 = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>();
    let var = |x: &[f64], m: f64| x.iter().map(|v| (v - m).powi(2)).sum::<f64>();
    let corr = cov / (var(&a, ma) * var(&b, mb)).sqrt();
    assert!((0.6..0.98).contains(&corr), "correlation {corr}");
    let month = |m: usize| -> f64 {
        let days_before = [0, 31, 59, 90, 120, 151, 181][m];
        let steps = 96 * 31;
        mean(&a[96 * days_before..96 * days_before + steps])
    };
    assert!(
        month(0) > 1.2 * month(6),
        "January {} vs July {}",
        month(0),
        month(6)
    );
    let cf = ma / 2.35;
    assert!((0.15..0.45).contains(&cf), "capacity factor {cf}");
}
