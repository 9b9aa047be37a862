//! The crate's error type.
//!
//! Every error a user can trigger names where it happened: the file, the
//! line (for text formats) or the element, and what is wrong with it.

use std::fmt;
use std::path::{Path, PathBuf};

/// Problems listed in a message; the rest are counted (a file with a
/// million bad rows gives one screen, not a million lines).
pub const MAX_LISTED_PROBLEMS: usize = 50;

/// Result alias used throughout gridsim.
pub type Result<T> = std::result::Result<T, Error>;

/// All errors gridsim reports.
#[derive(Debug)]
pub enum Error {
    /// A file could not be read or written.
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A syntax or semantic error in an input file, at a line.
    Parse {
        /// The file concerned.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the construct or field.
        message: String,
    },
    /// A network that parsed but cannot be modelled (bad references,
    /// impossible values). Each entry names the element and field.
    Invalid {
        /// Where the network came from (file path or a label).
        source_name: String,
        /// One message per problem found.
        problems: Vec<String>,
    },
    /// The power flow did not converge.
    NotConverged {
        /// Iterations performed.
        iterations: usize,
        /// Max mismatch in p.u. at the last iterate.
        max_mismatch_pu: f64,
    },
    /// A numerical failure (singular Jacobian, non-finite values).
    Numerical(String),
    /// Anything else: a usage error of the CLI or API.
    Usage(String),
}

impl Error {
    /// A parse error in `path` at `line`.
    pub fn parse(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Error::Parse {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// Problems found in `source_name`, each message prefixed with it.
    pub fn invalid_in(source_name: &str, problems: Vec<String>) -> Self {
        Error::Invalid {
            source_name: source_name.to_string(),
            problems: problems
                .into_iter()
                .map(|p| format!("{source_name}: {p}"))
                .collect(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A power flow that stops above its tolerance but below this mismatch
/// (p.u.) has stalled on rounding, not diverged.
const STALL_HINT_PU: f64 = 1e-5;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::Parse {
                path,
                line,
                message,
            } => write!(f, "{}:{}: {}", path.display(), line, message),
            Error::Invalid {
                source_name,
                problems,
            } => {
                write!(
                    f,
                    "{}: {} problem{} found:",
                    source_name,
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                )?;
                for p in problems.iter().take(MAX_LISTED_PROBLEMS) {
                    write!(f, "\n  - {p}")?;
                }
                if problems.len() > MAX_LISTED_PROBLEMS {
                    let more = problems.len() - MAX_LISTED_PROBLEMS;
                    write!(f, "\n  ... and {more} more")?;
                }
                Ok(())
            }
            Error::NotConverged {
                iterations,
                max_mismatch_pu,
            } => {
                write!(
                    f,
                    "power flow did not converge: {iterations} iterations, max mismatch {max_mismatch_pu:.3e} p.u."
                )?;
                if *max_mismatch_pu < STALL_HINT_PU {
                    write!(
                        f,
                        " (so small a mismatch usually means the tolerance asks for more digits \
                         than the file's rounded data hold: try a larger --tol, e.g. 1e-6)"
                    )?;
                }
                Ok(())
            }
            Error::Numerical(m) => write!(f, "numerical failure: {m}"),
            Error::Usage(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stall just above the tolerance (case16am stops at 2e-8 p.u.) gets
    /// a hint about the tolerance; a real divergence does not.
    #[test]
    fn stalled_power_flows_hint_at_the_tolerance() {
        let stalled = Error::NotConverged {
            iterations: 20,
            max_mismatch_pu: 2.0e-8,
        };
        assert!(stalled.to_string().contains("try a larger --tol"));
        let diverged = Error::NotConverged {
            iterations: 20,
            max_mismatch_pu: 3.5,
        };
        assert!(!diverged.to_string().contains("--tol"));
    }
}
