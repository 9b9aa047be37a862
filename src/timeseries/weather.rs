//! Synthetic weather with fixed seeds: sun position and clear-sky
//! irradiance, a cloud process, wind speed and outdoor temperature.
//!
//! Models (all standard, simple and documented):
//! - sun position: Spencer (1971) declination and equation of time;
//! - irradiance on the modules: see [`super::irradiance`] (Haurwitz clear
//!   sky, Erbs, Hay–Davies);
//! - clouds: an hourly AR(1) clear-sky index in [0.05, 1] (seeded) whose
//!   mean follows the month: from the site's monthly GHI, or by default
//!   the cloudiness of central Germany (DWD monthly means);
//! - wind: an AR(1) Gaussian process mapped to a Weibull(k = 2) speed
//!   with the site's mean, hub-height log-law correction;
//! - temperature: seasonal + diurnal sinusoid plus a seasonal-spread AR(1)
//!   anomaly persisting for days (cold spells).

use super::irradiance::haurwitz_ghi;
use super::time::Timestamp;
use std::f64::consts::PI;

/// Small deterministic random generator (SplitMix64) with normal variates.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
    spare: Option<f64>,
}

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
            spare: None,
        }
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        self.spare = Some(r * (2.0 * PI * u2).sin());
        r * (2.0 * PI * u2).cos()
    }
}

/// Sun position at a site.
#[derive(Debug, Clone, Copy)]
pub struct SunPosition {
    /// Cosine of the zenith angle (≤ 0 at night).
    pub cos_zenith: f64,
    /// Azimuth, radians from north, clockwise.
    pub azimuth: f64,
}

/// Sun position at local standard time `t` (time zone `utc_offset_h`).
pub fn sun_position(
    t: Timestamp,
    latitude_deg: f64,
    longitude_deg: f64,
    utc_offset_h: f64,
) -> SunPosition {
    let (doy, hour) = t.day_and_hour();
    let g = 2.0 * PI / 365.0 * (doy as f64 + (hour - 12.0) / 24.0);
    let decl = 0.006918 - 0.399912 * g.cos() + 0.070257 * g.sin() - 0.006758 * (2.0 * g).cos()
        + 0.000907 * (2.0 * g).sin()
        - 0.002697 * (3.0 * g).cos()
        + 0.00148 * (3.0 * g).sin();
    let eot_min = 229.18
        * (0.000075 + 0.001868 * g.cos()
            - 0.032077 * g.sin()
            - 0.014615 * (2.0 * g).cos()
            - 0.040849 * (2.0 * g).sin());
    let solar_time_h = hour + (eot_min + 4.0 * longitude_deg - 60.0 * utc_offset_h) / 60.0;
    let ha = (solar_time_h - 12.0) * 15f64.to_radians();
    let lat = latitude_deg.to_radians();
    let cos_z = lat.sin() * decl.sin() + lat.cos() * decl.cos() * ha.cos();
    let sin_z = (1.0 - cos_z * cos_z).max(0.0).sqrt();
    let mut az = if sin_z > 1e-9 {
        ((decl.sin() - cos_z * lat.sin()) / (sin_z * lat.cos()))
            .clamp(-1.0, 1.0)
            .acos()
    } else {
        PI
    };
    if ha > 0.0 {
        az = 2.0 * PI - az;
    }
    SunPosition {
        cos_zenith: cos_z,
        azimuth: az,
    }
}

/// Monthly global horizontal irradiation of Germany (area mean), kWh/m²:
/// the Deutscher Wetterdienst's long-term means for 1981–2010 (January and
/// August: 1991–2020), as solarserver.de reports them month by month.
pub const DWD_GERMANY_MONTHLY_GHI_KWH_M2: [f64; 12] = [
    26.0, 40.0, 75.0, 117.0, 153.0, 159.0, 161.0, 141.0, 91.0, 56.0, 25.0, 17.0,
];

/// A central point of Germany (latitude, longitude, UTC offset) at which the
/// DWD means above are turned into a clear-sky index.
pub const DWD_REFERENCE_SITE: (f64, f64, f64) = (51.3, 9.5, 1.0);

/// Clear-sky GHI summed per month of a non-leap year at a site, kWh/m²
/// (Haurwitz, quarter-hour sun positions).
pub fn monthly_clear_sky_ghi_kwh_m2(latitude: f64, longitude: f64, utc_offset_h: f64) -> [f64; 12] {
    let start = Timestamp::from_civil(2019, 1, 1, 0, 0, 0).expect("valid date");
    let mut sums = [0.0; 12];
    for k in 0..365 * 96 {
        let t = Timestamp(start.0 + 900 * k + 450);
        let sun = sun_position(t, latitude, longitude, utc_offset_h);
        let zenith = sun.cos_zenith.clamp(-1.0, 1.0).acos().to_degrees();
        sums[t.month() as usize - 1] += haurwitz_ghi(zenith) * 0.25 / 1000.0;
    }
    sums
}

/// Monthly mean clear-sky index (GHI over clear-sky GHI) that gives
/// `monthly_ghi_kwh_m2` at a site, each within 0.1–0.95.
pub fn clear_sky_index_for(
    monthly_ghi_kwh_m2: &[f64; 12],
    latitude: f64,
    longitude: f64,
    utc_offset_h: f64,
) -> [f64; 12] {
    let clear = monthly_clear_sky_ghi_kwh_m2(latitude, longitude, utc_offset_h);
    std::array::from_fn(|m| {
        let k = monthly_ghi_kwh_m2[m] / clear[m].max(1e-9);
        k.clamp(0.1, 0.95)
    })
}

/// Where PV units are and how cloudy it is there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SolarSite {
    /// Latitude, degrees north.
    pub latitude: f64,
    /// Longitude, degrees east.
    pub longitude: f64,
    /// Offset of local standard time from UTC, hours.
    pub utc_offset_h: f64,
    /// Mean clear-sky index per calendar month.
    pub clear_sky_index: [f64; 12],
    /// The cloud process's map offset per calendar month (for
    /// `clear_sky_index`; see [`CloudProcess::new`]).
    pub cloud_offset: [f64; 12],
}

impl SolarSite {
    /// A site with the given monthly GHI, kWh/m², or by default the
    /// cloudiness of central Germany (the DWD means at the reference site).
    pub fn new(
        latitude: f64,
        longitude: f64,
        utc_offset_h: f64,
        monthly_ghi: Option<&[f64; 12]>,
    ) -> SolarSite {
        let clear_sky_index = match monthly_ghi {
            Some(g) => clear_sky_index_for(g, latitude, longitude, utc_offset_h),
            None => {
                let (lat, lon, utc) = DWD_REFERENCE_SITE;
                clear_sky_index_for(&DWD_GERMANY_MONTHLY_GHI_KWH_M2, lat, lon, utc)
            }
        };
        SolarSite {
            latitude,
            longitude,
            utc_offset_h,
            clear_sky_index,
            cloud_offset: clear_sky_index.map(cloud_offset),
        }
    }
}

/// Lowest and highest clear-sky index of the cloud process.
const CLEAR_SKY_INDEX_RANGE: (f64, f64) = (0.05, 1.0);

/// Steepness of the map from the Gaussian state to the clear-sky index:
/// mostly clear or mostly overcast hours, few in between.
const CLOUD_STEEPNESS: f64 = 1.6;

/// The clear-sky index of Gaussian state `z` with offset `a`.
fn cloud_map(z: f64, a: f64) -> f64 {
    let (lo, hi) = CLEAR_SKY_INDEX_RANGE;
    lo + (hi - lo) / (1.0 + (-CLOUD_STEEPNESS * (z + a)).exp())
}

/// The offset whose mapped standard normal has mean `mean` (bisection;
/// the mean grows with the offset).
fn cloud_offset(mean: f64) -> f64 {
    let expected = |a: f64| -> f64 {
        // E[map(z)] for z ~ N(0, 1), midpoint rule over ±8 σ.
        let n = 400;
        let h = 16.0 / n as f64;
        (0..n)
            .map(|i| {
                let z = -8.0 + (i as f64 + 0.5) * h;
                (-0.5 * z * z).exp() * cloud_map(z, a)
            })
            .sum::<f64>()
            * h
            / (2.0 * PI).sqrt()
    };
    let (mut lo, mut hi) = (-20.0, 20.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if expected(mid) < mean {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Hourly AR(1) clear-sky index with a mean per calendar month,
/// interpolated within the hour. One process per site: every PV unit of a
/// scenario sees the same clouds.
#[derive(Debug, Clone)]
pub struct CloudProcess {
    rng: Rng,
    hour: i64,
    cur: f64,
    next: f64,
    z: f64,
    /// Offsets of the map, per month.
    offset: [f64; 12],
}

impl CloudProcess {
    /// A cloud process with `seed` at `site`: its clear-sky index averages
    /// `site.clear_sky_index[m]` in month m.
    pub fn new(seed: u64, site: &SolarSite) -> CloudProcess {
        let mut rng = Rng::new(seed);
        let z = rng.normal();
        CloudProcess {
            rng,
            hour: i64::MIN,
            cur: 0.0,
            next: 0.0,
            z,
            offset: site.cloud_offset,
        }
    }

    /// Clear-sky index at `t` (advance in time order; a jump back or of
    /// more than two days restarts the hourly chain at `t`).
    pub fn at(&mut self, t: Timestamp) -> f64 {
        let h = t.0.div_euclid(3600);
        if self.hour == i64::MIN || h < self.hour || h > self.hour + 48 {
            self.hour = h;
            self.cur = self.map(h);
            self.step();
            self.next = self.map(h + 1);
        }
        while self.hour < h {
            self.hour += 1;
            self.cur = self.next;
            self.step();
            self.next = self.map(self.hour + 1);
        }
        let f = t.0.rem_euclid(3600) as f64 / 3600.0;
        self.cur * (1.0 - f) + self.next * f
    }

    /// One hour of the AR(1) state (correlation 0.9 per hour).
    fn step(&mut self) {
        self.z = 0.9 * self.z + (1.0f64 - 0.81).sqrt() * self.rng.normal();
    }

    fn map(&self, hour: i64) -> f64 {
        let month = Timestamp(hour * 3600).month() as usize - 1;
        cloud_map(self.z, self.offset[month])
    }
}

/// AR(1) wind speed at hub height with a Weibull(k = 2) marginal.
#[derive(Debug, Clone)]
pub struct WindProcess {
    rng: Rng,
    z: f64,
    scale: f64,
    rho: f64,
}

impl WindProcess {
    /// `mean_ms` at `ref_height_m`, scaled to `hub_height_m` with a
    /// log law (roughness 0.1 m); `step_s` sets the per-step correlation
    /// (time constant 6 h).
    pub fn new(
        seed: u64,
        mean_ms: f64,
        ref_height_m: f64,
        hub_height_m: f64,
        step_s: i64,
    ) -> WindProcess {
        let z0 = 0.1f64;
        let mean_hub = mean_ms * ((hub_height_m / z0).ln() / (ref_height_m / z0).ln());
        // Weibull k = 2: mean = scale · Γ(1.5) = scale · 0.886227
        let scale = mean_hub / 0.886_226_925;
        let rho = (-(step_s as f64) / (6.0 * 3600.0)).exp();
        let mut rng = Rng::new(seed);
        let z = rng.normal();
        WindProcess { rng, z, scale, rho }
    }

    /// Next speed, m/s.
    pub fn next_speed(&mut self) -> f64 {
        let z = self.next_state();
        self.speed_of(z)
    }

    /// Advances the Gaussian AR(1) state (standard normal marginal).
    pub fn next_state(&mut self) -> f64 {
        self.z = self.rho * self.z + (1.0 - self.rho * self.rho).sqrt() * self.rng.normal();
        self.z
    }

    /// The speed of Gaussian state `z`, m/s: normal → uniform (erf-free
    /// logistic approximation) → Weibull k = 2 with this process's scale.
    pub fn speed_of(&self, z: f64) -> f64 {
        let u = 1.0 / (1.0 + (-1.702 * z).exp());
        self.scale * (-(1.0 - u).max(1e-12).ln()).sqrt()
    }
}

/// The wind of a site: the seed of the wind all its turbines share, and a
/// factor on the mean speed per calendar month (mean 1).
#[derive(Debug, Clone, PartialEq)]
pub struct WindClimate {
    /// Seed of the site's common wind.
    pub site_seed: u64,
    /// Mean speed of each month over the annual mean.
    pub monthly_factor: [f64; 12],
}

/// Amplitude of the default seasonal cycle of the mean wind speed (windiest
/// in January, calmest in July): an assumption typical of inland
/// north-west Europe; `site.wind_monthly_factor` sets measured values.
pub const DEFAULT_WIND_SEASONAL_AMPLITUDE: f64 = 0.15;

impl WindClimate {
    /// A site's wind: `monthly` factors (normalised to mean 1) or the
    /// default cosine cycle.
    pub fn new(site_seed: u64, monthly: Option<&[f64; 12]>) -> WindClimate {
        let raw: [f64; 12] = match monthly {
            Some(m) => *m,
            None => std::array::from_fn(|m| {
                1.0 + DEFAULT_WIND_SEASONAL_AMPLITUDE * (2.0 * PI * m as f64 / 12.0).cos()
            }),
        };
        let mean = raw.iter().sum::<f64>() / 12.0;
        WindClimate {
            site_seed,
            monthly_factor: raw.map(|x| x / mean),
        }
    }
}

/// The synthetic climate of a site's outdoor temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemperatureClimate {
    /// Annual mean, °C.
    pub mean_c: f64,
    /// Seasonal amplitude (mid-July minus mid-January, halved), K.
    pub seasonal_k: f64,
    /// Diurnal amplitude, K.
    pub diurnal_k: f64,
    /// Standard deviation of the weather anomaly in mid-winter, K.
    pub winter_anomaly_sd_k: f64,
    /// Standard deviation of the weather anomaly in mid-summer, K.
    pub summer_anomaly_sd_k: f64,
}

impl TemperatureClimate {
    /// Central Germany (DWD 1991–2020 normals of the daily mean: about
    /// 9.5 °C a year, January 0.5 °C, July 18.5 °C; anomalies of about
    /// 5 K in winter, skewed cold (continental cold spells: the coldest day
    /// of a winter at −8 to −15 °C), and 2.6 K in summer, persisting for days).
    pub fn central_europe(mean_c: f64) -> TemperatureClimate {
        TemperatureClimate {
            mean_c,
            seasonal_k: 9.0,
            diurnal_k: 4.0,
            winter_anomaly_sd_k: 5.0,
            summer_anomaly_sd_k: 2.6,
        }
    }
}

/// Persistence of the weather anomaly (e-folding time), days: cold spells
/// and heat waves last several days.
const ANOMALY_PERSISTENCE_DAYS: f64 = 4.0;

/// Skewness of the winter anomaly: cold spells go further below the mean
/// than mild spells above it.
const WINTER_ANOMALY_SKEW: f64 = -0.8;

/// Outdoor temperature model: seasonal and diurnal sinusoids plus an AR(1)
/// weather anomaly whose spread follows the season (wider in winter: cold
/// spells) and which persists for days.
#[derive(Debug, Clone)]
pub struct TemperatureProcess {
    rng: Rng,
    z: f64,
    climate: TemperatureClimate,
    rho: f64,
}

impl TemperatureProcess {
    /// The process of `climate` at steps of `step_s` seconds.
    pub fn new(seed: u64, climate: TemperatureClimate, step_s: i64) -> Self {
        let mut rng = Rng::new(seed);
        let z = rng.normal();
        TemperatureProcess {
            rng,
            z,
            climate,
            rho: (-(step_s as f64) / (ANOMALY_PERSISTENCE_DAYS * 86400.0)).exp(),
        }
    }

    /// Temperature at `t`, °C (advance in time order).
    pub fn at(&mut self, t: Timestamp) -> f64 {
        let c = &self.climate;
        let (doy, hour) = t.day_and_hour();
        self.z = self.rho * self.z + (1.0 - self.rho * self.rho).sqrt() * self.rng.normal();
        // 1 in mid-January, −1 in mid-July.
        let winter = (2.0 * PI * (doy as f64 + 10.0) / 365.0).cos();
        let sd = 0.5 * (c.winter_anomaly_sd_k + c.summer_anomaly_sd_k)
            + 0.5 * (c.winter_anomaly_sd_k - c.summer_anomaly_sd_k) * winter;
        // Cornish–Fisher skew, cold side in winter (none in summer).
        let skew = WINTER_ANOMALY_SKEW * winter.max(0.0);
        let anomaly = self.z + skew / 6.0 * (self.z * self.z - 1.0);
        c.mean_c - c.seasonal_k * winter - c.diurnal_k * (2.0 * PI * (hour - 3.0) / 24.0).cos()
            + sd * anomaly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noon_sun_is_high_in_summer_and_absent_at_night() {
        let noon = Timestamp::parse("2016-06-21T12:21:00").unwrap(); // solar noon at 10° E, UTC+1
        let s = sun_position(noon, 51.0, 10.0, 1.0);
        // Solar elevation at 51°N on the solstice ≈ 62.4°.
        assert!(
            (s.cos_zenith.acos().to_degrees() - 27.6).abs() < 0.3,
            "{}",
            s.cos_zenith
        );
        assert!(
            (s.azimuth.to_degrees() - 180.0).abs() < 15.0,
            "{}",
            s.azimuth.to_degrees()
        );
        let night = Timestamp::parse("2016-06-21T01:00:00").unwrap();
        assert!(sun_position(night, 51.0, 10.0, 1.0).cos_zenith < 0.0);
    }

    #[test]
    fn wind_process_mean_is_close_to_site_mean() {
        let mut w = WindProcess::new(7, 6.0, 100.0, 100.0, 900);
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| w.next_speed()).sum::<f64>() / n as f64;
        assert!((mean - 6.0).abs() < 0.4, "{mean}");
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(3);
        let mut b = Rng::new(3);
        for _ in 0..10 {
            assert_eq!(a.normal().to_bits(), b.normal().to_bits());
        }
    }
}
