//! Class load shapes against demandlib's BDEW standard load profiles on the
//! same year (tests/data/der/demandlib_slp.csv, made by
//! tools/der/demandlib_reference.py with demandlib 0.2.2): daily, weekly
//! and seasonal shapes correlate at 0.9 or better, with the right season.

mod common;
use common::root;
use gridsim::timeseries::synthetic::{load_shape, CustomerClass};
use gridsim::timeseries::time::Timestamp;

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Means of `x` over consecutive groups keyed by `key(step)`.
fn means(x: &[f64], n_keys: usize, key: impl Fn(usize) -> usize) -> Vec<f64> {
    let mut sum = vec![0.0; n_keys];
    let mut cnt = vec![0.0; n_keys];
    for (k, v) in x.iter().enumerate() {
        sum[key(k)] += v;
        cnt[key(k)] += 1.0;
    }
    sum.iter()
        .zip(&cnt)
        .map(|(s, c): (&f64, &f64)| s / c.max(1.0))
        .collect()
}

#[test]
fn class_shapes_follow_the_bdew_profiles() {
    let text = std::fs::read_to_string(root().join("tests/data/der/demandlib_slp.csv")).unwrap();
    let mut refs = vec![Vec::new(); 3];
    for line in text.lines().skip(1) {
        for (i, v) in line.split(',').skip(1).enumerate() {
            refs[i].push(v.parse::<f64>().unwrap());
        }
    }
    let start = Timestamp::parse("2019-01-01T00:00:00").unwrap();
    let n = refs[0].len();
    assert_eq!(n, 35040);
    let day = |k: usize| k / 96;
    // Day of the week × quarter hour: the weekly shape.
    let week = |k: usize| (Timestamp(start.0 + 900 * k as i64).weekday() as usize) * 96 + k % 96;
    let month = |k: usize| Timestamp(start.0 + 900 * k as i64).month() as usize - 1;
    let classes = [
        (CustomerClass::Residential, "H0 (dynamised)"),
        (CustomerClass::Commercial, "G0"),
        (CustomerClass::Agricultural, "L0"),
    ];
    for ((class, name), reference) in classes.iter().zip(&refs) {
        let ours = load_shape(*class, start, 900, n, 1, 0.0);
        for (what, a, b) in [
            ("daily", means(&ours, 365, day), means(reference, 365, day)),
            (
                "weekly",
                means(&ours, 7 * 96, week),
                means(reference, 7 * 96, week),
            ),
            (
                "seasonal",
                means(&ours, 12, month),
                means(reference, 12, month),
            ),
        ] {
            let r = corr(&a, &b);
            assert!(r >= 0.9, "{name} {what} correlation {r:.3}");
        }
        let (m_ours, m_ref) = (means(&ours, 12, month), means(reference, 12, month));
        assert_eq!(
            m_ours[0] > m_ours[6],
            m_ref[0] > m_ref[6],
            "{name}: January/July ordering differs"
        );
    }
}
