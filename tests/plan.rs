//! `gridsim plan` on a constructed feeder (tests/data/plan): the measures
//! found by comparing the option with the reference element by element,
//! their prices from a test catalogue, and every economic figure against
//! its closed form.

mod common;
use common::{gridsim, root, tmpdir};
use gridsim::results::compare;

fn crf(r: f64, n: f64) -> f64 {
    let g = (1.0 + r).powf(n);
    r * g / (g - 1.0)
}

#[test]
fn measures_and_economics_match_the_hand_derived_plan() {
    let dir = tmpdir("plan");
    let out = dir.join("plan.h5");
    let data = root().join("tests/data/plan");
    let o = gridsim(&[
        "plan",
        data.join("options.toml").to_str().unwrap(),
        "--catalogue",
        data.join("catalogue.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["currency"], "TST");
    assert_eq!(v["reference"], "as-is");
    let opt = &v["options"][0];
    assert_eq!(opt["option"], "upgrade");
    // Reconductor L1 (0.3 km at 50,000/km: the cheapest item carrying the
    // NAYY 4x150's 0.27 kA), a second system on L2 (0.2 km new at 70,000),
    // T1 upsized to 0.4 MVA (12,000), a 0.05 Mvar capacitor (20,000 per
    // Mvar) and an OLTC controller (5,000).
    let capex = [
        (15_000.0, 40.0, 0.01),
        (14_000.0, 40.0, 0.02),
        (12_000.0, 35.0, 0.01),
        (1_000.0, 20.0, 0.0),
        (5_000.0, 20.0, 0.01),
    ];
    let m = opt["measures"].as_array().unwrap();
    assert_eq!(m.len(), 5);
    for (x, (c, _, _)) in m.iter().zip(capex) {
        assert_eq!(x["capex"].as_f64().unwrap(), c, "{x}");
    }
    let annualised: f64 = capex.iter().map(|(c, n, _)| c * crf(0.05, *n)).sum();
    let om: f64 = capex.iter().map(|(c, _, f)| c * f).sum();
    // Losses at 100 per MWh, the week scaled to a year.
    let c = compare::read(std::slice::from_ref(&out), None).unwrap();
    let loss = |s: usize| c.values[s][c.kpis.iter().position(|k| k == "loss_mwh").unwrap()];
    let losses = (loss(1) - loss(0)) * 8760.0 / 168.0 * 100.0;
    let annual = annualised + om + losses;
    let af = (1.0 - 1.05f64.powf(-20.0)) / 0.05;
    let close = |k: &str, want: f64| {
        let got = opt[k].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{k}: {got} vs {want}"
        );
    };
    close("capex", 47_000.0);
    close("annualised_capex", annualised);
    close("om_per_year", om);
    close("losses_cost_per_year", losses);
    close("annual_cost", annual);
    close("npv_cost", annual * af);
    let removed = opt["voltage_hours_removed_per_year"].as_f64().unwrap()
        + opt["overload_hours_removed_per_year"].as_f64().unwrap();
    assert!(removed > 0.0);
    close("cost_per_violation_hour_removed", annual / removed);
    // No emission factors: no CO2 avoided, so no cost per tonne.
    assert!(opt["cost_per_t_co2_avoided"].is_null());
    assert!(losses < 0.0, "the upgrade lowers losses");
    // The results file carries the plan and the catalogue's basis.
    let f = hdf5::File::open(&out).unwrap();
    let g = f.group("scenarios/upgrade/plan").unwrap();
    let npv: f64 = g.attr("npv_cost").unwrap().read_scalar().unwrap();
    assert!((npv - annual * af).abs() <= 1e-9 * npv.abs());
    let cur: hdf5::types::VarLenUnicode = f.attr("plan_currency").unwrap().read_scalar().unwrap();
    assert_eq!(cur.as_str(), "TST");
    // Pricing the written file again (as after merging shards) gives the
    // same plan without running.
    let again = gridsim(&[
        "plan",
        data.join("options.toml").to_str().unwrap(),
        "--catalogue",
        data.join("catalogue.toml").to_str().unwrap(),
        "--results",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let w: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(w["options"], v["options"]);
    // The report shows the ranked options and their cost components.
    let html = dir.join("plan.html");
    let r = gridsim(&[
        "report",
        out.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Upgrade options, ranked (TST, price basis 2024"),
        "no plan section"
    );
    assert!(
        page.contains("transformer &#39;T1&#39;: 1 × 0.4 MVA")
            || page.contains("transformer 'T1': 1 × 0.4 MVA")
    );
    assert!(page.contains("Annual cost of each option against the reference"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A measure the catalogue cannot price, or a bad catalogue number, is an
/// error naming it, before anything runs.
#[test]
fn missing_items_and_bad_numbers_are_named() {
    let dir = tmpdir("plan-err");
    let data = root().join("tests/data/plan");
    let text = std::fs::read_to_string(data.join("catalogue.toml")).unwrap();
    let cat = dir.join("cat.toml");
    let run = |t: String| {
        std::fs::write(&cat, t).unwrap();
        let o = gridsim(&[
            "plan",
            data.join("options.toml").to_str().unwrap(),
            "--catalogue",
            cat.to_str().unwrap(),
            "--out",
            dir.join("x.h5").to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(1));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let no_cap = text[..text.find("[capacitor]").unwrap()].to_string()
        + &text[text.find("[oltc_controller]").unwrap()..];
    let e = run(no_cap);
    assert!(e.contains("no item for capacitor 'C1' (0.05 Mvar)"), "{e}");
    let e = run(text.replace("discount_rate = 0.05", "discount_rate = -1"));
    assert!(e.contains("discount_rate must be 0 to 1, found -1"), "{e}");
    assert!(!dir.join("x.h5").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// `plan --auto` on the constructed feeder with a 0.28 MW load on short
/// NAYY 4x50 cables (0.142 kA) behind a 0.25 MVA transformer: the peak
/// current (about 0.45 kA) is more than the family's largest type carries
/// (NAYY 4x150, 0.27 kA), so each cable first gets a second system, the far
/// one first (its loading is the higher); then about 0.22 kA per system
/// makes NAYY 4x120 (0.242 kA) the smallest type that carries it; then the
/// transformer (about 0.3 MVA at peak) the smallest catalogue rating above
/// 0.25 MVA, 0.4 MVA. Priced: 2 × 0.05 km and 2 × 0.04 km reconductored at
/// 50,000 per km (the cheapest item for 0.242 kA) and a 12,000 transformer.
#[test]
fn automatic_reinforcement_takes_the_hand_derived_measures() {
    let data = root().join("tests/data/plan");
    let o = gridsim(&[
        "plan",
        data.join("auto.toml").to_str().unwrap(),
        "--auto",
        "--catalogue",
        data.join("catalogue.toml").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let taken: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().split_once(". ").map(|x| x.1))
        .map(|l| l.split(" (loading").next().unwrap())
        .collect();
    assert_eq!(
        taken,
        [
            "line 'L2': parallel systems 1 → 2",
            "line 'L1': parallel systems 1 → 2",
            "line 'L2': NAYY 4x50 SE → NAYY 4x120 SE",
            "line 'L1': NAYY 4x50 SE → NAYY 4x120 SE",
            "transformer 'T1': 0.25 → 0.4 MVA",
        ],
        "{text}"
    );
    assert!(text.contains("total capex 21000 TST"), "{text}");
    // Annualised capex + O&M in closed form.
    let annual = 9_000.0 * (crf(0.05, 40.0) + 0.01) + 12_000.0 * (crf(0.05, 35.0) + 0.01);
    assert!(
        text.contains(&format!(
            "annualised capex + O&M {} TST",
            gridsim::results::compare::fmt_num(annual)
        )),
        "{text} (expected {annual})"
    );
}

/// `plan --hosting-buses`: each option's hosting capacity is the smallest
/// `gridsim hosting` finds at those buses, and the cost per MW gained is
/// the annual cost over the gain.
#[test]
fn cost_per_mw_of_hosting_capacity_gained() {
    let dir = tmpdir("plan-hosting");
    let data = root().join("tests/data/plan");
    let options = data.join("options.toml");
    let catalogue = data.join("catalogue.toml");
    let hc_args = ["--max-mw", "1", "--resolution-mw", "0.005"];
    let o = gridsim(&[
        "plan",
        options.to_str().unwrap(),
        "--catalogue",
        catalogue.to_str().unwrap(),
        "--out",
        dir.join("plan.h5").to_str().unwrap(),
        "--quiet",
        "--format",
        "json",
        "--hosting-buses",
        "B2,B3",
        "--hosting-max-mw",
        "1",
        "--hosting-resolution-mw",
        "0.005",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let smallest = |variant: &str| -> f64 {
        let mut a = vec![
            "hosting",
            options.to_str().unwrap(),
            "--scenario",
            variant,
            "--buses",
            "B2,B3",
            "--csv",
        ];
        a.extend(hc_args);
        let h = gridsim(&a);
        assert!(h.status.success(), "{}", String::from_utf8_lossy(&h.stderr));
        String::from_utf8(h.stdout)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap())
            .fold(f64::INFINITY, f64::min)
    };
    let (base, up) = (smallest("as-is"), smallest("upgrade"));
    assert!(up > base, "the upgrade raises the hosting capacity");
    let opt = &v["options"][0];
    assert_eq!(opt["hosting_mw"].as_f64().unwrap(), up);
    assert_eq!(opt["reference_hosting_mw"].as_f64().unwrap(), base);
    let annual = opt["annual_cost"].as_f64().unwrap();
    let per = opt["cost_per_mw_hosting_gained"].as_f64().unwrap();
    assert!((per - annual / (up - base)).abs() <= 1e-9 * per.abs());
    // The results file and its report carry them.
    let html = dir.join("plan.html");
    let r = gridsim(&[
        "report",
        dir.join("plan.h5").to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<th>Annual cost per MW gained</th>"));
    std::fs::remove_dir_all(&dir).ok();
}
