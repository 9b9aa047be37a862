//! Conversion of a parsed native file to the physical model ([`Network`]).
//!
//! A [`Builder`] walks the element tables in a fixed order — buses (with
//! closed bus-bus switches fused), switches, lines, transformers,
//! regulators, per-unit branches, loads and shunts, sources — each kind in
//! its own method. Every problem is collected with the element's id, field
//! and (for a file on disk) line; nothing is built when there is one.

use super::line_types::{LineType, LineTypeLibrary};
use super::*;
use crate::error::{Error, Result};
use crate::network::components::per_unit_transformer;
use crate::network::components::transformer::Equivalent;
use crate::network::{
    Branch, BranchKind, Bus, BusKind, DerSource, Generator, LineData, Load, Network, PerUnit,
    RegulatorData, Shunt, TapChanger, TapKind, TapSide, TransformerData,
};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use toml::Spanned;

/// Where a parsed network came from, for error messages.
pub struct Source<'a> {
    /// What to call it (a path, or a path and the edits applied to it).
    pub name: String,
    /// Its text, when the spans of the parsed file point into it (a file
    /// as read); `None` for an edited network, whose errors name the
    /// element and field but no line.
    pub text: Option<&'a str>,
}

impl<'a> Source<'a> {
    /// A file on disk as read.
    pub fn file(path: &Path, text: &'a str) -> Source<'a> {
        Source {
            name: path.display().to_string(),
            text: Some(text),
        }
    }

    /// `kind 'id': field: msg`, prefixed with the name and the line.
    fn at(
        &self,
        id: &Spanned<String>,
        kind: &str,
        field: &str,
        msg: impl std::fmt::Display,
    ) -> String {
        let place = match self.text {
            Some(t) => {
                let line = t[..id.span().start.min(t.len())].matches('\n').count() + 1;
                format!("{}:{line}", self.name)
            }
            None => self.name.clone(),
        };
        format!("{place}: {kind} '{}': {field}: {msg}", id.get_ref())
    }
}

/// Converts a parsed file to a [`Network`]; collects all problems.
pub fn to_network(f: &NetworkFile, lib: &LineTypeLibrary, src: &Source) -> Result<Network> {
    let mut b = Builder::new(f, lib, src);
    b.header();
    b.buses();
    b.switches();
    b.representatives();
    b.lines();
    b.transformers();
    b.regulators();
    b.per_unit_branches();
    b.switch_branches();
    b.loads_and_shunts();
    b.sources();
    b.finish()
}

/// The state of one conversion.
struct Builder<'a> {
    f: &'a NetworkFile,
    lib: &'a LineTypeLibrary,
    src: &'a Source<'a>,
    problems: Vec<String>,
    base_mva: f64,
    /// File bus index by id.
    bus_idx: HashMap<&'a str, usize>,
    /// Union-find parents of file buses (closed bus-bus switches).
    parent: Vec<usize>,
    /// Network bus index per file bus.
    rep_index: Vec<usize>,
    /// Fused-away bus ids with the bus they became.
    aliases: Vec<(String, usize)>,
    /// Ids seen per kind (transformers and regulators share one space).
    ids_seen: HashMap<&'static str, HashSet<String>>,
    /// Open line ends (line index, 0 = from, 1 = to).
    line_open: HashSet<(usize, usize)>,
    /// Transformers (and regulators, by id) switched off by an open switch.
    /// Transformer (and regulator) ends opened by a switch, by id:
    /// `[from/HV open, to/LV open]`.
    trafo_open: HashMap<&'a str, [bool; 2]>,
    /// The transformers' equivalent circuit (`transformer_model`).
    equivalent: Equivalent,
    /// Closed bus-bus switches with an impedance (file bus indices).
    switch_impedances: Vec<(&'a SwitchSpec, usize, usize)>,
    buses: Vec<Bus>,
    branches: Vec<Branch>,
    loads: Vec<Load>,
    shunts: Vec<Shunt>,
    gens: Vec<Generator>,
}

fn root(p: &mut [usize], mut x: usize) -> usize {
    while p[x] != x {
        p[x] = p[p[x]];
        x = p[x];
    }
    x
}

fn positive(v: f64) -> bool {
    v > 0.0 && v.is_finite()
}

impl<'a> Builder<'a> {
    fn new(f: &'a NetworkFile, lib: &'a LineTypeLibrary, src: &'a Source<'a>) -> Builder<'a> {
        Builder {
            f,
            lib,
            src,
            problems: Vec::new(),
            base_mva: f.network.base_mva,
            bus_idx: HashMap::new(),
            parent: (0..f.bus.len()).collect(),
            rep_index: vec![usize::MAX; f.bus.len()],
            aliases: Vec::new(),
            ids_seen: HashMap::new(),
            line_open: HashSet::new(),
            trafo_open: HashMap::new(),
            equivalent: Equivalent::Pi,
            switch_impedances: Vec::new(),
            buses: Vec::new(),
            branches: Vec::new(),
            loads: Vec::new(),
            shunts: Vec::new(),
            gens: Vec::new(),
        }
    }

    fn push(&mut self, id: &Spanned<String>, kind: &str, field: &str, msg: impl std::fmt::Display) {
        let m = self.src.at(id, kind, field, msg);
        self.problems.push(m);
    }

    fn general(&mut self, msg: impl std::fmt::Display) {
        self.problems.push(format!("{}: {msg}", self.src.name));
    }

    /// Records an id; a second element of the same kind with it is a
    /// problem, and so is an id that is empty, longer than 200 characters
    /// or holds control characters (a line break would break the files
    /// written from it, an escape sequence the terminal showing it).
    fn check_id(&mut self, kind: &'static str, id: &Spanned<String>) {
        let text = id.get_ref();
        if text.is_empty() || text.chars().count() > 200 || text.chars().any(char::is_control) {
            let shown = crate::input::excerpt(text);
            self.push(
                id,
                kind,
                "id",
                format!("'{shown}' is not an id (1 to 200 characters, no control characters)"),
            );
        }
        let space = if kind == "regulator" {
            "transformer"
        } else {
            kind
        };
        if !self
            .ids_seen
            .entry(space)
            .or_default()
            .insert(id.get_ref().clone())
        {
            self.push(id, kind, "id", format!("duplicate {space} id"));
        }
    }

    /// Checks that `v` is finite (every number a user sets is).
    fn finite(&mut self, id: &Spanned<String>, kind: &str, field: &str, v: f64) -> bool {
        if !v.is_finite() {
            self.push(
                id,
                kind,
                field,
                format!("must be a finite number, found {v}"),
            );
        }
        v.is_finite()
    }

    /// The file bus index of `bus`, or a problem naming the field.
    fn bus_ref(
        &mut self,
        id: &Spanned<String>,
        kind: &str,
        field: &str,
        bus: &str,
    ) -> Option<usize> {
        let r = self.bus_idx.get(bus).copied();
        if r.is_none() {
            self.push(id, kind, field, format!("unknown bus '{bus}'"));
        }
        r
    }

    /// The network bus index of `bus`, or a problem naming the field.
    fn net_bus(
        &mut self,
        id: &Spanned<String>,
        kind: &str,
        field: &str,
        bus: &str,
    ) -> Option<usize> {
        self.bus_ref(id, kind, field, bus)
            .map(|i| self.rep_index[i])
    }

    fn vn_kv(&self, bus: &str) -> f64 {
        self.f.bus[self.bus_idx[bus]].vn_kv
    }

    fn header(&mut self) {
        let h = &self.f.network;
        if !crate::network::BASE_MVA_RANGE.contains(&h.base_mva) {
            self.general(format!(
                "network: base_mva must be between 0.001 and 1e6, found {:e}",
                h.base_mva
            ));
        }
        self.equivalent = match h.transformer_model.as_str() {
            "t" => Equivalent::T,
            "pi" => Equivalent::Pi,
            other => {
                self.general(format!(
                    "network: transformer_model '{}' is neither \"t\" nor \"pi\"",
                    crate::input::excerpt(other)
                ));
                Equivalent::Pi
            }
        };
        if !(1.0..=1000.0).contains(&h.frequency_hz) {
            self.general(format!(
                "network: frequency_hz must be between 1 and 1000, found {}",
                h.frequency_hz
            ));
        }
        if self.f.bus.is_empty() {
            self.general("the network has no buses");
        }
        if self.f.ext_grid.is_empty() && !self.f.generator.iter().any(|g| g.vm_pu.is_some()) {
            self.general(
                "the network has no source: add an [[ext_grid]] (or a generator with vm_pu)",
            );
        }
    }

    fn buses(&mut self) {
        for (i, b) in self.f.bus.iter().enumerate() {
            self.check_id("bus", &b.id);
            self.bus_idx.entry(b.id.get_ref().as_str()).or_insert(i);
            if !(b.vn_kv >= 0.0 && b.vn_kv.is_finite()) {
                self.push(
                    &b.id,
                    "bus",
                    "vn_kv",
                    format!("must be a non-negative number, found {}", b.vn_kv),
                );
            }
            for (v, field) in [(b.vmin_pu, "vmin_pu"), (b.vmax_pu, "vmax_pu")] {
                if let Some(v) = v {
                    if !(v > 0.0 && v < 2.0) {
                        self.push(
                            &b.id,
                            "bus",
                            field,
                            format!("must be between 0 and 2 p.u., found {v}"),
                        );
                    }
                }
            }
        }
    }

    fn switches(&mut self) {
        let f = self.f;
        let line_idx: HashMap<&str, usize> = f
            .line
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id.get_ref().as_str(), i))
            .collect();
        for s in &f.switch {
            self.check_id("switch", &s.id);
            let Some(b) = self.bus_ref(&s.id, "switch", "bus", &s.bus) else {
                continue;
            };
            let targets = [
                s.line.is_some(),
                s.transformer.is_some(),
                s.to_bus.is_some(),
            ];
            if targets.iter().filter(|x| **x).count() != 1 {
                self.push(
                    &s.id,
                    "switch",
                    "line/transformer/to_bus",
                    "give exactly one of them",
                );
                continue;
            }
            if let Some(l) = &s.line {
                let Some(&li) = line_idx.get(l.as_str()) else {
                    self.push(&s.id, "switch", "line", format!("unknown line '{l}'"));
                    continue;
                };
                let ln = &f.line[li];
                let end = if ln.from == s.bus {
                    0
                } else if ln.to == s.bus {
                    1
                } else {
                    self.push(
                        &s.id,
                        "switch",
                        "bus",
                        format!("line '{l}' does not end at bus '{}'", s.bus),
                    );
                    continue;
                };
                if !s.closed {
                    self.line_open.insert((li, end));
                }
            } else if let Some(t) = &s.transformer {
                let ends = f
                    .transformer
                    .iter()
                    .find(|x| x.id.get_ref() == t)
                    .map(|x| [x.hv_bus.as_str(), x.lv_bus.as_str()])
                    .or_else(|| {
                        f.regulator
                            .iter()
                            .find(|x| x.id.get_ref() == t)
                            .map(|x| [x.from.as_str(), x.to.as_str()])
                    });
                let Some(ends) = ends else {
                    let msg = format!("unknown transformer '{t}'");
                    self.push(&s.id, "switch", "transformer", msg);
                    continue;
                };
                let Some(end) = ends.iter().position(|b| *b == s.bus) else {
                    let msg = format!("transformer '{t}' does not end at bus '{}'", s.bus);
                    self.push(&s.id, "switch", "bus", msg);
                    continue;
                };
                if !s.closed {
                    self.trafo_open.entry(t.as_str()).or_default()[end] = true;
                }
            } else if let Some(tb) = &s.to_bus {
                let Some(b2) = self.bus_ref(&s.id, "switch", "to_bus", tb) else {
                    continue;
                };
                if !(s.z_ohm >= 0.0 && s.z_ohm.is_finite()) {
                    let msg = format!("must be zero or positive, found {}", s.z_ohm);
                    self.push(&s.id, "switch", "z_ohm", msg);
                    continue;
                }
                if s.closed && s.z_ohm > 0.0 {
                    self.switch_impedances.push((s, b, b2));
                } else if s.closed {
                    let (ra, rb) = (root(&mut self.parent, b), root(&mut self.parent, b2));
                    if ra != rb {
                        self.parent[ra.max(rb)] = ra.min(rb);
                    }
                    if (f.bus[b].vn_kv - f.bus[b2].vn_kv).abs() > 1e-9 * f.bus[b].vn_kv.max(1.0) {
                        self.push(
                            &s.id,
                            "switch",
                            "to_bus",
                            "couples buses of different nominal voltage",
                        );
                    }
                }
            }
        }
    }

    /// One network bus per group of fused file buses (the first in file
    /// order represents it).
    fn representatives(&mut self) {
        let nb0 = self.f.bus.len();
        for i in 0..nb0 {
            if root(&mut self.parent, i) == i {
                self.rep_index[i] = self.buses.len();
                let b = &self.f.bus[i];
                self.buses.push(Bus {
                    id: self.buses.len() as u64 + 1,
                    name: Some(b.id.get_ref().clone()),
                    kind: if b.in_service {
                        BusKind::Pq
                    } else {
                        BusKind::Isolated
                    },
                    vm_pu: 1.0,
                    va_degree: 0.0,
                    base_kv: b.vn_kv,
                    vmax_pu: b.vmax_pu.unwrap_or(1.1),
                    vmin_pu: b.vmin_pu.unwrap_or(0.9),
                    area: 1.0,
                    zone: 1.0,
                });
            }
        }
        for i in 0..nb0 {
            let r = root(&mut self.parent, i);
            self.rep_index[i] = self.rep_index[r];
            if r != i {
                let alias = self.f.bus[i].id.get_ref().clone();
                self.aliases.push((alias, self.rep_index[i]));
            }
        }
    }

    /// The electrical data of a line: its type from the library, or its own r/x/c.
    fn line_type(&mut self, l: &LineSpec) -> Option<LineType> {
        let explicit = l.r_ohm_per_km.is_some() || l.x_ohm_per_km.is_some();
        match (&l.line_type, explicit) {
            (Some(_), true) => {
                self.push(
                    &l.id,
                    "line",
                    "type",
                    "give a line type or r/x/c per km, not both",
                );
                None
            }
            (Some(name), false) => {
                let t = self.lib.get(name).cloned();
                if t.is_none() {
                    let hint = self.lib.suggest(name);
                    self.push(
                        &l.id,
                        "line",
                        "type",
                        format!("unknown line type '{name}'{hint}"),
                    );
                }
                t
            }
            (None, true) => match (l.r_ohm_per_km, l.x_ohm_per_km) {
                (Some(r), Some(x)) => Some(LineType {
                    r_ohm_per_km: r,
                    x_ohm_per_km: x,
                    c_nf_per_km: l.c_nf_per_km.unwrap_or(0.0),
                    max_i_ka: l.max_i_ka.unwrap_or(0.0),
                    kind: "unknown".into(),
                    source: None,
                }),
                _ => {
                    self.push(
                        &l.id,
                        "line",
                        "r_ohm_per_km/x_ohm_per_km",
                        "both are needed",
                    );
                    None
                }
            },
            (None, false) => {
                self.push(
                    &l.id,
                    "line",
                    "type",
                    "a line needs a type or r_ohm_per_km and x_ohm_per_km",
                );
                None
            }
        }
    }

    /// An auxiliary bus at the open end of a line (energized from the other end).
    fn open_end_bus(&mut self, line_id: &str, vn_kv: f64) -> usize {
        self.buses.push(Bus {
            id: self.buses.len() as u64 + 1,
            name: Some(format!("{line_id}:open-end")),
            kind: BusKind::Pq,
            vm_pu: 1.0,
            va_degree: 0.0,
            base_kv: vn_kv,
            vmax_pu: 1.1,
            vmin_pu: 0.9,
            area: 1.0,
            zone: 1.0,
        });
        self.buses.len() - 1
    }

    fn lines(&mut self) {
        for (li, l) in self.f.line.iter().enumerate() {
            self.check_id("line", &l.id);
            if let Some(br) = self.line(li, l) {
                self.branches.push(br);
            }
        }
    }

    fn line(&mut self, li: usize, l: &LineSpec) -> Option<Branch> {
        let fb = self.net_bus(&l.id, "line", "from", &l.from);
        let tb = self.net_bus(&l.id, "line", "to", &l.to);
        if !positive(l.length_km) {
            self.push(
                &l.id,
                "line",
                "length_km",
                format!("must be positive, found {}", l.length_km),
            );
        }
        if !(1..=1000).contains(&l.parallel) {
            let msg = format!("must be 1 to 1000, found {}", l.parallel);
            self.push(&l.id, "line", "parallel", msg);
        }
        let t = self.line_type(l);
        let (fb, tb, t) = (fb?, tb?, t?);
        let vn = self.vn_kv(&l.from);
        let vn_to = self.vn_kv(&l.to);
        if (vn - vn_to).abs() > 1e-9 * vn.max(1.0) {
            self.push(&l.id, "line", "to", format!(
                "connects buses of different nominal voltage ({vn} kV and {vn_to} kV); use a transformer"
            ));
            return None;
        }
        if !(vn > 0.0) {
            self.push(
                &l.id,
                "line",
                "from",
                "bus nominal voltage must be positive for a line in ohms",
            );
            return None;
        }
        let numbers = [t.r_ohm_per_km, t.x_ohm_per_km, t.c_nf_per_km, t.max_i_ka];
        if numbers.iter().any(|v| !v.is_finite())
            || t.r_ohm_per_km < 0.0
            || t.c_nf_per_km < 0.0
            || t.max_i_ka < 0.0
        {
            self.push(&l.id, "line", "r/x/c/max_i_ka", format!(
                "must be finite, and resistance, capacitance and ampacity not negative (found {}, {}, {}, {})",
                t.r_ohm_per_km, t.x_ohm_per_km, t.c_nf_per_km, t.max_i_ka
            ));
            return None;
        }
        if t.r_ohm_per_km == 0.0 && t.x_ohm_per_km == 0.0 {
            self.push(&l.id, "line", "r/x", "zero impedance; use a bus-bus switch");
            return None;
        }
        if !(l.g_us_per_km >= 0.0 && l.g_us_per_km.is_finite()) {
            let msg = format!("must be a non-negative number, found {}", l.g_us_per_km);
            self.push(&l.id, "line", "g_us_per_km", msg);
            return None;
        }
        if !(l.df > 0.0 && l.df <= 1.0) {
            self.push(
                &l.id,
                "line",
                "df",
                format!("must be in (0, 1], found {}", l.df),
            );
            return None;
        }
        let data = LineData {
            length_km: l.length_km,
            parallel: l.parallel.max(1),
            max_i_ka: t.max_i_ka,
            r_ohm_per_km: t.r_ohm_per_km,
            x_ohm_per_km: t.x_ohm_per_km,
            c_nf_per_km: t.c_nf_per_km,
            g_us_per_km: l.g_us_per_km,
            df: l.df,
            line_type: l.line_type.clone(),
        };
        let w = 2.0 * std::f64::consts::PI * self.f.network.frequency_hz;
        let pu = data.per_unit(vn, self.base_mva, w);
        let rate_a_mva = 3f64.sqrt() * vn * data.rated_i_ka();
        let open_from = self.line_open.contains(&(li, 0));
        let open_to = self.line_open.contains(&(li, 1));
        let in_service = l.in_service && !(open_from && open_to);
        let from = if in_service && open_from {
            self.open_end_bus(l.id.get_ref(), vn)
        } else {
            fb
        };
        let to = if in_service && open_to {
            self.open_end_bus(l.id.get_ref(), vn)
        } else {
            tb
        };
        let mut br = Branch::new(
            l.id.get_ref().clone(),
            BranchKind::Line(Some(data)),
            from,
            to,
            pu,
        );
        br.rate_a_mva = rate_a_mva;
        br.in_service = in_service;
        Some(br)
    }

    /// A transformer with a switch open at one end stays energized from
    /// the other (an auxiliary bus at the open end, as pandapower does: its
    /// magnetizing losses remain); open at both ends it is out of service.
    fn open_ends(&mut self, br: &mut Branch, in_service: bool, (vf, vt): (f64, f64)) {
        let open = self
            .trafo_open
            .get(br.id.as_str())
            .copied()
            .unwrap_or_default();
        br.in_service = in_service && !(open[0] && open[1]);
        if br.in_service && open[0] {
            br.from = self.open_end_bus(&br.id, vf);
        }
        if br.in_service && open[1] {
            br.to = self.open_end_bus(&br.id, vt);
        }
    }

    fn transformers(&mut self) {
        for t in &self.f.transformer {
            self.check_id("transformer", &t.id);
            if let Some(br) = self.transformer(t) {
                self.branches.push(br);
            }
        }
    }

    /// Checks a tap changer's position, range and step.
    /// A transformer's `tap_changer_type` (None after a problem).
    fn tap_kind(&mut self, t: &TransformerSpec) -> Option<TapKind> {
        match t.tap_changer_type.as_deref() {
            None | Some("ratio") => Some(TapKind::Ratio),
            Some("ideal") => Some(TapKind::Ideal),
            Some(other) => {
                self.push(
                    &t.id,
                    "transformer",
                    "tap_changer_type",
                    format!("'{other}' is neither 'ratio' nor 'ideal'"),
                );
                None
            }
        }
    }

    fn tap_changer(&mut self, id: &Spanned<String>, kind: &str, tap: &TapChanger) -> bool {
        let mut ok = self.finite(id, kind, "tap_step_percent", tap.step_percent);
        for (field, v) in [
            ("tap_pos", tap.pos),
            ("tap_neutral", tap.neutral),
            ("tap_min", tap.min),
            ("tap_max", tap.max),
            ("tap_step_degree", tap.step_degree),
        ] {
            ok &= self.finite(id, kind, field, v);
        }
        if tap.step_degree.abs() >= 90.0 {
            self.push(
                id,
                kind,
                "tap_step_degree",
                format!("must be below 90°, found {}", tap.step_degree),
            );
            ok = false;
        }
        let ideal_by_percent = tap.kind == TapKind::Ideal && tap.step_degree == 0.0;
        let reach = [tap.min, tap.max, tap.pos]
            .iter()
            .map(|p| ((p - tap.neutral) * tap.step_percent / 200.0).abs())
            .fold(0.0, f64::max);
        if ok && ideal_by_percent && reach > 1.0 {
            self.push(
                id,
                kind,
                "tap_step_percent",
                "an ideal phase shifter's range exceeds 180°",
            );
            ok = false;
        }
        if tap.step_percent.abs() >= 50.0 {
            self.push(
                id,
                kind,
                "tap_step_percent",
                format!("must be below 50 %, found {}", tap.step_percent),
            );
            ok = false;
        }
        if tap.min > tap.max || (tap.min != tap.max && !(tap.min..=tap.max).contains(&tap.pos)) {
            self.push(
                id,
                kind,
                "tap_pos",
                format!("{} outside [{}, {}]", tap.pos, tap.min, tap.max),
            );
            ok = false;
        }
        let extreme = [tap.min, tap.max, tap.pos]
            .iter()
            .map(|p| 1.0 + (p - tap.neutral) * tap.step_percent / 100.0)
            .fold(f64::INFINITY, f64::min);
        if ok && !(extreme > 0.0) {
            self.push(
                id,
                kind,
                "tap_step_percent",
                "the tap range reaches a ratio of zero or below",
            );
            ok = false;
        }
        ok
    }

    fn transformer(&mut self, t: &TransformerSpec) -> Option<Branch> {
        let hb = self.net_bus(&t.id, "transformer", "hv_bus", &t.hv_bus);
        let lb = self.net_bus(&t.id, "transformer", "lv_bus", &t.lv_bus);
        let mut ok = true;
        for (v, field) in [
            (t.sn_mva, "sn_mva"),
            (t.vn_hv_kv, "vn_hv_kv"),
            (t.vn_lv_kv, "vn_lv_kv"),
            (t.vk_percent, "vk_percent"),
        ] {
            if !positive(v) {
                self.push(
                    &t.id,
                    "transformer",
                    field,
                    format!("must be positive, found {v}"),
                );
                ok = false;
            }
        }
        if !(t.vkr_percent >= 0.0 && t.vkr_percent <= t.vk_percent) {
            self.push(
                &t.id,
                "transformer",
                "vkr_percent",
                format!("must be between 0 and vk_percent, found {}", t.vkr_percent),
            );
            ok = false;
        }
        if !((0.0..f64::INFINITY).contains(&t.pfe_kw)
            && (0.0..f64::INFINITY).contains(&t.i0_percent))
        {
            self.push(
                &t.id,
                "transformer",
                "pfe_kw/i0_percent",
                "must be finite and not negative",
            );
            ok = false;
        }
        let side = match t.tap_side.as_str() {
            "hv" => TapSide::Hv,
            "lv" => TapSide::Lv,
            other => {
                self.push(
                    &t.id,
                    "transformer",
                    "tap_side",
                    format!("'{other}' is neither 'hv' nor 'lv'"),
                );
                ok = false;
                TapSide::Hv
            }
        };
        let kind = self.tap_kind(t).unwrap_or_else(|| {
            ok = false;
            TapKind::Ratio
        });
        let tap = TapChanger {
            side,
            pos: t.tap_pos,
            neutral: t.tap_neutral,
            min: t.tap_min,
            max: t.tap_max,
            step_percent: t.tap_step_percent,
            step_degree: t.tap_step_degree,
            kind,
        };
        ok &= self.tap_changer(&t.id, "transformer", &tap);
        let shift = match (t.shift_degree, &t.vector_group) {
            (Some(s), _) => {
                ok &= self.finite(&t.id, "transformer", "shift_degree", s);
                s
            }
            (None, Some(vg)) => match vector_group_clock(vg) {
                Some(c) => 30.0 * c as f64,
                None => {
                    self.push(
                        &t.id,
                        "transformer",
                        "vector_group",
                        format!("'{vg}' has no clock number 0–11"),
                    );
                    0.0
                }
            },
            (None, None) => 0.0,
        };
        let (hb, lb) = (hb?, lb?);
        if !ok {
            return None;
        }
        if hb == lb {
            self.push(&t.id, "transformer", "lv_bus", "connects a bus to itself");
            return None;
        }
        let (vh, vl) = (self.vn_kv(&t.hv_bus), self.vn_kv(&t.lv_bus));
        for (rated, busv, field) in [(t.vn_hv_kv, vh, "vn_hv_kv"), (t.vn_lv_kv, vl, "vn_lv_kv")] {
            if !(busv > 0.0) || (rated / busv - 1.0).abs() > 0.1 {
                self.push(&t.id, "transformer", field, format!(
                    "{rated} kV does not match its bus's nominal voltage {busv} kV (more than 10 % apart)"
                ));
                ok = false;
            }
        }
        if !(1..=1000).contains(&t.parallel) {
            let msg = format!("must be 1 to 1000, found {}", t.parallel);
            self.push(&t.id, "transformer", "parallel", msg);
            ok = false;
        }
        if !(t.df > 0.0 && t.df <= 1.0) {
            self.push(
                &t.id,
                "transformer",
                "df",
                format!("must be in (0, 1], found {}", t.df),
            );
            ok = false;
        }
        if !ok {
            return None;
        }
        let data = TransformerData {
            sn_mva: t.sn_mva,
            vn_hv_kv: t.vn_hv_kv,
            vn_lv_kv: t.vn_lv_kv,
            vk_percent: t.vk_percent,
            vkr_percent: t.vkr_percent,
            pfe_kw: t.pfe_kw,
            i0_percent: t.i0_percent,
            shift_degree: shift,
            tap,
            equivalent: self.equivalent,
            parallel: t.parallel,
            df: t.df,
        };
        let pu = data.per_unit(vh, vl, self.base_mva, t.tap_pos);
        let mut br = Branch::new(
            t.id.get_ref().clone(),
            BranchKind::Transformer(Some(data)),
            hb,
            lb,
            pu,
        );
        br.rate_a_mva = t.sn_mva;
        self.open_ends(&mut br, t.in_service, (vh, vl));
        Some(br)
    }

    fn regulators(&mut self) {
        for r in &self.f.regulator {
            self.check_id("regulator", &r.id);
            if let Some(br) = self.regulator(r) {
                self.branches.push(br);
            }
        }
    }

    fn regulator(&mut self, r: &RegulatorSpec) -> Option<Branch> {
        let fb = self.net_bus(&r.id, "regulator", "from", &r.from);
        let tb = self.net_bus(&r.id, "regulator", "to", &r.to);
        let mut ok = true;
        if !positive(r.sn_mva) {
            self.push(
                &r.id,
                "regulator",
                "sn_mva",
                format!("must be positive, found {}", r.sn_mva),
            );
            ok = false;
        }
        for (v, field) in [(r.r_percent, "r_percent"), (r.x_percent, "x_percent")] {
            if !(0.0..100.0).contains(&v) {
                self.push(
                    &r.id,
                    "regulator",
                    field,
                    format!("must be in [0, 100) %, found {v}"),
                );
                ok = false;
            }
        }
        if ok && r.r_percent == 0.0 && r.x_percent == 0.0 {
            self.push(
                &r.id,
                "regulator",
                "r_percent/x_percent",
                "zero impedance: give a small series impedance",
            );
            ok = false;
        }
        let tap = TapChanger {
            side: TapSide::Lv,
            pos: r.tap_pos,
            neutral: 0.0,
            min: r.tap_min,
            max: r.tap_max,
            step_percent: r.tap_step_percent,
            step_degree: 0.0,
            kind: TapKind::Ratio,
        };
        ok &= self.tap_changer(&r.id, "regulator", &tap);
        let (fb, tb) = (fb?, tb?);
        let vn = self.vn_kv(&r.from);
        if (vn - self.vn_kv(&r.to)).abs() > 1e-9 * vn.max(1.0) || !(vn > 0.0) {
            self.push(
                &r.id,
                "regulator",
                "to",
                format!(
                    "a regulator joins buses of one nominal voltage (found {vn} kV and {} kV)",
                    self.vn_kv(&r.to)
                ),
            );
            return None;
        }
        if fb == tb {
            self.push(&r.id, "regulator", "to", "connects a bus to itself");
            return None;
        }
        if !ok {
            return None;
        }
        let data = RegulatorData {
            sn_mva: r.sn_mva,
            vn_kv: vn,
            r_percent: r.r_percent,
            x_percent: r.x_percent,
            tap,
        };
        let pu = data
            .transformer()
            .per_unit(vn, vn, self.base_mva, r.tap_pos);
        let mut br = Branch::new(
            r.id.get_ref().clone(),
            BranchKind::regulator(data),
            fb,
            tb,
            pu,
        );
        br.rate_a_mva = r.sn_mva;
        self.open_ends(&mut br, r.in_service, (vn, vn));
        Some(br)
    }

    /// Closed bus-bus switches with an impedance: branches of `z_ohm` with
    /// R/X = 2 (pandapower's default `switch_rx_ratio`), under the switch's id.
    fn switch_branches(&mut self) {
        const RX_RATIO: f64 = 2.0;
        let rz = RX_RATIO / (1.0 + RX_RATIO * RX_RATIO).sqrt();
        let xz = 1.0 / (1.0 + RX_RATIO * RX_RATIO).sqrt();
        for &(s, fb, tb) in &self.switch_impedances {
            let vn = self.f.bus[fb].vn_kv;
            let z_pu = s.z_ohm * self.base_mva / (vn * vn);
            let pu = PerUnit {
                r_pu: z_pu * rz,
                x_pu: z_pu * xz,
                b_pu: 0.0,
                g_pu: 0.0,
                tap_ratio: 1.0,
                shift_degree: 0.0,
            };
            let (fb, tb) = (self.rep_index[fb], self.rep_index[tb]);
            let br = Branch::new(s.id.get_ref().clone(), BranchKind::Line(None), fb, tb, pu);
            self.branches.push(br);
        }
    }

    fn per_unit_branches(&mut self) {
        for b in &self.f.branch {
            self.check_id("branch", &b.id);
            let fb = self.bus_ref(&b.id, "branch", "from", &b.from);
            let tb = self.bus_ref(&b.id, "branch", "to", &b.to);
            let mut ok = true;
            for (v, field) in [
                (b.r_pu, "r_pu"),
                (b.x_pu, "x_pu"),
                (b.b_pu, "b_pu"),
                (b.g_pu, "g_pu"),
                (b.rate_a_mva, "rate_a_mva"),
                (b.shift_degree, "shift_degree"),
            ] {
                ok &= self.finite(&b.id, "branch", field, v);
            }
            if b.r_pu.abs() + b.x_pu.abs() < crate::network::MIN_IMPEDANCE_PU && b.in_service {
                self.push(
                    &b.id,
                    "branch",
                    "r_pu/x_pu",
                    "|r| + |x| is below 1e-9 p.u. (an infinite admittance)",
                );
            }
            if let Some(t) = b.tap {
                if !crate::network::TAP_RATIO_RANGE.contains(&t) {
                    self.push(
                        &b.id,
                        "branch",
                        "tap",
                        format!("must be between 0.001 and 1000, found {t:e}"),
                    );
                    ok = false;
                }
            }
            let (Some(fb), Some(tb), true) = (fb, tb, ok) else {
                continue;
            };
            let kind = if b.tap.is_some()
                || b.shift_degree != 0.0
                || per_unit_transformer(self.f.bus[fb].vn_kv, self.f.bus[tb].vn_kv)
            {
                BranchKind::Transformer(None)
            } else {
                BranchKind::Line(None)
            };
            let pu = PerUnit {
                r_pu: b.r_pu,
                x_pu: b.x_pu,
                b_pu: b.b_pu,
                g_pu: b.g_pu,
                tap_ratio: b.tap.unwrap_or(1.0),
                shift_degree: b.shift_degree,
            };
            let (fb, tb) = (self.rep_index[fb], self.rep_index[tb]);
            let mut br = Branch::new(b.id.get_ref().clone(), kind, fb, tb, pu);
            br.rate_a_mva = b.rate_a_mva;
            br.in_service = b.in_service;
            self.branches.push(br);
        }
    }

    /// Reactive power of a load from `q_mvar` or `power_factor`.
    fn load_q(&mut self, l: &LoadSpec) -> f64 {
        match (l.q_mvar, l.power_factor) {
            (Some(q), None) => {
                self.finite(&l.id, "load", "q_mvar", q);
                q
            }
            (None, Some(pf)) if pf > 0.0 && pf <= 1.0 => l.p_mw * (1.0 - pf * pf).sqrt() / pf,
            (None, Some(pf)) => {
                self.push(
                    &l.id,
                    "load",
                    "power_factor",
                    format!("must be in (0, 1], found {pf}"),
                );
                0.0
            }
            (None, None) => 0.0,
            (Some(_), Some(_)) => {
                self.push(
                    &l.id,
                    "load",
                    "q_mvar/power_factor",
                    "give one of them, not both",
                );
                0.0
            }
        }
    }

    fn loads_and_shunts(&mut self) {
        for l in &self.f.load {
            self.check_id("load", &l.id);
            let b = self.net_bus(&l.id, "load", "bus", &l.bus);
            self.finite(&l.id, "load", "p_mw", l.p_mw);
            let q = self.load_q(l);
            let z = l.zip.unwrap_or(Zip {
                z: 0.0,
                i: 0.0,
                p: 1.0,
            });
            if (z.z + z.i + z.p - 1.0).abs() > 1e-9 || !(z.z >= 0.0 && z.i >= 0.0 && z.p >= 0.0) {
                self.push(
                    &l.id,
                    "load",
                    "zip",
                    "shares must be non-negative and sum to 1",
                );
            }
            let k = self.scaling(&l.id, "load", l.scaling);
            if let (Some(bus), true) = (b, l.in_service && k != 0.0) {
                self.loads.push(Load {
                    id: l.id.get_ref().clone(),
                    bus,
                    p_mw: l.p_mw * k,
                    q_mvar: q * k,
                    z_share: z.z,
                    i_share: z.i,
                    class: l.class,
                });
            }
        }
        for s in &self.f.shunt {
            self.check_id("shunt", &s.id);
            let b = self.net_bus(&s.id, "shunt", "bus", &s.bus);
            let ok = self.finite(&s.id, "shunt", "g_mw", s.g_mw)
                & self.finite(&s.id, "shunt", "b_mvar", s.b_mvar);
            if let (Some(bus), true, true) = (b, s.in_service, ok) {
                self.shunts.push(Shunt {
                    id: s.id.get_ref().clone(),
                    bus,
                    g_mw: s.g_mw,
                    b_mvar: s.b_mvar,
                });
            }
        }
    }

    /// An element's `scaling`, which must be finite and 0 to 1000 (0 is
    /// returned for a bad value, after the problem is recorded).
    fn scaling(&mut self, id: &Spanned<String>, kind: &'static str, k: f64) -> f64 {
        if k.is_finite() && (0.0..=1000.0).contains(&k) {
            k
        } else {
            self.push(id, kind, "scaling", format!("must be 0 to 1000, found {k}"));
            0.0
        }
    }

    /// A generator with no limits, output `p`, `q`.
    fn unit(
        &self,
        id: &Spanned<String>,
        bus: usize,
        p: f64,
        q: f64,
        in_service: bool,
    ) -> Generator {
        Generator {
            id: id.get_ref().clone(),
            bus,
            p_mw: p,
            q_mvar: q,
            qmax_mvar: 0.0,
            qmin_mvar: 0.0,
            vg_pu: 1.0,
            mbase_mva: self.base_mva,
            in_service,
            pmax_mw: p.max(0.0),
            pmin_mw: 0.0,
            extra: vec![0.0; 11],
            der: None,
        }
    }

    /// A set-point voltage: finite, between 0.5 and 1.5 p.u.
    fn setpoint(&mut self, id: &Spanned<String>, kind: &str, v: f64) {
        if !(v > 0.5 && v < 1.5) {
            self.push(
                id,
                kind,
                "vm_pu",
                format!("must be between 0.5 and 1.5 p.u., found {v}"),
            );
        }
    }

    fn sources(&mut self) {
        for e in &self.f.ext_grid {
            self.check_id("ext_grid", &e.id);
            self.setpoint(&e.id, "ext_grid", e.vm_pu);
            if !(e.va_degree.is_finite() && e.va_degree.abs() <= 360.0) {
                self.push(
                    &e.id,
                    "ext_grid",
                    "va_degree",
                    format!("must be between -360 and 360, found {}", e.va_degree),
                );
            }
            if let Some(bi) = self.net_bus(&e.id, "ext_grid", "bus", &e.bus) {
                self.buses[bi].kind = BusKind::Ref;
                self.buses[bi].vm_pu = e.vm_pu;
                self.buses[bi].va_degree = e.va_degree;
                let mut g = self.unit(&e.id, bi, 0.0, 0.0, true);
                g.vg_pu = e.vm_pu;
                g.qmax_mvar = f64::INFINITY;
                g.qmin_mvar = f64::NEG_INFINITY;
                g.pmax_mw = f64::INFINITY;
                self.gens.push(g);
            }
        }
        for g in &self.f.generator {
            self.check_id("generator", &g.id);
            self.finite(&g.id, "generator", "p_mw", g.p_mw);
            self.finite(&g.id, "generator", "q_mvar", g.q_mvar);
            let Some(bi) = self.net_bus(&g.id, "generator", "bus", &g.bus) else {
                continue;
            };
            let k = self.scaling(&g.id, "generator", g.scaling);
            let mut x = self.unit(
                &g.id,
                bi,
                g.p_mw * k,
                g.q_mvar * k,
                g.in_service && k != 0.0,
            );
            if let Some(v) = g.vm_pu {
                self.setpoint(&g.id, "generator", v);
                x.vg_pu = v;
                if g.in_service && self.buses[bi].kind == BusKind::Pq {
                    self.buses[bi].kind = BusKind::Pv;
                    self.buses[bi].vm_pu = v;
                }
            }
            x.qmax_mvar = g.q_max_mvar.unwrap_or(f64::INFINITY);
            x.qmin_mvar = g.q_min_mvar.unwrap_or(f64::NEG_INFINITY);
            self.gens.push(x);
        }
        self.der_units();
    }

    /// Adds a CHP, PV or wind unit at `bus`.
    fn der_unit(
        &mut self,
        id: &Spanned<String>,
        kind: &'static str,
        bus: &str,
        (p, q): (f64, f64),
        der: Option<DerSource>,
        in_service: bool,
    ) {
        let ok = self.finite(id, kind, "p_mw", p) & self.finite(id, kind, "q_mvar", q);
        if let (Some(b), true) = (self.net_bus(id, kind, "bus", bus), ok) {
            let mut g = self.unit(id, b, p, q, in_service);
            g.der = der;
            self.gens.push(g);
        }
    }

    fn der_units(&mut self) {
        let f = self.f;
        for c in &f.chp {
            self.check_id("chp", &c.id);
            if !positive(c.rated_mw) {
                self.push(
                    &c.id,
                    "chp",
                    "rated_mw",
                    format!("must be positive, found {}", c.rated_mw),
                );
            }
            if !(c.eta_el > 0.0 && c.eta_th >= 0.0 && c.eta_el + c.eta_th <= 1.0) {
                self.push(
                    &c.id,
                    "chp",
                    "eta_el/eta_th",
                    format!(
                        "need 0 < eta_el, 0 ≤ eta_th, eta_el + eta_th ≤ 1 (found {} + {})",
                        c.eta_el, c.eta_th
                    ),
                );
            }
            let k = self.scaling(&c.id, "chp", c.scaling);
            self.der_unit(
                &c.id,
                "chp",
                &c.bus,
                (c.p_mw.unwrap_or(c.rated_mw) * k, c.q_mvar * k),
                None,
                c.in_service && k != 0.0,
            );
        }
        for p in &f.pv {
            self.check_id("pv", &p.id);
            if !positive(p.kwp) {
                self.push(
                    &p.id,
                    "pv",
                    "kwp",
                    format!("must be positive, found {}", p.kwp),
                );
            }
            let inverter_mva = p.inverter_mva.unwrap_or(p.kwp / 1000.0);
            if !positive(inverter_mva) {
                self.push(
                    &p.id,
                    "pv",
                    "inverter_mva",
                    format!("must be positive, found {inverter_mva}"),
                );
            }
            let k = self.scaling(&p.id, "pv", p.scaling);
            let der = DerSource::Pv {
                kwp: p.kwp * k,
                inverter_mva: inverter_mva * k,
            };
            self.der_unit(
                &p.id,
                "pv",
                &p.bus,
                (p.p_mw.unwrap_or(p.kwp / 1000.0) * k, p.q_mvar * k),
                Some(der),
                p.in_service && k != 0.0,
            );
        }
        for w in &f.wind {
            self.check_id("wind", &w.id);
            if !positive(w.rated_mw) {
                self.push(
                    &w.id,
                    "wind",
                    "rated_mw",
                    format!("must be positive, found {}", w.rated_mw),
                );
            }
            let k = self.scaling(&w.id, "wind", w.scaling);
            let der = DerSource::Wind {
                rated_mw: w.rated_mw * k,
                turbine_class: w.turbine_class,
            };
            self.der_unit(
                &w.id,
                "wind",
                &w.bus,
                (w.p_mw.unwrap_or(w.rated_mw) * k, w.q_mvar * k),
                Some(der),
                w.in_service && k != 0.0,
            );
        }
        for s in &f.storage {
            self.check_id("storage", &s.id);
            if !positive(s.capacity_mwh) || !positive(s.power_mw) {
                self.push(
                    &s.id,
                    "storage",
                    "capacity_mwh/power_mw",
                    "must be positive",
                );
            }
            if !(s.round_trip_efficiency > 0.0 && s.round_trip_efficiency <= 1.0) {
                self.push(
                    &s.id,
                    "storage",
                    "round_trip_efficiency",
                    format!("must be in (0, 1], found {}", s.round_trip_efficiency),
                );
            }
            if !(s.p_mw.abs() <= s.power_mw) {
                self.push(
                    &s.id,
                    "storage",
                    "p_mw",
                    format!("|{}| exceeds power_mw {}", s.p_mw, s.power_mw),
                );
            }
            self.finite(&s.id, "storage", "q_mvar", s.q_mvar);
            let bus = self.net_bus(&s.id, "storage", "bus", &s.bus);
            if let (Some(b), true) = (bus, s.in_service) {
                self.loads.push(Load::constant_power(
                    s.id.get_ref().clone(),
                    b,
                    s.p_mw,
                    s.q_mvar,
                ));
            }
        }
    }

    fn finish(mut self) -> Result<Network> {
        if !self.problems.is_empty() {
            return Err(Error::Invalid {
                source_name: self.src.name.clone(),
                problems: self.problems,
            });
        }
        initial_point(&mut self.buses, &self.branches);
        let net = Network {
            name: self.f.network.name.clone(),
            base_mva: self.base_mva,
            buses: self.buses,
            loads: self.loads,
            shunts: self.shunts,
            branches: self.branches,
            generators: self.gens,
            bus_aliases: self.aliases,
        };
        // A part of the grid without a source is an error here (named buses).
        if let Err(Error::Invalid { problems, .. }) = crate::network::topology::analyse(&net) {
            return Err(Error::invalid_in(&self.src.name, problems));
        }
        Ok(net)
    }
}

/// An initial point that follows the transformers from each reference
/// bus (breadth-first over in-service branches): angles by their phase
/// shifts, magnitudes by their off-nominal ratios. A network with Dyn5
/// transformers then does not start 150° from its solution, and one with a
/// stiff regulator several steps off neutral not a few percent from it,
/// which a flat start does not survive. Set-points of PV and reference
/// buses are kept.
fn initial_point(buses: &mut [Bus], branches: &[Branch]) {
    let n = buses.len();
    // (other bus, angle change, magnitude factor) crossing to the other end;
    // the ideal transformer at the from end gives V_to = V_from / ratio.
    let mut adj: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); n];
    for b in branches
        .iter()
        .filter(|b| b.in_service && b.tap_ratio > 0.0)
    {
        adj[b.from].push((b.to, -b.shift_degree, 1.0 / b.tap_ratio));
        adj[b.to].push((b.from, b.shift_degree, b.tap_ratio));
    }
    let mut seen = vec![false; n];
    for start in 0..n {
        if buses[start].kind != BusKind::Ref || seen[start] {
            continue;
        }
        seen[start] = true;
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(x) = queue.pop_front() {
            for &(y, d, m) in &adj[x] {
                if !seen[y] {
                    seen[y] = true;
                    buses[y].va_degree = buses[x].va_degree + d;
                    if buses[y].kind == BusKind::Pq {
                        buses[y].vm_pu = buses[x].vm_pu * m;
                    }
                    queue.push_back(y);
                }
            }
        }
    }
}
