//! The region-file reader on arbitrary text, then the sampling arithmetic
//! on what it accepts (each archetype a constant feeder, every option with
//! capex in one category; at most 20 samples).
#![no_main]
use gridsim::results::region::model::{simulate, ArchetypeModel, FeederYear, OptionModel, Surface};
use gridsim::results::region::spec::RegionSpec;
use libfuzzer_sys::fuzz_target;

fn surface(x: f64) -> Surface {
    Surface {
        load_levels: vec![1.0],
        pv_levels: vec![1.0],
        values: vec![FeederYear {
            served_mwh: 100.0 * x,
            loss_mwh: 3.0 * x,
            grid_mwh: 90.0 * x,
            ..Default::default()
        }],
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new("fuzz-region.toml");
    let Ok(mut spec) = RegionSpec::parse(path, text) else {
        return;
    };
    spec.samples = spec.samples.min(20);
    let models: Vec<ArchetypeModel> = spec
        .archetype
        .iter()
        .map(|a| ArchetypeModel {
            reference: surface(1.0),
            reference_hosting_mw: Some(1.0),
            options: spec
                .programme
                .iter()
                .map(|p| {
                    p.covers(&a.name).then(|| OptionModel {
                        variant: p.options.get(&a.name).cloned().unwrap_or_default(),
                        surface: surface(0.9),
                        capex: vec![("lines".into(), 1000.0)],
                        measures: Vec::new(),
                        hosting_mw: Some(2.0),
                    })
                })
                .collect(),
        })
        .collect();
    let o = simulate(&spec, &models, "EUR");
    for s in o.programmes.iter().flatten() {
        assert!(s.total.p50.is_finite(), "{}", s.metric.key);
    }
});
