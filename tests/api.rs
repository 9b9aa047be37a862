//! The embedding API (`gridsim::cli::api`, what the Python package calls):
//! a network's tables as JSON and back give the same power flow as the
//! file, for every format (a MATPOWER case through its per-unit branches, to
//! rounding); errors name element and field.

mod common;
use common::root;
use gridsim::cli::api;
use gridsim::powerflow::PfOptions;

#[test]
fn tables_round_trip_to_the_same_power_flow() {
    for f in [
        "networks/ieee33.toml",
        "networks/cn_urban_10kv_ring.toml",
        "tests/data/matpower/cases/case118.m",
        "tests/data/pandapower/edge_cases.json",
    ] {
        let path = root().join(f);
        let json = api::network_json(&path).unwrap();
        let label = path.with_file_name("tables.toml");
        let net = api::network_from_json(&json, &label).unwrap();
        let direct = gridsim::network::read_network(&path).unwrap();
        let opts = PfOptions::default();
        let (a, _) = api::solve_timed(&net, &opts).unwrap();
        let (b, _) = api::solve_timed(&direct, &opts).unwrap();
        let close = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-10);
        assert!(close(&a.bus.vm_pu, &b.bus.vm_pu), "{f}");
        assert!(close(&a.bus.va_degree, &b.bus.va_degree), "{f}");
        assert!((a.total_loss_mw - b.total_loss_mw).abs() < 1e-8, "{f}");
        if !f.ends_with(".m") {
            assert_eq!(a.bus.vm_pu, b.bus.vm_pu, "{f}: the same network exactly");
        }
    }
}

#[test]
fn bad_tables_are_named() {
    let path = root().join("networks/ieee33.toml");
    let json = api::network_json(&path).unwrap();
    let bad = json.replacen("\"length_km\":", "\"length_km\":-", 1);
    let e = api::network_from_json(&bad, &path.with_file_name("t.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("length_km") && e.contains("t.toml"), "{e}");
    assert!(
        e.contains("t.toml: line 'L1'"),
        "no line numbers of generated text: {e}"
    );
    let e = api::toml_text_of_json("{\"a\": null}", "x")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("x:"), "{e}");
    let opts = PfOptions {
        newton: gridsim::solver::NewtonOptions {
            tol: f64::NAN,
            max_iter: 10,
        },
        flat_start: false,
    };
    let net = gridsim::network::read_network(&path).unwrap();
    assert!(api::solve_timed(&net, &opts).is_err());
}
