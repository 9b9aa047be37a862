//! The region file: feeder archetypes with counts, a horizon of years with
//! trajectories, programmes to deploy, and ranges for what is uncertain.
//! Serde structures and their checks (every number finite and in range,
//! named by archetype, programme, item and field).

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A number, or a range it is drawn from: `{ low, high }` (uniform) or
/// `{ low, mode, high }` (triangular).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Range {
    /// A fixed value.
    Fixed(f64),
    /// A range.
    Spread {
        /// Lowest value.
        low: f64,
        /// Most likely value (triangular); without, uniform.
        mode: Option<f64>,
        /// Highest value.
        high: f64,
    },
}

impl Range {
    /// (low, central, high): the central value is the mode, or the middle
    /// of a uniform range.
    pub fn bounds(&self) -> (f64, f64, f64) {
        match *self {
            Range::Fixed(v) => (v, v, v),
            Range::Spread { low, mode, high } => (low, mode.unwrap_or(0.5 * (low + high)), high),
        }
    }

    /// Whether the value is uncertain (needs a sample dimension).
    pub fn is_spread(&self) -> bool {
        let (l, _, h) = self.bounds();
        h > l
    }

    /// The value at quantile `u` ∈ [0, 1): the inverse distribution function.
    pub fn quantile(&self, u: f64) -> f64 {
        match *self {
            Range::Fixed(v) => v,
            Range::Spread { low, high, .. } if high <= low => low,
            Range::Spread {
                low,
                mode: None,
                high,
            } => low + u * (high - low),
            Range::Spread {
                low,
                mode: Some(m),
                high,
            } => {
                let fm = (m - low) / (high - low);
                if u < fm {
                    low + (u * (high - low) * (m - low)).sqrt()
                } else {
                    high - ((1.0 - u) * (high - low) * (high - m)).sqrt()
                }
            }
        }
    }

    /// Checks the range finite, ordered and within [min, max].
    pub fn check(&self, what: &str, min: f64, max: f64) -> Result<()> {
        let (l, c, h) = self.bounds();
        let bad = |msg: String| Err(Error::Usage(format!("{what}: {msg}")));
        if ![l, c, h].iter().all(|v| v.is_finite()) {
            return bad("must be finite".into());
        }
        if l > c || c > h {
            return bad(format!("needs low ≤ mode ≤ high, got {l}, {c}, {h}"));
        }
        if l < min || h > max {
            return bad(format!("must lie within [{min}, {max}], got {l} … {h}"));
        }
        Ok(())
    }
}

/// Values by year, linear between the years given, constant before the
/// first and after the last. Each year's value may be a range.
pub type Trajectory = BTreeMap<String, Range>;

/// Region-wide trajectories (drivers and prices by year).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trajectories {
    /// Factor on every archetype's demand (1 in the base year).
    #[serde(default)]
    pub load_factor: Trajectory,
    /// Factor on every archetype's PV (1 in the base year).
    #[serde(default)]
    pub pv_factor: Trajectory,
    /// Grid emission factor, t CO2 per MWh.
    pub grid_co2_t_per_mwh: Trajectory,
    /// Value of a MWh of losses, in the catalogue's currency.
    #[serde(default)]
    pub energy_price_per_mwh: Trajectory,
    /// Factor on every investment made in a year (price escalation or
    /// learning; 1 when not given).
    #[serde(default)]
    pub cost_factor: Trajectory,
}

/// A feeder archetype: a scenario file whose variants are the options, and
/// how many such feeders the region has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchetypeSpec {
    /// Name.
    pub name: String,
    /// What it stands for.
    #[serde(default)]
    pub description: String,
    /// Scenario file (relative to the region file): its reference scenario
    /// is the feeder without a programme, its variants the options.
    pub scenario: String,
    /// Number of such feeders in the region.
    pub feeders: Range,
    /// Customers (meters) per feeder.
    pub customers_per_feeder: Range,
    /// Buses where hosting capacity is measured (smallest counts); none:
    /// not measured.
    #[serde(default)]
    pub hosting_buses: Vec<String>,
}

/// A counted item of a programme (smart meters, automation terminals).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    /// Name.
    pub name: String,
    /// Investment category.
    pub category: String,
    /// "customer" or "feeder".
    pub per: String,
    /// Quantity per customer or feeder.
    #[serde(default = "one")]
    pub quantity: Range,
    /// Installed cost of one, in the catalogue's currency.
    pub unit_cost: Range,
    /// Where the cost comes from.
    pub source: String,
}

fn one() -> Range {
    Range::Fixed(1.0)
}

/// A programme: an option per archetype and counted items, rolled out
/// over the horizon.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeSpec {
    /// Name.
    pub name: String,
    /// What it is.
    #[serde(default)]
    pub description: String,
    /// The archetypes it covers (default: all).
    pub archetypes: Option<Vec<String>>,
    /// The variant (option) each covered archetype takes; unnamed ones keep
    /// their reference network (items only).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Share of the covered feeders done by the end of each year (0–1,
    /// not decreasing).
    pub rollout: Trajectory,
    /// Counted items.
    #[serde(default)]
    pub item: Vec<ItemSpec>,
}

/// Uncertainty on things not given by year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uncertainty {
    /// Factor on the catalogue's capex of every option.
    #[serde(default = "one")]
    pub capex_factor: Range,
}

impl Default for Uncertainty {
    fn default() -> Self {
        Uncertainty {
            capex_factor: one(),
        }
    }
}

/// A whole region file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    /// Title.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The year the archetypes' scenarios describe (factors 1).
    pub base_year: i32,
    /// First and last year of the horizon.
    pub years: [i32; 2],
    /// Cost catalogue: shipped (eu, us) or a file relative to the region file.
    pub catalogue: String,
    /// Number of samples.
    #[serde(default = "d_samples")]
    pub samples: usize,
    /// Seed of the sampling.
    #[serde(default = "d_seed")]
    pub seed: u64,
    /// Trajectories.
    pub trajectory: Trajectories,
    /// Other ranges.
    #[serde(default)]
    pub uncertainty: Uncertainty,
    /// Feeder archetypes.
    pub archetype: Vec<ArchetypeSpec>,
    /// Programmes.
    pub programme: Vec<ProgrammeSpec>,
    /// Sources of the region's figures (shown in the assumptions table).
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

fn d_samples() -> usize {
    1000
}

fn d_seed() -> u64 {
    1
}

/// The years and ranges of a trajectory, checked.
pub fn trajectory_points(
    t: &Trajectory,
    what: &str,
    min: f64,
    max: f64,
) -> Result<Vec<(i32, Range)>> {
    let mut pts = Vec::new();
    for (k, r) in t {
        let year: i32 = k
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("{what}: '{k}' is not a year")))?;
        r.check(&format!("{what}, {year}"), min, max)?;
        if pts.iter().any(|p: &(i32, Range)| p.0 == year) {
            return Err(Error::Usage(format!("{what}: year {year} given twice")));
        }
        pts.push((year, *r));
    }
    pts.sort_by_key(|p| p.0);
    Ok(pts)
}

impl RegionSpec {
    /// Reads and checks a region file.
    pub fn load(path: &Path) -> Result<RegionSpec> {
        let text = crate::input::read_text(path)?;
        Self::parse(path, &text)
    }

    /// Parses and checks region-file text (`path` names it in messages).
    pub fn parse(path: &Path, text: &str) -> Result<RegionSpec> {
        let spec: RegionSpec =
            toml::from_str(text).map_err(|e| crate::input::toml_error(path, text, e))?;
        spec.check()
            .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
        Ok(spec)
    }

    /// The horizon's years.
    pub fn horizon(&self) -> Vec<i32> {
        (self.years[0]..=self.years[1]).collect()
    }

    /// Checks every number finite and in range, every name known.
    pub fn check(&self) -> Result<()> {
        let [first, last] = self.years;
        if first > last || last - first > 100 || first < self.base_year {
            return Err(Error::Usage(format!(
                "years: need base_year ≤ first ≤ last within 100 years, got {} and [{first}, {last}]",
                self.base_year
            )));
        }
        if self.samples == 0 || self.samples > 1_000_000 {
            return Err(Error::Usage(format!(
                "samples: must be 1 to 1,000,000, got {}",
                self.samples
            )));
        }
        let cells = self.samples as f64 * self.programme.len() as f64 * (last - first + 2) as f64;
        if cells > 2e6 {
            return Err(Error::Usage(format!(
                "samples × programmes × (years + 1) is {cells}; at most 2,000,000 are kept in memory"
            )));
        }
        let t = &self.trajectory;
        trajectory_points(&t.load_factor, "trajectory.load_factor", 0.0, 100.0)?;
        trajectory_points(&t.pv_factor, "trajectory.pv_factor", 0.0, 1000.0)?;
        if t.grid_co2_t_per_mwh.is_empty() {
            return Err(Error::Usage(
                "trajectory.grid_co2_t_per_mwh: give at least one year".into(),
            ));
        }
        trajectory_points(
            &t.grid_co2_t_per_mwh,
            "trajectory.grid_co2_t_per_mwh",
            0.0,
            5.0,
        )?;
        trajectory_points(
            &t.energy_price_per_mwh,
            "trajectory.energy_price_per_mwh",
            0.0,
            1e6,
        )?;
        trajectory_points(&t.cost_factor, "trajectory.cost_factor", 0.0, 100.0)?;
        self.uncertainty
            .capex_factor
            .check("uncertainty.capex_factor", 0.0, 100.0)?;
        self.check_archetypes()?;
        self.check_programmes()
    }

    fn check_archetypes(&self) -> Result<()> {
        if self.archetype.is_empty() {
            return Err(Error::Usage("give at least one [[archetype]]".into()));
        }
        for (i, a) in self.archetype.iter().enumerate() {
            let what = format!("archetype '{}'", a.name);
            if self.archetype[..i].iter().any(|b| b.name == a.name) {
                return Err(Error::Usage(format!("{what}: name given twice")));
            }
            a.feeders.check(&format!("{what}: feeders"), 0.0, 1e7)?;
            a.customers_per_feeder
                .check(&format!("{what}: customers_per_feeder"), 0.0, 1e7)?;
        }
        Ok(())
    }

    fn check_programmes(&self) -> Result<()> {
        if self.programme.is_empty() {
            return Err(Error::Usage("give at least one [[programme]]".into()));
        }
        for (i, p) in self.programme.iter().enumerate() {
            let what = format!("programme '{}'", p.name);
            if self.programme[..i].iter().any(|q| q.name == p.name) {
                return Err(Error::Usage(format!("{what}: name given twice")));
            }
            let known = |n: &String| self.archetype.iter().any(|a| &a.name == n);
            let names = p.archetypes.iter().flatten().chain(p.options.keys());
            if let Some(n) = names.into_iter().find(|n| !known(n)) {
                return Err(Error::Usage(format!("{what}: no archetype '{n}'")));
            }
            if let Some(n) = p.options.keys().find(|n| !p.covers(n)) {
                return Err(Error::Usage(format!(
                    "{what}: options: archetype '{n}' is not among the programme's archetypes"
                )));
            }
            check_rollout(&p.rollout, &format!("{what}: rollout"))?;
            for it in &p.item {
                let w = format!("{what}, item '{}'", it.name);
                if it.per != "customer" && it.per != "feeder" {
                    return Err(Error::Usage(format!(
                        "{w}: per must be \"customer\" or \"feeder\", got \"{}\"",
                        it.per
                    )));
                }
                it.quantity.check(&format!("{w}: quantity"), 0.0, 1e6)?;
                it.unit_cost.check(&format!("{w}: unit_cost"), 0.0, 1e12)?;
            }
        }
        Ok(())
    }
}

impl ProgrammeSpec {
    /// Whether the programme covers archetype `name`.
    pub fn covers(&self, name: &str) -> bool {
        self.archetypes
            .as_ref()
            .is_none_or(|list| list.iter().any(|a| a == name))
    }
}

/// A rollout: shares in [0, 1], not decreasing whatever is drawn (each
/// year's highest at most the next year's lowest).
fn check_rollout(t: &Trajectory, what: &str) -> Result<()> {
    let pts = trajectory_points(t, what, 0.0, 1.0)?;
    if pts.is_empty() {
        return Err(Error::Usage(format!("{what}: give at least one year")));
    }
    for w in pts.windows(2) {
        if w[0].1.bounds().2 > w[1].1.bounds().0 {
            return Err(Error::Usage(format!(
                "{what}: the share may not fall from {} to {} (each year's high ≤ the next year's low)",
                w[0].0, w[1].0
            )));
        }
    }
    Ok(())
}
