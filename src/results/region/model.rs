//! From representative feeders to a region: each archetype's KPIs as a
//! response surface over the drivers (load and PV factors), scaled by the
//! feeder counts, rolled out over the horizon, with every range sampled by
//! a seeded Latin hypercube.

use super::spec::{Range, RegionSpec};
use crate::timeseries::weather::Rng;

/// One feeder's year at one driver level (annualised).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeederYear {
    /// Energy served, MWh.
    pub served_mwh: f64,
    /// Losses, MWh.
    pub loss_mwh: f64,
    /// Grid electricity counted for CO2 (imports, net of credited exports), MWh.
    pub grid_mwh: f64,
    /// CO2 of fuels burnt on the feeder (CHP, boilers), t.
    pub fuel_co2_t: f64,
    /// Hours with a voltage outside the band.
    pub voltage_violation_h: f64,
    /// Hours with a branch above 100 %.
    pub overload_h: f64,
    /// Renewable energy curtailed, MWh.
    pub curtailed_mwh: f64,
}

impl FeederYear {
    const FIELDS: usize = 7;

    fn to_array(self) -> [f64; Self::FIELDS] {
        [
            self.served_mwh,
            self.loss_mwh,
            self.grid_mwh,
            self.fuel_co2_t,
            self.voltage_violation_h,
            self.overload_h,
            self.curtailed_mwh,
        ]
    }

    fn from_array(a: [f64; Self::FIELDS]) -> FeederYear {
        FeederYear {
            served_mwh: a[0],
            loss_mwh: a[1],
            grid_mwh: a[2],
            fuel_co2_t: a[3],
            voltage_violation_h: a[4],
            overload_h: a[5],
            curtailed_mwh: a[6],
        }
    }

    /// CO2 at grid factor `ef`, t.
    pub fn co2_t(&self, ef: f64) -> f64 {
        self.grid_mwh * ef + self.fuel_co2_t
    }
}

/// A feeder's KPIs on a grid of driver levels (load × PV), interpolated
/// quadratically (Lagrange) in each driver.
#[derive(Debug, Clone, PartialEq)]
pub struct Surface {
    /// Load-factor levels run (1 or 3).
    pub load_levels: Vec<f64>,
    /// PV-factor levels run (1 or 3).
    pub pv_levels: Vec<f64>,
    /// KPIs at `load_levels[i]`, `pv_levels[j]`: index `i * pv_levels.len() + j`.
    pub values: Vec<FeederYear>,
}

/// Lagrange weights of `nodes` at `x`.
fn lagrange(nodes: &[f64], x: f64) -> Vec<f64> {
    (0..nodes.len())
        .map(|i| {
            (0..nodes.len())
                .filter(|&j| j != i)
                .map(|j| (x - nodes[j]) / (nodes[i] - nodes[j]))
                .product()
        })
        .collect()
}

impl Surface {
    /// The KPIs at load factor `l` and PV factor `p`.
    pub fn at(&self, l: f64, p: f64) -> FeederYear {
        let (wl, wp) = (lagrange(&self.load_levels, l), lagrange(&self.pv_levels, p));
        let mut acc = [0.0; FeederYear::FIELDS];
        for (i, a) in wl.iter().enumerate() {
            for (j, b) in wp.iter().enumerate() {
                let v = self.values[i * self.pv_levels.len() + j].to_array();
                acc.iter_mut().zip(v).for_each(|(s, x)| *s += a * b * x);
            }
        }
        FeederYear::from_array(acc)
    }
}

/// The levels at which to run a driver spanning [lo, hi]: one when it does
/// not vary, else lo, middle, hi.
pub fn levels(lo: f64, hi: f64) -> Vec<f64> {
    if hi - lo <= 1e-12 * hi.abs().max(1.0) {
        vec![lo]
    } else {
        vec![lo, 0.5 * (lo + hi), hi]
    }
}

/// What one archetype's runs gave.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchetypeModel {
    /// The feeder without a programme.
    pub reference: Surface,
    /// Hosting capacity of the reference feeder, MW (None: not measured).
    pub reference_hosting_mw: Option<f64>,
    /// Per programme (in the region's order): the option's surface, its
    /// capex per feeder by category, its hosting capacity; None when the
    /// programme does not cover the archetype.
    pub options: Vec<Option<OptionModel>>,
}

/// One archetype's option in one programme.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionModel {
    /// Variant name (empty: the reference network, items only).
    pub variant: String,
    /// KPIs with the option.
    pub surface: Surface,
    /// Capex per feeder by investment category, before the capex factor.
    pub capex: Vec<(String, f64)>,
    /// The option's measures, for the assumptions table.
    pub measures: Vec<String>,
    /// Hosting capacity with the option, MW.
    pub hosting_mw: Option<f64>,
}

/// The inputs of one sample (or of the central case).
#[derive(Debug, Clone)]
struct Drawn {
    load: Vec<(i32, f64)>,
    pv: Vec<(i32, f64)>,
    co2: Vec<(i32, f64)>,
    price: Vec<(i32, f64)>,
    cost: Vec<(i32, f64)>,
    capex_factor: f64,
    feeders: Vec<f64>,
    customers: Vec<f64>,
    rollout: Vec<Vec<(i32, f64)>>,
    /// Per programme, per item: (quantity, unit cost).
    items: Vec<Vec<(f64, f64)>>,
}

/// Value of a drawn trajectory in `year` (linear between points, constant
/// outside; `default` when empty).
pub fn at_year(pts: &[(i32, f64)], year: i32, default: f64) -> f64 {
    let Some(first) = pts.first() else {
        return default;
    };
    if year <= first.0 {
        return first.1;
    }
    for w in pts.windows(2) {
        if year <= w[1].0 {
            let f = (year - w[0].0) as f64 / (w[1].0 - w[0].0) as f64;
            return w[0].1 + f * (w[1].1 - w[0].1);
        }
    }
    pts[pts.len() - 1].1
}

fn draw_traj(t: &super::spec::Trajectory, pick: &mut dyn FnMut(&Range) -> f64) -> Vec<(i32, f64)> {
    let mut pts: Vec<(i32, f64)> = t
        .iter()
        .filter_map(|(k, r)| Some((k.trim().parse().ok()?, pick(r))))
        .collect();
    pts.sort_by_key(|p| p.0);
    pts
}

/// Walks every range of the region in a fixed order, taking its value from `pick`.
fn draw(spec: &RegionSpec, pick: &mut dyn FnMut(&Range) -> f64) -> Drawn {
    let t = &spec.trajectory;
    Drawn {
        load: draw_traj(&t.load_factor, pick),
        pv: draw_traj(&t.pv_factor, pick),
        co2: draw_traj(&t.grid_co2_t_per_mwh, pick),
        price: draw_traj(&t.energy_price_per_mwh, pick),
        cost: draw_traj(&t.cost_factor, pick),
        capex_factor: pick(&spec.uncertainty.capex_factor),
        feeders: spec.archetype.iter().map(|a| pick(&a.feeders)).collect(),
        customers: spec
            .archetype
            .iter()
            .map(|a| pick(&a.customers_per_feeder))
            .collect(),
        rollout: spec
            .programme
            .iter()
            .map(|p| draw_traj(&p.rollout, pick))
            .collect(),
        items: spec
            .programme
            .iter()
            .map(|p| {
                p.item
                    .iter()
                    .map(|i| (pick(&i.quantity), pick(&i.unit_cost)))
                    .collect()
            })
            .collect(),
    }
}

/// Number of ranges [`draw`] visits.
fn dimensions(spec: &RegionSpec) -> usize {
    let mut n = 0;
    draw(spec, &mut |_| {
        n += 1;
        0.0
    });
    n
}

/// The range of a trajectory's values over the horizon: (lowest, highest)
/// with every point at its low or at its high end.
pub fn driver_span(spec: &RegionSpec, t: &super::spec::Trajectory) -> (f64, f64) {
    let lo = draw_traj(t, &mut |r| r.bounds().0);
    let hi = draw_traj(t, &mut |r| r.bounds().2);
    let years = spec.horizon();
    let values =
        |pts: &[(i32, f64)]| -> Vec<f64> { years.iter().map(|&y| at_year(pts, y, 1.0)).collect() };
    let lowest = values(&lo).into_iter().fold(f64::INFINITY, f64::min);
    let highest = values(&hi).into_iter().fold(f64::NEG_INFINITY, f64::max);
    (lowest, highest)
}

/// A region metric: key, unit, and whether its horizon total is the sum of
/// the years (else the last year's value).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Key, e.g. `investment`, `investment:lines`, `co2_avoided_t`.
    pub key: String,
    /// Plain-language label.
    pub label: String,
    /// Unit.
    pub unit: String,
    /// Whether the total is the sum over the years.
    pub summed: bool,
}

/// The metrics of every programme (investment categories first).
pub fn metrics(categories: &[String], currency: &str) -> Vec<Metric> {
    let m = |key: &str, label: &str, unit: &str, summed| Metric {
        key: key.into(),
        label: label.into(),
        unit: unit.into(),
        summed,
    };
    let mut out = vec![m("investment", "Investment", currency, true)];
    for c in categories {
        out.push(m(
            &format!("investment:{c}"),
            &format!("Investment: {c}"),
            currency,
            true,
        ));
    }
    out.extend([
        m("co2_avoided_t", "CO2 avoided", "t", true),
        m("losses_avoided_mwh", "Grid losses avoided", "MWh", true),
        m(
            "losses_avoided_value",
            "Value of losses avoided",
            currency,
            true,
        ),
        m(
            "voltage_hours_removed",
            "Feeder-hours of voltage violation removed",
            "h",
            true,
        ),
        m(
            "overload_hours_removed",
            "Feeder-hours of overload removed",
            "h",
            true,
        ),
        m(
            "curtailment_avoided_mwh",
            "Renewable curtailment avoided",
            "MWh",
            true,
        ),
        m(
            "hosting_unlocked_mw",
            "PV hosting capacity unlocked",
            "MW",
            false,
        ),
        m("feeders_reached", "Feeders reached", "feeders", false),
        m(
            "customers_reached",
            "Customers on feeders reached",
            "customers",
            false,
        ),
        m(
            "region_energy_mwh",
            "Region: energy served without the programme",
            "MWh",
            true,
        ),
        m(
            "region_losses_mwh",
            "Region: grid losses without the programme",
            "MWh",
            true,
        ),
        m(
            "region_co2_t",
            "Region: CO2 without the programme",
            "t",
            true,
        ),
    ]);
    out
}

/// The metrics after the investment categories, in [`metrics`] order
/// (index = the category count + this).
#[derive(Clone, Copy)]
enum M {
    Co2 = 1,
    Losses,
    LossValue,
    Voltage,
    Overload,
    Curtailment,
    Hosting,
    Feeders,
    Customers,
    RegionEnergy,
    RegionLosses,
    RegionCo2,
}

/// One sample's values: `[programme][metric][year]`.
type Values = Vec<Vec<Vec<f64>>>;

/// What every evaluation shares.
struct Ctx<'a> {
    spec: &'a RegionSpec,
    models: &'a [ArchetypeModel],
    cats: &'a [String],
}

/// Programme `p` on one feeder of archetype `a` at drivers (l, pv): its
/// investment per category and what it avoids against the reference.
fn year_terms<'a>(
    c: &Ctx<'a>,
    d: &Drawn,
    (p, a): (usize, usize),
    (l, pv): (f64, f64),
) -> Option<(Vec<f64>, FeederYear, &'a OptionModel)> {
    let am = &c.models[a];
    let om = am.options[p].as_ref()?;
    let mut invest = vec![0.0; c.cats.len()];
    for (cat, v) in &om.capex {
        invest[c.cats.iter().position(|x| x == cat)?] += v * d.capex_factor;
    }
    for (it, (q, cost)) in c.spec.programme[p].item.iter().zip(&d.items[p]) {
        let per = if it.per == "customer" {
            d.customers[a]
        } else {
            1.0
        };
        invest[c.cats.iter().position(|x| x == &it.category)?] += q * cost * per;
    }
    let (r, with) = (
        am.reference.at(l, pv).to_array(),
        om.surface.at(l, pv).to_array(),
    );
    let mut diff = [0.0; FeederYear::FIELDS];
    (0..FeederYear::FIELDS).for_each(|k| diff[k] = r[k] - with[k]);
    Some((invest, FeederYear::from_array(diff), om))
}

/// Everything one draw gives.
fn evaluate(c: &Ctx, d: &Drawn) -> Values {
    let years = c.spec.horizon();
    let nc = c.cats.len();
    let n_metrics = metrics(c.cats, "").len();
    let mut out = vec![vec![vec![0.0; years.len()]; n_metrics]; c.spec.programme.len()];
    for (p, vals) in out.iter_mut().enumerate() {
        for (y, &year) in years.iter().enumerate() {
            let (l, pv) = (at_year(&d.load, year, 1.0), at_year(&d.pv, year, 1.0));
            let ef = at_year(&d.co2, year, 0.0);
            let price = at_year(&d.price, year, 0.0);
            let cost = at_year(&d.cost, year, 1.0);
            let share = at_year(&d.rollout[p], year, 0.0);
            let before = if y == 0 {
                0.0
            } else {
                at_year(&d.rollout[p], year - 1, 0.0)
            };
            for (a, am) in c.models.iter().enumerate() {
                let n = d.feeders[a];
                let base = am.reference.at(l, pv);
                vals[nc + M::RegionEnergy as usize][y] += n * base.served_mwh;
                vals[nc + M::RegionLosses as usize][y] += n * base.loss_mwh;
                vals[nc + M::RegionCo2 as usize][y] += n * base.co2_t(ef);
                let Some((invest, av, om)) = year_terms(c, d, (p, a), (l, pv)) else {
                    continue;
                };
                let built = n * (share - before) * cost;
                for (k, v) in invest.iter().enumerate() {
                    vals[0][y] += built * v;
                    vals[1 + k][y] += built * v;
                }
                let done = n * share;
                vals[nc + M::Co2 as usize][y] += done * (av.grid_mwh * ef + av.fuel_co2_t);
                vals[nc + M::Losses as usize][y] += done * av.loss_mwh;
                vals[nc + M::LossValue as usize][y] += done * av.loss_mwh * price;
                vals[nc + M::Voltage as usize][y] += done * av.voltage_violation_h;
                vals[nc + M::Overload as usize][y] += done * av.overload_h;
                vals[nc + M::Curtailment as usize][y] += done * av.curtailed_mwh;
                if let (Some(h), Some(h0)) = (om.hosting_mw, am.reference_hosting_mw) {
                    vals[nc + M::Hosting as usize][y] += done * (h - h0);
                }
                vals[nc + M::Feeders as usize][y] += done;
                vals[nc + M::Customers as usize][y] += done * d.customers[a];
            }
        }
    }
    out
}

/// Percentiles and central value of one figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Mean.
    pub mean: f64,
    /// The central case (every range at its mode or middle).
    pub central: f64,
}

/// Quantile `q` of sorted values, linear between order statistics (as
/// NumPy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (i, f) = (h.floor() as usize, h - h.floor());
    if i + 1 < sorted.len() {
        sorted[i] + f * (sorted[i + 1] - sorted[i])
    } else {
        sorted[i]
    }
}

fn stats(mut v: Vec<f64>, central: f64) -> Stats {
    v.sort_by(f64::total_cmp);
    Stats {
        p10: quantile(&v, 0.1),
        p50: quantile(&v, 0.5),
        p90: quantile(&v, 0.9),
        mean: v.iter().sum::<f64>() / v.len() as f64,
        central,
    }
}

/// One metric of one programme: per year and over the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The metric.
    pub metric: Metric,
    /// Per year of the horizon.
    pub by_year: Vec<Stats>,
    /// Over the horizon (sum, or the last year).
    pub total: Stats,
}

/// A region's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The horizon's years.
    pub years: Vec<i32>,
    /// Investment categories.
    pub categories: Vec<String>,
    /// Per programme (region order), its series in [`metrics`] order.
    pub programmes: Vec<Vec<Series>>,
    /// Samples drawn.
    pub samples: usize,
}

/// Latin hypercube: `n` rows of `dims` uniforms, each column one value in
/// each of n equal strata, rows shuffled per column (seeded).
pub fn latin_hypercube(n: usize, dims: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(seed);
    let mut rows = vec![vec![0.0; dims]; n];
    for d in 0..dims {
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = ((rng.uniform() * (i + 1) as f64) as usize).min(i);
            perm.swap(i, j);
        }
        for (row, k) in rows.iter_mut().zip(perm) {
            row[d] = (k as f64 + rng.uniform()) / n as f64;
        }
    }
    rows
}

/// The investment categories: the options' measures', then the items', in
/// order of appearance.
pub fn categories(spec: &RegionSpec, models: &[ArchetypeModel]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let measures = models.iter().flat_map(|m| m.options.iter().flatten());
    let names = measures
        .flat_map(|o| o.capex.iter().map(|c| c.0.clone()))
        .chain(
            spec.programme
                .iter()
                .flat_map(|p| p.item.iter().map(|i| i.category.clone())),
        );
    for c in names {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Samples the region `spec.samples` times (Latin hypercube, `spec.seed`)
/// and summarises every figure.
pub fn simulate(spec: &RegionSpec, models: &[ArchetypeModel], currency: &str) -> Outcome {
    let cats = categories(spec, models);
    let c = Ctx {
        spec,
        models,
        cats: &cats,
    };
    let central = evaluate(&c, &draw(spec, &mut |r| r.bounds().1));
    let dims = dimensions(spec);
    let runs: Vec<Values> = latin_hypercube(spec.samples, dims, spec.seed)
        .into_iter()
        .map(|u| {
            let mut k = 0;
            let d = draw(spec, &mut |r| {
                k += 1;
                r.quantile(u[k - 1])
            });
            evaluate(&c, &d)
        })
        .collect();
    let ms = metrics(&cats, currency);
    let years = spec.horizon();
    let programmes = (0..spec.programme.len())
        .map(|p| {
            ms.iter()
                .enumerate()
                .map(|(m, metric)| {
                    let total = |v: &[f64]| {
                        if metric.summed {
                            v.iter().sum()
                        } else {
                            v[v.len() - 1]
                        }
                    };
                    Series {
                        metric: metric.clone(),
                        by_year: (0..years.len())
                            .map(|y| {
                                stats(runs.iter().map(|r| r[p][m][y]).collect(), central[p][m][y])
                            })
                            .collect(),
                        total: stats(
                            runs.iter().map(|r| total(&r[p][m])).collect(),
                            total(&central[p][m]),
                        ),
                    }
                })
                .collect()
        })
        .collect();
    Outcome {
        years,
        categories: cats,
        programmes,
        samples: spec.samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_indices_follow_the_metric_list() {
        let cats = vec!["lines".to_string(), "metering".to_string()];
        let m = metrics(&cats, "EUR");
        let at = |i: M| m[cats.len() + i as usize].key.as_str();
        assert_eq!(m[0].key, "investment");
        assert_eq!(m[2].key, "investment:metering");
        assert_eq!(at(M::Co2), "co2_avoided_t");
        assert_eq!(at(M::Curtailment), "curtailment_avoided_mwh");
        assert_eq!(at(M::Customers), "customers_reached");
        assert_eq!(at(M::RegionCo2), "region_co2_t");
        assert_eq!(m.len(), cats.len() + M::RegionCo2 as usize + 1);
    }
}
