//! Turns the workspace of a MATPOWER case file into a [`Network`].

use super::interp::{Matrix, Value, Workspace};
use crate::error::{Error, Result};
use crate::network::components::per_unit_transformer;
use crate::network::{Branch, BranchKind, Bus, BusKind, Generator, Load, Network, PerUnit, Shunt};
use std::collections::HashMap;
use std::path::Path;

const BUS_COLS: [&str; 13] = [
    "BUS_I", "BUS_TYPE", "PD", "QD", "GS", "BS", "BUS_AREA", "VM", "VA", "BASE_KV", "ZONE", "VMAX",
    "VMIN",
];
const GEN_COLS: [&str; 10] = [
    "GEN_BUS",
    "PG",
    "QG",
    "QMAX",
    "QMIN",
    "VG",
    "MBASE",
    "GEN_STATUS",
    "PMAX",
    "PMIN",
];
const BRANCH_COLS: [&str; 13] = [
    "F_BUS",
    "T_BUS",
    "BR_R",
    "BR_X",
    "BR_B",
    "RATE_A",
    "RATE_B",
    "RATE_C",
    "TAP",
    "SHIFT",
    "BR_STATUS",
    "ANGMIN",
    "ANGMAX",
];

/// Collects problems as "line N: matrix row k, COLUMN: message".
struct Problems<'a> {
    path: &'a Path,
    list: Vec<String>,
}

impl Problems<'_> {
    fn at(&mut self, m: &Matrix, table: &str, row: usize, col: &str, msg: impl AsRef<str>) {
        let line = m.row_lines.get(row).copied().unwrap_or(0);
        let loc = if line > 0 {
            format!("{}:{line}: ", self.path.display())
        } else {
            String::new()
        };
        self.list.push(format!(
            "{loc}{table} row {} ({col}): {}",
            row + 1,
            msg.as_ref()
        ));
    }
}

fn field<'w>(ws: &'w Workspace, name: &str, version1: bool) -> Option<&'w (Value, usize)> {
    if version1 {
        ws.vars.get(name).or_else(|| ws.fields.get(name))
    } else {
        ws.fields.get(name)
    }
}

fn matrix_field(
    ws: &Workspace,
    path: &Path,
    name: &str,
    version1: bool,
    min_cols: usize,
    required: bool,
) -> Result<Option<Matrix>> {
    let prefix = if version1 { "" } else { "mpc." };
    match field(ws, name, version1) {
        None if required => Err(Error::parse(
            path,
            1,
            format!("the case defines no '{prefix}{name}' matrix"),
        )),
        None => Ok(None),
        Some((Value::Mat(m), line)) => {
            if m.rows > 0 && m.cols < min_cols {
                return Err(Error::parse(
                    path,
                    m.row_lines.first().copied().unwrap_or(*line),
                    format!(
                        "'{prefix}{name}' has {} columns; at least {min_cols} are required",
                        m.cols
                    ),
                ));
            }
            Ok(Some(m.clone()))
        }
        Some((Value::Num(_), line)) if name != "baseMVA" => Err(Error::parse(
            path,
            *line,
            format!("'{prefix}{name}' must be a matrix"),
        )),
        Some((_, line)) => Err(Error::parse(
            path,
            *line,
            format!("'{prefix}{name}' must be numeric"),
        )),
    }
}

/// Builds a [`Network`] from the workspace; collects all problems found.
pub fn network_from_workspace(ws: &Workspace, path: &Path, name: &str) -> Result<Network> {
    let version1 = !ws.fields.contains_key("bus") && ws.vars.contains_key("bus");
    let base_mva = base_mva(ws, path, version1)?;
    let bus_m = matrix_field(ws, path, "bus", version1, 13, true)?.unwrap_or_else(empty);
    let gen_m = matrix_field(ws, path, "gen", version1, 10, true)?.unwrap_or_else(empty);
    let br_m = matrix_field(ws, path, "branch", version1, 11, true)?.unwrap_or_else(empty);
    if bus_m.rows == 0 {
        return Err(Error::parse(path, 1, "the bus matrix is empty"));
    }
    let mut pr = Problems {
        path,
        list: Vec::new(),
    };
    let names = bus_names(ws, bus_m.rows);
    let b = buses(&bus_m, names.as_deref(), &mut pr);
    let generators = generators(&gen_m, &b.index, &mut pr);
    let branches = branches(&br_m, &b.buses, &b.index, &mut pr);
    if !pr.list.is_empty() {
        return Err(Error::Invalid {
            source_name: path.display().to_string(),
            problems: pr.list,
        });
    }
    Ok(Network {
        name: name.to_string(),
        base_mva,
        buses: b.buses,
        loads: b.loads,
        shunts: b.shunts,
        branches,
        generators,
        bus_aliases: Vec::new(),
    })
}

/// The case format version (1 or 2) and the system base power.
fn base_mva(ws: &Workspace, path: &Path, version1: bool) -> Result<f64> {
    if let Some((Value::Str(v), line)) = ws.fields.get("version") {
        if v != "2" && v != "1" {
            return Err(Error::parse(
                path,
                *line,
                format!("unsupported MATPOWER case format version '{v}' (1 and 2 are supported)"),
            ));
        }
    }
    match field(ws, "baseMVA", version1) {
        Some((Value::Num(x), _)) if crate::network::BASE_MVA_RANGE.contains(x) => Ok(*x),
        Some((Value::Num(x), line)) => Err(Error::parse(
            path,
            *line,
            format!("baseMVA must be between 0.001 and 1e6, found {x:e}"),
        )),
        Some((_, line)) => Err(Error::parse(path, *line, "baseMVA must be a scalar number")),
        None => Err(Error::parse(path, 1, "the case defines no 'mpc.baseMVA'")),
    }
}

/// Bus names (`mpc.bus_name`), one per bus row, if the case has them.
fn bus_names(ws: &Workspace, rows: usize) -> Option<Vec<String>> {
    match ws.fields.get("bus_name") {
        // Control characters (a line break, a terminal escape) become spaces.
        Some((Value::Cell(v), _)) if v.len() == rows => Some(
            v.iter()
                .map(|n| {
                    n.chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect()
                })
                .collect::<Vec<String>>(),
        ),
        _ => None,
    }
}

/// Buses with their loads and shunts, and the bus index by number.
struct BusTable {
    buses: Vec<Bus>,
    loads: Vec<Load>,
    shunts: Vec<Shunt>,
    index: HashMap<u64, usize>,
}

fn buses(bus_m: &Matrix, names: Option<&[String]>, pr: &mut Problems) -> BusTable {
    let mut buses = Vec::with_capacity(bus_m.rows);
    let mut loads = Vec::new();
    let mut shunts = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    for r in 0..bus_m.rows {
        let g = |c: usize| bus_m.get(r, c);
        for (c, col) in BUS_COLS.iter().enumerate() {
            if !g(c).is_finite() {
                pr.at(
                    bus_m,
                    "bus",
                    r,
                    col,
                    format!("value {} is not finite", g(c)),
                );
            }
        }
        let id_f = g(0);
        let id = if id_f >= 1.0 && id_f.fract() == 0.0 && id_f < 1e15 {
            id_f as u64
        } else {
            pr.at(
                bus_m,
                "bus",
                r,
                "BUS_I",
                format!("bus number {id_f} is not a positive integer"),
            );
            continue;
        };
        if index.contains_key(&id) {
            pr.at(
                bus_m,
                "bus",
                r,
                "BUS_I",
                format!("duplicate bus number {id}"),
            );
            continue;
        }
        index.insert(id, buses.len());
        let kind = match g(1) {
            1.0 => BusKind::Pq,
            2.0 => BusKind::Pv,
            3.0 => BusKind::Ref,
            4.0 => BusKind::Isolated,
            x => {
                pr.at(
                    bus_m,
                    "bus",
                    r,
                    "BUS_TYPE",
                    format!("bus type {x} is not 1, 2, 3 or 4"),
                );
                BusKind::Pq
            }
        };
        let bi = buses.len();
        if g(2) != 0.0 || g(3) != 0.0 {
            loads.push(Load::constant_power(format!("load {id}"), bi, g(2), g(3)));
        }
        if g(4) != 0.0 || g(5) != 0.0 {
            shunts.push(Shunt {
                id: format!("shunt {id}"),
                bus: bi,
                g_mw: g(4),
                b_mvar: g(5),
            });
        }
        if g(7) <= 0.0 && kind != BusKind::Isolated {
            pr.at(
                bus_m,
                "bus",
                r,
                "VM",
                format!("initial voltage magnitude {} must be positive", g(7)),
            );
        }
        buses.push(Bus {
            id,
            name: names.as_ref().map(|n| n[r].trim().to_string()),
            kind,
            vm_pu: g(7),
            va_degree: g(8),
            base_kv: g(9),
            vmax_pu: g(11),
            vmin_pu: g(12),
            area: g(6),
            zone: g(10),
        });
    }
    BusTable {
        buses,
        loads,
        shunts,
        index,
    }
}

/// The bus index of bus number `x`, or a problem naming the table cell.
fn lookup(
    pr: &mut Problems,
    index: &HashMap<u64, usize>,
    m: &Matrix,
    table: &str,
    r: usize,
    col: &str,
    x: f64,
) -> Option<usize> {
    let found = if x >= 1.0 && x.fract() == 0.0 {
        index.get(&(x as u64)).copied()
    } else {
        None
    };
    if found.is_none() {
        pr.at(m, table, r, col, format!("bus {x} does not exist"));
    }
    found
}

fn generators(gen_m: &Matrix, index: &HashMap<u64, usize>, pr: &mut Problems) -> Vec<Generator> {
    let mut generators = Vec::with_capacity(gen_m.rows);
    for r in 0..gen_m.rows {
        let g = |c: usize| gen_m.get(r, c);
        for c in [1, 2, 5, 7] {
            if !g(c).is_finite() {
                pr.at(
                    gen_m,
                    "gen",
                    r,
                    GEN_COLS[c],
                    format!("value {} is not finite", g(c)),
                );
            }
        }
        for c in [0, 3, 4, 6, 8, 9] {
            if g(c).is_nan() {
                pr.at(gen_m, "gen", r, GEN_COLS[c], "value is NaN");
            }
        }
        let Some(bus) = lookup(pr, index, gen_m, "gen", r, "GEN_BUS", g(0)) else {
            continue;
        };
        let in_service = g(7) > 0.0;
        if in_service && g(5) <= 0.0 {
            pr.at(
                gen_m,
                "gen",
                r,
                "VG",
                format!("voltage setpoint {} must be positive", g(5)),
            );
        }
        let extra = (10..21)
            .map(|c| if c < gen_m.cols { g(c) } else { 0.0 })
            .collect();
        generators.push(Generator {
            bus,
            p_mw: g(1),
            q_mvar: g(2),
            qmax_mvar: g(3),
            qmin_mvar: g(4),
            vg_pu: g(5),
            mbase_mva: g(6),
            in_service,
            pmax_mw: g(8),
            pmin_mw: g(9),
            id: format!("gen {}", r + 1),
            extra,
            der: None,
        });
    }
    generators
}

fn branches(
    br_m: &Matrix,
    buses: &[Bus],
    index: &HashMap<u64, usize>,
    pr: &mut Problems,
) -> Vec<Branch> {
    let mut branches = Vec::with_capacity(br_m.rows);
    for r in 0..br_m.rows {
        let g = |c: usize| {
            if c < br_m.cols {
                br_m.get(r, c)
            } else if c == 11 {
                -360.0
            } else if c == 12 {
                360.0
            } else {
                0.0
            }
        };
        for (c, col) in BRANCH_COLS.iter().enumerate() {
            let ok = if (5..8).contains(&c) || c >= 11 {
                !g(c).is_nan()
            } else {
                g(c).is_finite()
            };
            if !ok {
                pr.at(
                    br_m,
                    "branch",
                    r,
                    col,
                    format!("value {} is not finite", g(c)),
                );
            }
        }
        let from = lookup(pr, index, br_m, "branch", r, "F_BUS", g(0));
        let to = lookup(pr, index, br_m, "branch", r, "T_BUS", g(1));
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        let in_service = g(10) > 0.0;
        if in_service && g(2).abs() + g(3).abs() < crate::network::MIN_IMPEDANCE_PU {
            pr.at(
                br_m,
                "branch",
                r,
                "BR_R/BR_X",
                format!(
                    "|r| + |x| = {:e} p.u. is below 1e-9 (an infinite admittance)",
                    g(2).abs() + g(3).abs()
                ),
            );
        }
        if in_service && from == to {
            pr.at(
                br_m,
                "branch",
                r,
                "T_BUS",
                "branch connects a bus to itself",
            );
        }
        let tap = g(8);
        if tap != 0.0 && !crate::network::TAP_RATIO_RANGE.contains(&tap) {
            pr.at(
                br_m,
                "branch",
                r,
                "TAP",
                format!("tap ratio {tap:e} must be 0 (none) or between 0.001 and 1000"),
            );
        }
        let transformer = tap != 0.0
            || g(9) != 0.0
            || per_unit_transformer(buses[from].base_kv, buses[to].base_kv);
        let pu = PerUnit {
            r_pu: g(2),
            x_pu: g(3),
            b_pu: g(4),
            g_pu: 0.0,
            tap_ratio: if tap == 0.0 { 1.0 } else { tap },
            shift_degree: g(9),
        };
        let kind = if transformer {
            BranchKind::Transformer(None)
        } else {
            BranchKind::Line(None)
        };
        let mut br = Branch::new(format!("branch {}", r + 1), kind, from, to, pu);
        br.rate_a_mva = g(5);
        br.rate_b_mva = g(6);
        br.rate_c_mva = g(7);
        br.in_service = in_service;
        br.angmin_degree = g(11);
        br.angmax_degree = g(12);
        branches.push(br);
    }
    branches
}

fn empty() -> Matrix {
    Matrix {
        rows: 0,
        cols: 0,
        data: Vec::new(),
        row_lines: Vec::new(),
    }
}
