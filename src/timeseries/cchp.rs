//! The cooling side of a CCHP (trigeneration) unit: its absorption
//! chiller, cold store and the site's backup electric chillers.
//!
//! Each step the unit's dispatch asks [`CchpCooling::request`] how much
//! driving heat the absorption chiller wants: enough for the site's cooling
//! demand up to the chiller's capacity at the outdoor temperature, and how
//! much more it could turn into cold for the store. Heating has priority
//! on the hot side (CHP heat, then the buffer; the backup boiler serves
//! heating only); the absorption chiller takes what follows, then the
//! buffer fills, then spare heat charges the cold store through the
//! chiller's spare capacity. [`CchpCooling::serve`] then covers the site:
//! absorption cooling, then the cold store, then the electric chillers,
//! whose electricity is a load at the site's bus.

use super::cooling::{AbsorptionChiller, ElectricChiller};
use super::der::UnitOutput;

/// The cooling a CCHP unit serves, with its machines and store.
#[derive(Debug, Clone)]
pub struct CchpCooling {
    /// Cooling demand per step, MW.
    pub demand_mw: Vec<f64>,
    /// Outdoor temperature per step, °C.
    pub t_out_c: Vec<f64>,
    /// The absorption chiller.
    pub absorption: AbsorptionChiller,
    /// The site's electric chillers (backup).
    pub chiller: ElectricChiller,
    /// Bus index of the electric chillers.
    pub chiller_bus: usize,
    /// tan φ of the electric chillers.
    pub chiller_tan_phi: f64,
    /// Cold store capacity, MWh.
    pub store_cap_mwh: f64,
    /// Cold store content, MWh.
    pub store_mwh: f64,
}

/// What the absorption chiller asks of the hot side at one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CoolingRequest {
    /// The site's cooling demand, MW.
    pub demand_mw: f64,
    /// The part of it the absorption chiller can make, MW.
    pub target_mw: f64,
    /// Driving heat for `target_mw`, MW_th.
    pub heat_mw: f64,
    /// Driving heat that would also fill the cold store through the
    /// chiller's spare capacity, MW_th.
    pub store_heat_room_mw: f64,
}

impl CchpCooling {
    /// The request at step `t` of `dt` hours.
    pub fn request(&self, t: usize, dt: f64) -> CoolingRequest {
        let demand_mw = self.demand_mw[t];
        let capacity = self.absorption.capacity_mw(self.t_out_c[t]);
        let target_mw = demand_mw.min(capacity);
        let heat_mw = self.absorption.heat_for(target_mw);
        let spare = (capacity - target_mw).min((self.store_cap_mwh - self.store_mwh) / dt);
        let store_heat_room_mw = if spare > 0.0 {
            self.absorption.heat_for(target_mw + spare) - heat_mw
        } else {
            0.0
        };
        CoolingRequest {
            demand_mw,
            target_mw,
            heat_mw,
            store_heat_room_mw,
        }
    }

    /// Serves step `t` with `heat_mw` of driving heat for the site (at most
    /// the request's) and `store_heat_mw` more for the cold store; fills
    /// the cooling fields of `out`.
    pub fn serve(
        &mut self,
        t: usize,
        dt: f64,
        heat_mw: f64,
        store_heat_mw: f64,
        out: &mut UnitOutput,
    ) {
        let demand = self.demand_mw[t];
        let made = self.absorption.cooling_of(heat_mw + store_heat_mw);
        let to_site = made.min(demand);
        let charge = made - to_site;
        let short = demand - to_site;
        let from_store = short.min(self.store_mwh / dt);
        self.store_mwh =
            (self.store_mwh + (charge - from_store) * dt).clamp(0.0, self.store_cap_mwh);
        let electric = short - from_store;
        let p = electric / self.chiller.cop(self.t_out_c[t]);
        out.cooling_demand_mw = demand;
        out.absorption_cooling_mw = made;
        out.absorption_heat_mw = heat_mw + store_heat_mw;
        out.electric_cooling_mw = electric;
        out.chiller_p_mw = p;
        out.chiller_q_mvar = p * self.chiller_tan_phi;
        out.chiller_bus = self.chiller_bus;
        out.cold_storage_mwh = self.store_mwh;
    }
}
