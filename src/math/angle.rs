//! Fast, exact voltage angles for buses whose angle stays near a known one.
//!
//! `atan2` costs tens of nanoseconds; in a time series each bus's angle
//! stays within a few degrees of its initial angle (which includes the
//! transformer phase shifts), so the angle relative to that direction is
//! small and a short odd series gives it to full double precision.

use num_complex::Complex64;
use std::f64::consts::PI;

/// Coefficients of atan(t)/t in powers of t²: 1, −1/3, 1/5, …, 1/17.
const SERIES: [f64; 9] = [
    1.0,
    -1.0 / 3.0,
    1.0 / 5.0,
    -1.0 / 7.0,
    1.0 / 9.0,
    -1.0 / 11.0,
    1.0 / 13.0,
    -1.0 / 15.0,
    1.0 / 17.0,
];

/// A reference direction: a unit vector and its angle.
#[derive(Debug, Clone, Copy)]
pub struct Direction {
    unit: Complex64,
    angle_rad: f64,
}

impl Direction {
    /// The direction of `v` (east for a zero or non-finite `v`).
    pub fn of(v: Complex64) -> Direction {
        let m = v.norm();
        if m > 0.0 && m.is_finite() {
            Direction {
                unit: v / m,
                angle_rad: v.im.atan2(v.re),
            }
        } else {
            Direction {
                unit: Complex64::new(1.0, 0.0),
                angle_rad: 0.0,
            }
        }
    }

    /// `arg(v)` in radians in (−π, π]; equal to `v.im.atan2(v.re)` to a few
    /// units in the last place.
    #[inline]
    pub fn arg(&self, v: Complex64) -> f64 {
        let w = v * self.unit.conj();
        if w.re > 0.0 && w.im.abs() < 0.125 * w.re {
            // atan t = t − t³/3 + t⁵/5 − …; for |t| < 1/8 the first omitted
            // term (t¹⁹/19) is below 1e-18 of the result.
            let t = w.im / w.re;
            // Σ_{j=0}^{8} (−1)^j t^{2j+1}/(2j+1) by Estrin's scheme in u = t²
            // (short dependency chains instead of a 9-step Horner chain).
            let u = t * t;
            let u2 = u * u;
            let u4 = u2 * u2;
            let c = &SERIES;
            let p01 = c[0] + c[1] * u;
            let p23 = c[2] + c[3] * u;
            let p45 = c[4] + c[5] * u;
            let p67 = c[6] + c[7] * u;
            let p03 = p01 + p23 * u2;
            let p47 = p45 + p67 * u2;
            let p = p03 + (p47 + c[8] * u4) * u4;
            let a = self.angle_rad + t * p;
            if a > PI {
                a - 2.0 * PI
            } else if a <= -PI {
                a + 2.0 * PI
            } else {
                a
            }
        } else {
            v.im.atan2(v.re)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_atan2() {
        let mut worst: f64 = 0.0;
        for k in 0..2000 {
            let ref_deg = -180.0 + 0.37 * k as f64;
            let d = Direction::of(Complex64::from_polar(1.02, ref_deg.to_radians()));
            for off in [-9.0, -3.3, -0.01, 0.0, 0.02, 2.5, 7.1, 30.0, 170.0] {
                let v = Complex64::from_polar(0.97, (ref_deg + off).to_radians());
                let (a, b) = (d.arg(v), v.im.atan2(v.re));
                let mut diff = (a - b).abs();
                if diff > PI {
                    diff = (diff - 2.0 * PI).abs();
                }
                worst = worst.max(diff);
                assert!(a > -PI && a <= PI);
            }
        }
        assert!(worst < 2e-15, "worst {worst}");
        let d = Direction::of(Complex64::new(0.0, 0.0));
        assert_eq!(d.arg(Complex64::new(0.0, 1.0)), PI / 2.0);
    }
}
