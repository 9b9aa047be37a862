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
use super::rows::{Rows, RowsMut, Stored, COLUMN_TILE};
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
    /// MW and Mvar. In tiles of [`COLUMN_TILE`] columns, step by step, so
    /// that each profile is read in order and each step's tile written in
    /// one stretch. `load_vm_pu` (`n × network loads`, or empty when they
    /// draw constant power) holds the voltage at each network load's bus,
    /// which sets what its constant-current and constant-impedance shares
    /// draw.
    pub fn fill_load_rows(
        &self,
        t0: usize,
        n: usize,
        load_vm_pu: &[f64],
        p_mw: &mut Rows,
        q_mvar: &mut Rows,
    ) {
        let width = self.load_count();
        let steps = t0..t0 + n;
        let ones = vec![1.0; n];
        let (mut p_cols, mut q_cols) = (Vec::with_capacity(width), Vec::with_capacity(width));
        if self.books_network_loads() {
            for (j, l) in self.network.loads.iter().enumerate() {
                let zip = |rated| LoadColumn::Zip {
                    rated,
                    z: l.z_share,
                    i: l.i_share,
                    j,
                };
                p_cols.push(zip(l.p_mw));
                q_cols.push(zip(l.q_mvar));
            }
        }
        for e in self.elements.iter() {
            let sign = if e.kind == ElementKind::Sgen {
                -1.0
            } else {
                1.0
            };
            let scaled = |c: Option<usize>, rated: f64| match c {
                Some(c) => {
                    LoadColumn::Scaled(&self.profiles.series(c)[steps.clone()], sign * rated)
                }
                None => LoadColumn::Scaled(&ones, sign * rated),
            };
            p_cols.push(scaled(e.p_col, e.p_mw));
            q_cols.push(scaled(e.q_col, e.q_mvar));
        }
        for s in &self.synthetic_loads {
            let xs = &s.p_mw[steps.clone()];
            p_cols.push(LoadColumn::Scaled(xs, 1.0));
            q_cols.push(LoadColumn::Scaled(xs, s.tan_phi));
        }
        let nl = self.network.loads.len();
        fill_rows(p_mw, n, &p_cols, load_vm_pu, nl);
        fill_rows(q_mvar, n, &q_cols, load_vm_pu, nl);
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

/// Where a load column's values over a block come from.
enum LoadColumn<'a> {
    /// A factor times a series (one value per step of the block; ones for
    /// a constant).
    Scaled(&'a [f64], f64),
    /// A network load: its rated value × P0 · (p + i·|V| + z·|V|²) at the
    /// voltage of its bus (column `j` of the voltages); constant power
    /// without voltages.
    Zip {
        rated: f64,
        z: f64,
        i: f64,
        j: usize,
    },
}

impl LoadColumn<'_> {
    /// The value at step `k` of the block.
    #[inline]
    fn at(&self, k: usize, vm_pu: &[f64], nl: usize) -> f64 {
        match *self {
            LoadColumn::Scaled(xs, f) => f * xs[k],
            LoadColumn::Zip { rated, z, i, j } => {
                rated
                    * match vm_pu.get(k * nl + j) {
                        Some(&vm) => 1.0 - z - i + i * vm + z * vm * vm,
                        None => 1.0,
                    }
            }
        }
    }
}

/// Fills `rows` with `n` steps (`n × cols.len()`, row-major) from `cols`,
/// in the rows' precision.
fn fill_rows(rows: &mut Rows, n: usize, cols: &[LoadColumn], vm_pu: &[f64], nl: usize) {
    rows.refill(n * cols.len(), |out| match out {
        RowsMut::F64(out) => fill_stored(out, n, cols, vm_pu, nl),
        RowsMut::F32(out) => fill_stored(out, n, cols, vm_pu, nl),
    })
}

/// [`fill_rows`] into `rows` (`n × cols.len()` values), in tiles of
/// [`COLUMN_TILE`] columns step by step (series alone, the element table's
/// case, without a branch per value).
fn fill_stored<T: Stored>(rows: &mut [T], n: usize, cols: &[LoadColumn], vm_pu: &[f64], nl: usize) {
    let width = cols.len();
    let series: Option<Vec<(&[f64], f64)>> = cols
        .iter()
        .map(|c| match *c {
            LoadColumn::Scaled(xs, f) => Some((xs, f)),
            LoadColumn::Zip { .. } => None,
        })
        .collect();
    for j0 in (0..width).step_by(COLUMN_TILE) {
        let j1 = (j0 + COLUMN_TILE).min(width);
        for k in 0..n {
            let row = &mut rows[k * width + j0..k * width + j1];
            match &series {
                Some(s) => {
                    for (r, &(xs, f)) in row.iter_mut().zip(&s[j0..j1]) {
                        *r = T::stored(f * xs[k]);
                    }
                }
                None => {
                    for (r, c) in row.iter_mut().zip(&cols[j0..j1]) {
                        *r = T::stored(c.at(k, vm_pu, nl));
                    }
                }
            }
        }
    }
}
