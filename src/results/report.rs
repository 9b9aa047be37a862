//! `gridsim report`: a self-contained HTML page (inline SVG, no network
//! access) with the scenario comparison and plots drawn with plotters.
//!
//! Scenarios may come from several results files and run on different
//! networks (each scenario's own description is used; buses and branches
//! are named by id). The files are read one scenario and one block of rows
//! at a time, so memory stays bounded for year-long, many-scenario files.

use super::compare::{self, fmt_num, Comparison, KEY_KPIS};
use crate::error::{Error, Result};
use hdf5::types::VarLenUnicode;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub(crate) const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const W: u32 = 960;
const H: u32 = 380;
const ROWS_PER_READ: usize = 4096;

fn h5(path: &Path, e: hdf5::Error) -> Error {
    Error::Usage(format!("{}: {e}", path.display()))
}

fn plot_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Usage(format!("plotting failed: {e:?}"))
}

/// Colour `i` of 12 distinguishable ones (Tableau 10 plus two), so that up
/// to 12 scenarios never share a colour.
fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 12] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(0, 0, 0),
        RGBColor(102, 51, 153),
    ];
    C[i % C.len()]
}

/// An HTML legend under a chart (never over its data): `(label, colour,
/// mark)` with mark `line`, `thin` or `box`.
fn legend_html(entries: &[(String, RGBColor, &str)]) -> String {
    let mut o = String::from("<div class=\"legend\">");
    for (label, c, mark) in entries {
        let style = match *mark {
            "box" => format!("background:rgb({},{},{})", c.0, c.1, c.2),
            _ => format!("border-top-color:rgb({},{},{})", c.0, c.1, c.2),
        };
        let _ = write!(
            o,
            "<span><i class=\"{mark}\" style=\"{style}\"></i>{}</span>",
            html_escape(label)
        );
    }
    o.push_str("</div>");
    o
}

/// The network a scenario ran on, as its results file describes it.
struct Description {
    /// Bus labels: the file's bus ids (names), or numbers.
    bus_label: Vec<String>,
    bus_id: Vec<u64>,
    bus_type: Vec<u8>,
    br_id: Vec<String>,
    br_from: Vec<u64>,
    br_to: Vec<u64>,
    br_in_service: Vec<u8>,
    /// Line lengths, km (0 where unknown).
    br_length_km: Vec<f64>,
}

impl Description {
    /// The scenario's network as its groups describe it: buses, then the
    /// lines followed by the transformers as branches.
    fn read(file: &hdf5::File, path: &Path, scenario: &str) -> Result<Description> {
        let base = format!("scenarios/{scenario}/");
        let ds = |n: &str| file.dataset(&format!("{base}{n}")).map_err(|e| h5(path, e));
        let bus_id: Vec<u64> = ds("bus/id")?.read_raw().map_err(|e| h5(path, e))?;
        let names: Vec<String> = ds("bus/name")
            .and_then(|d| d.read_raw::<VarLenUnicode>().map_err(|e| h5(path, e)))
            .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
            .unwrap_or_default();
        let bus_label = bus_id
            .iter()
            .enumerate()
            .map(|(i, id)| match names.get(i) {
                Some(n) if !n.is_empty() => n.clone(),
                _ => id.to_string(),
            })
            .collect();
        let mut d = Description {
            bus_label,
            bus_id,
            bus_type: ds("bus/type")?.read_raw().map_err(|e| h5(path, e))?,
            br_id: Vec::new(),
            br_from: Vec::new(),
            br_to: Vec::new(),
            br_in_service: Vec::new(),
            br_length_km: Vec::new(),
        };
        for (g, from, to) in [
            ("line", "from_bus", "to_bus"),
            ("transformer", "hv_bus", "lv_bus"),
        ] {
            let ids = super::hdf5::read_strings(file, &format!("{base}{g}/id"))
                .map_err(|e| h5(path, e))?;
            let n = ids.len();
            d.br_id.extend(ids);
            let read_u64 = |n: &str| -> Result<Vec<u64>> {
                ds(&format!("{g}/{n}"))?.read_raw().map_err(|e| h5(path, e))
            };
            d.br_from.extend(read_u64(from)?);
            d.br_to.extend(read_u64(to)?);
            let state: Vec<u8> = ds(&format!("{g}/in_service"))?
                .read_raw()
                .map_err(|e| h5(path, e))?;
            d.br_in_service.extend(state);
            match g {
                "line" => {
                    let km: Vec<f64> = ds("line/length_km")?.read_raw().map_err(|e| h5(path, e))?;
                    d.br_length_km.extend(km);
                }
                _ => d.br_length_km.extend(std::iter::repeat_n(0.0, n)),
            }
        }
        Ok(d)
    }

    /// Bus path from the first reference bus to `target` over in-service
    /// branches (breadth-first), with the distance of each bus from the
    /// start in km (None where a line on the way has no length).
    fn feeder_path(&self, target: usize) -> (Vec<usize>, Option<Vec<f64>>) {
        let nb = self.bus_id.len();
        let index: HashMap<u64, usize> = self
            .bus_id
            .iter()
            .enumerate()
            .map(|(i, &b)| (b, i))
            .collect();
        let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nb];
        for k in 0..self.br_from.len() {
            if self.br_in_service[k] == 0 {
                continue;
            }
            if let (Some(&a), Some(&b)) = (index.get(&self.br_from[k]), index.get(&self.br_to[k])) {
                adj[a].push((b, k));
                adj[b].push((a, k));
            }
        }
        let Some(start) = self.bus_type.iter().position(|&t| t == 3) else {
            return (vec![target], None);
        };
        let mut prev = vec![(usize::MAX, usize::MAX); nb];
        let mut seen = vec![false; nb];
        let mut queue = std::collections::VecDeque::from([start]);
        seen[start] = true;
        while let Some(x) = queue.pop_front() {
            for &(y, k) in &adj[x] {
                if !seen[y] {
                    seen[y] = true;
                    prev[y] = (x, k);
                    queue.push_back(y);
                }
            }
        }
        let mut path = vec![target];
        let mut via = Vec::new();
        let mut x = target;
        while prev[x].0 != usize::MAX {
            via.push(prev[x].1);
            x = prev[x].0;
            path.push(x);
        }
        path.reverse();
        via.reverse();
        let mut km = vec![0.0];
        let mut has_lengths = false;
        for &k in &via {
            has_lengths |= self.br_length_km[k] > 0.0;
            km.push(km.last().copied().unwrap_or(0.0) + self.br_length_km[k]);
        }
        (path, has_lengths.then_some(km))
    }
}

/// What the report needs of one scenario.
struct ScenarioData {
    name: String,
    desc: Description,
    /// Per-day (or per-hour for short runs) min and max |V| over buses.
    env_min: Vec<f64>,
    env_max: Vec<f64>,
    /// Min |V| per step (for the duration curve).
    vmin_step: Vec<f64>,
    /// Slack import per step, MW.
    p_slack: Vec<f64>,
    /// Daily max loading per branch (branch × period).
    loading: Vec<Vec<f64>>,
    /// Step of the lowest bus voltage.
    worst_step: usize,
    /// Step of the highest bus voltage.
    high_step: usize,
}

/// Time axis and limits of the report (from the baseline scenario).
struct Meta {
    step_s: f64,
    n_steps: usize,
    period_steps: usize,
    period_label: &'static str,
    vlim: (f64, f64),
    /// Time labels of the baseline.
    times: Vec<String>,
}

impl Meta {
    fn read(file: &hdf5::File, path: &Path, scenario: &str) -> Result<Meta> {
        let g = file
            .group(&format!("scenarios/{scenario}"))
            .map_err(|e| h5(path, e))?;
        let times = super::hdf5::read_time_labels(&g).map_err(|e| h5(path, e))?;
        let kpi = g.group("kpi").map_err(|e| h5(path, e))?;
        let attr = |k: &str, d: f64| {
            kpi.attr(k)
                .and_then(|a| a.read_scalar::<f64>())
                .unwrap_or(d)
        };
        let step_s = g
            .attr("step_seconds")
            .and_then(|a| a.read_scalar::<i64>())
            .map_err(|e| h5(path, e))? as f64;
        let steps_per_day = (86400.0 / step_s).round().max(1.0) as usize;
        let (period_steps, period_label) = if times.len() > 14 * steps_per_day {
            (steps_per_day, "day of the study")
        } else {
            (
                (3600.0 / step_s).round().max(1.0) as usize,
                "hour of the study",
            )
        };
        Ok(Meta {
            step_s,
            n_steps: times.len(),
            period_steps,
            period_label,
            vlim: (attr("vmin_limit_pu", 0.95), attr("vmax_limit_pu", 1.05)),
            times,
        })
    }

    fn period_word(&self) -> &'static str {
        self.period_label.split(' ').next().unwrap_or("day")
    }
}

/// Folds `x` into a running maximum that starts as NaN.
fn fold_max(acc: &mut f64, x: f64) {
    if acc.is_nan() || x > *acc {
        *acc = x;
    }
}

/// Folds `x` into a running minimum that starts as NaN.
fn fold_min(acc: &mut f64, x: f64) {
    if acc.is_nan() || x < *acc {
        *acc = x;
    }
}

fn read_scenario(
    path: &Path,
    group: &str,
    name: &str,
    period_steps: usize,
) -> Result<ScenarioData> {
    let file = super::hdf5::open_results(path)?;
    let desc = Description::read(&file, path, group)?;
    let g = file
        .group(&format!("scenarios/{group}"))
        .map_err(|e| h5(path, e))?;
    let series = |n: &str| {
        g.dataset(n).map_err(|_| {
            Error::Usage(format!(
                "{}: scenario '{group}' has no {n} series; the report needs the bus, line \
                 and transformer series (run with --series all)",
                path.display()
            ))
        })
    };
    let vm = series("bus/vm_pu")?;
    let loads = [
        series("line/loading_percent")?,
        series("transformer/loading_percent")?,
    ];
    let p_slack: Vec<f64> = g
        .dataset("grid/p_slack_mw")
        .and_then(|d| d.read_raw())
        .map_err(|e| h5(path, e))?;
    let n = p_slack.len();
    let nbr = desc.br_id.len();
    check_shapes(path, group, &desc, n, &vm, &loads)?;
    let nper = n.div_ceil(period_steps);
    let mut env_min = vec![f64::NAN; nper];
    let mut env_max = vec![f64::NAN; nper];
    let mut vmin_step = vec![f64::NAN; n];
    let mut loading = vec![vec![f64::NAN; nper]; nbr];
    let mut worst = (f64::INFINITY, 0usize);
    let mut high = (f64::NEG_INFINITY, 0usize);
    for r0 in (0..n).step_by(ROWS_PER_READ) {
        let r1 = (r0 + ROWS_PER_READ).min(n);
        let block = vm
            .read_slice_2d::<f64, _>(ndarray::s![r0..r1, ..])
            .map_err(|e| h5(path, e))?;
        for (i, row) in block.outer_iter().enumerate() {
            let (t, per) = (r0 + i, (r0 + i) / period_steps);
            let solved = row
                .iter()
                .zip(&desc.bus_type)
                .filter(|(v, &ty)| ty != 4 && v.is_finite())
                .map(|(v, _)| *v);
            let (lo, hi) = solved.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            if lo.is_finite() {
                vmin_step[t] = lo;
                fold_min(&mut env_min[per], lo);
                fold_max(&mut env_max[per], hi);
                if lo < worst.0 {
                    worst = (lo, t);
                }
                if hi > high.0 {
                    high = (hi, t);
                }
            }
        }
        let mut offset = 0;
        for ds in &loads {
            let width = ds.shape().get(1).copied().unwrap_or(0);
            if width > 0 {
                let lb = ds
                    .read_slice_2d::<f64, _>(ndarray::s![r0..r1, ..])
                    .map_err(|e| h5(path, e))?;
                for (i, row) in lb.outer_iter().enumerate() {
                    let per = (r0 + i) / period_steps;
                    for (k, &x) in row.iter().enumerate().filter(|(_, x)| x.is_finite()) {
                        fold_max(&mut loading[offset + k][per], x);
                    }
                }
            }
            offset += width;
        }
    }
    Ok(ScenarioData {
        name: name.to_string(),
        desc,
        env_min,
        env_max,
        vmin_step,
        p_slack,
        loading,
        worst_step: worst.1,
        high_step: high.1,
    })
}

/// Refuses a results file whose datasets disagree with its description
/// (a crafted or damaged file), before anything is allocated from them.
fn check_shapes(
    path: &Path,
    group: &str,
    desc: &Description,
    n: usize,
    vm: &hdf5::Dataset,
    loads: &[hdf5::Dataset; 2],
) -> Result<()> {
    let nb = desc.bus_id.len();
    let nbr = desc.br_id.len();
    let bad = |what: String| {
        Err(Error::Usage(format!(
            "{}: scenario '{group}': {what}; the file is damaged or not written by gridsim",
            path.display()
        )))
    };
    if desc.bus_type.len() != nb || desc.bus_label.len() != nb {
        return bad("bus descriptions of different lengths".into());
    }
    let lens = [
        desc.br_from.len(),
        desc.br_to.len(),
        desc.br_in_service.len(),
        desc.br_length_km.len(),
    ];
    if lens.iter().any(|&l| l != nbr) {
        return bad("branch descriptions of different lengths".into());
    }
    if n > crate::timeseries::scenario::MAX_STEPS {
        return bad(format!("{n} steps"));
    }
    let n_lines = loads[0].shape().get(1).copied().unwrap_or(0);
    let series = [
        (vm, "bus/vm_pu", nb),
        (&loads[0], "line/loading_percent", n_lines),
        (
            &loads[1],
            "transformer/loading_percent",
            nbr.saturating_sub(n_lines),
        ),
    ];
    for (ds, name, cols) in series {
        let shape = ds.shape();
        if shape != [n, cols] && !(cols == 0 && shape.first() == Some(&n)) {
            return bad(format!("{name} is {shape:?}, expected [{n}, {cols}]"));
        }
    }
    Ok(())
}

/// |V| of scenario `d` at step `t` (None past its end).
fn voltages_at(path: &Path, group: &str, t: usize) -> Result<Option<Vec<f64>>> {
    let file = super::hdf5::open_results(path)?;
    let ds = file
        .dataset(&format!("scenarios/{group}/bus/vm_pu"))
        .map_err(|e| h5(path, e))?;
    if t >= ds.shape().first().copied().unwrap_or(0) {
        return Ok(None);
    }
    let row = ds
        .read_slice_1d::<f64, _>(ndarray::s![t, ..])
        .map_err(|e| h5(path, e))?;
    Ok(Some(row.to_vec()))
}

fn svg(
    draw: impl FnOnce(DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<()>,
    size: (u32, u32),
) -> Result<String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(root.clone())?;
        root.present().map_err(plot_err)?;
    }
    Ok(s)
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// An axis tick: whole numbers without decimals ("50", not "50.0").
fn tick(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        fmt_num(x)
    }
}

/// The voltage band's limits as labelled lines.
fn band_lines(meta: &Meta, upper: bool) -> Vec<(f64, String)> {
    let mut v = vec![(
        meta.vlim.0,
        format!("lower limit {} p.u.", fmt_num(meta.vlim.0)),
    )];
    if upper {
        v.push((
            meta.vlim.1,
            format!("upper limit {} p.u.", fmt_num(meta.vlim.1)),
        ));
    }
    // Each bus's own limits (NaN here): no common line to draw.
    v.retain(|(x, _)| x.is_finite());
    v
}

/// A named line: points, palette index, stroke width.
pub(crate) type Series = (String, Vec<(f64, f64)>, usize, u32);

pub(crate) fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    hlines: &[(f64, String)],
) -> Result<String> {
    let (x0, x1) = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.0)));
    let (mut y0, mut y1) = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)));
    let hlines: Vec<&(f64, String)> = hlines.iter().filter(|h| h.0.is_finite()).collect();
    for (h, _) in &hlines {
        y0 = y0.min(h - 0.002);
        y1 = y1.max(h + 0.002);
    }
    let chart = svg(
        |root| {
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .x_label_formatter(&|x| tick(*x))
                .label_style(("sans-serif", 12))
                .draw()
                .map_err(plot_err)?;
            for (h, label) in &hlines {
                chart
                    .draw_series(LineSeries::new(
                        vec![(x0, *h), (x1, *h)],
                        BLACK.mix(0.5).stroke_width(1),
                    ))
                    .map_err(plot_err)?;
                let at = chart.backend_coord(&(x0, *h));
                let style = ("sans-serif", 11).into_font().color(&BLACK.mix(0.7));
                root.draw(&Text::new(label.clone(), (at.0 + 4, at.1 - 14), style))
                    .map_err(plot_err)?;
            }
            for (_, pts, color, width) in series {
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().copied().filter(|p| p.1.is_finite()),
                        palette(*color).stroke_width(*width),
                    ))
                    .map_err(plot_err)?;
            }
            Ok(())
        },
        (W, H),
    )?;
    let legend: Vec<(String, RGBColor, &str)> = series
        .iter()
        .filter(|s| !s.0.is_empty())
        .map(|s| {
            (
                s.0.clone(),
                palette(s.2),
                if s.3 > 1 { "line" } else { "thin" },
            )
        })
        .collect();
    Ok(chart + &legend_html(&legend))
}

/// Rows of cells coloured white (0 %) to red (≥ 120 %); column c covers
/// periods `c·merge ..`, and the x ticks count periods. The colour scale is
/// HTML under the chart.
fn heat_map(
    title: &str,
    data: &[Vec<f64>],
    labels: &[String],
    period_label: &str,
    merge: usize,
) -> Result<String> {
    let rows = data.len();
    let cols = data.first().map_or(0, |r| r.len());
    let height = (80 + 14 * rows as u32).max(200);
    let chart = svg(
        |root| {
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(110)
                .build_cartesian_2d(0..cols.max(1), 0..rows.max(1))
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(period_label)
                .x_label_formatter(&|c| (c * merge + 1).to_string())
                .y_labels(rows.min(40))
                .y_label_formatter(&|y| labels.get(*y).cloned().unwrap_or_default())
                .label_style(("sans-serif", 11))
                .draw()
                .map_err(plot_err)?;
            chart
                .draw_series(data.iter().enumerate().flat_map(|(r, row)| {
                    row.iter().enumerate().map(move |(c, &v)| {
                        let color = if !v.is_finite() {
                            RGBColor(235, 235, 235)
                        } else {
                            let f = (v / 100.0).clamp(0.0, 1.2) / 1.2;
                            RGBColor(
                                255,
                                (255.0 * (1.0 - f)) as u8,
                                (255.0 * (1.0 - f).powi(2)) as u8,
                            )
                        };
                        Rectangle::new([(c, r), (c + 1, r + 1)], color.filled())
                    })
                }))
                .map_err(plot_err)?;
            Ok(())
        },
        (W, height),
    )?;
    let scale = "<div class=\"legend\"><span>loading 0 %</span>\
<span style=\"display:inline-block;width:240px;height:12px;\
background:linear-gradient(to right,#fff,#ff8080 50%,#ff0000)\"></span>\
<span>≥ 120 %</span><span><i class=\"box\" style=\"background:#ebebeb\"></i>no rating or not solved</span></div>";
    Ok(chart + scale)
}

/// Grouped bars: one group per scenario (labelled under it), one bar per
/// part; the legend is HTML under the chart.
pub(crate) fn bar_chart(
    title: &str,
    y_label: &str,
    groups: &[String],
    parts: &[(&str, Vec<f64>)],
) -> Result<String> {
    let n = groups.len();
    let k = parts.len();
    let vals = || {
        parts
            .iter()
            .flat_map(|p| p.1.iter().copied())
            .filter(|v| v.is_finite())
    };
    let ymax = vals().fold(0.0f64, f64::max) * 1.1;
    let ymin = vals().fold(0.0f64, f64::min) * 1.1;
    // Long names are shortened; the table and legend carry them whole.
    let label = |g: &String| -> String {
        let max = (110 / n.max(1)).clamp(6, 40);
        match g.chars().count() > max {
            true => g.chars().take(max - 1).collect::<String>() + "…",
            false => g.clone(),
        }
    };
    let chart = svg(
        |root| {
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(80)
                .build_cartesian_2d(0f64..n as f64, ymin..ymax.max(1e-9))
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_desc(y_label)
                .y_label_formatter(&|y| tick(*y))
                .label_style(("sans-serif", 11))
                .draw()
                .map_err(plot_err)?;
            let w = 0.8 / k as f64;
            for (j, (_, vals)) in parts.iter().enumerate() {
                let c = palette(j);
                chart
                    .draw_series(vals.iter().enumerate().map(|(i, &v)| {
                        let x = i as f64 + 0.1 + j as f64 * w;
                        let top = if v.is_finite() { v } else { 0.0 };
                        Rectangle::new([(x, 0.0), (x + w * 0.95, top)], c.filled())
                    }))
                    .map_err(plot_err)?;
            }
            let style = ("sans-serif", 12)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top));
            for (i, g) in groups.iter().enumerate() {
                let at = chart.backend_coord(&(i as f64 + 0.5, ymin));
                root.draw(&Text::new(label(g), (at.0, at.1 + 6), style.clone()))
                    .map_err(plot_err)?;
            }
            Ok(())
        },
        (W, H),
    )?;
    let legend: Vec<(String, RGBColor, &str)> = parts
        .iter()
        .enumerate()
        .map(|(j, p)| (p.0.to_string(), palette(j), "box"))
        .collect();
    Ok(chart + &legend_html(&legend))
}

pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The KPI table: plain-language headers with units; each change against
/// the baseline coloured by whether it is good (green) or bad (red).
fn comparison_table(c: &Comparison) -> String {
    // Two tables (the grid; energy and CO2), so that they fit a window.
    let (grid, energy) = KEY_KPIS.split_at(8);
    comparison_part(c, grid) + &comparison_part(c, energy)
}

/// One KPI table: a row per scenario, a column per KPI of `kpis`.
fn comparison_part(c: &Comparison, kpis: &[&str]) -> String {
    let mut o = String::from("<table class=\"kpi\"><thead><tr><th>Scenario</th>");
    for &k in kpis {
        let (label, unit, _) = compare::kpi_label(k);
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" ({unit})")
        };
        let _ = write!(o, "<th>{}{}</th>", html_escape(label), html_escape(&unit));
    }
    o.push_str("</tr></thead><tbody>");
    for (s, name) in c.scenarios.iter().enumerate() {
        let base = if s == c.baseline {
            " <em>(baseline)</em>"
        } else {
            ""
        };
        let _ = write!(o, "<tr><th scope=\"row\">{}{base}</th>", html_escape(name));
        for &k in kpis {
            let i = c.kpis.iter().position(|x| x == k).unwrap_or(0);
            let v = c.values[s][i];
            let d = c.delta(s, k);
            if s == c.baseline || !d.is_finite() {
                let _ = write!(o, "<td>{}</td>", fmt_num(v));
                continue;
            }
            let merit = compare::kpi_label(k).2 as f64 * d;
            let cls = if merit > 0.0 {
                "good"
            } else if merit < 0.0 {
                "bad"
            } else {
                "neutral"
            };
            let sign = if d >= 0.0 { "+" } else { "" };
            let _ = write!(
                o,
                "<td>{}<br><span class=\"{cls}\">{sign}{}</span></td>",
                fmt_num(v),
                fmt_num(d)
            );
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>");
    o
}

/// What each scenario is and how it ran: description, period, step,
/// source file, solver counts.
fn scenario_table(c: &Comparison) -> Result<String> {
    let mut o = String::from(
        "<table class=\"about\"><thead><tr><th>Scenario</th><th>What it is</th>\
         <th>Period (local time)</th><th>Step</th><th>Steps not converged</th>\
         <th>Steps with unsettled controllers</th><th>Results file</th></tr></thead><tbody>",
    );
    for (s, ((path, group), name)) in c.sources.iter().zip(&c.scenarios).enumerate() {
        let file = super::hdf5::open_results(path)?;
        let g = file
            .group(&format!("scenarios/{group}"))
            .map_err(|e| h5(path, e))?;
        let text = |k: &str| -> String {
            g.attr(k)
                .and_then(|a| a.read_scalar::<VarLenUnicode>())
                .map(|v| v.as_str().to_string())
                .unwrap_or_default()
        };
        let step_s = g
            .attr("step_seconds")
            .and_then(|a| a.read_scalar::<i64>())
            .unwrap_or(0);
        let times = super::hdf5::read_time_labels(&g).map_err(|e| h5(path, e))?;
        let period = match (times.first(), times.last()) {
            (Some(a), Some(b)) => format!("{} to {}", a.replace('T', " "), b.replace('T', " ")),
            _ => String::new(),
        };
        let count = |k: &str| fmt_num(c.value(s, k));
        let _ = write!(
            o,
            "<tr><th scope=\"row\">{}</th><td class=\"text\">{}</td><td class=\"text\">{}</td>\
             <td>{} min</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            html_escape(name),
            html_escape(&text("description")),
            html_escape(&period),
            step_s as f64 / 60.0,
            count("steps_not_converged"),
            count("control_not_settled"),
            html_escape(&path.display().to_string())
        );
    }
    o.push_str("</tbody></table>");
    Ok(o)
}

/// Writes the HTML report of the scenarios in `results` (one or more
/// results files) to `out` (temporary name, then rename).
pub fn write_report(
    results: &[PathBuf],
    out: &Path,
    baseline: Option<&str>,
    force: bool,
) -> Result<()> {
    let inputs: Vec<&Path> = results.iter().map(|p| p.as_path()).collect();
    super::output::check(out, force, super::output::OutputKind::Report, &inputs)?;
    let html = render(results, baseline)?;
    super::output::TempOutput::new(out, force)?.write_all(html.as_bytes())
}

/// A figure: caption and inline SVG.
type Plot = (String, String);

/// Renders the report page of the scenarios in `results`.
pub fn render(results: &[PathBuf], baseline: Option<&str>) -> Result<String> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let cmp = compare::read(results, baseline)?;
    let (bpath, bgroup) = &cmp.sources[cmp.baseline];
    let meta = {
        let file = super::hdf5::open_results(bpath)?;
        Meta::read(&file, bpath, bgroup)?
    };
    let mut plots: Vec<Plot> = Vec::new();
    let missing = missing_series(&cmp)?;
    if missing.is_empty() {
        let mut data = Vec::new();
        for ((path, group), name) in cmp.sources.iter().zip(&cmp.scenarios) {
            data.push(read_scenario(path, group, name, meta.period_steps)?);
        }
        plots.push(voltage_envelope(&data, &meta)?);
        plots.push(feeder_profile(&cmp, &data, &meta, false)?);
        plots.push(feeder_profile(&cmp, &data, &meta, true)?);
        plots.extend(duration_curves(&data, &meta)?);
        for d in &data {
            plots.push(loading_heat_map(d, &meta)?);
        }
    } else {
        let note = format!(
            "<p class=\"meta\">Voltage and loading plots need the bus, line and transformer \
             series, which {} do not hold (run with <code>--series all</code>).</p>",
            html_escape(&missing.join(", "))
        );
        plots.push(("Per-element plots".into(), note));
    }
    plots.extend(energy_and_co2(&cmp)?);
    plots.extend(upgrade_options(&cmp)?);
    page(results, &cmp, &meta, plots)
}

/// The upgrade options of a `gridsim plan` results file: their ranked
/// table (measures, costs) and their annual cost by component. None when
/// the files hold no plan.
fn upgrade_options(cmp: &Comparison) -> Result<Vec<Plot>> {
    struct Row {
        name: String,
        rank: f64,
        values: Vec<f64>,
        measures: String,
    }
    const KEYS: [&str; 9] = [
        "capex",
        "annualised_capex",
        "om_per_year",
        "losses_cost_per_year",
        "curtailment_cost_per_year",
        "co2_cost_per_year",
        "annual_cost",
        "hosting_mw",
        "cost_per_mw_hosting_gained",
    ];
    let mut rows = Vec::new();
    let (mut basis, mut currency) = (String::new(), String::new());
    for ((path, group), name) in cmp.sources.iter().zip(&cmp.scenarios) {
        let file = super::hdf5::open_results(path)?;
        let Ok(g) = file.group(&format!("scenarios/{group}/plan")) else {
            continue;
        };
        let num = |k: &str| {
            g.attr(k)
                .and_then(|a| a.read_scalar::<f64>())
                .unwrap_or(f64::NAN)
        };
        let text = |f: &hdf5::Location, k: &str| {
            f.attr(k)
                .and_then(|a| a.read_scalar::<VarLenUnicode>())
                .map(|v| v.as_str().to_string())
                .unwrap_or_default()
        };
        currency = text(&file, "plan_currency");
        basis = format!("{currency}, price basis {}", text(&file, "plan_price_year"));
        rows.push(Row {
            name: name.clone(),
            rank: num("rank"),
            values: KEYS.iter().map(|k| num(k)).collect(),
            measures: text(&g, "measures"),
        });
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    rows.sort_by(|a, b| a.rank.total_cmp(&b.rank));
    let hosting = rows.iter().any(|r| r.values[7].is_finite());
    let mut t = String::from(
        "<table class=\"kpi\"><thead><tr><th>Rank</th><th>Option</th><th>Capex</th><th>Annual cost</th>",
    );
    if hosting {
        t.push_str("<th>Hosting capacity (MW)</th><th>Annual cost per MW gained</th>");
    }
    t.push_str("<th>Measures</th></tr></thead><tbody>");
    for r in &rows {
        let hc = if hosting {
            let per = r.values[8];
            format!(
                "<td>{}</td><td>{}</td>",
                fmt_num(r.values[7]),
                if per.is_finite() {
                    fmt_num(per)
                } else {
                    "–".into()
                }
            )
        } else {
            String::new()
        };
        let _ = write!(
            t,
            "<tr><td>{}</td><th scope=\"row\">{}</th><td>{}</td><td>{}</td>{hc}<td class=\"text\">{}</td></tr>",
            r.rank,
            html_escape(&r.name),
            fmt_num(r.values[0]),
            fmt_num(r.values[6]),
            html_escape(if r.measures.is_empty() { "none (no grid investment)" } else { &r.measures })
        );
    }
    t.push_str("</tbody></table>");
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let part = |i: usize| rows.iter().map(|r| r.values[i]).collect::<Vec<f64>>();
    let chart = bar_chart(
        "Annual cost of each option against the reference",
        &format!("{currency} per year"),
        &names,
        &[
            ("capex, annualised", part(1)),
            ("O&M", part(2)),
            ("losses", part(3)),
            ("curtailment", part(4)),
            ("CO2", part(5)),
            ("total", part(6)),
        ],
    )?;
    Ok(vec![
        (format!("Upgrade options, ranked ({basis}; options that leave no violation first, then by annual cost)"), t),
        ("Annual cost by component".into(), chart),
    ])
}

/// The scenarios (as shown) whose files lack a series the voltage and
/// loading plots read (written with `--series` other than `all`).
fn missing_series(cmp: &Comparison) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for ((path, group), name) in cmp.sources.iter().zip(&cmp.scenarios) {
        let file = super::hdf5::open_results(path)?;
        let needed = [
            "bus/vm_pu",
            "line/loading_percent",
            "transformer/loading_percent",
        ];
        if !needed
            .iter()
            .all(|n| file.link_exists(&format!("scenarios/{group}/{n}")))
        {
            missing.push(name.clone());
        }
    }
    Ok(missing)
}

fn voltage_envelope(data: &[ScenarioData], meta: &Meta) -> Result<Plot> {
    let points = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter().enumerate().map(|(k, &x)| (k as f64, x)).collect()
    };
    let mut series = Vec::new();
    for (i, d) in data.iter().enumerate() {
        series.push((d.name.clone(), points(&d.env_max), i, 2));
        series.push((String::new(), points(&d.env_min), i, 1));
    }
    Ok((
        "Voltage envelope (thick: highest bus voltage, thin: lowest)".into(),
        line_chart(
            &format!("Highest and lowest bus voltage per {}", meta.period_word()),
            meta.period_label,
            "|V| (p.u.)",
            &series,
            &band_lines(meta, true),
        )?,
    ))
}

/// Voltage along the path from the substation to the baseline's weakest
/// bus at its worst step, every scenario at that step; buses are matched
/// by id, so variants with other topologies show the buses they share.
fn feeder_profile(
    cmp: &Comparison,
    data: &[ScenarioData],
    meta: &Meta,
    high: bool,
) -> Result<Plot> {
    let base = &data[cmp.baseline];
    let t = if high {
        base.high_step
    } else {
        base.worst_step
    };
    let (bpath, bgroup) = &cmp.sources[cmp.baseline];
    let row = voltages_at(bpath, bgroup, t)?.unwrap_or_default();
    let solved = row
        .iter()
        .enumerate()
        // Solved buses of the feeder: not isolated (4), not the slack (3),
        // whose voltage is set.
        .filter(|(b, v)| v.is_finite() && !matches!(base.desc.bus_type.get(*b), Some(&3 | &4)));
    let extreme = if high {
        solved.max_by(|a, b| a.1.total_cmp(b.1))
    } else {
        solved.min_by(|a, b| a.1.total_cmp(b.1))
    };
    let target = extreme.map_or(0, |x| x.0);
    let which = if high { "highest" } else { "lowest" };
    let (path, km) = base.desc.feeder_path(target);
    let labels: Vec<&String> = path.iter().map(|&b| &base.desc.bus_label[b]).collect();
    let x: Vec<f64> = km
        .clone()
        .unwrap_or_else(|| (0..path.len()).map(|k| k as f64).collect());
    let mut series = Vec::new();
    for (i, (d, (p, g))) in data.iter().zip(&cmp.sources).enumerate() {
        let Some(row) = voltages_at(p, g, t)? else {
            continue;
        };
        let index: HashMap<&String, usize> = d
            .desc
            .bus_label
            .iter()
            .enumerate()
            .map(|(k, l)| (l, k))
            .collect();
        let pts = labels
            .iter()
            .zip(&x)
            .filter_map(|(l, &xk)| index.get(l).map(|&b| (xk, row[b])))
            .filter(|p| p.1.is_finite())
            .collect();
        series.push((d.name.clone(), pts, i, 2));
    }
    let first = labels.first().map_or(String::new(), |s| s.to_string());
    let last = labels.last().map_or(String::new(), |s| s.to_string());
    let x_label = match km {
        Some(_) => format!("distance from bus {first} along the feeder (km)"),
        None => format!(
            "bus position along the path ({})",
            labels
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" → ")
                .chars()
                .take(90)
                .collect::<String>()
        ),
    };
    Ok((
        format!("Voltage along the feeder at the baseline's {which} voltage"),
        line_chart(
            &format!(
                "Bus {first} to bus {last} ({which} voltage), {}",
                meta.times
                    .get(t)
                    .cloned()
                    .unwrap_or_default()
                    .replace('T', " ")
            ),
            &x_label,
            "|V| (p.u.)",
            &series,
            &band_lines(meta, true),
        )?,
    ))
}

/// A duration curve: values sorted, against the share of time (at most
/// about 1,000 points; the ends are kept).
fn duration(v: &[f64], descending: bool) -> Vec<(f64, f64)> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(|a, b| {
        if descending {
            b.total_cmp(a)
        } else {
            a.total_cmp(b)
        }
    });
    let n = s.len().max(1) as f64;
    let stride = (s.len() / 1000).max(1);
    let last = s.len().saturating_sub(1);
    s.into_iter()
        .enumerate()
        .filter(|(k, _)| k % stride == 0 || *k == last)
        .map(|(k, x)| (100.0 * k as f64 / n, x))
        .collect()
}

fn duration_curves(data: &[ScenarioData], meta: &Meta) -> Result<Vec<Plot>> {
    let series = |f: &dyn Fn(&ScenarioData) -> Vec<(f64, f64)>| -> Vec<Series> {
        data.iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), f(d), i, 2))
            .collect()
    };
    Ok(vec![
        (
            "Load duration".into(),
            line_chart(
                "Substation import, duration curve",
                "share of time (%)",
                "import (MW)",
                &series(&|d| duration(&d.p_slack, true)),
                &[(0.0, "below: export".to_string())],
            )?,
        ),
        (
            "Voltage duration".into(),
            line_chart(
                "Lowest bus voltage, duration curve",
                "share of time (%)",
                "min |V| (p.u.)",
                &series(&|d| duration(&d.vmin_step, false)),
                &band_lines(meta, false),
            )?,
        ),
    ])
}

/// The 30 most loaded branches of a scenario, by id, per period.
fn loading_heat_map(d: &ScenarioData, meta: &Meta) -> Result<Plot> {
    let peak = |k: usize| {
        d.loading[k]
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let mut order: Vec<usize> = (0..d.loading.len()).collect();
    order.sort_by(|&a, &b| peak(b).total_cmp(&peak(a)));
    order.truncate(30);
    // At most 60 columns: merge periods by their maximum.
    let merge = d.loading.first().map_or(1, |r| r.len().div_ceil(60)).max(1);
    let rows: Vec<Vec<f64>> = order
        .iter()
        .map(|&k| {
            d.loading[k]
                .chunks(merge)
                .map(|c| {
                    let mut m = f64::NAN;
                    c.iter()
                        .filter(|x| x.is_finite())
                        .for_each(|&x| fold_max(&mut m, x));
                    m
                })
                .collect()
        })
        .collect();
    let col_label = if merge == 1 {
        meta.period_label.to_string()
    } else {
        format!(
            "{} (each column: {} {}s)",
            meta.period_label,
            merge,
            meta.period_word()
        )
    };
    let labels: Vec<String> = order
        .iter()
        .map(|&k| format!("{} · peak {:.0} %", d.desc.br_id[k], peak(k)))
        .collect();
    Ok((
        format!("Branch loading: {}", d.name),
        heat_map(
            &format!(
                "{}: highest loading per {} of the 30 most loaded lines and transformers",
                d.name,
                meta.period_word()
            ),
            &rows,
            &labels,
            &col_label,
            merge,
        )?,
    ))
}

fn energy_and_co2(cmp: &Comparison) -> Result<Vec<Plot>> {
    // A KPI a file lacks (written by an older gridsim) reads as NaN.
    let kp = |k: &str| -> Vec<f64> { (0..cmp.scenarios.len()).map(|s| cmp.value(s, k)).collect() };
    let mut plots = heat_and_cooling(cmp, &kp)?;
    plots.extend(vec![
        (
            "Energy".into(),
            bar_chart(
                "Energy per scenario",
                "MWh",
                &cmp.scenarios,
                &[
                    ("served", kp("energy_served_mwh")),
                    ("import", kp("import_mwh")),
                    ("export", kp("export_mwh")),
                    ("local generation", kp("generation_mwh")),
                    ("losses", kp("loss_mwh")),
                ],
            )?,
        ),
        (
            "CO2".into(),
            bar_chart(
                "CO2 per scenario",
                "t CO2",
                &cmp.scenarios,
                &[
                    ("grid exchange", kp("co2_grid_t")),
                    ("CHP fuel", kp("co2_chp_t")),
                    ("boiler fuel", kp("co2_boiler_t")),
                    ("total", kp("co2_total_t")),
                    ("avoided against the reference", kp("co2_avoided_t")),
                ],
            )?,
        ),
    ]);
    Ok(plots)
}

/// How each scenario serves the study's heat and cooling, when it has any.
fn heat_and_cooling(cmp: &Comparison, kp: &dyn Fn(&str) -> Vec<f64>) -> Result<Vec<Plot>> {
    let any = |k: &str| kp(k).iter().any(|&x| x > 0.0);
    if !any("heat_demand_mwh") && !any("cooling_demand_mwh") {
        return Ok(Vec::new());
    }
    Ok(vec![(
        "Heat and cooling".into(),
        bar_chart(
            "Heat and cooling per scenario, by supply",
            "MWh (thermal)",
            &cmp.scenarios,
            &[
                ("heat served by CHP", kp("chp_heating_mwh")),
                ("heat from boilers", kp("boiler_heat_mwh")),
                ("heat from heat pumps", kp("heat_pump_heat_mwh")),
                ("cooling by absorption (CCHP)", kp("absorption_cooling_mwh")),
                ("cooling by electric chillers", kp("electric_cooling_mwh")),
            ],
        )?,
    )])
}

/// The scenario file behind each results file, folded: every setting and
/// assumption of the study (emission factors, references, bands, units).
fn scenario_files(results: &[PathBuf]) -> String {
    let mut o = String::new();
    for path in results {
        let text = hdf5::File::open(path)
            .and_then(|f| f.attr("scenario_file_text"))
            .and_then(|a| a.read_scalar::<VarLenUnicode>())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if !text.is_empty() {
            let _ = write!(
                o,
                "<details><summary>Settings and assumptions: the scenario file of {}</summary>\
                 <pre>{}</pre></details>",
                html_escape(&path.display().to_string()),
                html_escape(&text)
            );
        }
    }
    o
}

/// One line per results file: name, when it was written, the command.
fn provenance(results: &[PathBuf]) -> String {
    let mut o = String::new();
    for path in results {
        let attr = |k: &str| -> String {
            hdf5::File::open(path)
                .and_then(|f| f.attr(k))
                .and_then(|a| a.read_scalar::<VarLenUnicode>())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        };
        let _ = write!(
            o,
            "<br>{} · written {} · <code>{}</code>",
            html_escape(&path.display().to_string()),
            html_escape(&attr("created")),
            html_escape(&attr("command_line"))
        );
    }
    o
}

/// The page's style: readable width, tables that wrap instead of
/// overflowing, figures that shrink with the window, A4 landscape in print.
pub(crate) const CSS: &str = "body{font-family:sans-serif;margin:24px auto;padding:0 16px;color:#222;max-width:1200px}\
table{border-collapse:collapse;font-size:12px;width:100%;table-layout:auto}\
td,th{border:1px solid #ccc;padding:4px 5px;text-align:right;vertical-align:top}th{overflow-wrap:break-word;hyphens:auto}td{white-space:nowrap}td.text{white-space:normal}\
thead th{background:#f2f2f2;font-weight:600;text-align:center}tbody th{text-align:left;font-weight:600}\
td.text{text-align:left}.good{color:#070}.bad{color:#b00}.neutral{color:#555}\
figure{margin:18px 0}figcaption{font-weight:bold;margin-bottom:4px}svg{max-width:100%;height:auto;display:block}\
.legend{font-size:12px;display:flex;flex-wrap:wrap;gap:4px 16px;margin:4px 0 0 8px}\
.legend span{display:inline-flex;align-items:center;gap:5px}.legend i{display:inline-block;width:22px;height:0;border-top:3px solid}\
.legend i.thin{border-top-width:1px}.legend i.box{height:10px;width:12px;border:0}\
.meta{color:#666;font-size:12px;overflow-wrap:anywhere}code{overflow-wrap:anywhere}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:11px;background:#f8f8f8;padding:8px}summary{cursor:pointer;margin:8px 0}\
@media print{body{margin:0;max-width:none}figure{break-inside:avoid}table{font-size:9px}}@page{size:A4 landscape;margin:12mm}";

fn page(results: &[PathBuf], cmp: &Comparison, meta: &Meta, plots: Vec<Plot>) -> Result<String> {
    let title = results
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let files = results
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let mut o = String::new();
    let warnings: String = cmp
        .warnings()
        .iter()
        .map(|w| format!("<p class=\"bad\">Warning: {}</p>", html_escape(w)))
        .chain(
            cmp.chp_criteria()
                .iter()
                .map(|c| format!("<p>Criterion: {}</p>", html_escape(c))),
        )
        .collect();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>gridsim report: {title}</title>\
<style>{CSS}</style></head><body>\
<h1>gridsim report</h1><p class=\"meta\">{n} scenarios · {steps} steps of {step} min{prov}</p>\
<h2>Scenarios</h2>{about}{warnings}{files_text}\
<h2>Scenario comparison</h2><p>Key results; the second line of a cell is the change against the baseline, \
<span class=\"good\">green</span> where it is an improvement, <span class=\"bad\">red</span> where it is worse, \
grey where neither. The voltage band is {band}. All KPIs: <code>gridsim compare {files} --format csv</code>.</p>{table}",
        title = html_escape(&title),
        files = html_escape(&files),
        n = cmp.scenarios.len(),
        steps = meta.n_steps,
        step = meta.step_s / 60.0,
        prov = provenance(results),
        about = scenario_table(cmp)?,
        files_text = scenario_files(results),
        band = if meta.vlim.0.is_finite() && meta.vlim.1.is_finite() {
            format!("{}–{} p.u.", fmt_num(meta.vlim.0), fmt_num(meta.vlim.1))
        } else {
            "each bus's own, from the network file".to_string()
        },
        table = comparison_table(cmp)
    );
    for (cap, s) in plots {
        let _ = write!(
            o,
            "<figure><figcaption>{}</figcaption>{}</figure>",
            html_escape(&cap),
            s
        );
    }
    let _ = writeln!(
        o,
        "<p class=\"meta\">Energy integrates with Δt = {} h. Generated by gridsim {}.</p></body></html>",
        meta.step_s / 3600.0,
        env!("CARGO_PKG_VERSION")
    );
    Ok(o)
}

/// One bus of a hosting-capacity page.
pub struct HostingBar {
    /// Bus label.
    pub bus: String,
    /// Hops from the source (the feeder order).
    pub hops: usize,
    /// Hosting capacity, MW.
    pub mw: f64,
    /// What limits it.
    pub limit: String,
}

/// A self-contained HTML page of a hosting-capacity run: the capacity per
/// bus along the feeder (buses ordered by their distance from the source
/// in branches) and the table.
pub fn hosting_page(title: &str, about: &str, bars: &[HostingBar]) -> Result<String> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let mut order: Vec<&HostingBar> = bars.iter().collect();
    order.sort_by_key(|b| b.hops);
    let names: Vec<String> = order.iter().map(|b| b.bus.clone()).collect();
    let chart = bar_chart(
        "Hosting capacity per bus, along the feeder (nearest the source first)",
        "MW",
        &names,
        &[("hosting capacity", order.iter().map(|b| b.mw).collect())],
    )?;
    let mut t = String::from(
        "<table class=\"kpi\"><thead><tr><th>Bus</th><th>Branches from the source</th><th>MW</th><th>Limited by</th></tr></thead><tbody>",
    );
    for b in &order {
        let _ = write!(
            t,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            html_escape(&b.bus),
            b.hops,
            fmt_num(b.mw),
            html_escape(&b.limit)
        );
    }
    t.push_str("</tbody></table>");
    Ok(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>gridsim hosting capacity: {t0}</title>\
<style>{CSS}</style></head><body><h1>gridsim report: hosting capacity</h1>\
<p class=\"meta\">{t0}</p><p>{about}</p><figure>{chart}</figure>{t}\
<p class=\"meta\">Generated by gridsim {v}.</p></body></html>",
        t0 = html_escape(title),
        about = html_escape(about),
        v = env!("CARGO_PKG_VERSION"),
    ))
}
