//! Upgrade options priced and ranked: a cost catalogue, the measures each
//! option takes against the study's reference (found by comparing their
//! networks, units and controllers element by element, by id), and the
//! economics of each option over the reference.
//!
//! Economics (r discount rate, L an item's lifetime, H the horizon, all
//! energies scaled from the period to a year):
//! - capital recovery factor CRF(r, L) = r(1+r)^L / ((1+r)^L − 1) (1/L at r = 0);
//! - annualised capex = Σ capex_i · CRF(r, L_i); O&M = Σ capex_i · om_i;
//! - operating change = Δlosses × energy price + Δcurtailment × its value +
//!   ΔCO2 × CO2 price (negative: a saving);
//! - annual cost = annualised capex + O&M + operating change;
//! - NPV of the option's cost = annual cost × AF(r, H), AF = (1 − (1+r)^−H)/r
//!   (H at r = 0): the equivalent-annual method, which treats items of any
//!   lifetime alike.

use crate::error::{Error, Result};
use crate::network::{BranchKind, Network};
use crate::timeseries::controllers::ControllerSpec;
use crate::timeseries::der::UnitState;
use crate::timeseries::kpi::Kpis;
use crate::timeseries::runner::Scenario;
use serde::Deserialize;
use std::path::Path;

/// The shipped catalogues: (name, text).
pub const SHIPPED: [(&str, &str); 2] = [
    ("eu", include_str!("../../assets/costs/eu.toml")),
    ("us", include_str!("../../assets/costs/us.toml")),
];

fn d_om() -> f64 {
    1.0
}
fn d_life() -> f64 {
    40.0
}
fn d_any() -> String {
    "any".into()
}

/// A priced line item (new line or reconductoring), per km and system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    /// "new" (a new line or an added parallel system) or "reconductor".
    pub kind: String,
    /// Nominal voltage range of the line's buses, kV.
    pub voltage_kv: [f64; 2],
    /// Current the item carries, kA (the cheapest item at or above the
    /// line's rated current is taken).
    pub max_i_ka: f64,
    /// "underground" (cable), "overhead" or "any".
    #[serde(default = "d_any")]
    pub placement: String,
    /// Cost per km, in the catalogue's currency.
    pub cost_per_km: f64,
    /// Lifetime, years.
    #[serde(default = "d_life")]
    pub lifetime_years: f64,
    /// O&M per year, % of capex.
    #[serde(default = "d_om")]
    pub om_percent_per_year: f64,
    /// Where the figure comes from.
    pub source: String,
}

/// A priced unit item (transformer, regulator), per unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitItem {
    /// HV (regulator: line) nominal voltage range, kV.
    pub voltage_kv: [f64; 2],
    /// Rating, MVA (the cheapest item at or above the rating is taken).
    pub sn_mva: f64,
    /// Cost per unit.
    pub cost: f64,
    /// Lifetime, years.
    #[serde(default = "d_life")]
    pub lifetime_years: f64,
    /// O&M per year, % of capex.
    #[serde(default = "d_om")]
    pub om_percent_per_year: f64,
    /// Source.
    pub source: String,
}

/// A priced item with a fixed cost (a controller) or a cost per size.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedItem {
    /// Cost per unit, or per Mvar (capacitor), or per kWh (battery energy).
    pub cost: f64,
    /// Battery: cost per kW of converter.
    #[serde(default)]
    pub cost_per_kw: f64,
    /// Lifetime, years.
    #[serde(default = "d_life")]
    pub lifetime_years: f64,
    /// O&M per year, % of capex.
    #[serde(default = "d_om")]
    pub om_percent_per_year: f64,
    /// Source.
    pub source: String,
}

/// A cost catalogue with its economic settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Currency of every figure, e.g. "EUR".
    pub currency: String,
    /// Price basis, e.g. "2012" or "not stated by the source".
    pub price_year: String,
    /// Where the figures come from.
    pub source: String,
    /// A shipped catalogue this one extends ("eu", "us"); its items come
    /// after this file's, so this file's win where both match.
    pub extends: Option<String>,
    /// Discount rate, fraction per year.
    pub discount_rate: f64,
    /// Evaluation horizon, years.
    pub horizon_years: f64,
    /// Value of a MWh of losses.
    pub energy_price_per_mwh: f64,
    /// Price of a t of CO2.
    pub co2_price_per_t: f64,
    /// Value of a MWh of curtailed generation.
    pub curtailment_value_per_mwh: f64,
    /// Lines.
    #[serde(default)]
    pub line: Vec<LineItem>,
    /// Transformers.
    #[serde(default)]
    pub transformer: Vec<UnitItem>,
    /// Line voltage regulators.
    #[serde(default)]
    pub regulator: Vec<UnitItem>,
    /// An OLTC controller added to a transformer.
    pub oltc_controller: Option<FixedItem>,
    /// Capacitor banks, per Mvar.
    pub capacitor: Option<FixedItem>,
    /// Batteries, per kWh (and per kW).
    pub battery: Option<FixedItem>,
}

impl Catalogue {
    /// A shipped catalogue by name, or a file (which may extend one).
    pub fn load(name_or_path: &str) -> Result<Catalogue> {
        if let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(Path::new(name_or_path), text);
        }
        let path = Path::new(name_or_path);
        let text = crate::input::read_text(path)?;
        let mut c = Self::parse(path, &text)?;
        if let Some(base) = c.extends.clone() {
            let Some((_, t)) = SHIPPED.iter().find(|(n, _)| *n == base) else {
                return Err(Error::Usage(format!(
                    "{}: extends '{base}': no such shipped catalogue (eu, us)",
                    path.display()
                )));
            };
            let b = Self::parse(Path::new(&base), t)?;
            if b.currency != c.currency {
                return Err(Error::Usage(format!(
                    "{}: currency {} differs from the {} of '{base}'",
                    path.display(),
                    c.currency,
                    b.currency
                )));
            }
            c.line.extend(b.line);
            c.transformer.extend(b.transformer);
            c.regulator.extend(b.regulator);
            c.oltc_controller = c.oltc_controller.or(b.oltc_controller);
            c.capacitor = c.capacitor.or(b.capacitor);
            c.battery = c.battery.or(b.battery);
        }
        Ok(c)
    }

    fn parse(path: &Path, text: &str) -> Result<Catalogue> {
        let c: Catalogue =
            toml::from_str(text).map_err(|e| crate::input::toml_error(path, text, e))?;
        c.check(path)?;
        Ok(c)
    }

    /// Every number finite and in range.
    fn check(&self, path: &Path) -> Result<()> {
        let p = std::cell::RefCell::new(Vec::new());
        let within = |v: f64, lo: f64, hi: f64, what: String| {
            if !(v.is_finite() && (lo..=hi).contains(&v)) {
                p.borrow_mut()
                    .push(format!("{what} must be {lo} to {hi}, found {v}"));
            }
        };
        within(self.discount_rate, 0.0, 1.0, "discount_rate".into());
        within(self.horizon_years, 1.0, 200.0, "horizon_years".into());
        within(
            self.energy_price_per_mwh,
            0.0,
            1e6,
            "energy_price_per_mwh".into(),
        );
        within(self.co2_price_per_t, 0.0, 1e6, "co2_price_per_t".into());
        within(
            self.curtailment_value_per_mwh,
            0.0,
            1e6,
            "curtailment_value_per_mwh".into(),
        );
        for (i, l) in self.line.iter().enumerate() {
            within(
                l.cost_per_km,
                0.0,
                1e12,
                format!("line {}: cost_per_km", i + 1),
            );
            within(l.max_i_ka, 0.0, 100.0, format!("line {}: max_i_ka", i + 1));
            within(
                l.lifetime_years,
                1.0,
                200.0,
                format!("line {}: lifetime_years", i + 1),
            );
            within(
                l.om_percent_per_year,
                0.0,
                100.0,
                format!("line {}: om_percent_per_year", i + 1),
            );
            if !matches!(l.kind.as_str(), "new" | "reconductor") {
                p.borrow_mut().push(format!(
                    "line {}: kind must be \"new\" or \"reconductor\", found '{}'",
                    i + 1,
                    l.kind
                ));
            }
        }
        for (what, items) in [
            ("transformer", &self.transformer),
            ("regulator", &self.regulator),
        ] {
            for (i, t) in items.iter().enumerate() {
                within(t.cost, 0.0, 1e12, format!("{what} {}: cost", i + 1));
                within(t.sn_mva, 0.0, 1e5, format!("{what} {}: sn_mva", i + 1));
                within(
                    t.lifetime_years,
                    1.0,
                    200.0,
                    format!("{what} {}: lifetime_years", i + 1),
                );
            }
        }
        for (what, item) in [
            ("oltc_controller", &self.oltc_controller),
            ("capacitor", &self.capacitor),
            ("battery", &self.battery),
        ] {
            if let Some(x) = item {
                within(x.cost, 0.0, 1e12, format!("{what}: cost"));
                within(x.cost_per_kw, 0.0, 1e12, format!("{what}: cost_per_kw"));
                within(
                    x.lifetime_years,
                    1.0,
                    200.0,
                    format!("{what}: lifetime_years"),
                );
            }
        }
        let problems = p.into_inner();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid {
                source_name: path.display().to_string(),
                problems,
            })
        }
    }
}

/// Capital recovery factor.
pub fn crf(r: f64, years: f64) -> f64 {
    if r == 0.0 {
        1.0 / years
    } else {
        let g = (1.0 + r).powf(years);
        r * g / (g - 1.0)
    }
}

/// Annuity (present-value) factor of a constant yearly amount over `years`.
pub fn annuity_factor(r: f64, years: f64) -> f64 {
    if r == 0.0 {
        years
    } else {
        (1.0 - (1.0 + r).powf(-years)) / r
    }
}

/// One priced measure of an option.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// What is done, e.g. "reconductor line 'L3' (2.1 km, 1 system) to 0.36 kA".
    pub what: String,
    /// Investment category ("lines", "transformers", "regulators",
    /// "capacitors", "batteries", "controllers").
    pub category: &'static str,
    /// Capex.
    pub capex: f64,
    /// Lifetime, years.
    pub lifetime_years: f64,
    /// O&M per year, fraction of capex.
    pub om_fraction: f64,
}

/// Whether a line is a cable (for the catalogue's placement): its
/// capacitance (cables: some 100–500 nF/km, overhead lines about 10).
fn is_cable(c_nf_per_km: f64) -> bool {
    c_nf_per_km > 50.0
}

/// The cheapest line item of `kind` for a line at `vn_kv` carrying `i_ka`.
fn line_item<'c>(
    c: &'c Catalogue,
    kind: &str,
    vn_kv: f64,
    i_ka: f64,
    cable: bool,
) -> Option<&'c LineItem> {
    c.line
        .iter()
        .filter(|l| l.kind == kind && l.voltage_kv[0] <= vn_kv && vn_kv <= l.voltage_kv[1])
        .filter(|l| match l.placement.as_str() {
            "underground" => cable,
            "overhead" => !cable,
            _ => true,
        })
        .filter(|l| l.max_i_ka + 1e-9 >= i_ka)
        .min_by(|a, b| a.cost_per_km.total_cmp(&b.cost_per_km))
}

/// The cheapest unit item at `vn_kv` rated at least `sn_mva`.
fn unit_item(items: &[UnitItem], vn_kv: f64, sn_mva: f64) -> Option<&UnitItem> {
    items
        .iter()
        .filter(|t| {
            t.voltage_kv[0] <= vn_kv && vn_kv <= t.voltage_kv[1] && t.sn_mva + 1e-9 >= sn_mva
        })
        .min_by(|a, b| a.cost.total_cmp(&b.cost))
}

/// What pricing an option could not do (no matching catalogue item).
fn missing(what: &str, detail: String) -> Error {
    Error::Usage(format!(
        "cost catalogue: no item for {what} ({detail}); add one to the catalogue (see README \"Cost catalogues\")"
    ))
}

/// Line measures: new lines, added parallel systems, reconductoring.
fn line_measures(
    c: &Catalogue,
    base: &Network,
    opt: &Network,
    out: &mut Vec<Measure>,
) -> Result<()> {
    for br in &opt.branches {
        let Some(l) = br.line() else { continue };
        let vn = opt.buses[br.from].base_kv;
        let old = base
            .branches
            .iter()
            .find(|b| b.id == br.id)
            .and_then(|b| b.line());
        let cable = is_cable(l.c_nf_per_km);
        let (kind, systems, verb) = match old {
            None => ("new", l.parallel, "new line"),
            Some(o) if o == l => continue,
            Some(o)
                if o.line_type == l.line_type
                    && o.r_ohm_per_km == l.r_ohm_per_km
                    && o.length_km == l.length_km
                    && l.parallel > o.parallel =>
            {
                ("new", l.parallel - o.parallel, "parallel system on line")
            }
            Some(_) => ("reconductor", l.parallel, "reconductor line"),
        };
        let item = line_item(c, kind, vn, l.max_i_ka, cable).ok_or_else(|| {
            missing(
                &format!("{verb} '{}'", br.id),
                format!(
                    "{kind}, {vn} kV, {} kA, {}",
                    l.max_i_ka,
                    if cable { "cable" } else { "overhead" }
                ),
            )
        })?;
        let km = l.length_km * systems as f64;
        out.push(Measure {
            what: format!(
                "{verb} '{}': {km:.3} km ({systems} system(s)) for {} kA",
                br.id, l.max_i_ka
            ),
            category: "lines",
            capex: item.cost_per_km * km,
            lifetime_years: item.lifetime_years,
            om_fraction: item.om_percent_per_year / 100.0,
        });
    }
    Ok(())
}

/// Transformer and regulator measures: new ones, upsized ones, added parallel units.
fn unit_measures(
    c: &Catalogue,
    base: &Network,
    opt: &Network,
    out: &mut Vec<Measure>,
) -> Result<()> {
    for br in &opt.branches {
        let (items, noun, t) = match &br.kind {
            BranchKind::Transformer(Some(t)) => (&c.transformer, "transformer", t),
            BranchKind::Regulator { equivalent, .. } => (&c.regulator, "regulator", equivalent),
            _ => continue,
        };
        let old = base
            .branches
            .iter()
            .find(|b| b.id == br.id)
            .and_then(|b| match &b.kind {
                BranchKind::Transformer(Some(t)) => Some(t),
                BranchKind::Regulator { equivalent, .. } => Some(equivalent),
                _ => None,
            });
        let units = match old {
            None => t.parallel,
            Some(o) if o.sn_mva == t.sn_mva && t.parallel > o.parallel => t.parallel - o.parallel,
            Some(o) if o.sn_mva == t.sn_mva => continue,
            Some(_) => t.parallel,
        };
        let vn = t.vn_hv_kv;
        let item = unit_item(items, vn, t.sn_mva).ok_or_else(|| {
            missing(
                &format!("{noun} '{}'", br.id),
                format!("{vn} kV, {} MVA", t.sn_mva),
            )
        })?;
        out.push(Measure {
            what: format!("{noun} '{}': {units} × {} MVA", br.id, t.sn_mva),
            category: if noun == "regulator" {
                "regulators"
            } else {
                "transformers"
            },
            capex: item.cost * units as f64,
            lifetime_years: item.lifetime_years,
            om_fraction: item.om_percent_per_year / 100.0,
        });
    }
    Ok(())
}

fn fixed(item: &Option<FixedItem>, what: &str, detail: String) -> Result<FixedItem> {
    item.clone().ok_or_else(|| missing(what, detail))
}

/// Capacitor banks, batteries and OLTC controllers the option adds.
fn device_measures(
    c: &Catalogue,
    base: &Scenario,
    opt: &Scenario,
    out: &mut Vec<Measure>,
) -> Result<()> {
    for s in &opt.network.shunts {
        if s.b_mvar > 0.0 && !base.network.shunts.iter().any(|b| b.id == s.id) {
            let it = fixed(
                &c.capacitor,
                &format!("capacitor '{}'", s.id),
                format!("{} Mvar", s.b_mvar),
            )?;
            out.push(Measure {
                what: format!("capacitor bank '{}': {} Mvar", s.id, s.b_mvar),
                category: "capacitors",
                capex: it.cost * s.b_mvar,
                lifetime_years: it.lifetime_years,
                om_fraction: it.om_percent_per_year / 100.0,
            });
        }
    }
    for u in &opt.units {
        let UnitState::Storage { spec, .. } = &u.state else {
            continue;
        };
        if base.units.iter().any(|b| b.name == u.name) {
            continue;
        }
        let it = fixed(
            &c.battery,
            &format!("battery '{}'", u.name),
            format!("{} MWh", spec.capacity_mwh),
        )?;
        out.push(Measure {
            what: format!(
                "battery '{}': {} MWh, {} MW",
                u.name, spec.capacity_mwh, spec.power_mw
            ),
            category: "batteries",
            capex: it.cost * spec.capacity_mwh * 1000.0 + it.cost_per_kw * spec.power_mw * 1000.0,
            lifetime_years: it.lifetime_years,
            om_fraction: it.om_percent_per_year / 100.0,
        });
    }
    let oltcs = |s: &Scenario| -> Vec<String> {
        s.controllers
            .iter()
            .filter_map(|c| match &c.spec {
                ControllerSpec::Oltc { transformer, .. } => Some(transformer.ids().join("+")),
                _ => None,
            })
            .collect()
    };
    let had = oltcs(base);
    for t in oltcs(opt).into_iter().filter(|t| !had.contains(t)) {
        let it = fixed(
            &c.oltc_controller,
            &format!("OLTC controller on '{t}'"),
            "per transformer".into(),
        )?;
        out.push(Measure {
            what: format!("OLTC controller on '{t}'"),
            category: "controllers",
            capex: it.cost,
            lifetime_years: it.lifetime_years,
            om_fraction: it.om_percent_per_year / 100.0,
        });
    }
    Ok(())
}

/// Every priced measure of option `opt` against `base`.
pub fn measures(c: &Catalogue, base: &Scenario, opt: &Scenario) -> Result<Vec<Measure>> {
    let mut out = Vec::new();
    line_measures(c, &base.network, &opt.network, &mut out)?;
    unit_measures(c, &base.network, &opt.network, &mut out)?;
    device_measures(c, base, opt, &mut out)?;
    Ok(out)
}

/// The economics of one option against the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Economics {
    /// Capex.
    pub capex: f64,
    /// Annualised capex.
    pub annualised_capex: f64,
    /// O&M per year.
    pub om_per_year: f64,
    /// Change of the cost of losses per year.
    pub losses_per_year: f64,
    /// Change of the value of curtailed energy per year.
    pub curtailment_per_year: f64,
    /// Change of the cost of CO2 per year.
    pub co2_per_year: f64,
    /// Annual cost (all of the above but capex).
    pub annual_cost: f64,
    /// Present value of the annual cost over the horizon.
    pub npv_cost: f64,
    /// Voltage-violation hours removed per year.
    pub voltage_hours_removed: f64,
    /// Overload hours removed per year.
    pub overload_hours_removed: f64,
    /// CO2 avoided per year, t.
    pub co2_avoided_t_per_year: f64,
    /// Annual cost per voltage or overload hour removed (NaN when none is).
    pub cost_per_violation_hour_removed: f64,
    /// Annual cost per t of CO2 avoided (NaN when none is).
    pub cost_per_t_co2_avoided: f64,
}

/// The economics of `measures` with the KPIs of the option and the
/// reference over a period of `period_h` hours.
pub fn economics(
    c: &Catalogue,
    m: &[Measure],
    opt: &Kpis,
    base: &Kpis,
    period_h: f64,
) -> Economics {
    let r = c.discount_rate;
    let year = 8760.0 / period_h;
    let capex: f64 = m.iter().map(|x| x.capex).sum();
    let annualised_capex = m.iter().map(|x| x.capex * crf(r, x.lifetime_years)).sum();
    let om_per_year = m.iter().map(|x| x.capex * x.om_fraction).sum();
    let losses_per_year = (opt.loss_mwh - base.loss_mwh) * year * c.energy_price_per_mwh;
    let curtailment_per_year =
        (opt.curtailed_mwh - base.curtailed_mwh) * year * c.curtailment_value_per_mwh;
    let co2_per_year = (opt.co2_total_t - base.co2_total_t) * year * c.co2_price_per_t;
    let annual_cost =
        annualised_capex + om_per_year + losses_per_year + curtailment_per_year + co2_per_year;
    let hours_removed = (base.hours_voltage_violation - opt.hours_voltage_violation
        + base.hours_overload
        - opt.hours_overload)
        * year;
    let co2_avoided = (base.co2_total_t - opt.co2_total_t) * year;
    let per = |x: f64| if x > 0.0 { annual_cost / x } else { f64::NAN };
    Economics {
        capex,
        annualised_capex,
        om_per_year,
        losses_per_year,
        curtailment_per_year,
        co2_per_year,
        annual_cost,
        npv_cost: annual_cost * annuity_factor(r, c.horizon_years),
        voltage_hours_removed: (base.hours_voltage_violation - opt.hours_voltage_violation) * year,
        overload_hours_removed: (base.hours_overload - opt.hours_overload) * year,
        co2_avoided_t_per_year: co2_avoided,
        cost_per_violation_hour_removed: per(hours_removed),
        cost_per_t_co2_avoided: per(co2_avoided),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogues_load() {
        for (name, _) in SHIPPED {
            let c = Catalogue::load(name).unwrap();
            assert!(!c.line.is_empty() && !c.transformer.is_empty(), "{name}");
        }
    }

    #[test]
    fn crf_and_annuity_in_closed_form() {
        // r = 5 %, 40 years: CRF = 0.05·1.05^40/(1.05^40 − 1); interest
        // tables give 0.05828 (40 years) and an annuity factor of 12.46221
        // (20 years).
        let g = 1.05f64.powi(40);
        assert!((crf(0.05, 40.0) - 0.05 * g / (g - 1.0)).abs() < 1e-15);
        assert!((crf(0.05, 40.0) - 0.05828).abs() < 5e-6);
        assert!((annuity_factor(0.05, 20.0) - 12.46221).abs() < 5e-6);
        assert_eq!(crf(0.0, 25.0), 0.04);
        assert_eq!(annuity_factor(0.0, 25.0), 25.0);
        // The two are inverse over one lifetime.
        assert!((crf(0.07, 30.0) * annuity_factor(0.07, 30.0) - 1.0).abs() < 1e-14);
    }
}
