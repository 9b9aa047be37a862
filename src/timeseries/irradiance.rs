//! Solar irradiance on a module plane from global horizontal irradiance:
//! the standard chain of published models that pvlib also implements
//! (tests/pv_model.rs compares every step with pvlib on the same inputs).
//!
//! - extraterrestrial irradiance: Spencer (1971), solar constant 1366.1 W/m²;
//! - clear-sky GHI: Haurwitz (1945), `1098 · cos z · exp(−0.059 / cos z)`;
//! - decomposition of GHI into beam and diffuse: Erbs, Klein and Duffie
//!   (1982), diffuse fraction as a function of the clearness index;
//! - transposition to the plane: Hay and Davies (1980) anisotropic sky
//!   (circumsolar share = DNI / extraterrestrial), isotropic ground
//!   reflection.
//!
//! Angles in degrees; azimuths from north, clockwise (180 = south).

use std::f64::consts::PI;

/// Solar constant of the extraterrestrial irradiance, W/m².
const SOLAR_CONSTANT_W_M2: f64 = 1366.1;

/// Lowest cos z used for the clearness index (zenith ≈ 86.3°).
const MIN_COS_ZENITH_KT: f64 = 0.065;

/// Highest clearness index accepted.
const MAX_CLEARNESS_INDEX: f64 = 2.0;

/// Above this zenith Erbs gives no beam (all of GHI is diffuse), degrees.
const MAX_ZENITH_BEAM_DEG: f64 = 87.0;

/// Lowest cos z in the Hay–Davies beam ratio (zenith ≈ 89°).
const MIN_COS_ZENITH_RB: f64 = 0.01745;

fn cosd(x: f64) -> f64 {
    x.to_radians().cos()
}

/// Extraterrestrial normal irradiance on day of year `doy` (1–366), W/m².
pub fn extraterrestrial_w_m2(doy: f64) -> f64 {
    let b = 2.0 * PI / 365.0 * (doy - 1.0);
    let r = 1.00011
        + 0.034221 * b.cos()
        + 0.00128 * b.sin()
        + 0.000719 * (2.0 * b).cos()
        + 0.000077 * (2.0 * b).sin();
    SOLAR_CONSTANT_W_M2 * r
}

/// Clear-sky global horizontal irradiance at zenith `zenith_deg`, W/m².
pub fn haurwitz_ghi(zenith_deg: f64) -> f64 {
    let cz = cosd(zenith_deg);
    if cz <= 0.0 {
        return 0.0;
    }
    1098.0 * cz * (-0.059 / cz).exp()
}

/// Beam normal and diffuse horizontal irradiance, W/m².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeamDiffuse {
    /// Direct normal irradiance.
    pub dni: f64,
    /// Diffuse horizontal irradiance.
    pub dhi: f64,
}

/// Splits `ghi` at zenith `zenith_deg` into beam and diffuse (Erbs); the
/// extraterrestrial irradiance `dni_extra` sets the clearness index.
pub fn erbs(ghi: f64, zenith_deg: f64, dni_extra: f64) -> BeamDiffuse {
    let cz = cosd(zenith_deg);
    let kt = (ghi / (dni_extra * cz.max(MIN_COS_ZENITH_KT))).clamp(0.0, MAX_CLEARNESS_INDEX);
    let diffuse_fraction = if kt <= 0.22 {
        1.0 - 0.09 * kt
    } else if kt <= 0.8 {
        0.9511 - 0.1604 * kt + 4.388 * kt.powi(2) - 16.638 * kt.powi(3) + 12.336 * kt.powi(4)
    } else {
        0.165
    };
    let dhi = diffuse_fraction * ghi;
    let dni = (ghi - dhi) / cz;
    // No beam near the horizon or where the split gives none: GHI is diffuse.
    if zenith_deg > MAX_ZENITH_BEAM_DEG || ghi < 0.0 || !(dni >= 0.0) {
        return BeamDiffuse { dni: 0.0, dhi: ghi };
    }
    BeamDiffuse { dni, dhi }
}

/// Where the sun and the module plane are.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// Solar zenith, degrees.
    pub zenith_deg: f64,
    /// Solar azimuth, degrees from north.
    pub sun_azimuth_deg: f64,
    /// Module tilt from horizontal, degrees.
    pub tilt_deg: f64,
    /// Module azimuth, degrees from north.
    pub surface_azimuth_deg: f64,
}

impl Geometry {
    /// Cosine of the angle of incidence on the plane (may be negative).
    fn cos_incidence(&self) -> f64 {
        let (z, t) = (self.zenith_deg.to_radians(), self.tilt_deg.to_radians());
        let daz = (self.sun_azimuth_deg - self.surface_azimuth_deg).to_radians();
        (z.cos() * t.cos() + z.sin() * t.sin() * daz.cos()).clamp(-1.0, 1.0)
    }
}

/// Plane-of-array irradiance, W/m²: beam, Hay–Davies sky diffuse and
/// ground reflection with `albedo`.
pub fn poa_hay_davies(g: Geometry, ghi: f64, bd: BeamDiffuse, dni_extra: f64, albedo: f64) -> f64 {
    let cos_inc = g.cos_incidence().max(0.0);
    let rb = cos_inc / cosd(g.zenith_deg).max(MIN_COS_ZENITH_RB);
    let anisotropy = bd.dni / dni_extra;
    let cos_tilt = cosd(g.tilt_deg);
    let isotropic = (bd.dhi * (1.0 - anisotropy) * 0.5 * (1.0 + cos_tilt)).max(0.0);
    let circumsolar = (bd.dhi * anisotropy * rb).max(0.0);
    let beam = (bd.dni * cos_inc).max(0.0);
    let ground = ghi * albedo * 0.5 * (1.0 - cos_tilt);
    beam + isotropic + circumsolar + ground
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizontal_plane_sees_ghi() {
        let ghi = 600.0;
        let bd = erbs(ghi, 40.0, 1360.0);
        let g = Geometry {
            zenith_deg: 40.0,
            sun_azimuth_deg: 170.0,
            tilt_deg: 0.0,
            surface_azimuth_deg: 180.0,
        };
        let poa = poa_hay_davies(g, ghi, bd, 1360.0, 0.2);
        assert!((poa - ghi).abs() < 1e-9 * ghi, "{poa}");
        assert!((bd.dni * cosd(40.0) + bd.dhi - ghi).abs() < 1e-9);
    }
}
