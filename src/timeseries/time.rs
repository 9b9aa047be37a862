//! Civil time stamps (no time zone) for the time axis of a study.
//!
//! A study's axis is `start + k · step`; labels in input files are only
//! validated, never used to place rows (real data repeat or skip hours at
//! DST changes).

use std::fmt;

/// Seconds since 1970-01-01 00:00:00 in a zone-less civil calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl Timestamp {
    /// Builds a time stamp from calendar fields; `None` if any is out of range.
    pub fn from_civil(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<Timestamp> {
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || !(0..=23).contains(&h)
            || !(0..=59).contains(&mi)
            || !(0..=59).contains(&s)
        {
            return None;
        }
        Some(Timestamp(
            days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s,
        ))
    }

    /// Parses ISO-8601 (`2016-01-01T00:15:00`, `2016-01-01 00:15`, an
    /// optional `Z` or `+hh:mm` offset is accepted and ignored) or the
    /// SimBench form `dd.mm.yyyy HH:MM`.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let num = |t: &str| -> Option<i64> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                t.parse().ok()
            }
        };
        let (date, time) = match s.find(['T', ' ']) {
            Some(i) => (&s[..i], s[i + 1..].trim()),
            None => (s, ""),
        };
        let (y, mo, d) = if date.contains('.') {
            let p: Vec<&str> = date.split('.').collect();
            if p.len() != 3 || p[2].len() != 4 {
                return None;
            }
            (num(p[2])?, num(p[1])?, num(p[0])?)
        } else {
            let p: Vec<&str> = date.split('-').collect();
            if p.len() != 3 || p[0].len() != 4 {
                return None;
            }
            (num(p[0])?, num(p[1])?, num(p[2])?)
        };
        let time = time.trim_end_matches('Z');
        let time = match time.find(['+', '-']) {
            Some(i) => &time[..i],
            None => time,
        };
        let (h, mi, sec) = if time.is_empty() {
            (0, 0, 0)
        } else {
            let p: Vec<&str> = time.split(':').collect();
            match p.len() {
                2 => (num(p[0])?, num(p[1])?, 0),
                3 => {
                    let sec = p[2].split('.').next()?;
                    (num(p[0])?, num(p[1])?, num(sec)?)
                }
                _ => return None,
            }
        };
        Timestamp::from_civil(y, mo, d, h, mi, sec)
    }

    /// Day of year starting at 0, and hour of day as a fraction.
    pub fn day_and_hour(self) -> (u32, f64) {
        let days = self.0.div_euclid(86400);
        let secs = self.0.rem_euclid(86400);
        let (y, _, _) = civil_from_days(days);
        let doy = days - days_from_civil(y, 1, 1);
        (doy as u32, secs as f64 / 3600.0)
    }

    /// Day of the week, 0 = Monday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        ((self.0.div_euclid(86400) + 3).rem_euclid(7)) as u32
    }

    /// Month 1–12.
    pub fn month(self) -> u32 {
        civil_from_days(self.0.div_euclid(86400)).1 as u32
    }

    /// Month 1–12 and day of the month 1–31.
    pub fn month_day(self) -> (u32, u32) {
        let (_, m, d) = civil_from_days(self.0.div_euclid(86400));
        (m as u32, d as u32)
    }
}

impl fmt::Display for Timestamp {
    /// ISO-8601 without zone, e.g. `2016-01-01T00:15:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86400);
        let secs = self.0.rem_euclid(86400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_and_simbench_forms() {
        let a = Timestamp::parse("2016-03-27T02:15:00").unwrap();
        let b = Timestamp::parse("27.03.2016 02:15").unwrap();
        let c = Timestamp::parse("2016-03-27 02:15+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.to_string(), "2016-03-27T02:15:00");
        assert_eq!(
            Timestamp::parse("2016-02-29").unwrap().to_string(),
            "2016-02-29T00:00:00"
        );
        assert!(Timestamp::parse("2015-02-29").is_none());
        assert!(Timestamp::parse("31.04.2016 00:00").is_none());
        assert!(Timestamp::parse("yesterday").is_none());
        assert!(Timestamp::parse("2016-01-01T25:00").is_none());
    }

    #[test]
    fn calendar_fields() {
        let t = Timestamp::parse("2016-12-31T12:30:00").unwrap();
        assert_eq!(t.day_and_hour(), (365, 12.5));
        assert_eq!(t.month(), 12);
        assert_eq!(t.weekday(), 5); // a Saturday
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00");
    }
}
