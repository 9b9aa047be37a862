//! `gridsim report`: a self-contained HTML page (inline SVG, no network
//! access) with the scenario comparison and plots drawn with plotters.
//!
//! The results file is read one scenario and one block of rows at a time,
//! so memory stays bounded for year-long, many-scenario files.

use super::compare::{self, fmt_num, Comparison, KEY_KPIS};
use crate::error::{Error, Result};
use hdf5::types::VarLenUnicode;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const W: u32 = 960;
const H: u32 = 380;
const ROWS_PER_READ: usize = 4096;

fn h5(path: &Path, e: hdf5::Error) -> Error {
    Error::Usage(format!("{}: {e}", path.display()))
}

fn plot_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Usage(format!("plotting failed: {e:?}"))
}

fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    C[i % C.len()]
}

/// What the report needs of one scenario.
struct ScenarioData {
    name: String,
    /// Per-day (or per-hour for short runs) min and max |V| over buses.
    env_min: Vec<f64>,
    env_max: Vec<f64>,
    /// Min |V| per step (for the duration curve).
    vmin_step: Vec<f64>,
    /// Slack import per step, MW.
    p_slack: Vec<f64>,
    /// Daily max loading per branch (branch × period).
    loading: Vec<Vec<f64>>,
}

struct Meta {
    step_s: f64,
    n_steps: usize,
    period_steps: usize,
    period_label: &'static str,
    bus_id: Vec<u64>,
    bus_type: Vec<u8>,
    br_id: Vec<String>,
    br_from: Vec<u64>,
    br_to: Vec<u64>,
    br_in_service: Vec<u8>,
    vlim: (f64, f64),
}

fn read_scenario(
    file: &hdf5::File,
    path: &Path,
    name: &str,
    meta: &Meta,
) -> Result<(ScenarioData, usize, Vec<f64>)> {
    let g = file
        .group(&format!("scenarios/{name}"))
        .map_err(|e| h5(path, e))?;
    let vm = g.dataset("bus/vm_pu").map_err(|e| h5(path, e))?;
    let load = g
        .dataset("branch/loading_percent")
        .map_err(|e| h5(path, e))?;
    let p_slack: Vec<f64> = g
        .dataset("grid/p_slack_mw")
        .and_then(|d| d.read_raw())
        .map_err(|e| h5(path, e))?;
    let n = meta.n_steps;
    let nbr = meta.br_from.len();
    let nper = n.div_ceil(meta.period_steps);
    let mut env_min = vec![f64::NAN; nper];
    let mut env_max = vec![f64::NAN; nper];
    let mut vmin_step = vec![f64::NAN; n];
    let mut loading = vec![vec![f64::NAN; nper]; nbr];
    let mut worst = (f64::INFINITY, 0usize);
    let mut r0 = 0;
    while r0 < n {
        let r1 = (r0 + ROWS_PER_READ).min(n);
        let block = vm
            .read_slice_2d::<f64, _>(ndarray::s![r0..r1, ..])
            .map_err(|e| h5(path, e))?;
        for (i, row) in block.outer_iter().enumerate() {
            let t = r0 + i;
            let per = t / meta.period_steps;
            let mut lo = f64::INFINITY;
            let mut hi = f64::NEG_INFINITY;
            for (b, &v) in row.iter().enumerate() {
                if meta.bus_type[b] == 4 || !v.is_finite() {
                    continue;
                }
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if lo.is_finite() {
                vmin_step[t] = lo;
                env_min[per] = if env_min[per].is_nan() {
                    lo
                } else {
                    env_min[per].min(lo)
                };
                env_max[per] = if env_max[per].is_nan() {
                    hi
                } else {
                    env_max[per].max(hi)
                };
                if lo < worst.0 {
                    worst = (lo, t);
                }
            }
        }
        if nbr > 0 {
            let lb = load
                .read_slice_2d::<f64, _>(ndarray::s![r0..r1, ..])
                .map_err(|e| h5(path, e))?;
            for (i, row) in lb.outer_iter().enumerate() {
                let per = (r0 + i) / meta.period_steps;
                for (k, &x) in row.iter().enumerate() {
                    if x.is_finite() && (loading[k][per].is_nan() || x > loading[k][per]) {
                        loading[k][per] = x;
                    }
                }
            }
        }
        r0 = r1;
    }
    let worst_row: Vec<f64> = vm
        .read_slice_1d::<f64, _>(ndarray::s![worst.1, ..])
        .map_err(|e| h5(path, e))?
        .to_vec();
    Ok((
        ScenarioData {
            name: name.to_string(),
            env_min,
            env_max,
            vmin_step,
            p_slack,
            loading,
        },
        worst.1,
        worst_row,
    ))
}

/// Bus path from the first reference bus to `target` over in-service branches (BFS).
fn feeder_path(meta: &Meta, target: usize) -> Vec<usize> {
    let nb = meta.bus_id.len();
    let index: std::collections::HashMap<u64, usize> = meta
        .bus_id
        .iter()
        .enumerate()
        .map(|(i, &b)| (b, i))
        .collect();
    let mut adj = vec![Vec::new(); nb];
    for k in 0..meta.br_from.len() {
        if meta.br_in_service[k] == 0 {
            continue;
        }
        if let (Some(&a), Some(&b)) = (index.get(&meta.br_from[k]), index.get(&meta.br_to[k])) {
            adj[a].push(b);
            adj[b].push(a);
        }
    }
    let Some(start) = meta.bus_type.iter().position(|&t| t == 3) else {
        return vec![target];
    };
    let mut prev = vec![usize::MAX; nb];
    let mut seen = vec![false; nb];
    let mut queue = std::collections::VecDeque::from([start]);
    seen[start] = true;
    while let Some(x) = queue.pop_front() {
        for &y in &adj[x] {
            if !seen[y] {
                seen[y] = true;
                prev[y] = x;
                queue.push_back(y);
            }
        }
    }
    let mut path = vec![target];
    let mut x = target;
    while prev[x] != usize::MAX {
        x = prev[x];
        path.push(x);
    }
    path.reverse();
    path
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

/// A named line: points, palette index, stroke width.
type Series = (String, Vec<(f64, f64)>, usize, u32);

fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    hlines: &[f64],
) -> Result<String> {
    let (x0, x1) = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.0)));
    let (mut y0, mut y1) = range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)));
    let hlines: Vec<f64> = hlines.iter().copied().filter(|h| h.is_finite()).collect();
    for &h in &hlines {
        y0 = y0.min(h - 0.002);
        y1 = y1.max(h + 0.002);
    }
    svg(
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
                .label_style(("sans-serif", 12))
                .draw()
                .map_err(plot_err)?;
            for &h in &hlines {
                chart
                    .draw_series(LineSeries::new(
                        vec![(x0, h), (x1, h)],
                        BLACK.mix(0.5).stroke_width(1),
                    ))
                    .map_err(plot_err)?;
            }
            for (name, pts, color, width) in series {
                let c = palette(*color);
                let s = chart
                    .draw_series(LineSeries::new(
                        pts.iter().copied().filter(|p| p.1.is_finite()),
                        c.stroke_width(*width),
                    ))
                    .map_err(plot_err)?;
                if !name.is_empty() {
                    s.label(name.clone()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                    });
                }
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 12))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(plot_err)?;
            Ok(())
        },
        (W, H),
    )
}

fn heat_map(
    title: &str,
    data: &[Vec<f64>],
    labels: &[String],
    period_label: &str,
) -> Result<String> {
    let rows = data.len();
    let cols = data.first().map_or(0, |r| r.len());
    let height = (80 + 14 * rows as u32).max(200);
    svg(
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
    )
}

fn bar_chart(
    title: &str,
    y_label: &str,
    groups: &[String],
    parts: &[(&str, Vec<f64>)],
) -> Result<String> {
    let n = groups.len();
    let k = parts.len();
    let ymax = parts
        .iter()
        .flat_map(|p| p.1.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        * 1.1;
    svg(
        |root| {
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(80)
                .build_cartesian_2d(0f64..n as f64, 0f64..ymax.max(1e-9))
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n)
                .x_label_formatter(&|x| {
                    let i = (*x - 0.5).round();
                    if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                        groups.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_desc(y_label)
                .label_style(("sans-serif", 11))
                .draw()
                .map_err(plot_err)?;
            let w = 0.8 / k as f64;
            for (j, (label, vals)) in parts.iter().enumerate() {
                let c = palette(j);
                let s = chart
                    .draw_series(vals.iter().enumerate().map(|(i, &v)| {
                        let x = i as f64 + 0.1 + j as f64 * w;
                        Rectangle::new(
                            [
                                (x, 0.0),
                                (x + w * 0.95, if v.is_finite() { v } else { 0.0 }),
                            ],
                            c.filled(),
                        )
                    }))
                    .map_err(plot_err)?;
                s.label(*label).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled())
                });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 12))
                .draw()
                .map_err(plot_err)?;
            Ok(())
        },
        (W, H),
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn comparison_table(c: &Comparison) -> String {
    let mut o = String::from("<div style=\"overflow-x:auto\"><table><thead><tr><th>scenario</th>");
    for k in KEY_KPIS {
        let _ = write!(o, "<th>{}</th>", html_escape(k));
    }
    o.push_str("</tr></thead><tbody>");
    for (s, name) in c.scenarios.iter().enumerate() {
        let _ = write!(
            o,
            "<tr><td>{}{}</td>",
            html_escape(name),
            if s == c.baseline {
                " <em>(baseline)</em>"
            } else {
                ""
            }
        );
        for k in KEY_KPIS {
            let i = c.kpis.iter().position(|x| x == k).unwrap_or(0);
            let v = c.values[s][i];
            let d = c.delta(s, k);
            if s == c.baseline || !d.is_finite() {
                let _ = write!(o, "<td>{}</td>", fmt_num(v));
            } else {
                let cls = if d > 0.0 {
                    "up"
                } else if d < 0.0 {
                    "down"
                } else {
                    ""
                };
                let _ = write!(
                    o,
                    "<td>{}<br><span class=\"{cls}\">{}{}</span></td>",
                    fmt_num(v),
                    if d >= 0.0 { "+" } else { "" },
                    fmt_num(d)
                );
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table></div>");
    o
}

/// Writes the HTML report of `results` to `out` (temporary name, then rename).
pub fn write_report(results: &Path, out: &Path, baseline: Option<&str>, force: bool) -> Result<()> {
    if out.exists() && !force {
        return Err(Error::Usage(format!(
            "{}: output file exists; use --force to overwrite it",
            out.display()
        )));
    }
    let html = render(results, baseline)?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fname = out
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{fname}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, html).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(out, e)
    })
}

/// Renders the report page.
pub fn render(results: &Path, baseline: Option<&str>) -> Result<String> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let cmp = compare::read(results, baseline)?;
    let file = hdf5::File::open(results).map_err(|e| h5(results, e))?;
    let read_u64 = |n: &str| -> Result<Vec<u64>> {
        file.dataset(n)
            .and_then(|d| d.read_raw())
            .map_err(|e| h5(results, e))
    };
    let read_u8 = |n: &str| -> Result<Vec<u8>> {
        file.dataset(n)
            .and_then(|d| d.read_raw())
            .map_err(|e| h5(results, e))
    };
    let first = &cmp.scenarios[0];
    let g0 = file
        .group(&format!("scenarios/{first}"))
        .map_err(|e| h5(results, e))?;
    let times = super::hdf5::read_time_labels(&g0).map_err(|e| h5(results, e))?;
    let n_steps = times.len();
    let run = file
        .group(&format!("scenarios/{first}/run"))
        .map_err(|e| h5(results, e))?;
    let attr = |k: &str, d: f64| {
        run.attr(k)
            .and_then(|a| a.read_scalar::<f64>())
            .unwrap_or(d)
    };
    let step_s = attr("step_seconds", 900.0);
    let steps_per_day = (86400.0 / step_s).round().max(1.0) as usize;
    let (period_steps, period_label) = if n_steps > 14 * steps_per_day {
        (steps_per_day, "day of the study")
    } else {
        (
            (3600.0 / step_s).round().max(1.0) as usize,
            "hour of the study",
        )
    };
    let meta = Meta {
        step_s,
        n_steps,
        period_steps,
        period_label,
        bus_id: read_u64("network/bus/id")?,
        bus_type: read_u8("network/bus/type")?,
        br_id: super::hdf5::read_strings(&file, "network/branch/id").map_err(|e| h5(results, e))?,
        br_from: read_u64("network/branch/from")?,
        br_to: read_u64("network/branch/to")?,
        br_in_service: read_u8("network/branch/in_service")?,
        vlim: (attr("vmin_limit_pu", 0.95), attr("vmax_limit_pu", 1.05)),
    };
    let mut data = Vec::new();
    let mut worst_step = 0;
    let mut worst_rows = Vec::new();
    for (i, s) in cmp.scenarios.iter().enumerate() {
        let (d, ws, _) = read_scenario(&file, results, s, &meta)?;
        if i == cmp.baseline {
            worst_step = ws;
        }
        data.push(d);
    }
    // Feeder profile: every scenario at the baseline's worst step.
    for s in &cmp.scenarios {
        let vm = file
            .dataset(&format!("scenarios/{s}/bus/vm_pu"))
            .and_then(|d| d.read_slice_1d::<f64, _>(ndarray::s![worst_step, ..]))
            .map_err(|e| h5(results, e))?;
        worst_rows.push(vm.to_vec());
    }
    let base_row = &worst_rows[cmp.baseline];
    let target = base_row
        .iter()
        .enumerate()
        .filter(|(b, v)| v.is_finite() && meta.bus_type[*b] != 4)
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |x| x.0);
    let path = feeder_path(&meta, target);
    let dt_h = meta.step_s / 3600.0;

    let mut plots: Vec<(String, String)> = Vec::new();
    // 1. Voltage envelope.
    let mut series = Vec::new();
    for (i, d) in data.iter().enumerate() {
        series.push((
            format!("{} max", d.name),
            d.env_max
                .iter()
                .enumerate()
                .map(|(k, &v)| (k as f64, v))
                .collect(),
            i,
            2,
        ));
        series.push((
            format!("{} min", d.name),
            d.env_min
                .iter()
                .enumerate()
                .map(|(k, &v)| (k as f64, v))
                .collect(),
            i,
            1,
        ));
    }
    plots.push((
        "Voltage envelope".into(),
        line_chart(
            &format!(
                "Highest and lowest bus voltage per {}",
                period_label.split(' ').next().unwrap_or("day")
            ),
            meta.period_label,
            "|V| (p.u.)",
            &series,
            &[meta.vlim.0, meta.vlim.1],
        )?,
    ));
    // 2. Feeder profile.
    let labels: Vec<String> = path.iter().map(|&b| meta.bus_id[b].to_string()).collect();
    let series: Vec<_> = worst_rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            (
                cmp.scenarios[i].clone(),
                path.iter()
                    .enumerate()
                    .map(|(k, &b)| (k as f64, row[b]))
                    .collect(),
                i,
                2,
            )
        })
        .collect();
    plots.push((
        "Voltage along the main feeder".into(),
        line_chart(
            &format!(
                "Feeder from bus {} to bus {} (lowest voltage), at {} (baseline's worst step)",
                labels.first().cloned().unwrap_or_default(),
                labels.last().cloned().unwrap_or_default(),
                times.get(worst_step).cloned().unwrap_or_default()
            ),
            &format!(
                "bus position along the path ({})",
                labels.join(" → ").chars().take(90).collect::<String>()
            ),
            "|V| (p.u.)",
            &series,
            &[meta.vlim.0],
        )?,
    ));
    // 3. Duration curves.
    let dur = |v: &[f64], desc: bool| -> Vec<(f64, f64)> {
        let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        s.sort_by(|a, b| if desc { b.total_cmp(a) } else { a.total_cmp(b) });
        let n = s.len().max(1) as f64;
        // At most ~1,000 points per curve keep the page small; the ends are kept.
        let stride = (s.len() / 1000).max(1);
        let last = s.len().saturating_sub(1);
        s.into_iter()
            .enumerate()
            .filter(|(k, _)| k % stride == 0 || *k == last)
            .map(|(k, x)| (100.0 * k as f64 / n, x))
            .collect()
    };
    let series: Vec<_> = data
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.clone(), dur(&d.p_slack, true), i, 2))
        .collect();
    plots.push((
        "Load duration".into(),
        line_chart(
            "Substation import, duration curve",
            "share of time (%)",
            "import (MW)",
            &series,
            &[0.0],
        )?,
    ));
    let series: Vec<_> = data
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.clone(), dur(&d.vmin_step, false), i, 2))
        .collect();
    plots.push((
        "Voltage duration".into(),
        line_chart(
            "Lowest bus voltage, duration curve",
            "share of time (%)",
            "min |V| (p.u.)",
            &series,
            &[meta.vlim.0],
        )?,
    ));
    // 4. Loading heat maps (the 30 most loaded branches of each scenario).
    for d in &data {
        let mut order: Vec<usize> = (0..d.loading.len()).collect();
        let peak = |k: usize| {
            d.loading[k]
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::NEG_INFINITY, f64::max)
        };
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
                        c.iter()
                            .copied()
                            .filter(|x| x.is_finite())
                            .fold(f64::NAN, |a, b| if a.is_nan() || b > a { b } else { a })
                    })
                    .collect()
            })
            .collect();
        let col_label = if merge == 1 {
            meta.period_label.to_string()
        } else {
            format!("{} ({} per column)", meta.period_label, merge)
        };
        let labels: Vec<String> = order
            .iter()
            .map(|&k| format!("{} ({:.0}%)", meta.br_id[k], peak(k)))
            .collect();
        plots.push((
            format!("Branch loading: {}", d.name),
            heat_map(
                &format!("{}: highest loading per {} of the 30 most loaded branches (white 0 %, red ≥ 120 %)", d.name, period_label.split(' ').next().unwrap_or("day")),
                &rows,
                &labels,
                &col_label,
            )?,
        ));
    }
    // 5. Energy and CO2.
    let kp = |k: &str| -> Vec<f64> {
        let i = cmp.kpis.iter().position(|x| x == k).unwrap_or(0);
        cmp.values.iter().map(|r| r[i]).collect()
    };
    plots.push((
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
    ));
    plots.push((
        "CO2".into(),
        bar_chart(
            "CO2 per scenario",
            "t CO2",
            &cmp.scenarios,
            &[
                ("grid imports", kp("co2_grid_t")),
                ("CHP fuel", kp("co2_chp_t")),
                ("boiler fuel", kp("co2_boiler_t")),
                ("total", kp("co2_total_t")),
                ("avoided by CHP", kp("co2_avoided_t")),
            ],
        )?,
    ));

    let cmdline = file
        .attr("command_line")
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let created = file
        .attr("created")
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gridsim report: {title}</title>\
<style>body{{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}}table{{border-collapse:collapse;font-size:12px}}\
td,th{{border:1px solid #ccc;padding:4px 6px;text-align:right;vertical-align:top}}td:first-child,th:first-child{{text-align:left}}\
th{{background:#f2f2f2}}.up{{color:#b00}}.down{{color:#070}}figure{{margin:18px 0}}figcaption{{font-weight:bold;margin-bottom:4px}}\
.meta{{color:#666;font-size:12px}}</style></head><body>\
<h1>gridsim report</h1><p class=\"meta\">{file} · {n} scenarios · {steps} steps of {step} min · written {created}<br>{cmd}</p>\
<h2>Scenario comparison</h2><p>Key KPIs; the second line of a cell is the change against the baseline. All KPIs: <code>gridsim compare {file} --format csv</code>.</p>{table}",
        title = html_escape(&results.display().to_string()),
        file = html_escape(&results.display().to_string()),
        n = cmp.scenarios.len(),
        steps = n_steps,
        step = meta.step_s / 60.0,
        created = html_escape(&created),
        cmd = html_escape(&cmdline),
        table = comparison_table(&cmp)
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
        "<p class=\"meta\">Energy integrates with Δt = {dt_h} h. Generated by gridsim {}.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    Ok(o)
}
