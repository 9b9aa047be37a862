//! pandapower networks: the JSON files `pandapower.to_json` writes
//! (pandapower 2.x and 3.x), read into the native description
//! ([`NetworkFile`]) and converted by the native reader, so that a
//! pandapower grid and its `gridsim convert` output are the same network.
//!
//! Each element keeps its pandapower `name` as id where names are unique
//! within the table (else `<kind> <index>`). Transformers use pandapower's
//! default T model (`transformer_model = "t"`). `scaling` is applied to the
//! element's power (and to the rated size of PV and wind units); a scaling
//! of 0 takes the element out of service. Buses without a path to a
//! source are out of service, as in pandapower; storage without an energy
//! capacity is a load of its base-case power. Tables or fields gridsim does not
//! model (three-winding transformers, impedances, wards, DC lines,
//! non-integer or phase-shifting taps, parallel transformers, line
//! conductance or derating, switch impedances, ...) are errors listing each
//! element: nothing is dropped silently.

use super::native::{
    BusSpec, ExtGridSpec, GeneratorSpec, Header, LineSpec, LoadSpec, NetworkFile, PvUnitSpec,
    ShuntSpec, StorageUnitSpec, SwitchSpec, TransformerSpec, WindUnitSpec, Zip,
};
use super::TurbineClass;
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use toml::Spanned;

/// Tables gridsim does not model; a network using any is refused.
const UNSUPPORTED: [&str; 18] = [
    "trafo3w",
    "impedance",
    "ward",
    "xward",
    "dcline",
    "motor",
    "asymmetric_load",
    "asymmetric_sgen",
    "svc",
    "ssc",
    "tcsc",
    "vsc",
    "line_dc",
    "bus_dc",
    "source_dc",
    "load_dc",
    "vsc_stacked",
    "vsc_bipolar",
];

/// One pandapower DataFrame (split orientation).
struct Table {
    kind: &'static str,
    columns: HashMap<String, usize>,
    index: Vec<i64>,
    rows: Vec<Vec<Value>>,
}

impl Table {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn get(&self, r: usize, col: &str) -> Option<&Value> {
        self.columns
            .get(col)
            .and_then(|&c| self.rows[r].get(c))
            .filter(|v| !v.is_null())
    }

    /// A number (NaN and null read as `default`).
    fn num(&self, r: usize, col: &str, default: f64) -> f64 {
        match self.get(r, col).and_then(|v| v.as_f64()) {
            Some(x) if !x.is_nan() => x,
            _ => default,
        }
    }

    fn text(&self, r: usize, col: &str) -> Option<String> {
        self.get(r, col)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    fn flag(&self, r: usize, col: &str, default: bool) -> bool {
        self.get(r, col)
            .and_then(|v| v.as_bool())
            .unwrap_or(default)
    }

    /// Ids: the names where they are unique and non-empty, else `kind index`.
    fn ids(&self) -> Vec<String> {
        let names: Vec<Option<String>> = (0..self.len()).map(|r| self.text(r, "name")).collect();
        let mut seen = HashSet::new();
        let unique = names.iter().all(|n| {
            n.as_ref()
                .is_some_and(|n| !n.trim().is_empty() && seen.insert(n.clone()))
        });
        (0..self.len())
            .map(|r| match (&names[r], unique) {
                (Some(n), true) => n.clone(),
                _ => format!("{} {}", self.kind, self.index[r]),
            })
            .collect()
    }
}

/// Reads a pandapower JSON file into the native description.
pub fn read_file(path: &Path) -> Result<NetworkFile> {
    let text = crate::input::read_text(path)?;
    parse(path, &text)
}

/// Reads a pandapower JSON file and converts it to the physical model.
pub fn read_network(path: &Path) -> Result<super::Network> {
    let f = read_file(path)?;
    let lib = super::native::library(&f, path.parent().unwrap_or(Path::new(".")))?;
    let src = super::native::Source {
        name: path.display().to_string(),
        text: None,
    };
    super::native::to_network(&f, &lib, &src)
}

fn table(net: &serde_json::Map<String, Value>, kind: &'static str, path: &Path) -> Result<Table> {
    let bad = |m: &str| Error::Usage(format!("{}: table '{kind}': {m}", path.display()));
    let empty = Table {
        kind,
        columns: HashMap::new(),
        index: Vec::new(),
        rows: Vec::new(),
    };
    let Some(t) = net.get(kind) else {
        return Ok(empty);
    };
    let inner = match t.get("_object") {
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s).map_err(|e| bad(&e.to_string()))?
        }
        Some(v) => v.clone(),
        None => return Err(bad("not a DataFrame")),
    };
    let columns = inner["columns"]
        .as_array()
        .ok_or_else(|| bad("no columns"))?
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str().unwrap_or_default().to_string(), i))
        .collect();
    let index = inner["index"]
        .as_array()
        .ok_or_else(|| bad("no index"))?
        .iter()
        .map(|i| i.as_i64().ok_or_else(|| bad("a non-integer index")))
        .collect::<Result<Vec<i64>>>()?;
    let rows: Vec<Vec<Value>> = inner["data"]
        .as_array()
        .ok_or_else(|| bad("no data"))?
        .iter()
        .map(|r| r.as_array().cloned().unwrap_or_default())
        .collect();
    if rows.len() != index.len() {
        return Err(bad("index and data of different lengths"));
    }
    Ok(Table {
        kind,
        columns,
        index,
        rows,
    })
}

fn sp(s: String) -> Spanned<String> {
    Spanned::new(0..0, s)
}

/// The top of a pandapower JSON file, its entries left unparsed (a net
/// saved with its profiles carries megabytes gridsim does not read).
#[derive(serde::Deserialize)]
struct Root<'a> {
    #[serde(rename = "_class")]
    class: Option<String>,
    #[serde(rename = "_object", borrow)]
    object: Option<HashMap<String, &'a serde_json::value::RawValue>>,
}

/// The entries of a pandapower net gridsim reads.
const READ_KEYS: [&str; 14] = [
    "name", "version", "sn_mva", "f_hz", "bus", "line", "trafo", "switch", "load", "sgen", "gen",
    "ext_grid", "shunt", "storage",
];

/// Parses pandapower JSON text (`path` for messages).
pub fn parse(path: &Path, text: &str) -> Result<NetworkFile> {
    let not_net = || {
        Error::Usage(format!(
            "{}: not a pandapower network (pandapower.to_json writes one)",
            path.display()
        ))
    };
    let root: Root = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => not_net(),
        _ => Error::parse(path, e.line(), format!("not JSON: {e}")),
    })?;
    let (Some("pandapowerNet"), Some(object)) = (root.class.as_deref(), root.object) else {
        return Err(not_net());
    };
    let mut net = serde_json::Map::new();
    for key in READ_KEYS.iter().chain(&UNSUPPORTED) {
        if let Some(raw) = object.get(*key) {
            let v = serde_json::from_str(raw.get())
                .map_err(|e| Error::parse(path, e.line(), format!("'{key}': {e}")))?;
            net.insert(key.to_string(), v);
        }
    }
    let net = &net;
    let mut im = Importer {
        path,
        problems: Vec::new(),
        bus_id: HashMap::new(),
        file: NetworkFile::new(Header {
            name: net
                .get("name")
                .and_then(|n| n.as_str())
                .filter(|n| !n.is_empty())
                .unwrap_or("pandapower network")
                .to_string(),
            description: Some(format!("imported from pandapower JSON {}", path.display())),
            source: net
                .get("version")
                .and_then(|v| v.as_str())
                .map(|v| format!("pandapower {v}")),
            base_mva: net.get("sn_mva").and_then(|v| v.as_f64()).unwrap_or(1.0),
            frequency_hz: net.get("f_hz").and_then(|v| v.as_f64()).unwrap_or(50.0),
            line_types: None,
            transformer_model: "t".into(),
        }),
    };
    for kind in UNSUPPORTED {
        let t = table(net, kind, path)?;
        for id in t.ids() {
            im.problems.push(format!(
                "{kind} '{id}': {kind} elements are not modelled by gridsim"
            ));
        }
    }
    im.buses(&table(net, "bus", path)?);
    let lines = table(net, "line", path)?;
    let trafos = table(net, "trafo", path)?;
    im.lines(&lines);
    im.trafos(&trafos);
    im.switches(&table(net, "switch", path)?, &lines, &trafos);
    im.loads(&table(net, "load", path)?);
    im.sgens(&table(net, "sgen", path)?);
    im.gens(&table(net, "gen", path)?);
    im.ext_grids(&table(net, "ext_grid", path)?);
    im.shunts(&table(net, "shunt", path)?);
    im.storage(&table(net, "storage", path)?);
    im.unsupplied_buses_out_of_service();
    if !im.problems.is_empty() {
        return Err(Error::Invalid {
            source_name: path.display().to_string(),
            problems: im.problems,
        });
    }
    Ok(im.file)
}

struct Importer<'a> {
    path: &'a Path,
    problems: Vec<String>,
    /// Native bus id by pandapower bus index.
    bus_id: HashMap<i64, String>,
    file: NetworkFile,
}

impl Importer<'_> {
    fn problem(&mut self, kind: &str, id: &str, msg: impl std::fmt::Display) {
        let _ = self.path;
        self.problems.push(format!("{kind} '{id}': {msg}"));
    }

    /// The native id of the bus in column `col` of row `r`.
    fn bus(&mut self, t: &Table, r: usize, col: &str, id: &str) -> String {
        let b = t.num(r, col, f64::NAN);
        match self.bus_id.get(&(b as i64)) {
            Some(s) if b.fract() == 0.0 => s.clone(),
            _ => {
                self.problem(t.kind, id, format!("{col}: no bus {b}"));
                String::new()
            }
        }
    }

    fn buses(&mut self, t: &Table) {
        let ids = t.ids();
        for r in 0..t.len() {
            self.bus_id.insert(t.index[r], ids[r].clone());
            let (x, y) = geo(t, r);
            self.file.bus.push(BusSpec {
                id: sp(ids[r].clone()),
                vn_kv: t.num(r, "vn_kv", f64::NAN),
                name: None,
                x,
                y,
                vmin_pu: t
                    .get(r, "min_vm_pu")
                    .and_then(|v| v.as_f64())
                    .filter(|v| !v.is_nan()),
                vmax_pu: t
                    .get(r, "max_vm_pu")
                    .and_then(|v| v.as_f64())
                    .filter(|v| !v.is_nan()),
                in_service: t.flag(r, "in_service", true),
            });
        }
    }

    fn lines(&mut self, t: &Table) {
        let ids = t.ids();
        for r in 0..t.len() {
            let id = &ids[r];
            let from = self.bus(t, r, "from_bus", id);
            let to = self.bus(t, r, "to_bus", id);
            let max_i = t.num(r, "max_i_ka", 0.0);
            self.file.line.push(LineSpec {
                id: sp(id.clone()),
                from,
                to,
                length_km: t.num(r, "length_km", f64::NAN),
                line_type: None,
                r_ohm_per_km: Some(t.num(r, "r_ohm_per_km", f64::NAN)),
                x_ohm_per_km: Some(t.num(r, "x_ohm_per_km", f64::NAN)),
                c_nf_per_km: Some(t.num(r, "c_nf_per_km", 0.0)),
                max_i_ka: (max_i > 0.0).then_some(max_i),
                parallel: t.num(r, "parallel", 1.0) as u32,
                g_us_per_km: t.num(r, "g_us_per_km", 0.0),
                df: t.num(r, "df", 1.0),
                std_type: t.text(r, "std_type"),
                in_service: t.flag(r, "in_service", true),
            });
        }
    }

    fn trafos(&mut self, t: &Table) {
        let ids = t.ids();
        for r in 0..t.len() {
            let id = &ids[r];
            let (tap_changer_type, step_percent, step_degree) = self.tap_model(t, r, id);
            let pos = t.num(r, "tap_pos", t.num(r, "tap_neutral", 0.0));
            let hv = self.bus(t, r, "hv_bus", id);
            let lv = self.bus(t, r, "lv_bus", id);
            let side = t.text(r, "tap_side").unwrap_or_else(|| "hv".into());
            self.file.transformer.push(TransformerSpec {
                id: sp(id.clone()),
                hv_bus: hv,
                lv_bus: lv,
                sn_mva: t.num(r, "sn_mva", f64::NAN),
                vn_hv_kv: t.num(r, "vn_hv_kv", f64::NAN),
                vn_lv_kv: t.num(r, "vn_lv_kv", f64::NAN),
                vk_percent: t.num(r, "vk_percent", f64::NAN),
                vkr_percent: t.num(r, "vkr_percent", f64::NAN),
                pfe_kw: t.num(r, "pfe_kw", 0.0),
                i0_percent: t.num(r, "i0_percent", 0.0),
                shift_degree: Some(t.num(r, "shift_degree", 0.0)),
                vector_group: None,
                tap_side: side,
                tap_pos: pos,
                tap_neutral: t.num(r, "tap_neutral", 0.0),
                tap_min: t.num(r, "tap_min", pos).min(pos),
                tap_max: t.num(r, "tap_max", pos).max(pos),
                tap_step_percent: step_percent,
                tap_step_degree: step_degree,
                tap_changer_type,
                parallel: t.num(r, "parallel", 1.0) as u32,
                df: t.num(r, "df", 1.0),
                in_service: t.flag(r, "in_service", true),
            });
        }
    }

    /// A transformer's tap model as pandapower computes it: the native
    /// `tap_changer_type` (None: ratio), step percent and step degree.
    /// pandapower 3.x (`tap_changer_type` column): "Ratio" and "Symmetrical"
    /// change the tapped winding by the step percent in the direction of
    /// the step degree, "Ideal" only turns the phase, no type means no tap
    /// effect, "Tabular" and tap-dependent tables are refused; pandapower
    /// 2.x: `tap_phase_shifter` marks an ideal phase shifter.
    fn tap_model(&mut self, t: &Table, r: usize, id: &str) -> (Option<String>, f64, f64) {
        let percent = t.num(r, "tap_step_percent", 0.0);
        let degree = t.num(r, "tap_step_degree", 0.0);
        if t.flag(r, "tap_dependency_table", false) {
            self.problem(
                "trafo",
                id,
                "tap-dependent impedance tables are not modelled",
            );
        }
        let ideal = || Some("ideal".to_string());
        if t.columns.contains_key("tap_changer_type") {
            return match t.text(r, "tap_changer_type").as_deref() {
                None | Some("") => (None, 0.0, 0.0),
                Some("Ratio") | Some("Symmetrical") => (None, percent, degree),
                Some("Ideal") => {
                    if percent != 0.0 && degree != 0.0 {
                        self.problem(
                            "trafo",
                            id,
                            "an ideal phase shifter with both tap_step_percent and tap_step_degree",
                        );
                    }
                    (ideal(), percent, degree)
                }
                Some(kind) => {
                    self.problem(
                        "trafo",
                        id,
                        format!(
                            "tap_changer_type '{kind}' is not modelled (Ratio, Symmetrical, Ideal)"
                        ),
                    );
                    (None, 0.0, 0.0)
                }
            };
        }
        if t.flag(r, "tap_phase_shifter", false) {
            (ideal(), percent, degree)
        } else {
            (None, percent, degree)
        }
    }

    fn switches(&mut self, t: &Table, lines: &Table, trafos: &Table) {
        let ids = t.ids();
        let line_ids: HashMap<i64, String> = lines.index.iter().copied().zip(lines.ids()).collect();
        let trafo_ids: HashMap<i64, String> =
            trafos.index.iter().copied().zip(trafos.ids()).collect();
        for r in 0..t.len() {
            let id = &ids[r];
            let bus = self.bus(t, r, "bus", id);
            let closed = t.flag(r, "closed", true);
            let element = t.num(r, "element", f64::NAN) as i64;
            let mut spec = SwitchSpec {
                id: sp(id.clone()),
                bus,
                line: None,
                transformer: None,
                to_bus: None,
                closed,
                z_ohm: 0.0,
            };
            match t.text(r, "et").as_deref() {
                Some("b") => {
                    // pandapower: a closed bus-bus switch with z_ohm > 0 is an
                    // impedance; z_ohm ≤ 0 fuses the buses.
                    spec.z_ohm = t.num(r, "z_ohm", 0.0).max(0.0);
                    spec.to_bus = Some(self.bus(t, r, "element", id));
                }
                Some("l") => spec.line = line_ids.get(&element).cloned(),
                Some("t") => spec.transformer = trafo_ids.get(&element).cloned(),
                other => self.problem(
                    "switch",
                    id,
                    format!("element type {other:?} is not modelled"),
                ),
            }
            self.file.switch.push(spec);
        }
    }

    fn loads(&mut self, t: &Table) {
        let ids = t.ids();
        for r in 0..t.len() {
            let id = &ids[r];
            let scaling = t.num(r, "scaling", 1.0);
            // pandapower 3.x: separate P and Q shares; 2.x: one share.
            let z = t.num(r, "const_z_p_percent", t.num(r, "const_z_percent", 0.0)) / 100.0;
            let i = t.num(r, "const_i_p_percent", t.num(r, "const_i_percent", 0.0)) / 100.0;
            let zq = t.num(r, "const_z_q_percent", z * 100.0) / 100.0;
            let iq = t.num(r, "const_i_q_percent", i * 100.0) / 100.0;
            if zq != z || iq != i {
                self.problem(
                    "load",
                    id,
                    "different voltage dependence of P and Q is not modelled",
                );
            }
            let bus = self.bus(t, r, "bus", id);
            self.file.load.push(LoadSpec {
                id: sp(id.clone()),
                bus,
                p_mw: t.num(r, "p_mw", f64::NAN),
                q_mvar: Some(t.num(r, "q_mvar", 0.0)),
                power_factor: None,
                class: None,
                zip: (z != 0.0 || i != 0.0).then_some(Zip {
                    z,
                    i,
                    p: 1.0 - z - i,
                }),
                in_service: t.flag(r, "in_service", true),
                scaling,
            });
        }
    }

    fn sgens(&mut self, t: &Table) {
        let ids = t.ids();
        for r in 0..t.len() {
            let id = ids[r].clone();
            let scaling = t.num(r, "scaling", 1.0);
            let (p, q) = (t.num(r, "p_mw", f64::NAN), t.num(r, "q_mvar", 0.0));
            let sn = t.num(r, "sn_mva", 0.0);
            let in_service = t.flag(r, "in_service", true);
            let bus = self.bus(t, r, "bus", &id);
            let rated = if sn > 0.0 { sn } else { p.abs() };
            match t.text(r, "type").as_deref() {
                Some("PV") if rated > 0.0 => self.file.pv.push(PvUnitSpec {
                    id: sp(id),
                    bus,
                    kwp: rated * 1000.0,
                    inverter_mva: Some(rated),
                    p_mw: Some(p),
                    q_mvar: q,
                    in_service,
                    scaling,
                }),
                Some("WP") if rated > 0.0 => self.file.wind.push(WindUnitSpec {
                    id: sp(id),
                    bus,
                    rated_mw: rated,
                    turbine_class: TurbineClass::II,
                    p_mw: Some(p),
                    q_mvar: q,
                    in_service,
                    scaling,
                }),
                _ => self.file.generator.push(GeneratorSpec {
                    id: sp(id),
                    bus,
                    p_mw: p,
                    q_mvar: q,
                    vm_pu: None,
                    q_min_mvar: None,
                    q_max_mvar: None,
                    in_service,
                    scaling,
                }),
            }
        }
    }

    fn gens(&mut self, t: &Table) {
        let ids = t.ids();
        for r in 0..t.len() {
            let id = ids[r].clone();
            if t.flag(r, "slack", false) {
                self.problem(
                    "gen",
                    &id,
                    "a slack generator is not modelled; use an ext_grid",
                );
            }
            let scaling = t.num(r, "scaling", 1.0);
            let bus = self.bus(t, r, "bus", &id);
            let q = |c: &str| {
                t.get(r, c)
                    .and_then(|v| v.as_f64())
                    .filter(|v| v.is_finite())
            };
            self.file.generator.push(GeneratorSpec {
                id: sp(id),
                bus,
                p_mw: t.num(r, "p_mw", f64::NAN),
                q_mvar: 0.0,
                vm_pu: Some(t.num(r, "vm_pu", 1.0)),
                q_min_mvar: q("min_q_mvar"),
                q_max_mvar: q("max_q_mvar"),
                in_service: t.flag(r, "in_service", true),
                scaling,
            });
        }
    }

    fn ext_grids(&mut self, t: &Table) {
        let ids = t.ids();
        for r in 0..t.len() {
            let id = ids[r].clone();
            if !t.flag(r, "in_service", true) {
                self.problem(
                    "ext_grid",
                    &id,
                    "an out-of-service ext_grid is not modelled; remove it",
                );
            }
            let bus = self.bus(t, r, "bus", &id);
            self.file.ext_grid.push(ExtGridSpec {
                id: sp(id),
                bus,
                vm_pu: t.num(r, "vm_pu", 1.0),
                va_degree: t.num(r, "va_degree", 0.0),
                sc_mva: t
                    .get(r, "s_sc_max_mva")
                    .and_then(|v| v.as_f64())
                    .filter(|v| v.is_finite()),
            });
        }
    }

    fn shunts(&mut self, t: &Table) {
        let ids = t.ids();
        let vn_bus: HashMap<String, f64> = self
            .file
            .bus
            .iter()
            .map(|b| (b.id.get_ref().clone(), b.vn_kv))
            .collect();
        for r in 0..t.len() {
            let id = ids[r].clone();
            let bus = self.bus(t, r, "bus", &id);
            let step = t.num(r, "step", 1.0);
            // Rated at the shunt's vn_kv: the admittance at the bus's nominal voltage.
            let vn = t.num(r, "vn_kv", vn_bus.get(&bus).copied().unwrap_or(1.0));
            let k = (vn_bus.get(&bus).copied().unwrap_or(vn) / vn).powi(2) * step;
            self.file.shunt.push(ShuntSpec {
                id: sp(id),
                bus,
                g_mw: t.num(r, "p_mw", 0.0) * k,
                b_mvar: -t.num(r, "q_mvar", 0.0) * k,
                in_service: t.flag(r, "in_service", true),
            });
        }
    }

    /// Storage with an energy capacity becomes a native storage unit; one
    /// without (`max_e_mwh` NaN, as in pandapower's CIGRE MV) a load of its
    /// base-case power, which is what a power flow sees of it.
    fn storage(&mut self, t: &Table) {
        let ids = t.ids();
        for r in 0..t.len() {
            let id = ids[r].clone();
            let scaling = t.num(r, "scaling", 1.0);
            let p = t.num(r, "p_mw", 0.0) * scaling;
            let q = t.num(r, "q_mvar", 0.0) * scaling;
            let in_service = t.flag(r, "in_service", true) && scaling != 0.0;
            let bus = self.bus(t, r, "bus", &id);
            let energy = t.num(r, "max_e_mwh", f64::NAN);
            if !(energy > 0.0) {
                self.file.load.push(LoadSpec {
                    id: sp(id),
                    bus,
                    p_mw: p,
                    q_mvar: Some(q),
                    power_factor: None,
                    class: None,
                    zip: None,
                    in_service,
                    scaling: 1.0,
                });
                continue;
            }
            let power = [
                t.num(r, "sn_mva", 0.0),
                p.abs(),
                t.num(r, "max_p_mw", 0.0),
                -t.num(r, "min_p_mw", 0.0),
            ]
            .into_iter()
            .fold(0.0, f64::max);
            self.file.storage.push(StorageUnitSpec {
                id: sp(id),
                bus,
                capacity_mwh: energy,
                power_mw: power,
                round_trip_efficiency: 1.0,
                p_mw: p,
                q_mvar: q,
                in_service,
            });
        }
    }

    /// As pandapower does, buses with no path to a source (an in-service
    /// ext_grid or voltage-controlled generator) over in-service lines and
    /// transformers and closed switches are out of service.
    fn unsupplied_buses_out_of_service(&mut self) {
        let f = &self.file;
        let index: HashMap<&str, usize> = f
            .bus
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.get_ref().as_str(), i))
            .collect();
        let mut parent: Vec<usize> = (0..f.bus.len()).collect();
        fn root(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        let mut join = |a: &str, b: &str| {
            if let (Some(&a), Some(&b)) = (index.get(a), index.get(b)) {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra.max(rb)] = ra.min(rb);
            }
        };
        let open_at = |bus: &str, line: Option<&String>, trafo: Option<&String>| {
            f.switch.iter().any(|s| {
                !s.closed
                    && s.bus == bus
                    && (s.line.as_ref() == line && line.is_some()
                        || s.transformer.as_ref() == trafo && trafo.is_some())
            })
        };
        for l in f.line.iter().filter(|l| l.in_service) {
            let id = Some(l.id.get_ref());
            if !open_at(&l.from, id, None) && !open_at(&l.to, id, None) {
                join(&l.from, &l.to);
            }
        }
        for t in f.transformer.iter().filter(|t| t.in_service) {
            let id = Some(t.id.get_ref());
            if !open_at(&t.hv_bus, None, id) && !open_at(&t.lv_bus, None, id) {
                join(&t.hv_bus, &t.lv_bus);
            }
        }
        for s in f.switch.iter().filter(|s| s.closed) {
            if let Some(b) = &s.to_bus {
                join(&s.bus, b);
            }
        }
        let sources = f.ext_grid.iter().map(|e| e.bus.as_str()).chain(
            f.generator
                .iter()
                .filter(|g| g.in_service && g.vm_pu.is_some())
                .map(|g| g.bus.as_str()),
        );
        let supplied: HashSet<usize> = sources
            .filter_map(|b| index.get(b).copied())
            .map(|i| root(&mut parent, i))
            .collect();
        let off: Vec<usize> = (0..f.bus.len())
            .filter(|&i| !supplied.contains(&root(&mut parent, i)))
            .collect();
        for i in off {
            self.file.bus[i].in_service = false;
        }
    }
}

/// A bus's coordinates from pandapower's `geo` column (GeoJSON point).
fn geo(t: &Table, r: usize) -> (Option<f64>, Option<f64>) {
    let point = t
        .text(r, "geo")
        .and_then(|g| serde_json::from_str::<Value>(&g).ok());
    let c = point.as_ref().and_then(|p| p["coordinates"].as_array());
    match c.map(|c| {
        (
            c.first().and_then(|x| x.as_f64()),
            c.get(1).and_then(|y| y.as_f64()),
        )
    }) {
        Some((Some(x), Some(y))) => (Some(x), Some(y)),
        _ => (None, None),
    }
}
