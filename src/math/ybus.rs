//! Bus admittance matrix and branch admittances (MATPOWER's π model).
//!
//! The ideal transformer (ratio `t = tap · e^{j·shift}`) sits at the from
//! end; the shunt admittance `g + jb` (line charging, transformer
//! magnetizing branch) is split half to each end:
//! `Yff = (ys + (g + jb)/2)/|t|²`, `Yft = −ys/conj(t)`, `Ytf = −ys/t`,
//! `Ytt = ys + (g + jb)/2`. Bus shunts `GS + jBS` (MW/Mvar at 1 p.u.) are added on
//! the diagonal.

use crate::network::topology::{branch_active, BusType};
use crate::network::Network;
use num_complex::Complex64;
use sprs::{CsMat, TriMat};

/// Complex sparse matrix in compressed sparse row form.
pub type CsrMatrix = CsMat<Complex64>;

/// The four admittances of a branch and its terminals.
#[derive(Debug, Clone, Copy)]
pub struct BranchAdmittance {
    /// From bus index.
    pub from: usize,
    /// To bus index.
    pub to: usize,
    /// Whether the branch is part of the solved network.
    pub active: bool,
    /// Self admittance at the from end, p.u.
    pub yff: Complex64,
    /// Transfer admittance from→to, p.u.
    pub yft: Complex64,
    /// Transfer admittance to→from, p.u.
    pub ytf: Complex64,
    /// Self admittance at the to end, p.u.
    pub ytt: Complex64,
}

impl BranchAdmittance {
    /// Complex power injected into the branch at its from and to ends, p.u.
    pub fn flows(&self, v: &[Complex64]) -> (Complex64, Complex64) {
        if !self.active {
            let z = Complex64::new(0.0, 0.0);
            return (z, z);
        }
        let (vf, vt) = (v[self.from], v[self.to]);
        let sf = vf * (self.yff * vf + self.yft * vt).conj();
        let st = vt * (self.ytf * vf + self.ytt * vt).conj();
        (sf, st)
    }
}

/// Builds Ybus (CSR, sorted indices, a structural diagonal entry for every
/// non-isolated bus) and the per-branch admittances.
pub fn build(net: &Network, bus_type: &[BusType]) -> (CsrMatrix, Vec<BranchAdmittance>) {
    let nb = net.buses.len();
    let mut tri = TriMat::with_capacity((nb, nb), nb + 4 * net.branches.len());
    for (i, t) in bus_type.iter().enumerate() {
        if *t != BusType::Isolated {
            tri.add_triplet(i, i, Complex64::new(0.0, 0.0));
        }
    }
    for s in &net.shunts {
        if bus_type[s.bus] != BusType::Isolated {
            tri.add_triplet(
                s.bus,
                s.bus,
                Complex64::new(s.g_mw, s.b_mvar) / net.base_mva,
            );
        }
    }
    // Constant-impedance load shares are shunt admittances: S = |V|²·conj(y).
    for l in &net.loads {
        if l.z_share != 0.0 && bus_type[l.bus] != BusType::Isolated {
            tri.add_triplet(
                l.bus,
                l.bus,
                Complex64::new(l.p_mw, -l.q_mvar) * l.z_share / net.base_mva,
            );
        }
    }
    let mut branches = Vec::with_capacity(net.branches.len());
    for (k, br) in net.branches.iter().enumerate() {
        let active = branch_active(net, k);
        let zero = Complex64::new(0.0, 0.0);
        let mut ba = BranchAdmittance {
            from: br.from,
            to: br.to,
            active,
            yff: zero,
            yft: zero,
            ytf: zero,
            ytt: zero,
        };
        if active {
            let ys = Complex64::new(1.0, 0.0) / Complex64::new(br.r_pu, br.x_pu);
            let bc = Complex64::new(br.g_pu / 2.0, br.b_pu / 2.0);
            let t = Complex64::from_polar(br.tap_ratio, br.shift_degree.to_radians());
            ba.ytt = ys + bc;
            ba.yff = ba.ytt / (t * t.conj());
            ba.yft = -ys / t.conj();
            ba.ytf = -ys / t;
            tri.add_triplet(br.from, br.from, ba.yff);
            tri.add_triplet(br.from, br.to, ba.yft);
            tri.add_triplet(br.to, br.from, ba.ytf);
            tri.add_triplet(br.to, br.to, ba.ytt);
        }
        branches.push(ba);
    }
    // sprs keeps explicit zeros when summing duplicates and sorts indices.
    let y: CsrMatrix = tri.to_csr();
    (y, branches)
}
