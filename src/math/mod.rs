//! The math model: per-unit admittances, injections and bus types.
//!
//! Built once from a [`Network`]; time series change only the injections
//! ([`MathModel::set_injections`]), never the admittance matrix or the bus
//! types, so the solver's symbolic analysis stays valid.

pub mod ybus;

use crate::error::Result;
use crate::network::{Network, PerUnit};
use num_complex::Complex64;

pub use crate::network::topology::{self, BusType};
pub use ybus::{BranchAdmittance, CsrMatrix};

/// Per-unit model of a network, what the solvers see.
#[derive(Debug, Clone)]
pub struct MathModel {
    /// System base, MVA (to convert results back).
    pub base_mva: f64,
    /// Effective bus types (index = bus position in the network).
    pub bus_type: Vec<BusType>,
    /// Bus admittance matrix, p.u., with a structural diagonal for every
    /// non-isolated bus.
    pub ybus: CsrMatrix,
    /// Branch admittances (π model incl. tap and shift), per network branch.
    pub branches: Vec<BranchAdmittance>,
    /// Specified complex injection per bus, p.u. (generation − load).
    pub s_spec: Vec<Complex64>,
    /// Constant-power load per bus, p.u. (consumption positive).
    pub s_load: Vec<Complex64>,
    /// Constant-current load per bus at 1 p.u., p.u. (consumption ∝ |V|).
    /// Constant-impedance loads are part of Ybus.
    pub s_load_i: Vec<Complex64>,
    /// Constant-impedance load per bus at 1 p.u., p.u. (consumption ∝ |V|²;
    /// already in Ybus, kept to book what the loads draw).
    pub s_load_z: Vec<Complex64>,
    /// Initial voltage per bus (file values, with generator setpoints at PV/REF buses).
    pub v_init: Vec<Complex64>,
    /// Angle of the reference bus of each bus's island, radians (for flat starts).
    pub island_ref_angle: Vec<f64>,
    /// Buses solved as PV, in bus order.
    pub pv: Vec<usize>,
    /// Buses solved as PQ, in bus order.
    pub pq: Vec<usize>,
    /// Reference buses, in bus order.
    pub refs: Vec<usize>,
}

impl MathModel {
    /// Builds the math model of `net`.
    pub fn build(net: &Network) -> Result<MathModel> {
        let topo = topology::analyse(net)?;
        let (ybus, branches) = ybus::build(net, &topo.bus_type);
        let mut s_load_i = vec![Complex64::new(0.0, 0.0); net.buses.len()];
        let mut s_load_z = s_load_i.clone();
        for l in &net.loads {
            if topo.bus_type[l.bus] != BusType::Isolated {
                let s = Complex64::new(l.p_mw, l.q_mvar) / net.base_mva;
                s_load_i[l.bus] += s * l.i_share;
                s_load_z[l.bus] += s * l.z_share;
            }
        }
        let nb = net.buses.len();
        let mut v_init: Vec<Complex64> = net
            .buses
            .iter()
            .map(|b| Complex64::from_polar(b.vm_pu, b.va_degree.to_radians()))
            .collect();
        for g in net.generators.iter().filter(|g| g.in_service) {
            if matches!(topo.bus_type[g.bus], BusType::Pv | BusType::Ref) {
                let v = v_init[g.bus];
                v_init[g.bus] = Complex64::from_polar(g.vg_pu, v.arg());
            }
        }
        let mut model = MathModel {
            base_mva: net.base_mva,
            bus_type: topo.bus_type,
            ybus,
            branches,
            s_spec: vec![Complex64::new(0.0, 0.0); nb],
            s_load: vec![Complex64::new(0.0, 0.0); nb],
            s_load_i,
            s_load_z,
            v_init,
            island_ref_angle: topo.island_ref_angle,
            pv: Vec::new(),
            pq: Vec::new(),
            refs: Vec::new(),
        };
        for (i, t) in model.bus_type.iter().enumerate() {
            match t {
                BusType::Pv => model.pv.push(i),
                BusType::Pq => model.pq.push(i),
                BusType::Ref => model.refs.push(i),
                BusType::Isolated => {}
            }
        }
        let load: Vec<(usize, f64, f64)> = net
            .loads
            .iter()
            .map(|l| {
                let share = 1.0 - l.z_share - l.i_share;
                (l.bus, l.p_mw * share, l.q_mvar * share)
            })
            .collect();
        let gen: Vec<(usize, f64, f64)> = net
            .generators
            .iter()
            .filter(|g| g.in_service)
            .map(|g| (g.bus, g.p_mw, g.q_mvar))
            .collect();
        model.set_injections(&load, &gen);
        Ok(model)
    }

    /// Replaces all injections: `loads` and `gens` as `(bus, p_mw, q_mvar)`.
    /// Injections at isolated buses are ignored.
    pub fn set_injections(&mut self, loads: &[(usize, f64, f64)], gens: &[(usize, f64, f64)]) {
        let zero = Complex64::new(0.0, 0.0);
        self.s_load.iter_mut().for_each(|s| *s = zero);
        self.s_spec.iter_mut().for_each(|s| *s = zero);
        let base = self.base_mva;
        for &(bus, p, q) in loads {
            if self.bus_type[bus] != BusType::Isolated {
                self.s_load[bus] += Complex64::new(p, q) / base;
            }
        }
        for &(bus, p, q) in gens {
            if self.bus_type[bus] != BusType::Isolated {
                self.s_spec[bus] += Complex64::new(p, q) / base;
            }
        }
        for (s, l) in self.s_spec.iter_mut().zip(&self.s_load) {
            *s -= l;
        }
    }

    /// Changes the per-unit parameters of branch `k` of `net` (a tap
    /// move): recomputes the branch admittances and the Ybus values. The
    /// sparsity pattern is unchanged, so a solver's symbolic analysis stays
    /// valid; its next numeric factorization uses the new values.
    pub fn set_branch_per_unit(&mut self, net: &mut Network, k: usize, pu: PerUnit) {
        net.branches[k].set_per_unit(pu);
        let (y, b) = ybus::build(net, &self.bus_type);
        debug_assert_eq!(y.indices(), self.ybus.indices());
        self.ybus = y;
        self.branches = b;
    }

    /// Initial voltages for a flat start: |V| = 1 (generator setpoint at
    /// PV/REF buses), angle = the island's reference angle.
    pub fn flat_start(&self) -> Vec<Complex64> {
        (0..self.bus_type.len())
            .map(|i| match self.bus_type[i] {
                BusType::Isolated => self.v_init[i],
                BusType::Pq => Complex64::from_polar(1.0, self.island_ref_angle[i]),
                BusType::Pv => {
                    Complex64::from_polar(self.v_init[i].norm(), self.island_ref_angle[i])
                }
                BusType::Ref => self.v_init[i],
            })
            .collect()
    }
}
