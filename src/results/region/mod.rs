//! Regional opportunity sizing (`gridsim region`): a region file's
//! archetypes, counts, trajectories and programmes (`spec`), the sampled
//! model from representative feeders to the region (`model`), and its
//! outputs: a text summary, CSV, JSON, an Excel workbook (`xlsx`) and an
//! HTML page for a non-engineer (`report`).

pub mod model;
pub mod report;
pub mod spec;
pub mod xlsx;

use crate::results::compare::{csv_field, fmt_num};
use model::{ArchetypeModel, Outcome, Stats};
use spec::RegionSpec;
use std::fmt::Write as _;

/// Everything a region's outputs show.
#[derive(Debug, Clone)]
pub struct RegionResult {
    /// The region file.
    pub spec: RegionSpec,
    /// Each archetype's runs and options.
    pub models: Vec<ArchetypeModel>,
    /// The sampled outcome.
    pub outcome: Outcome,
    /// Currency of every money figure.
    pub currency: String,
    /// Price year of the costs.
    pub price_year: String,
    /// Where the catalogue's costs come from.
    pub cost_source: String,
}

/// A figure for a reader: "414.2 million", "16,130", "0.84".
pub fn fmt_big(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        "–".into()
    } else if a >= 1e9 {
        format!("{:.2} billion", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.1} million", x / 1e6)
    } else if a >= 999.5 {
        let digits = format!("{a:.0}");
        let mut o = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                o.push(',');
            }
            o.push(ch);
        }
        if x < 0.0 {
            o.insert(0, '−');
        }
        o
    } else if a >= 1.0 && (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        fmt_num(x).replacen('-', "−", 1)
    }
}

fn range_text(s: &Stats) -> String {
    if s.p10 == s.p90 {
        return fmt_big(s.p50);
    }
    format!(
        "{} [{} – {}]",
        fmt_big(s.p50),
        fmt_big(s.p10),
        fmt_big(s.p90)
    )
}

/// "avoids X [range] unit", or "adds …" when the median is negative.
fn effect(s: &Stats, unit: &str) -> String {
    if s.p50 >= 0.0 {
        return format!("avoids {} {unit}", range_text(s));
    }
    let neg = Stats {
        p10: -s.p90,
        p50: -s.p50,
        p90: -s.p10,
        mean: -s.mean,
        central: -s.central,
    };
    format!("adds {} {unit}", range_text(&neg))
}

/// Whether a series is worth a line in a programme's table: not an
/// investment category that is zero in every sample, not a figure of the
/// region without the programme (shown once, [`is_region`]).
pub fn shown(s: &model::Series) -> bool {
    let zero_category =
        s.metric.key.starts_with("investment:") && s.total.p10 == 0.0 && s.total.p90 == 0.0;
    !(zero_category || is_region(s))
}

/// Whether a series describes the region without any programme.
pub fn is_region(s: &model::Series) -> bool {
    s.metric.key.starts_with("region_")
}

impl RegionResult {
    /// The horizon as "2026–2035".
    pub fn horizon_text(&self) -> String {
        format!("{}–{}", self.spec.years[0], self.spec.years[1])
    }

    /// A plain-language sentence per programme (median, P10–P90).
    pub fn headline(&self, p: usize) -> String {
        let s = &self.outcome.programmes[p];
        let get = |k: &str| s.iter().find(|x| x.metric.key == k).map(|x| x.total);
        let (Some(inv), Some(co2), Some(loss), Some(feeders), Some(cust), Some(host)) = (
            get("investment"),
            get("co2_avoided_t"),
            get("losses_avoided_mwh"),
            get("feeders_reached"),
            get("customers_reached"),
            get("hosting_unlocked_mw"),
        ) else {
            return String::new();
        };
        let mut o = format!(
            "{}: {} {} of investment over {} (median, P10 – P90 in brackets) reaches {} feeders \
             and {} customers, {} and {}",
            self.spec.programme[p].name,
            range_text(&inv),
            self.currency,
            self.horizon_text(),
            fmt_big(feeders.p50),
            fmt_big(cust.p50),
            effect(&co2, "t of CO2"),
            effect(&loss, "MWh of grid losses"),
        );
        if host.p10 != 0.0 || host.p90 != 0.0 {
            let _ = write!(
                o,
                ", and {} {} MW of PV hosting capacity",
                if host.p50 >= 0.0 {
                    "unlocks"
                } else {
                    "takes away"
                },
                range_text(&Stats {
                    p10: host.p10.abs().min(host.p90.abs()),
                    p50: host.p50.abs(),
                    p90: host.p10.abs().max(host.p90.abs()),
                    ..host
                })
            );
        }
        o.push('.');
        o
    }

    /// The text summary `gridsim region` prints.
    pub fn to_table(&self) -> String {
        let mut o = format!(
            "{} — {} feeder archetype(s), {} samples, costs in {} ({})\n\n",
            self.spec.name,
            self.models.len(),
            self.outcome.samples,
            self.currency,
            self.price_year
        );
        for (p, series) in self.outcome.programmes.iter().enumerate() {
            let _ = writeln!(o, "{}", self.headline(p));
            let _ = writeln!(
                o,
                "  {:<52} {:>14} {:>14} {:>14} {:>14}",
                "over the horizon", "P10", "P50", "P90", "central"
            );
            for s in series.iter().filter(|s| shown(s)) {
                let t = &s.total;
                let _ = writeln!(
                    o,
                    "  {:<52} {:>14} {:>14} {:>14} {:>14}",
                    format!("{} ({})", s.metric.label, s.metric.unit),
                    fmt_big(t.p10),
                    fmt_big(t.p50),
                    fmt_big(t.p90),
                    fmt_big(t.central)
                );
            }
            o.push('\n');
        }
        if let Some(first) = self.outcome.programmes.first() {
            let _ = writeln!(o, "The region without any programme, over the horizon:");
            for s in first.iter().filter(|s| is_region(s)) {
                let t = &s.total;
                let _ = writeln!(
                    o,
                    "  {:<52} {:>14} {:>14} {:>14} {:>14}",
                    format!(
                        "{} ({})",
                        s.metric.label.trim_start_matches("Region: "),
                        s.metric.unit
                    ),
                    fmt_big(t.p10),
                    fmt_big(t.p50),
                    fmt_big(t.p90),
                    fmt_big(t.central)
                );
            }
        }
        o
    }

    /// Long CSV: programme, metric, unit, year ("total" for the horizon),
    /// P10, P50, P90, mean, central.
    pub fn to_csv(&self) -> String {
        let mut o = String::from("programme,metric,label,unit,year,p10,p50,p90,mean,central\n");
        for (p, series) in self.outcome.programmes.iter().enumerate() {
            let name = csv_field(&self.spec.programme[p].name);
            for s in series {
                let years = self.outcome.years.iter().map(|y| y.to_string());
                let rows = years
                    .zip(&s.by_year)
                    .chain([("total".to_string(), &s.total)]);
                for (year, st) in rows {
                    let _ = writeln!(
                        o,
                        "{name},{},{},{},{year},{},{},{},{},{}",
                        csv_field(&s.metric.key),
                        csv_field(&s.metric.label),
                        csv_field(&s.metric.unit),
                        st.p10,
                        st.p50,
                        st.p90,
                        st.mean,
                        st.central
                    );
                }
            }
        }
        o
    }

    /// JSON: the region, currency, years and every programme's series.
    pub fn to_json(&self) -> String {
        let st = |s: &Stats| serde_json::json!({"p10": s.p10, "p50": s.p50, "p90": s.p90, "mean": s.mean, "central": s.central});
        let programmes: Vec<serde_json::Value> = self
            .outcome
            .programmes
            .iter()
            .enumerate()
            .map(|(p, series)| {
                let metrics: serde_json::Map<String, serde_json::Value> = series
                    .iter()
                    .map(|s| {
                        let v = serde_json::json!({
                            "label": s.metric.label,
                            "unit": s.metric.unit,
                            "total": st(&s.total),
                            "by_year": s.by_year.iter().map(st).collect::<Vec<_>>(),
                        });
                        (s.metric.key.clone(), v)
                    })
                    .collect();
                serde_json::json!({
                    "name": self.spec.programme[p].name,
                    "headline": self.headline(p),
                    "metrics": metrics,
                })
            })
            .collect();
        let v = serde_json::json!({
            "region": self.spec.name,
            "currency": self.currency,
            "price_year": self.price_year,
            "samples": self.outcome.samples,
            "seed": self.spec.seed,
            "years": self.outcome.years,
            "programmes": programmes,
        });
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }
}
