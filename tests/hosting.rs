//! Hosting capacity on the IEEE 33-bus feeder (scenarios/ieee33_hosting.toml,
//! a week): bisection against a brute-force sweep, the same at 1 and 2
//! threads, and the command line.

mod common;
use common::{gridsim, root};
use gridsim::timeseries::hosting::{
    breaks, hosting_capacity, Criteria, HostedKind, HostingOptions,
};
use gridsim::timeseries::scenario::hosting_probe;

const STEPS: usize = 96 * 7;

fn setup(buses: &[u64]) -> (gridsim::timeseries::runner::Scenario, HostingOptions) {
    let path = root().join("scenarios/ieee33_hosting.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (sc, avail) = hosting_probe(&path, &text, None, false, Some(STEPS)).unwrap();
    let buses = buses
        .iter()
        .map(|&b| {
            sc.network
                .find_bus(&gridsim::network::BusRef::Number(b))
                .unwrap()
        })
        .collect();
    let o = HostingOptions {
        kind: HostedKind::Pv,
        availability_per_mw: avail,
        buses,
        max_mw: 10.0,
        resolution_mw: 0.005,
        criteria: Criteria {
            voltage: true,
            thermal: true,
            reverse_flow: false,
        },
        threads: 2,
    };
    (sc, o)
}

/// At bus 18 (the end of the main feeder) and three others, the bisection's
/// result lies within one sweep step above the largest size a sweep in 1 %
/// steps of 10 MW finds acceptable, and at or above it.
#[test]
fn bisection_equals_a_brute_force_sweep() {
    let (sc, o) = setup(&[18, 33, 25, 10]);
    let res = hosting_capacity(&sc, &o).unwrap();
    for (r, &bus) in res.iter().zip(&o.buses) {
        assert_eq!(r.bus, bus);
        let mut best = 0.0;
        for k in 1..=100 {
            let size = 0.1 * k as f64;
            if breaks(&sc, &o, bus, size).unwrap().is_none() {
                best = size;
            } else {
                break;
            }
        }
        assert!(
            r.hosting_mw >= best - 1e-12 && r.hosting_mw < best + 0.1,
            "bus {}: bisection {} MW, sweep {best} MW",
            sc.network.buses[bus].id,
            r.hosting_mw
        );
        // The bracket: acceptable at the result, not at result + resolution.
        assert!(breaks(&sc, &o, bus, r.hosting_mw).unwrap().is_none());
        if r.limit == "none" {
            // Acceptable up to the search's end (10 MW).
            assert_eq!(r.hosting_mw, o.max_mw);
            continue;
        }
        assert!(breaks(&sc, &o, bus, r.hosting_mw + o.resolution_mw)
            .unwrap()
            .is_some());
        assert_eq!(r.limit, "voltage");
    }
    // Further from the substation, less PV: bus 18 hosts the least.
    assert!(
        res[0].hosting_mw
            < res[1]
                .hosting_mw
                .min(res[2].hosting_mw)
                .min(res[3].hosting_mw)
    );
}

/// Probes that break stop early (fewer steps solved than whole runs), and
/// the limit is still the one a whole run of a size just above the result
/// gives.
#[test]
fn probes_stop_at_the_first_break() {
    let (sc, o) = setup(&[18, 33]);
    let res = hosting_capacity(&sc, &o).unwrap();
    for r in &res {
        assert!(r.limit == "voltage" && r.runs > 5, "{r:?}");
        assert!(r.steps < r.runs * STEPS, "no probe stopped early: {r:?}");
        assert!(r.steps > STEPS, "{r:?}");
    }
    for r in &res {
        let hi = r.hosting_mw + o.resolution_mw;
        assert_eq!(breaks(&sc, &o, r.bus, hi).unwrap(), Some(r.limit));
    }
}

/// One thread or two: the same results, bit for bit.
#[test]
fn results_do_not_depend_on_threads() {
    let (sc, mut o) = setup(&[18, 6, 30]);
    let two = hosting_capacity(&sc, &o).unwrap();
    o.threads = 1;
    let one = hosting_capacity(&sc, &o).unwrap();
    assert_eq!(one, two);
}

/// The command: a table by default, CSV on request, bad criteria refused.
#[test]
fn hosting_command_prints_every_bus() {
    let sc = root().join("scenarios/ieee33_hosting.toml");
    let o = gridsim(&[
        "hosting",
        sc.to_str().unwrap(),
        "--steps",
        "96",
        "--resolution-mw",
        "0.05",
        "--csv",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "bus,vn_kv,hosting_mw,limit,runs");
    assert_eq!(lines.len(), 1 + 32, "{text}");
    // Two shards of the buses: their rows together are the whole table.
    let mut rows: Vec<String> = Vec::new();
    for k in 0..2 {
        let shard = format!("{k}/2");
        let o = gridsim(&[
            "hosting",
            sc.to_str().unwrap(),
            "--steps",
            "96",
            "--resolution-mw",
            "0.05",
            "--csv",
            "--shard",
            &shard,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        rows.extend(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .skip(1)
                .map(str::to_string),
        );
    }
    let mut whole: Vec<String> = lines[1..].iter().map(|l| l.to_string()).collect();
    rows.sort();
    whole.sort();
    assert_eq!(rows, whole);
    // HDF5 and the page along the feeder.
    let dir = common::tmpdir("hosting-out");
    let (h5, html) = (dir.join("hc.h5"), dir.join("hc.html"));
    let o = gridsim(&[
        "hosting",
        sc.to_str().unwrap(),
        "--steps",
        "96",
        "--resolution-mw",
        "0.05",
        "--buses",
        "18,6",
        "--out",
        h5.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = hdf5::File::open(&h5).unwrap();
    let mw: Vec<f64> = f.dataset("hosting/hosting_mw").unwrap().read_raw().unwrap();
    let ids: Vec<hdf5::types::VarLenUnicode> = f.dataset("hosting/id").unwrap().read_raw().unwrap();
    assert_eq!(
        ids.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ["18", "6"]
    );
    let table: Vec<f64> = lines[1..]
        .iter()
        .filter(|l| l.starts_with("18,") || l.starts_with("6,"))
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(mw.len(), 2);
    assert!(
        table.contains(&mw[0]) && table.contains(&mw[1]),
        "{mw:?} vs {table:?}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("along the feeder"));
    std::fs::remove_dir_all(&dir).ok();
    let o = gridsim(&["hosting", sc.to_str().unwrap(), "--criteria", "sunshine"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("'sunshine'"));
}
