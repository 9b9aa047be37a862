//! The loads of a scenario as result columns (`load/` in the results file).
//!
//! One column per element that draws or injects power without being a DER
//! unit, in the order the runner books them: the network's own loads (when
//! the scenario has no element table), the element table's rows (loads,
//! storage and static generators), then the synthetic loads. Every column
//! follows the load convention: power drawn from the grid is positive, so a
//! static generator's column is negative and the sum over the columns is
//! the elements' net demand.

use super::elements::ElementKind;
use super::runner::Scenario;

/// Ids, kinds and buses of a scenario's load columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadColumns {
    /// Element ids (the file's ids or names).
    pub id: Vec<String>,
    /// `load`, `storage` or `sgen`.
    pub kind: Vec<&'static str>,
    /// Bus ids of the network file.
    pub bus: Vec<u64>,
}

impl LoadColumns {
    fn push(&mut self, id: &str, kind: &'static str, bus: u64) {
        self.id.push(id.to_string());
        self.kind.push(kind);
        self.bus.push(bus);
    }
}

impl Scenario {
    /// Whether the network's own loads are booked (no element table).
    fn books_network_loads(&self) -> bool {
        self.elements.is_empty()
    }

    /// The scenario's load columns.
    pub fn load_columns(&self) -> LoadColumns {
        let buses = &self.network.buses;
        let mut c = LoadColumns::default();
        if self.books_network_loads() {
            for l in &self.network.loads {
                c.push(&l.id, "load", buses[l.bus].id);
            }
        }
        for e in self.elements.iter() {
            let kind = match e.kind {
                ElementKind::Load => "load",
                ElementKind::Storage => "storage",
                ElementKind::Sgen => "sgen",
            };
            c.push(&e.name, kind, buses[e.bus].id);
        }
        for s in &self.synthetic_loads {
            c.push(&s.name, "load", buses[s.bus].id);
        }
        c
    }

    /// Fills `p_mw` and `q_mvar` (`n × columns`, row-major) with the power
    /// every load column draws at steps `t0 .. t0 + n` (load convention),
    /// MW and Mvar. Column by column, so each profile is read in order.
    /// `load_vm_pu` (`n × network loads`, or empty when they draw constant
    /// power) holds the voltage at each network load's bus, which sets what
    /// its constant-current and constant-impedance shares draw.
    pub fn fill_load_rows(
        &self,
        t0: usize,
        n: usize,
        load_vm_pu: &[f64],
        p_mw: &mut Vec<f64>,
        q_mvar: &mut Vec<f64>,
    ) {
        let width = self.load_count();
        p_mw.clear();
        q_mvar.clear();
        p_mw.resize(n * width, 0.0);
        q_mvar.resize(n * width, 0.0);
        let steps = t0..t0 + n;
        let mut col = 0;
        if self.books_network_loads() {
            let nl = self.network.loads.len();
            for (j, l) in self.network.loads.iter().enumerate() {
                // ZIP: P0 · (p + i·|V| + z·|V|²); constant power without voltages.
                let factor = |k: usize| match load_vm_pu.get(k * nl + j) {
                    Some(&vm) => 1.0 - l.z_share - l.i_share + l.i_share * vm + l.z_share * vm * vm,
                    None => 1.0,
                };
                put_column(p_mw, width, col, (0..n).map(|k| l.p_mw * factor(k)));
                put_column(q_mvar, width, col, (0..n).map(|k| l.q_mvar * factor(k)));
                col += 1;
            }
        }
        for e in self.elements.iter() {
            let sign = if e.kind == ElementKind::Sgen {
                -1.0
            } else {
                1.0
            };
            let scaled = |c: Option<usize>, rated: f64, out: &mut Vec<f64>| match c {
                Some(c) => {
                    let xs = &self.profiles.series(c)[steps.clone()];
                    put_column(out, width, col, xs.iter().map(|x| sign * rated * x));
                }
                None => put_column(out, width, col, (0..n).map(|_| sign * rated)),
            };
            scaled(e.p_col, e.p_mw, p_mw);
            scaled(e.q_col, e.q_mvar, q_mvar);
            col += 1;
        }
        for s in &self.synthetic_loads {
            let xs = &s.p_mw[steps.clone()];
            put_column(p_mw, width, col, xs.iter().copied());
            put_column(q_mvar, width, col, xs.iter().map(|p| p * s.tan_phi));
            col += 1;
        }
    }

    /// Number of load columns.
    pub fn load_count(&self) -> usize {
        let own = if self.books_network_loads() {
            self.network.loads.len()
        } else {
            0
        };
        own + self.elements.len() + self.synthetic_loads.len()
    }
}

/// Writes `values` down column `col` of the row-major `rows` (`width` wide).
fn put_column(rows: &mut [f64], width: usize, col: usize, values: impl Iterator<Item = f64>) {
    for (row, v) in rows.chunks_exact_mut(width).zip(values) {
        row[col] = v;
    }
}
