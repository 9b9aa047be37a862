//! Synthetic profiles with fixed seeds: load shapes by customer class,
//! day type and season, and heat demand from outdoor temperature.

use super::time::Timestamp;
use super::weather::Rng;
use std::f64::consts::PI;

pub use crate::network::CustomerClass;

/// Industrial hourly shape: weekday, Saturday, Sunday (relative values).
const INDUSTRIAL_HOURLY: [[f64; 24]; 3] = [
    [
        0.55, 0.55, 0.55, 0.55, 0.55, 0.65, 0.95, 1.00, 1.00, 1.00, 1.00, 1.00, 0.95, 1.00, 1.00,
        1.00, 1.00, 1.00, 0.98, 0.95, 0.95, 0.90, 0.70, 0.58,
    ],
    [
        0.50, 0.50, 0.50, 0.50, 0.50, 0.52, 0.60, 0.65, 0.65, 0.65, 0.65, 0.65, 0.60, 0.55, 0.52,
        0.50, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50,
    ],
    [0.45; 24],
];

/// The BDEW standard load profiles H0, G0, L0 (VDEW 1999), one
/// quarter-hourly day per season and day type, as demandlib 0.2.2 ships
/// them (`assets/loads/bdew_slp.csv`, written by
/// `tools/der/demandlib_reference.py`).
const BDEW_SLP: &str = include_str!("../../assets/loads/bdew_slp.csv");

/// `[profile H0, G0, L0][season winter, summer, transition][day workday,
/// saturday, sunday][quarter hour]`.
type SlpTable = [[[[f64; 96]; 3]; 3]; 3];

fn bdew_table() -> &'static SlpTable {
    static TABLE: std::sync::OnceLock<Box<SlpTable>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([[[[0.0; 96]; 3]; 3]; 3]);
        for line in BDEW_SLP.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let season = ["winter", "summer", "transition"]
                .iter()
                .position(|s| *s == f[0]);
            let day = ["workday", "saturday", "sunday"]
                .iter()
                .position(|s| *s == f[1]);
            let (Some(s), Some(d), Ok(q)) = (season, day, f[2].parse::<usize>()) else {
                continue;
            };
            for p in 0..3 {
                t[p][s][d][q.min(95)] = f[3 + p].parse().unwrap_or(0.0);
            }
        }
        t
    })
}

/// BDEW season of `t`: winter 1 Nov – 20 Mar, summer 15 May – 14 Sep,
/// transition otherwise.
fn bdew_season(t: Timestamp) -> usize {
    let md = t.month_day();
    if md >= (11, 1) || md <= (3, 20) {
        0
    } else if ((5, 15)..=(9, 14)).contains(&md) {
        1
    } else {
        2
    }
}

/// BDEW's dynamisation of H0 over the day of the year `d` (1–366).
fn h0_dynamisation(d: f64) -> f64 {
    -3.92e-10 * d.powi(4) + 3.2e-7 * d.powi(3) - 7.02e-5 * d.powi(2) + 2.1e-3 * d + 1.24
}

/// Unnormalised shape value at `t`: the BDEW profile of the class (H0 with
/// its dynamisation, G0, L0), or the industrial table below.
fn raw_shape(class: CustomerClass, t: Timestamp) -> f64 {
    let profile = match class {
        CustomerClass::Residential => 0,
        CustomerClass::Commercial => 1,
        CustomerClass::Agricultural => 2,
        CustomerClass::Industrial => return industrial_shape(t),
    };
    let (doy, hour) = t.day_and_hour();
    let day = match t.weekday() {
        5 => 1,
        6 => 2,
        _ => 0,
    };
    let quarter = ((hour * 4.0).floor() as usize).min(95);
    let v = bdew_table()[profile][bdew_season(t)][day][quarter];
    match class {
        CustomerClass::Residential => v * h0_dynamisation(doy as f64 + 1.0),
        _ => v,
    }
}

/// The industrial shape: hourly table by day type, ±3 % over the year
/// (highest in early January).
fn industrial_shape(t: Timestamp) -> f64 {
    let (doy, hour) = t.day_and_hour();
    let day = match t.weekday() {
        5 => 1,
        6 => 2,
        _ => 0,
    };
    let table = &INDUSTRIAL_HOURLY;
    let h0 = hour.floor() as usize % 24;
    let f = hour - hour.floor();
    // Values are hourly means centred on the half hour.
    let (a, b, w) = if f < 0.5 {
        ((h0 + 23) % 24, h0, f + 0.5)
    } else {
        (h0, (h0 + 1) % 24, f - 0.5)
    };
    let v = table[day][a] * (1.0 - w) + table[day][b] * w;
    v * (1.0 + 0.03 * (2.0 * PI * (doy as f64 + 10.0) / 365.0).cos())
}

/// Synthetic load factors for `n` steps from `start`, mean 1 over the
/// period, with ±`noise` relative seeded noise (AR(1), time constant 1 h).
pub fn load_shape(
    class: CustomerClass,
    start: Timestamp,
    step_s: i64,
    n: usize,
    seed: u64,
    noise: f64,
) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let rho = (-(step_s as f64) / 3600.0).exp();
    let mut z = 0.0;
    let mut v: Vec<f64> = (0..n)
        .map(|k| {
            z = rho * z + (1.0 - rho * rho).sqrt() * rng.normal();
            let t = Timestamp(start.0 + step_s * k as i64);
            (raw_shape(class, t) * (1.0 + noise * z)).max(0.0)
        })
        .collect();
    let mean = v.iter().sum::<f64>() / n.max(1) as f64;
    if mean > 0.0 {
        v.iter_mut().for_each(|x| *x /= mean);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_shape_has_unit_mean_and_class_features() {
        let start = Timestamp::parse("2016-01-04T00:00:00").unwrap(); // a Monday
        let v = load_shape(CustomerClass::Commercial, start, 900, 96 * 7, 1, 0.0);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean - 1.0).abs() < 1e-12);
        // Monday 11:00 far above Sunday 11:00.
        assert!(v[44] > 2.0 * v[6 * 96 + 44]);
        let r = load_shape(CustomerClass::Residential, start, 900, 96, 1, 0.0);
        assert!(r[19 * 4 + 2] > r[3 * 4 + 2] * 2.5, "evening peak");
    }
}
