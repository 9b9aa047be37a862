//! Writes a [`Network`] as a MATPOWER version-2 case file.

use crate::network::Network;
use std::fmt::Write;

/// Formats a number so that MATLAB/Octave and gridsim read it back exactly.
fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "Inf".into()
        } else {
            "-Inf".into()
        }
    } else if x == 0.0 {
        "0".into()
    } else {
        // `{:e}` is the shortest representation that round-trips.
        let plain = format!("{x}");
        let sci = format!("{x:e}");
        if plain.len() <= sci.len() {
            plain
        } else {
            sci
        }
    }
}

fn row(out: &mut String, vals: &[f64]) {
    out.push('\t');
    let cells: Vec<String> = vals.iter().map(|&v| num(v)).collect();
    out.push_str(&cells.join("\t"));
    out.push_str(";\n");
}

/// Returns the text of a MATPOWER case file describing `net`.
///
/// Loads and shunts are summed per bus (MATPOWER has one PD/QD/GS/BS per
/// bus); branch shunt conductances become bus shunts. Reading the output back gives the same network up to that
/// aggregation.
pub fn write_case(net: &Network) -> String {
    let nb = net.buses.len();
    let mut pd = vec![0.0; nb];
    let mut qd = vec![0.0; nb];
    let mut gs = vec![0.0; nb];
    let mut bs = vec![0.0; nb];
    for l in &net.loads {
        // Constant-impedance shares are bus shunts in MATPOWER (exact);
        // constant-current shares cannot be written (checked by callers).
        let p_share = 1.0 - l.z_share - l.i_share;
        pd[l.bus] += l.p_mw * (p_share + l.i_share);
        qd[l.bus] += l.q_mvar * (p_share + l.i_share);
        gs[l.bus] += l.p_mw * l.z_share;
        bs[l.bus] -= l.q_mvar * l.z_share;
    }
    for s in &net.shunts {
        gs[s.bus] += s.g_mw;
        bs[s.bus] += s.b_mvar;
    }
    // MATPOWER has no branch conductance: a branch's shunt conductance
    // (transformer iron losses) becomes bus shunts, half at each end, the
    // from half behind the ratio (exact at this ratio).
    for br in net
        .branches
        .iter()
        .filter(|b| b.in_service && b.g_pu != 0.0)
    {
        let half_mw = br.g_pu / 2.0 * net.base_mva;
        gs[br.from] += half_mw / (br.tap_ratio * br.tap_ratio);
        gs[br.to] += half_mw;
    }
    let fname: String = net
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let fname = if fname
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
    {
        fname
    } else {
        format!("case_{fname}")
    };
    let mut o = String::new();
    let _ = writeln!(o, "function mpc = {fname}");
    let _ = writeln!(
        o,
        "%{}  Power flow data written by gridsim {}",
        fname.to_uppercase(),
        env!("CARGO_PKG_VERSION")
    );
    o.push_str("\n%% MATPOWER Case Format : Version 2\nmpc.version = '2';\n\n");
    let _ = writeln!(
        o,
        "%% system MVA base\nmpc.baseMVA = {};\n",
        num(net.base_mva)
    );
    o.push_str("%% bus data\n%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin\nmpc.bus = [\n");
    for (i, b) in net.buses.iter().enumerate() {
        row(
            &mut o,
            &[
                b.id as f64,
                b.kind.code() as f64,
                pd[i],
                qd[i],
                gs[i],
                bs[i],
                b.area,
                b.vm_pu,
                b.va_degree,
                b.base_kv,
                b.zone,
                b.vmax_pu,
                b.vmin_pu,
            ],
        );
    }
    o.push_str("];\n\n%% generator data\n%\tbus\tPg\tQg\tQmax\tQmin\tVg\tmBase\tstatus\tPmax\tPmin\tPc1\tPc2\tQc1min\tQc1max\tQc2min\tQc2max\tramp_agc\tramp_10\tramp_30\tramp_q\tapf\nmpc.gen = [\n");
    for g in &net.generators {
        let mut v = vec![
            net.buses[g.bus].id as f64,
            g.p_mw,
            g.q_mvar,
            g.qmax_mvar,
            g.qmin_mvar,
            g.vg_pu,
            g.mbase_mva,
            if g.in_service { 1.0 } else { 0.0 },
            g.pmax_mw,
            g.pmin_mw,
        ];
        v.extend(g.extra.iter().copied());
        v.resize(21, 0.0);
        row(&mut o, &v);
    }
    o.push_str("];\n\n%% branch data\n%\tfbus\ttbus\tr\tx\tb\trateA\trateB\trateC\tratio\tangle\tstatus\tangmin\tangmax\nmpc.branch = [\n");
    for br in &net.branches {
        let tap = if br.is_transformer() {
            br.tap_ratio
        } else {
            0.0
        };
        row(
            &mut o,
            &[
                net.buses[br.from].id as f64,
                net.buses[br.to].id as f64,
                br.r_pu,
                br.x_pu,
                br.b_pu,
                br.rate_a_mva,
                br.rate_b_mva,
                br.rate_c_mva,
                tap,
                br.shift_degree,
                if br.in_service { 1.0 } else { 0.0 },
                br.angmin_degree,
                br.angmax_degree,
            ],
        );
    }
    o.push_str("];\n");
    if net.buses.iter().any(|b| b.name.is_some()) {
        o.push_str("\n%% bus names\nmpc.bus_name = {\n");
        for b in &net.buses {
            let n: String = b.name.clone().unwrap_or_default().replace('\'', "''");
            let n: String = n
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let _ = writeln!(o, "\t'{n}';");
        }
        o.push_str("};\n");
    }
    o
}
