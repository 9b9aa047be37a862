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

    /// Appends the power every load column draws at step `t` (load
    /// convention), MW and Mvar.
    pub fn push_load_values(&self, t: usize, p_mw: &mut Vec<f64>, q_mvar: &mut Vec<f64>) {
        if self.books_network_loads() {
            for l in &self.network.loads {
                p_mw.push(l.p_mw);
                q_mvar.push(l.q_mvar);
            }
        }
        for e in self.elements.iter() {
            let sign = if e.kind == ElementKind::Sgen {
                -1.0
            } else {
                1.0
            };
            p_mw.push(sign * e.p_at(&self.profiles, t));
            q_mvar.push(sign * e.q_at(&self.profiles, t));
        }
        for s in &self.synthetic_loads {
            let p = s.p_mw[t];
            p_mw.push(p);
            q_mvar.push(p * s.tan_phi);
        }
    }
}
