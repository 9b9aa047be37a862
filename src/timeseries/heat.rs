//! Heat demand and the supplies that serve it without a CHP unit.
//!
//! - Demand: the BDEW standard heat load profiles (the gas/heat "SLP"
//!   method of BDEW/VKU/GEODE, as demandlib implements it): a day's demand
//!   is a sigmoid of the geometric-series temperature
//!   `T_geo = (T_d + ½T_d−1 + ¼T_d−2 + ⅛T_d−3) / 1.875` of the daily means
//!   (building thermal inertia), `h = A / (1 + (B / (T_geo − 40))^C) + D`
//!   (hot water included in `D`), times a weekday factor; it is spread over
//!   the hours with the profile's hour factors for the 5 K class of
//!   `T_geo` (and, outside housing, the weekday). Parameters and factors
//!   are the BDEW tables demandlib 0.2.2 ships (`assets/heat/`).
//! - Normalisation: the sum over one year equals the stated annual demand
//!   exactly — over the run's first 365 days when the run covers them,
//!   else over a year of the site's mean climate.
//! - Heat pump COP (Ruhnau, Hirth, Praktiknjo 2019, "Time series of heat
//!   demand and heat pump efficiency for energy system modeling", Sci. Data
//!   6:189, the when2heat regressions): air source
//!   `6.08 − 0.09ΔT + 0.0005ΔT²`, ground source `10.29 − 0.21ΔT + 0.0012ΔT²`,
//!   ΔT = sink − source, sink by heating curve (radiators `40 − T_out`,
//!   floor heating `30 − 0.5·T_out`, °C), ground at 10 °C, times their
//!   real-world correction 0.85.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};

const HOUR_FACTORS: &str = include_str!("../../assets/heat/shlp_hour_factors.csv");
const SIGMOID: &str = include_str!("../../assets/heat/shlp_sigmoid_factors.csv");
const WEEKDAY: &str = include_str!("../../assets/heat/shlp_weekday_factors.csv");

/// The BDEW profile codes (EFH single-family, MFH multi-family houses; the
/// rest commercial: GHD all commerce and services, GKO local authorities,
/// GBH accommodation, GGA restaurants, GBA bakeries, GWA laundries, GGB
/// horticulture, GMK metal and automotive, GPD paper and printing, GMF
/// household-like commerce, GHA retail, GBD other services).
pub const PROFILE_CODES: [&str; 14] = [
    "EFH", "MFH", "GHD", "GKO", "GBH", "GGA", "GBA", "GWA", "GGB", "GMK", "GPD", "GMF", "GHA",
    "GBD",
];

/// Upper bounds (°C, on the rounded-up T_geo) of the hour factors' first
/// nine temperature classes; the tenth is everything warmer.
const CLASS_BOUNDS_C: [f64; 9] = [-15.0, -10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 25.0];

/// One BDEW heat load profile.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatProfile {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    /// Weekday factor, Monday first.
    weekday: [f64; 7],
    /// Hour factors by temperature class: 24 rows (housing) or 7 × 24
    /// (weekday-major, Monday first).
    hours: Vec<[f64; 10]>,
}

fn fields(line: &str) -> Vec<&str> {
    line.split(',').map(str::trim).collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

impl HeatProfile {
    /// The profile `code` (a [`PROFILE_CODES`] entry) for `building_class`
    /// (1–11 for EFH/MFH: age and insulation; 0 for the others) at a windy
    /// or sheltered site.
    pub fn new(code: &str, building_class: u32, windy: bool) -> Result<HeatProfile, String> {
        let code = code.to_ascii_uppercase();
        if !PROFILE_CODES.contains(&code.as_str()) {
            return Err(format!(
                "unknown heat profile '{code}' (one of {})",
                PROFILE_CODES.join(", ")
            ));
        }
        let housing = code == "EFH" || code == "MFH";
        if housing && !(1..=11).contains(&building_class) {
            return Err(format!(
                "building_class of {code} must be 1 to 11, found {building_class}"
            ));
        }
        if !housing && building_class != 0 {
            return Err(format!(
                "building_class of {code} must be 0 (classes are for EFH and MFH), found {building_class}"
            ));
        }
        let class = building_class.to_string();
        let wind = if windy { "1" } else { "0" };
        let sig = SIGMOID
            .lines()
            .skip(1)
            .map(fields)
            .find(|f| f.len() == 8 && f[5] == class && f[6] == code && f[7] == wind)
            .ok_or_else(|| format!("no BDEW sigmoid parameters for {code} class {class}"))?;
        let weekday: Vec<f64> = WEEKDAY
            .lines()
            .skip(1)
            .map(fields)
            .filter(|f| f.len() == 3 && f[1] == code)
            .map(|f| num(f[2]))
            .collect();
        // Rows in file order: (hour 1–24) within (weekday 1–7) for commerce.
        let hours: Vec<[f64; 10]> = HOUR_FACTORS
            .lines()
            .skip(1)
            .map(fields)
            .filter(|f| f.len() == 15 && f[3] == class && f[4] == code)
            .map(|f| std::array::from_fn(|i| num(f[5 + i])))
            .collect();
        let expected = if housing { 24 } else { 168 };
        if weekday.len() != 7 || hours.len() != expected {
            return Err(format!("incomplete BDEW tables for {code}"));
        }
        Ok(HeatProfile {
            a: num(sig[1]),
            b: num(sig[2]),
            c: num(sig[3]),
            d: num(sig[4]),
            weekday: std::array::from_fn(|i| weekday[i]),
            hours,
        })
    }

    /// The daily factor h(T_geo) (hot water included).
    pub fn daily_factor(&self, t_geo_c: f64) -> f64 {
        self.a / (1.0 + (self.b / (t_geo_c - 40.0)).powf(self.c)) + self.d
    }

    /// The hour factor of hour `hour0` (0–23) on `weekday0` (0 = Monday).
    fn hour_factor(&self, weekday0: usize, hour0: usize, t_geo_c: f64) -> f64 {
        let up = t_geo_c.ceil();
        let class = CLASS_BOUNDS_C.iter().filter(|&&b| b < up).count();
        let row = if self.hours.len() == 24 {
            hour0
        } else {
            weekday0 * 24 + hour0
        };
        self.hours[row][class]
    }

    /// The sum of a day's hour factors.
    fn day_hour_sum(&self, weekday0: usize, t_geo_c: f64) -> f64 {
        (0..24)
            .map(|h| self.hour_factor(weekday0, h, t_geo_c))
            .sum()
    }

    /// A day's weight: h · F · Σ hour factors.
    fn day_weight(&self, weekday0: usize, t_geo_c: f64) -> f64 {
        self.daily_factor(t_geo_c) * self.weekday[weekday0] * self.day_hour_sum(weekday0, t_geo_c)
    }
}

/// Geometric-series temperatures of a run of daily means (days before the
/// first take its value).
pub fn geometric_temperatures(daily_c: &[f64]) -> Vec<f64> {
    let at = |i: isize| daily_c[i.max(0) as usize];
    (0..daily_c.len() as isize)
        .map(|i| (at(i) + 0.5 * at(i - 1) + 0.25 * at(i - 2) + 0.125 * at(i - 3)) / 1.875)
        .collect()
}

/// Calendar days of a run: the day number (days since 1970, local) of
/// step 0 and the mean temperature of each day the run touches.
fn daily_means(temperature_c: &[f64], start: Timestamp, step_s: i64) -> (i64, Vec<f64>) {
    let day_of = |k: usize| (start.0 + step_s * k as i64).div_euclid(86400);
    let first = day_of(0);
    let n_days = temperature_c
        .len()
        .checked_sub(1)
        .map_or(0, |k| (day_of(k) - first + 1) as usize);
    let (mut sum, mut count) = (vec![0.0; n_days], vec![0usize; n_days]);
    for (k, t) in temperature_c.iter().enumerate() {
        let d = (day_of(k) - first) as usize;
        sum[d] += t;
        count[d] += 1;
    }
    let means = sum
        .iter()
        .zip(&count)
        .map(|(s, &c)| s / c.max(1) as f64)
        .collect();
    (first, means)
}

/// Day of the week of day number `day` (days since 1970), 0 = Monday.
fn weekday_of(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// Heat demand per step, MW_th, of `annual_mwh` with `profile` under the
/// outdoor temperature series. `climate_daily_c` (365 daily means of the
/// site's mean climate from 1 January) normalises runs shorter than a year.
pub fn heat_demand_series(
    profile: &HeatProfile,
    annual_mwh: f64,
    temperature_c: &[f64],
    start: Timestamp,
    step_s: i64,
    climate_daily_c: &[f64],
) -> Vec<f64> {
    let (first_day, daily) = daily_means(temperature_c, start, step_s);
    let t_geo = geometric_temperatures(&daily);
    let year_weight: f64 = if t_geo.len() >= 365 {
        (0..365)
            .map(|d| profile.day_weight(weekday_of(first_day + d as i64), t_geo[d]))
            .sum()
    } else {
        let geo = geometric_temperatures(climate_daily_c);
        geo.iter()
            .map(|&t| (0..7).map(|w| profile.day_weight(w, t)).sum::<f64>() / 7.0)
            .sum()
    };
    let kw = if year_weight > 0.0 {
        annual_mwh / year_weight
    } else {
        0.0
    };
    let hours_per_step = ((step_s + 3599) / 3600).max(1);
    (0..temperature_c.len())
        .map(|k| {
            let t = start.0 + step_s * k as i64;
            let day = t.div_euclid(86400);
            let d = (day - first_day) as usize;
            let w = weekday_of(day);
            let hour0 = (t.rem_euclid(86400) / 3600) as usize;
            let sf: f64 = (0..hours_per_step as usize)
                .map(|i| profile.hour_factor(w, (hour0 + i) % 24, t_geo[d]))
                .sum::<f64>()
                / hours_per_step as f64;
            kw * profile.daily_factor(t_geo[d]) * profile.weekday[w] * sf
        })
        .collect()
}

/// Heat pump heat source.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HeatPumpSource {
    /// Outdoor air.
    #[default]
    Air,
    /// Ground (brine at 10 °C).
    Ground,
}

/// Heat distribution of the building (sets the sink temperature).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HeatSink {
    /// Radiators: 40 − T_out °C.
    #[default]
    Radiator,
    /// Floor heating: 30 − 0.5·T_out °C.
    Floor,
}

/// Real-world correction of the when2heat COP regressions.
const COP_CORRECTION: f64 = 0.85;

/// Coefficient of performance at outdoor temperature `t_out_c`.
pub fn heat_pump_cop(source: HeatPumpSource, sink: HeatSink, t_out_c: f64) -> f64 {
    let t_sink = match sink {
        HeatSink::Radiator => 40.0 - t_out_c,
        HeatSink::Floor => 30.0 - 0.5 * t_out_c,
    };
    let (t_source, c0, c1, c2) = match source {
        HeatPumpSource::Air => (t_out_c, 6.08, -0.09, 0.0005),
        HeatPumpSource::Ground => (10.0, 10.29, -0.21, 0.0012),
    };
    // ΔT at least 15 K: the regressions were fitted above it.
    let dt = (t_sink - t_source).max(15.0);
    COP_CORRECTION * (c0 + c1 * dt + c2 * dt * dt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_loads_and_classes_are_checked() {
        for code in PROFILE_CODES {
            let class = if code == "EFH" || code == "MFH" { 3 } else { 0 };
            let p = HeatProfile::new(code, class, false).unwrap();
            assert!(p.daily_factor(-10.0) > p.daily_factor(15.0), "{code}");
        }
        assert!(HeatProfile::new("EFH", 0, false).is_err());
        assert!(HeatProfile::new("GHD", 2, false).is_err());
        assert!(HeatProfile::new("XYZ", 0, false).is_err());
    }

    #[test]
    fn annual_sum_is_exact_and_cop_falls_with_cold() {
        let p = HeatProfile::new("MFH", 3, false).unwrap();
        let start = Timestamp::parse("2017-01-01T00:00:00").unwrap();
        let temps: Vec<f64> = (0..8760)
            .map(|h| {
                9.0 - 9.0 * (2.0 * std::f64::consts::PI * (h as f64 / 24.0 + 10.0) / 365.0).cos()
            })
            .collect();
        let q = heat_demand_series(&p, 1000.0, &temps, start, 3600, &[]);
        assert!((q.iter().sum::<f64>() - 1000.0).abs() < 1e-9);
        let cold = heat_pump_cop(HeatPumpSource::Air, HeatSink::Radiator, -10.0);
        let mild = heat_pump_cop(HeatPumpSource::Air, HeatSink::Radiator, 10.0);
        // ΔT 60 K: 0.85·(6.08 − 5.4 + 1.8) = 2.108; ΔT 20 K: 0.85·4.48 = 3.808.
        assert!((cold - 2.108).abs() < 1e-12 && (mild - 3.808).abs() < 1e-12);
    }
}
