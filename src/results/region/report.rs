//! The region as an HTML page for a non-engineer: a plain-language
//! headline per programme, labelled charts with units (investment by year,
//! by category, CO2 avoided with its P10–P90 band), the horizon totals and
//! an assumptions table with sources.

use super::model::Series;
use super::{fmt_big, RegionResult};
use crate::error::Result;
use crate::results::report::{bar_chart, html_escape, line_chart, CSS, FONT};
use std::fmt::Write as _;

fn series<'a>(r: &'a RegionResult, p: usize, key: &str) -> Option<&'a Series> {
    r.outcome.programmes[p].iter().find(|s| s.metric.key == key)
}

/// Money bars scaled for the axis: millions when the largest value
/// reaches a million; returns the unit.
fn in_money_units(r: &RegionResult, parts: &mut [(&str, Vec<f64>)]) -> String {
    let max = parts
        .iter()
        .flat_map(|p| p.1.iter())
        .fold(0.0f64, |a, b| a.max(b.abs()));
    if max < 1e6 {
        return r.currency.clone();
    }
    parts
        .iter_mut()
        .for_each(|p| p.1.iter_mut().for_each(|v| *v /= 1e6));
    format!("million {}", r.currency)
}

/// Median investment per year, one bar per programme.
fn investment_by_year(r: &RegionResult) -> Result<String> {
    let years: Vec<String> = r.outcome.years.iter().map(|y| y.to_string()).collect();
    let mut parts: Vec<(&str, Vec<f64>)> = (0..r.spec.programme.len())
        .filter_map(|p| {
            let s = series(r, p, "investment")?;
            let v = s.by_year.iter().map(|x| x.p50).collect();
            Some((r.spec.programme[p].name.as_str(), v))
        })
        .collect();
    let unit = in_money_units(r, &mut parts);
    let title = format!("Investment per year (median), {unit}");
    bar_chart(&title, &format!("{unit} per year"), &years, &parts)
}

/// Median investment over the horizon by category, one group per programme.
fn investment_by_category(r: &RegionResult) -> Result<String> {
    let names: Vec<String> = r.spec.programme.iter().map(|p| p.name.clone()).collect();
    let mut parts: Vec<(&str, Vec<f64>)> = r
        .outcome
        .categories
        .iter()
        .map(|c| {
            let key = format!("investment:{c}");
            let v = (0..names.len())
                .map(|p| series(r, p, &key).map_or(0.0, |s| s.total.p50))
                .collect();
            (c.as_str(), v)
        })
        .collect();
    let unit = in_money_units(r, &mut parts);
    let h = r.horizon_text();
    let title = format!("Investment over {h} by category (median), {unit}");
    bar_chart(&title, &unit, &names, &parts)
}

/// CO2 avoided per year: the median (thick) and P10/P90 (thin) per programme.
fn co2_by_year(r: &RegionResult) -> Result<String> {
    let mut lines = Vec::new();
    for p in 0..r.spec.programme.len() {
        let Some(s) = series(r, p, "co2_avoided_t") else {
            continue;
        };
        let pts = |f: fn(&super::model::Stats) -> f64| -> Vec<(f64, f64)> {
            r.outcome
                .years
                .iter()
                .zip(&s.by_year)
                .map(|(y, x)| (*y as f64, f(x)))
                .collect()
        };
        let name = &r.spec.programme[p].name;
        lines.push((format!("{name}: median"), pts(|x| x.p50), p, 3));
        lines.push((format!("{name}: P10 and P90"), pts(|x| x.p10), p, 1));
        lines.push((String::new(), pts(|x| x.p90), p, 1));
    }
    line_chart(
        "CO2 avoided per year",
        "year",
        "t CO2 per year",
        &lines,
        &[],
    )
}

fn totals_table(r: &RegionResult, region: bool) -> String {
    let mut o = String::from(
        "<table class=\"kpi\"><thead><tr><th>Programme</th><th>Over the horizon</th><th>Unit</th>\
<th>P10</th><th>Median</th><th>P90</th></tr></thead><tbody>",
    );
    for (p, all) in r.outcome.programmes.iter().enumerate() {
        for s in all
            .iter()
            .filter(|s| !s.metric.key.starts_with("investment:"))
        {
            let _ =
                write!(
                o,
                "<tr><th scope=\"row\">{}</th><td class=\"text\">{}</td><td class=\"text\">{}</td>\
<td>{}</td><td>{}</td><td>{}</td></tr>",
                if region { "(none)" } else { r.spec.programme[p].name.as_str() },
                html_escape(s.metric.label.trim_start_matches("Region: ")),
                html_escape(&s.metric.unit),
                fmt_big(s.total.p10),
                fmt_big(s.total.p50),
                fmt_big(s.total.p90)
            );
        }
    }
    o + "</tbody></table>"
}

fn assumptions_table(r: &RegionResult) -> String {
    let mut o = String::from(
        "<table class=\"kpi\"><thead><tr><th>Input</th><th>Year</th><th>Low</th><th>Central</th>\
<th>High</th><th>Unit</th><th>Source</th></tr></thead><tbody>",
    );
    for row in super::xlsx::assumption_rows(r) {
        o.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let cell = match (i, c.parse::<f64>()) {
                (2..=4, Ok(x)) => fmt_big(x),
                _ => html_escape(c),
            };
            let class = if i >= 5 || i == 0 {
                " class=\"text\""
            } else {
                ""
            };
            let _ = write!(o, "<td{class}>{cell}</td>");
        }
        o.push_str("</tr>");
    }
    o + "</tbody></table>"
}

fn archetypes_list(r: &RegionResult) -> String {
    let mut o = String::from("<ul>");
    for (a, m) in r.spec.archetype.iter().zip(&r.models) {
        let (lo, c, hi) = a.feeders.bounds();
        let range = if hi > lo {
            format!(", range {} – {}", fmt_big(lo), fmt_big(hi))
        } else {
            String::new()
        };
        let _ = write!(
            o,
            "<li><b>{}</b> ({} feeders{range}): {}",
            html_escape(&a.name),
            fmt_big(c),
            html_escape(&a.description)
        );
        for (p, opt) in m.options.iter().enumerate() {
            if let Some(o2) = opt.as_ref().filter(|o2| !o2.measures.is_empty()) {
                let _ = write!(
                    o,
                    "<br>{}: {}",
                    html_escape(&r.spec.programme[p].name),
                    html_escape(&o2.measures.join("; "))
                );
            }
        }
        o.push_str("</li>");
    }
    o + "</ul>"
}

/// The page.
pub fn page(r: &RegionResult) -> Result<String> {
    let _ = plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT);
    let headlines: String = (0..r.spec.programme.len())
        .map(|p| format!("<p class=\"headline\">{}</p>", html_escape(&r.headline(p))))
        .collect();
    let charts = [
        investment_by_year(r)?,
        investment_by_category(r)?,
        co2_by_year(r)?,
    ];
    let figures: String = charts
        .iter()
        .map(|c| format!("<figure>{c}</figure>"))
        .collect();
    Ok(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>gridsim report: region {name}</title>\
<style>{CSS}</style></head><body><h1>{name}</h1><p>{desc}</p>{headlines}\
<p class=\"meta\">Money in {cur} ({py}). Ranges are the 10th and 90th percentiles of {n} samples \
(Latin hypercube, seed {seed}) of every uncertain input below; the median is the middle value.</p>\
{figures}<h2>Over the horizon</h2>{totals}<h2>The region without any programme</h2>{region}<h2>Feeder types</h2>{arch}\
<h2>Assumptions and sources</h2>{assume}<p class=\"meta\">Generated by gridsim {v}.</p></body></html>",
        name = html_escape(&r.spec.name),
        desc = html_escape(&r.spec.description),
        cur = html_escape(&r.currency),
        py = html_escape(&r.price_year),
        n = r.outcome.samples,
        seed = r.spec.seed,
        totals = totals_table(r, false),
        region = totals_table(r, true),
        arch = archetypes_list(r),
        assume = assumptions_table(r),
        v = env!("CARGO_PKG_VERSION"),
    ))
}
