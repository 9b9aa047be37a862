//! Wind turbine power curves: the shipped library (`assets/wind/power_curves.csv`,
//! from the OpenEnergy Database turbine library as windpowerlib 0.2.2 ships
//! it; `tools/der/windpowerlib_reference.py` copies it) and the power at a
//! wind speed, interpolated linearly between the curve's points and zero
//! outside them (below cut-in, above cut-out), as windpowerlib's
//! `power_curve` does without density correction.

use crate::error::{Error, Result};

const LIBRARY: &str = include_str!("../../assets/wind/power_curves.csv");

/// A turbine's power curve.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerCurve {
    /// Wind speeds at hub height, m/s, increasing.
    pub speeds_ms: Vec<f64>,
    /// Electric power at those speeds, kW.
    pub power_kw: Vec<f64>,
}

impl PowerCurve {
    /// The curve of `turbine_type` (e.g. `E-82/2350`) from the shipped library.
    pub fn named(turbine_type: &str) -> Result<PowerCurve> {
        let mut c = PowerCurve {
            speeds_ms: Vec::new(),
            power_kw: Vec::new(),
        };
        for line in LIBRARY.lines().skip(1) {
            let mut f = line.split(',');
            if f.next() != Some(turbine_type) {
                continue;
            }
            let num = |x: Option<&str>| x.and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
            c.speeds_ms.push(num(f.next()));
            c.power_kw.push(num(f.next()));
        }
        if c.speeds_ms.is_empty() {
            return Err(Error::Usage(format!(
                "unknown turbine_type '{turbine_type}' (the library has: {})",
                Self::types().join(", ")
            )));
        }
        Ok(c)
    }

    /// The turbine types of the shipped library.
    pub fn types() -> Vec<&'static str> {
        let mut v: Vec<&str> = LIBRARY
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .collect();
        v.dedup();
        v
    }

    /// Highest power of the curve, kW.
    pub fn rated_kw(&self) -> f64 {
        self.power_kw.iter().copied().fold(0.0, f64::max)
    }

    /// Power at wind speed `v`, kW.
    pub fn power_kw_at(&self, v: f64) -> f64 {
        let s = &self.speeds_ms;
        let (Some(&first), Some(&last)) = (s.first(), s.last()) else {
            return 0.0;
        };
        if !(v >= first && v <= last) {
            return 0.0;
        }
        let i = s.partition_point(|&x| x <= v).clamp(1, s.len() - 1);
        let (x0, x1) = (s[i - 1], s[i]);
        let (p0, p1) = (self.power_kw[i - 1], self.power_kw[i]);
        if x1 == x0 {
            return p1;
        }
        p0 + (p1 - p0) * (v - x0) / (x1 - x0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_curves_load_and_interpolate() {
        assert!(PowerCurve::types().len() >= 10);
        let c = PowerCurve::named("E-82/2350").unwrap();
        assert_eq!(c.rated_kw(), 2350.0);
        assert_eq!(c.power_kw_at(0.0), 0.0);
        assert_eq!(c.power_kw_at(40.0), 0.0);
        let e = PowerCurve::named("X-1").unwrap_err().to_string();
        assert!(e.contains("E-82/2350"), "{e}");
    }
}
