//! Synthetic profiles with fixed seeds: load shapes by customer class,
//! day type and season, and heat demand from outdoor temperature.

use super::time::Timestamp;
use super::weather::Rng;
use std::f64::consts::PI;

pub use crate::network::CustomerClass;

/// Hourly shapes: weekday, Saturday, Sunday (relative values).
fn hourly(class: CustomerClass) -> [[f64; 24]; 3] {
    match class {
        CustomerClass::Residential => [
            [
                0.50, 0.40, 0.35, 0.33, 0.33, 0.40, 0.65, 0.90, 0.80, 0.65, 0.60, 0.62, 0.70, 0.65,
                0.60, 0.60, 0.70, 0.90, 1.15, 1.30, 1.25, 1.10, 0.90, 0.68,
            ],
            [
                0.55, 0.45, 0.38, 0.35, 0.34, 0.36, 0.45, 0.65, 0.85, 0.95, 0.95, 0.95, 1.00, 0.90,
                0.80, 0.75, 0.80, 0.95, 1.15, 1.30, 1.25, 1.10, 0.92, 0.72,
            ],
            [
                0.58, 0.47, 0.40, 0.36, 0.35, 0.36, 0.42, 0.55, 0.80, 0.95, 1.00, 1.05, 1.10, 0.95,
                0.80, 0.75, 0.80, 0.95, 1.15, 1.28, 1.22, 1.05, 0.88, 0.70,
            ],
        ],
        CustomerClass::Commercial => [
            [
                0.30, 0.28, 0.28, 0.28, 0.28, 0.32, 0.45, 0.70, 0.95, 1.05, 1.10, 1.10, 1.05, 1.05,
                1.10, 1.05, 1.00, 0.90, 0.70, 0.55, 0.45, 0.38, 0.33, 0.31,
            ],
            [
                0.30, 0.28, 0.28, 0.28, 0.28, 0.30, 0.35, 0.50, 0.70, 0.80, 0.85, 0.85, 0.80, 0.70,
                0.60, 0.50, 0.45, 0.40, 0.36, 0.34, 0.32, 0.31, 0.30, 0.30,
            ],
            [
                0.28, 0.27, 0.27, 0.27, 0.27, 0.27, 0.28, 0.30, 0.32, 0.33, 0.34, 0.34, 0.34, 0.33,
                0.32, 0.31, 0.30, 0.30, 0.29, 0.29, 0.28, 0.28, 0.28, 0.28,
            ],
        ],
        CustomerClass::Industrial => [
            [
                0.55, 0.55, 0.55, 0.55, 0.55, 0.65, 0.95, 1.00, 1.00, 1.00, 1.00, 1.00, 0.95, 1.00,
                1.00, 1.00, 1.00, 1.00, 0.98, 0.95, 0.95, 0.90, 0.70, 0.58,
            ],
            [
                0.50, 0.50, 0.50, 0.50, 0.50, 0.52, 0.60, 0.65, 0.65, 0.65, 0.65, 0.65, 0.60, 0.55,
                0.52, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50, 0.50,
            ],
            [
                0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45,
                0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45,
            ],
        ],
        CustomerClass::Agricultural => [
            [
                0.40, 0.38, 0.38, 0.38, 0.40, 0.60, 0.85, 0.95, 1.00, 1.00, 1.00, 1.00, 0.95, 1.00,
                1.00, 1.00, 1.00, 0.95, 0.85, 0.70, 0.55, 0.48, 0.44, 0.42,
            ],
            [
                0.40, 0.38, 0.38, 0.38, 0.40, 0.55, 0.75, 0.85, 0.90, 0.90, 0.90, 0.85, 0.80, 0.80,
                0.80, 0.80, 0.80, 0.80, 0.75, 0.62, 0.50, 0.45, 0.42, 0.41,
            ],
            [
                0.40, 0.38, 0.38, 0.38, 0.40, 0.50, 0.65, 0.72, 0.75, 0.75, 0.72, 0.70, 0.68, 0.66,
                0.65, 0.65, 0.66, 0.68, 0.65, 0.55, 0.48, 0.44, 0.42, 0.41,
            ],
        ],
    }
}

/// Seasonal multiplier (day of year).
fn seasonal(class: CustomerClass, doy: u32) -> f64 {
    let c = (2.0 * PI * (doy as f64 + 10.0) / 365.0).cos(); // +1 in early January
    match class {
        CustomerClass::Residential => 1.0 + 0.20 * c,
        CustomerClass::Commercial => 1.0 + 0.08 * c,
        CustomerClass::Industrial => 1.0 + 0.03 * c,
        CustomerClass::Agricultural => 1.0 - 0.25 * c,
    }
}

/// Unnormalised shape value at `t`.
fn raw_shape(class: CustomerClass, t: Timestamp) -> f64 {
    let (doy, hour) = t.day_and_hour();
    let day = match t.weekday() {
        5 => 1,
        6 => 2,
        _ => 0,
    };
    let table = hourly(class);
    let h0 = hour.floor() as usize % 24;
    let f = hour - hour.floor();
    // Values are hourly means centred on the half hour.
    let (a, b, w) = if f < 0.5 {
        ((h0 + 23) % 24, h0, f + 0.5)
    } else {
        (h0, (h0 + 1) % 24, f - 0.5)
    };
    let v = table[day][a] * (1.0 - w) + table[day][b] * w;
    v * seasonal(class, doy)
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

/// Heat demand in MW_th per step: `annual_mwh` split into space heating
/// (∝ heating degree hours below `base_c`) and a hot-water share
/// (∝ the residential shape). Normalised so that the period's energy is
/// `annual_mwh × period / 1 year`.
pub fn heat_demand(
    temperature_c: &[f64],
    annual_mwh: f64,
    hot_water_share: f64,
    base_c: f64,
    start: Timestamp,
    step_s: i64,
) -> Vec<f64> {
    let n = temperature_c.len();
    let dt_h = step_s as f64 / 3600.0;
    let period_mwh = annual_mwh * (n as f64 * dt_h) / 8760.0;
    let hdh: Vec<f64> = temperature_c
        .iter()
        .map(|t| (base_c - t).max(0.0))
        .collect();
    let hdh_sum: f64 = hdh.iter().sum::<f64>() * dt_h;
    let hw = load_shape(CustomerClass::Residential, start, step_s, n, 0, 0.0);
    let hw_sum: f64 = hw.iter().sum::<f64>() * dt_h;
    let share = hot_water_share.clamp(0.0, 1.0);
    (0..n)
        .map(|k| {
            let sh = if hdh_sum > 0.0 { hdh[k] / hdh_sum } else { 0.0 };
            let w = if hw_sum > 0.0 { hw[k] / hw_sum } else { 0.0 };
            let space = if hdh_sum > 0.0 { 1.0 - share } else { 0.0 };
            period_mwh * (space * sh + share * w)
        })
        .collect()
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

    #[test]
    fn heat_demand_sums_to_annual_energy_and_follows_cold() {
        let temps: Vec<f64> = (0..8760)
            .map(|h| if h < 4380 { 0.0 } else { 20.0 })
            .collect();
        let start = Timestamp::parse("2016-01-01T00:00:00").unwrap();
        let q = heat_demand(&temps, 1000.0, 0.2, 15.0, start, 3600);
        let total: f64 = q.iter().sum();
        assert!((total - 1000.0).abs() < 1e-6, "{total}");
        assert!(q[100] > 5.0 * q[6000]);
    }
}
