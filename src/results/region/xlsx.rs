//! The region as an Excel workbook (rust_xlsxwriter): Summary (headlines
//! and horizon totals), By year (P10/P50/P90/central per year), Archetypes
//! (the representative feeders, their options and per-feeder figures) and
//! Assumptions (every input with its range and source).

use super::model::Stats;
use super::spec::{Range, Trajectory};
use super::RegionResult;
use crate::error::{Error, Result};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

/// A cell.
enum Cell {
    T(String),
    N(f64),
}

fn t(s: impl Into<String>) -> Cell {
    Cell::T(s.into())
}

fn xl(e: XlsxError) -> Error {
    Error::Usage(format!("cannot write the Excel workbook: {e}"))
}

/// Writes a header row (bold, frozen) and the rows under it.
fn sheet(
    ws: &mut Worksheet,
    name: &str,
    header: &[&str],
    rows: &[Vec<Cell>],
    widths: &[f64],
) -> Result<()> {
    let bold = Format::new().set_bold();
    let num = Format::new().set_num_format("#,##0.###");
    ws.set_name(name).map_err(xl)?;
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(xl)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell {
                Cell::T(s) => ws.write_string(r, c, s).map(|_| ()),
                Cell::N(x) if x.is_finite() => {
                    ws.write_number_with_format(r, c, *x, &num).map(|_| ())
                }
                Cell::N(_) => Ok(()),
            }
            .map_err(xl)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w).map_err(xl)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xl)?;
    Ok(())
}

/// Picks one statistic.
type StatFn = fn(&Stats) -> f64;

fn stats_cells(s: &Stats) -> [Cell; 4] {
    [
        Cell::N(s.p10),
        Cell::N(s.p50),
        Cell::N(s.p90),
        Cell::N(s.central),
    ]
}

fn summary_rows(r: &RegionResult) -> Vec<Vec<Cell>> {
    let mut rows = vec![
        vec![t(&r.spec.name)],
        vec![t(format!(
            "Money in {} ({}); {} samples (Latin hypercube, seed {}).",
            r.currency, r.price_year, r.outcome.samples, r.spec.seed
        ))],
    ];
    for p in 0..r.outcome.programmes.len() {
        rows.push(vec![t(r.headline(p))]);
    }
    rows.push(vec![]);
    rows.push(
        [
            "Programme",
            "Figure over the horizon",
            "Unit",
            "P10",
            "P50",
            "P90",
            "Central case",
        ]
        .map(t)
        .into(),
    );
    for (p, series) in r.outcome.programmes.iter().enumerate() {
        for s in series {
            let mut row = vec![
                t(&r.spec.programme[p].name),
                t(&s.metric.label),
                t(&s.metric.unit),
            ];
            row.extend(stats_cells(&s.total));
            rows.push(row);
        }
    }
    rows
}

fn by_year_rows(r: &RegionResult) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for (p, series) in r.outcome.programmes.iter().enumerate() {
        for s in series {
            let pick: [(&str, StatFn); 4] = [
                ("P10", |s| s.p10),
                ("P50", |s| s.p50),
                ("P90", |s| s.p90),
                ("central", |s| s.central),
            ];
            for (name, f) in pick {
                let mut row = vec![
                    t(&r.spec.programme[p].name),
                    t(&s.metric.label),
                    t(&s.metric.unit),
                    t(name),
                ];
                row.extend(s.by_year.iter().map(|x| Cell::N(f(x))));
                row.push(Cell::N(f(&s.total)));
                rows.push(row);
            }
        }
    }
    rows
}

fn archetype_rows(r: &RegionResult) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for (a, m) in r.spec.archetype.iter().zip(&r.models) {
        let base = m
            .reference
            .at(m.reference.load_levels[0], m.reference.pv_levels[0]);
        let (f, c) = (a.feeders.bounds(), a.customers_per_feeder.bounds());
        let mut push = |prog: &str,
                        variant: &str,
                        measures: String,
                        capex: f64,
                        k: &super::model::FeederYear| {
            rows.push(vec![
                t(&a.name),
                t(&a.scenario),
                Cell::N(f.1),
                Cell::N(c.1),
                t(prog),
                t(variant),
                t(measures),
                Cell::N(capex),
                Cell::N(k.served_mwh),
                Cell::N(k.loss_mwh),
                Cell::N(k.voltage_violation_h),
                Cell::N(k.overload_h),
            ]);
        };
        push("(none)", "reference", String::new(), 0.0, &base);
        for (p, o) in m.options.iter().enumerate() {
            let Some(o) = o else { continue };
            let k = o
                .surface
                .at(o.surface.load_levels[0], o.surface.pv_levels[0]);
            let capex = o.capex.iter().map(|c| c.1).sum();
            let variant = if o.variant.is_empty() {
                "reference"
            } else {
                &o.variant
            };
            push(
                &r.spec.programme[p].name,
                variant,
                o.measures.join("; "),
                capex,
                &k,
            );
        }
    }
    rows
}

/// One row of the assumptions table: input, year, low, central, high, unit, source.
pub type AssumptionRow = [String; 7];

fn range_row(name: &str, year: &str, v: &Range, unit: &str, source: &str) -> AssumptionRow {
    let (l, c, h) = v.bounds();
    [
        name,
        year,
        &l.to_string(),
        &c.to_string(),
        &h.to_string(),
        unit,
        source,
    ]
    .map(String::from)
}

fn trajectory_rows(
    rows: &mut Vec<AssumptionRow>,
    name: &str,
    tr: &Trajectory,
    unit: &str,
    source: &str,
) {
    for (year, v) in tr {
        rows.push(range_row(name, year, v, unit, source));
    }
}

/// Every input with its range and source.
pub fn assumption_rows(r: &RegionResult) -> Vec<AssumptionRow> {
    let mut rows = Vec::new();
    let src = |k: &str| r.spec.sources.get(k).cloned().unwrap_or_default();
    let tr = &r.spec.trajectory;
    let cur = r.currency.as_str();
    trajectory_rows(
        &mut rows,
        "Load factor",
        &tr.load_factor,
        "× base year",
        &src("load_factor"),
    );
    trajectory_rows(
        &mut rows,
        "PV factor",
        &tr.pv_factor,
        "× base year",
        &src("pv_factor"),
    );
    let co2 = src("grid_co2_t_per_mwh");
    trajectory_rows(
        &mut rows,
        "Grid emission factor",
        &tr.grid_co2_t_per_mwh,
        "t CO2/MWh",
        &co2,
    );
    let price = src("energy_price_per_mwh");
    trajectory_rows(
        &mut rows,
        "Value of losses",
        &tr.energy_price_per_mwh,
        &format!("{cur}/MWh"),
        &price,
    );
    let cost = src("cost_factor");
    trajectory_rows(
        &mut rows,
        "Cost factor on investment",
        &tr.cost_factor,
        "×",
        &cost,
    );
    let cf = &r.spec.uncertainty.capex_factor;
    rows.push(range_row(
        "Capex factor on the catalogue",
        "",
        cf,
        "×",
        &src("capex_factor"),
    ));
    for a in &r.spec.archetype {
        let s = src(&a.name);
        rows.push(range_row(
            &format!("{}: feeders", a.name),
            "",
            &a.feeders,
            "feeders",
            &s,
        ));
        let c = &a.customers_per_feeder;
        rows.push(range_row(
            &format!("{}: customers per feeder", a.name),
            "",
            c,
            "customers",
            &s,
        ));
    }
    for p in &r.spec.programme {
        trajectory_rows(
            &mut rows,
            &format!("{}: rollout", p.name),
            &p.rollout,
            "share of feeders",
            "",
        );
        for it in &p.item {
            let (per, q, u) = (&it.per, &it.quantity, &it.unit_cost);
            rows.push(range_row(
                &format!("{}: {} per {per}", p.name, it.name),
                "",
                q,
                "",
                &it.source,
            ));
            rows.push(range_row(
                &format!("{}: {} unit cost", p.name, it.name),
                "",
                u,
                cur,
                &it.source,
            ));
        }
    }
    let cat = [
        "Catalogue (options' measures)",
        &r.price_year,
        "",
        "",
        "",
        cur,
        &r.cost_source,
    ];
    rows.push(cat.map(String::from));
    rows
}

/// The workbook's bytes.
pub fn workbook(r: &RegionResult) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let summary = summary_rows(r);
    sheet(
        wb.add_worksheet(),
        "Summary",
        &["Region"],
        &summary,
        &[30.0, 52.0, 12.0, 14.0, 14.0, 14.0, 14.0],
    )?;
    let mut header: Vec<String> = ["Programme", "Figure", "Unit", "Statistic"]
        .map(String::from)
        .into();
    header.extend(r.outcome.years.iter().map(|y| y.to_string()));
    header.push("Horizon".into());
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    sheet(
        wb.add_worksheet(),
        "By year",
        &h,
        &by_year_rows(r),
        &[24.0, 48.0, 10.0, 9.0],
    )?;
    let ah = [
        "Archetype",
        "Scenario file",
        "Feeders (central)",
        "Customers per feeder (central)",
        "Programme",
        "Option (variant)",
        "Measures",
        "Capex per feeder",
        "Energy served, MWh/yr per feeder (first year)",
        "Losses, MWh/yr per feeder",
        "Voltage-violation hours/yr",
        "Overload hours/yr",
    ];
    sheet(
        wb.add_worksheet(),
        "Archetypes",
        &ah,
        &archetype_rows(r),
        &[18.0, 36.0, 10.0, 10.0, 20.0, 20.0, 60.0],
    )?;
    let rows: Vec<Vec<Cell>> = assumption_rows(r)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .enumerate()
                .map(|(i, s)| match (i, s.parse::<f64>()) {
                    (2..=4, Ok(x)) => Cell::N(x),
                    _ => Cell::T(s),
                })
                .collect()
        })
        .collect();
    let sh = ["Input", "Year", "Low", "Central", "High", "Unit", "Source"];
    sheet(
        wb.add_worksheet(),
        "Assumptions",
        &sh,
        &rows,
        &[40.0, 8.0, 12.0, 12.0, 12.0, 16.0, 80.0],
    )?;
    wb.save_to_buffer().map_err(xl)
}
