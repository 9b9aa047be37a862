//! The profile reader's two paths agree: unquoted files (split at commas,
//! read a piece at a time, each piece parsed in parallel parts; gzip
//! inflated piece by piece) and quoted ones (the csv crate, the text whole)
//! give the same table and the same errors, with the same line numbers.

mod common;

use gridsim::timeseries::profiles::{parse_profiles, read_profiles, ProfileTable};
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// `text` gzipped into `path`, as two gzip members cut at byte `cut` (in
/// the middle of a line: a piece's lines must not end with a member).
fn gzip_file(dir: &Path, name: &str, text: &[u8], cut: usize) -> PathBuf {
    let path = dir.join(name);
    let mut bytes = Vec::new();
    for part in [&text[..cut], &text[cut..]] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(part).unwrap();
        bytes.extend(gz.finish().unwrap());
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

fn simbench_text() -> String {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/simbench-mv-urban/profiles.csv.gz");
    gridsim::input::read_text(&p).unwrap()
}

/// A gzip file is inflated a piece at a time (here across two members cut
/// mid-line) and read as its whole text is; so is a file with a quote only
/// in its last row (read again whole, by the csv crate).
#[test]
fn gzip_pieces_read_as_the_whole_text() {
    let dir = common::tmpdir("profile-pieces");
    let text = simbench_text();
    let whole = parse_profiles(Path::new("p.csv"), &quoted(&text)).unwrap();
    let cut = text.len() / 3 + 17;
    same(
        &read_profiles(&gzip_file(&dir, "a.csv.gz", text.as_bytes(), cut)).unwrap(),
        &whole,
    );
    let last = text.trim_end().rfind('\n').unwrap() + 1;
    let (head, row) = text.split_at(last);
    let (label, cells) = row.split_once(',').unwrap();
    let late = format!("{head}\"{label}\",{cells}");
    assert!(late.find('"').unwrap() > 4 << 20);
    same(&parse_profiles(Path::new("p.csv"), &late).unwrap(), &whole);
    same(
        &read_profiles(&gzip_file(&dir, "b.csv.gz", late.as_bytes(), cut)).unwrap(),
        &whole,
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A row longer than a piece (100,000 columns, about 700 kB) is read whole.
#[test]
fn a_row_longer_than_a_piece() {
    let names: Vec<String> = (0..100_000).map(|c| format!("c{c}")).collect();
    let mut text = format!("time,{}\n", names.join(","));
    for t in 0..3 {
        let cells: Vec<String> = (0..100_000).map(|c| format!("{}.{t}5", c % 97)).collect();
        text += &format!("2020-01-01T00:{:02},{}\n", 15 * t, cells.join(","));
    }
    let plain = parse_profiles(Path::new("p.csv"), &text).unwrap();
    assert_eq!((plain.n_steps, plain.names.len()), (3, 100_000));
    assert_eq!(plain.value(99_999, 2), 89.25);
    same(
        &plain,
        &parse_profiles(Path::new("p.csv"), &quoted(&text)).unwrap(),
    );
}

/// Bytes that are not UTF-8 deep in a gzip file: the error names the line.
#[test]
fn not_utf8_deep_in_a_gzip_file_names_the_line() {
    let dir = common::tmpdir("profile-utf8");
    let text = simbench_text();
    let at = text.match_indices('\n').nth(29_998).unwrap().0 + 5;
    let mut bytes = text.into_bytes();
    bytes[at] = 0xff;
    let e = read_profiles(&gzip_file(&dir, "u.csv.gz", &bytes, 1000))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("u.csv.gz:30000:") && e.contains("not UTF-8"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A table whose only columns are the time and a step index still has its
/// rows (and no profile).
#[test]
fn a_table_of_no_profiles_keeps_its_rows() {
    let text = "time,step\n2020-01-01T00:00,1\n2020-01-01T00:15,2\n";
    let t = parse_profiles(Path::new("p.csv"), text).unwrap();
    assert_eq!(
        (t.n_steps, t.names.len(), t.label_step_s),
        (2, 0, Some(900))
    );
}
