//! A scenario grown to another year: its demand scaled by a load factor,
//! its PV by an adoption factor (what a region's trajectories ask of one
//! representative feeder).
//!
//! What "demand" is: the network's loads, the element table's consumers
//! (not storage) and the synthetic loads, except those that stand for a
//! heat or cooling site's heat pumps or chillers (their electricity follows
//! the site's demand, which the study fixes for every scenario). What "PV"
//! is: the scenario's weather-driven PV units (scenario `[[pv]]` and the
//! network's PV generators run by weather), availability and inverter
//! rating alike. Wind, CHP, storage and element-table generators are left
//! as they are.

use super::accounting::{CoolingSupply, HeatSupply};
use super::der::UnitState;
use super::runner::Scenario;
use crate::error::{Error, Result};
use std::sync::Arc;

/// How much a scenario grows: factors on its demand and its PV.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// Factor on every demand (1 = as in the file).
    pub load_factor: f64,
    /// Factor on every PV unit's size (1 = as in the file).
    pub pv_factor: f64,
}

impl Growth {
    /// No growth.
    pub const NONE: Growth = Growth {
        load_factor: 1.0,
        pv_factor: 1.0,
    };

    /// Checks both factors finite and not negative.
    pub fn check(&self, what: &str) -> Result<()> {
        for (name, v) in [
            ("load_factor", self.load_factor),
            ("pv_factor", self.pv_factor),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::Usage(format!(
                    "{what}: {name} must be a finite number ≥ 0, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// The synthetic loads that stand for heat pumps and electric chillers.
fn supply_loads(sc: &Scenario) -> Vec<usize> {
    let heat = sc.heat_sites.iter().filter_map(|h| match h.supply {
        HeatSupply::HeatPump { load } => Some(load),
        _ => None,
    });
    let cool = sc.cooling_sites.iter().filter_map(|c| match c.supply {
        CoolingSupply::Electric { load } => Some(load),
        _ => None,
    });
    heat.chain(cool).collect()
}

/// `sc` with its demand and PV scaled by `g` (name and everything else kept).
pub fn grown(sc: &Scenario, g: Growth) -> Result<Scenario> {
    g.check(&format!("scenario '{}'", sc.name))?;
    let mut out = sc.clone();
    if g.load_factor != 1.0 {
        let mut net = (*sc.network).clone();
        for l in &mut net.loads {
            l.p_mw *= g.load_factor;
            l.q_mvar *= g.load_factor;
        }
        out.network = Arc::new(net);
        let mut elements = (*sc.elements).clone();
        for e in elements
            .iter_mut()
            .filter(|e| e.kind == super::elements::ElementKind::Load)
        {
            e.p_mw *= g.load_factor;
            e.q_mvar *= g.load_factor;
        }
        out.elements = Arc::new(elements);
        let keep = supply_loads(sc);
        for (i, l) in out.synthetic_loads.iter_mut().enumerate() {
            if !keep.contains(&i) {
                l.p_mw.iter_mut().for_each(|p| *p *= g.load_factor);
            }
        }
    }
    if g.pv_factor != 1.0 {
        for u in &mut out.units {
            if let UnitState::Pv { avail, s_mva } = &mut u.state {
                avail.iter_mut().for_each(|a| *a *= g.pv_factor);
                *s_mva *= g.pv_factor;
            }
        }
    }
    Ok(out)
}
