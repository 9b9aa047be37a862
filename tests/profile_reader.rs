//! The profile reader's two paths agree: unquoted files (split at commas,
//! large ones parsed in parallel chunks) and quoted ones (the csv crate)
//! give the same table and the same errors, with the same line numbers.

use gridsim::timeseries::profiles::{parse_profiles, ProfileTable};
use std::path::Path;

fn same(a: &ProfileTable, b: &ProfileTable) {
    assert_eq!(a.names, b.names);
    assert_eq!(a.n_steps, b.n_steps);
    assert_eq!(a.first_time, b.first_time);
    assert_eq!(a.label_step_s, b.label_step_s);
    for c in 0..a.names.len() {
        let (x, y) = (a.series(c), b.series(c));
        assert!(
            x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{}",
            a.names[c]
        );
    }
}

/// The same text with its header's first name quoted (the csv crate's path).
fn quoted(text: &str) -> String {
    let (head, body) = text.split_once(',').unwrap();
    format!("\"{head}\",{body}")
}

#[test]
fn simbench_year_reads_the_same_both_ways() {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/simbench-mv-urban/profiles.csv.gz");
    let text = gridsim::input::read_text(&p).unwrap();
    assert!(!text.contains('"') && text.len() > 1 << 20);
    let plain = parse_profiles(&p, &text).unwrap();
    assert_eq!(plain.n_steps, 35136);
    same(&plain, &parse_profiles(&p, &quoted(&text)).unwrap());
}

#[test]
fn line_endings_blank_lines_and_spaces() {
    let text = "time, a ,b\r\n2020-01-01T00:00, 1.5 ,2\r\n\r\n2020-01-01T00:15,3, -4e-1\r\n2020-01-01T00:30,5,6\n";
    let p = Path::new("t.csv");
    let plain = parse_profiles(p, text).unwrap();
    assert_eq!(plain.n_steps, 3);
    assert_eq!(plain.series(1), &[2.0, -0.4, 6.0]);
    same(&plain, &parse_profiles(p, &quoted(text)).unwrap());
}

#[test]
fn errors_name_the_same_line_in_every_chunk() {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/simbench-mv-urban/profiles.csv.gz");
    let text = gridsim::input::read_text(&p).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for bad_line in [2usize, 5000, 20001, 35137] {
        for (what, cell) in [("not a number", "x1"), ("not finite", "inf")] {
            let mut l = lines.clone();
            let row = l[bad_line - 1].to_string();
            let mut f: Vec<&str> = row.split(',').collect();
            f[4] = cell;
            let joined = f.join(",");
            l[bad_line - 1] = &joined;
            let t = l.join("\n");
            let e1 = parse_profiles(&p, &t).unwrap_err().to_string();
            let e2 = parse_profiles(&p, &quoted(&t)).unwrap_err().to_string();
            assert_eq!(e1, e2);
            assert!(
                e1.contains(&format!(":{bad_line}:")) && e1.contains(what),
                "{e1}"
            );
        }
    }
    // Too few fields.
    let mut l = lines.clone();
    l[29999] = "1,01.01.2016 00:00,0.5";
    let t = l.join("\n");
    let e = parse_profiles(&p, &t).unwrap_err().to_string();
    assert!(e.contains(":30000:") && e.contains("3 fields"), "{e}");
}
