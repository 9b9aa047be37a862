//! Islands and effective bus types: which buses the solver sees as PQ,
//! PV, reference or isolated. A property of the physical network (its
//! connectivity and sources), used by the readers to reject a part of the
//! grid without a source and by [`crate::math`] to build the model.
//!
//! Follows MATPOWER's `bustypes`: a PV or REF bus without an in-service
//! generator is solved as PQ; an island without a reference bus takes its
//! first PV bus as reference. An island with neither is an error, as it
//! cannot be solved.

use crate::error::{Error, Result};
use crate::network::{BusKind, Network};

/// How the solver treats a bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusType {
    /// P and Q specified.
    Pq,
    /// P and |V| specified.
    Pv,
    /// |V| and angle specified; absorbs the island's mismatch.
    Ref,
    /// Not solved (type-4 bus).
    Isolated,
}

/// Result of [`analyse`].
#[derive(Debug, Clone)]
pub struct Topology {
    /// Effective type per bus.
    pub bus_type: Vec<BusType>,
    /// Island number per bus (`usize::MAX` for isolated buses).
    pub island: Vec<usize>,
    /// Angle of the island's (first) reference bus, radians, per bus.
    pub island_ref_angle: Vec<f64>,
    /// Number of islands.
    pub n_islands: usize,
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Whether branch `k` of `net` is part of the solved network.
pub fn branch_active(net: &Network, k: usize) -> bool {
    let br = &net.branches[k];
    br.in_service
        && net.buses[br.from].kind != BusKind::Isolated
        && net.buses[br.to].kind != BusKind::Isolated
}

/// Finds islands and effective bus types.
pub fn analyse(net: &Network) -> Result<Topology> {
    let nb = net.buses.len();
    let mut parent: Vec<usize> = (0..nb).collect();
    for k in 0..net.branches.len() {
        if branch_active(net, k) {
            let (a, b) = (net.branches[k].from, net.branches[k].to);
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut has_gen = vec![false; nb];
    for g in net.generators.iter().filter(|g| g.in_service) {
        has_gen[g.bus] = true;
    }
    let mut bus_type: Vec<BusType> = net
        .buses
        .iter()
        .enumerate()
        .map(|(i, b)| match b.kind {
            BusKind::Isolated => BusType::Isolated,
            BusKind::Ref if has_gen[i] => BusType::Ref,
            BusKind::Pv if has_gen[i] => BusType::Pv,
            _ => BusType::Pq,
        })
        .collect();

    // Number islands in order of their first bus.
    let mut island = vec![usize::MAX; nb];
    let mut root_to_island = vec![usize::MAX; nb];
    let mut n_islands = 0;
    for i in 0..nb {
        if bus_type[i] == BusType::Isolated {
            continue;
        }
        let r = find(&mut parent, i);
        if root_to_island[r] == usize::MAX {
            root_to_island[r] = n_islands;
            n_islands += 1;
        }
        island[i] = root_to_island[r];
    }
    let mut ref_bus = vec![usize::MAX; n_islands];
    let mut first_pv = vec![usize::MAX; n_islands];
    for i in 0..nb {
        let isl = island[i];
        if isl == usize::MAX {
            continue;
        }
        match bus_type[i] {
            BusType::Ref if ref_bus[isl] == usize::MAX => ref_bus[isl] = i,
            BusType::Pv if first_pv[isl] == usize::MAX => first_pv[isl] = i,
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for isl in 0..n_islands {
        if ref_bus[isl] == usize::MAX {
            if first_pv[isl] != usize::MAX {
                ref_bus[isl] = first_pv[isl];
                bus_type[first_pv[isl]] = BusType::Ref;
            } else {
                let members: Vec<String> = (0..nb)
                    .filter(|&i| island[i] == isl)
                    .take(10)
                    .map(|i| match &net.buses[i].name {
                        Some(n) => format!("'{n}'"),
                        None => net.buses[i].id.to_string(),
                    })
                    .collect();
                let count = island.iter().filter(|&&x| x == isl).count();
                problems.push(format!(
                    "island of {count} bus{} ({}{}) has no reference bus and no in-service generator at a PV bus; \
                     give it a generator at a type-3 bus, connect it, or mark its buses isolated (type 4)",
                    if count == 1 { "" } else { "es" },
                    members.join(", "),
                    if count > 10 { ", ..." } else { "" }
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid {
            source_name: net.name.clone(),
            problems,
        });
    }
    let island_ref_angle = (0..nb)
        .map(|i| {
            if island[i] == usize::MAX {
                0.0
            } else {
                net.buses[ref_bus[island[i]]].va_degree.to_radians()
            }
        })
        .collect();
    Ok(Topology {
        bus_type,
        island,
        island_ref_angle,
        n_islands,
    })
}
