//! Progress of a long run on stderr: a bar on a terminal, a plain line
//! every few seconds in a log (stderr redirected to a file or a pipe).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Seconds between two progress lines in a log.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Counts solved steps and shows how far a run is.
pub struct Progress {
    total: u64,
    done: u64,
    bar: Option<indicatif::ProgressBar>,
    /// For logs: when the run started and the last line was written.
    log: Option<(Instant, Instant)>,
}

impl Progress {
    /// Progress over `total` steps; nothing is shown when `quiet`.
    pub fn new(total: u64, quiet: bool) -> Progress {
        let (mut bar, mut log) = (None, None);
        if quiet {
        } else if std::io::stderr().is_terminal() {
            let b = indicatif::ProgressBar::new(total);
            let style = indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} steps ({rate} steps/s, eta {eta})",
            )
            .map(|s| {
                s.with_key(
                    "rate",
                    |st: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}", st.per_sec());
                    },
                )
            })
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            b.set_style(style);
            bar = Some(b);
        } else {
            let now = Instant::now();
            log = Some((now, now));
        }
        Progress {
            total,
            done: 0,
            bar,
            log,
        }
    }

    /// `n` more steps are done.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        if let Some(b) = &self.bar {
            b.inc(n);
        }
        if let Some((start, last)) = &mut self.log {
            if last.elapsed() >= LOG_EVERY {
                *last = Instant::now();
                eprintln!("{}", progress_line(self.done, self.total, start.elapsed()));
            }
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// `progress: 12000/210240 steps (5.7 %), 3500 steps/s, about 57 s left`.
fn progress_line(done: u64, total: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let rate = done as f64 / secs;
    let left = if rate > 0.0 {
        format!(
            ", about {:.0} s left",
            total.saturating_sub(done) as f64 / rate
        )
    } else {
        String::new()
    };
    format!(
        "progress: {done}/{total} steps ({:.1} %), {rate:.0} steps/s{left}",
        100.0 * done as f64 / total.max(1) as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_line_reads_plainly() {
        let l = progress_line(12_000, 48_000, Duration::from_secs(4));
        assert_eq!(
            l,
            "progress: 12000/48000 steps (25.0 %), 3000 steps/s, about 12 s left"
        );
    }
}
