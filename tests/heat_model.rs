//! Heat demand against demandlib's BDEW heat load profiles on the same
//! temperature (tests/data/der/demandlib_heat.csv, made by
//! tools/der/demandlib_heat_reference.py with demandlib 0.2.2), and the
//! synthetic climate's heat year: full-load hours, morning peak, cold spells.

mod common;
use common::root;
use gridsim::timeseries::heat::{heat_demand_series, HeatProfile};
use gridsim::timeseries::time::Timestamp;
use gridsim::timeseries::weather::{TemperatureClimate, TemperatureProcess};

const PROFILES: [(&str, u32); 3] = [("EFH", 3), ("MFH", 3), ("GHD", 0)];

/// The same temperature gives demandlib's profile hour by hour, up to the
/// normalisation (gridsim: the year sums to the annual demand exactly;
/// demandlib: the daily factors do), from the fourth day on (demandlib's
/// geometric series wraps around to the year's last days on the first three).
#[test]
fn bdew_profiles_match_demandlib() {
    let text = std::fs::read_to_string(root().join("tests/data/der/demandlib_heat.csv")).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 8760);
    let temps: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let start = Timestamp::parse("2017-01-01T00:00:00").unwrap();
    for (i, (code, class)) in PROFILES.iter().enumerate() {
        let p = HeatProfile::new(code, *class, false).unwrap();
        let ours = heat_demand_series(&p, 1000.0, &temps, start, 3600, &[]);
        assert!((ours.iter().sum::<f64>() - 1000.0).abs() < 1e-9, "{code}");
        let theirs: Vec<f64> = rows.iter().map(|r| r[1 + i]).collect();
        let ratios: Vec<f64> = ours[72..]
            .iter()
            .zip(&theirs[72..])
            .filter(|(_, t)| **t > 1e-6)
            .map(|(o, t)| o / t)
            .collect();
        let (lo, hi) = ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &r| (a.min(r), b.max(r)));
        // demandlib's values are written with 9 significant digits.
        assert!(hi / lo - 1.0 < 1e-6, "{code}: ratio {lo}..{hi}");
        // And its year sums to the annual demand within 0.1 %.
        let total: f64 = theirs.iter().sum();
        assert!((total - 1000.0).abs() < 1.0, "{code}: demandlib {total}");
    }
}

/// A year of the synthetic central-German climate at 15-minute steps.
fn synthetic_year(seed: u64) -> (Timestamp, Vec<f64>) {
    let start = Timestamp::parse("2017-01-01T00:00:00").unwrap();
    let mut tp = TemperatureProcess::new(seed, TemperatureClimate::central_europe(9.5), 900);
    let temps = (0..35040)
        .map(|k| tp.at(Timestamp(start.0 + 900 * k as i64)))
        .collect();
    (start, temps)
}

/// Daily means of a 15-minute series.
fn daily(x: &[f64]) -> Vec<f64> {
    x.chunks(96).map(|d| d.iter().sum::<f64>() / 96.0).collect()
}

fn median(mut x: Vec<f64>) -> f64 {
    x.sort_by(f64::total_cmp);
    x[x.len() / 2]
}

/// Ten synthetic central-German years: single-family heat (BDEW EFH) has
/// a median of 1,800–2,500 full-load hours (annual / peak; each year
/// 1,700–2,700), its daily peak in the morning (04–09 h) on most winter
/// days; cold spells: the coldest day of a year at −8 °C or below in the
/// median (each year −3 to −25 °C; central Germany: −8 to −15 °C in most
/// winters, about −3 °C in the mildest), Januaries averaging −2 to 3 °C.
#[test]
fn synthetic_heat_year_is_realistic() {
    let (mut flh_all, mut coldest_all, mut january_all) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 1..=10 {
        let (start, temps) = synthetic_year(seed);
        let days = daily(&temps);
        let coldest = days.iter().copied().fold(f64::MAX, f64::min);
        assert!(
            (-25.0..-3.0).contains(&coldest),
            "seed {seed}: coldest day {coldest}"
        );
        coldest_all.push(coldest);
        january_all.push(days[..31].iter().sum::<f64>() / 31.0);
        let p = HeatProfile::new("EFH", 3, false).unwrap();
        let q = heat_demand_series(&p, 1000.0, &temps, start, 900, &[]);
        let peak = q.iter().copied().fold(0.0, f64::max);
        let flh = 1000.0 / peak;
        assert!((1700.0..=2700.0).contains(&flh), "seed {seed}: {flh} h");
        flh_all.push(flh);
        let winter: Vec<usize> = (0..59).chain(334..365).collect();
        let morning = winter
            .iter()
            .filter(|&&d| {
                let day = &q[d * 96..(d + 1) * 96];
                let k = (0..96).max_by(|&a, &b| day[a].total_cmp(&day[b])).unwrap();
                (16..40).contains(&k)
            })
            .count();
        assert!(
            morning as f64 >= 0.8 * winter.len() as f64,
            "seed {seed}: morning peak on {morning} of {} winter days",
            winter.len()
        );
    }
    let flh = median(flh_all);
    assert!((1800.0..=2500.0).contains(&flh), "median {flh} h");
    let coldest = median(coldest_all);
    assert!(coldest <= -8.0, "median coldest day {coldest}");
    let january = january_all.iter().sum::<f64>() / 10.0;
    assert!((-2.0..3.0).contains(&january), "mean January {january}");
}
