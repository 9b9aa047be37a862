//! Reading input files: every network, scenario, profile, element and
//! line-type file goes through [`read`] or [`read_text`], which
//!
//! - accept only regular files (a FIFO would block, `/dev/zero` never ends);
//! - refuse files larger than [`MAX_INPUT_BYTES`], and gzip data that
//!   decompresses to more (a small gzip can expand a thousandfold);
//! - with [`confine`] set (`--confine DIR`), refuse any file that does not
//!   resolve, symbolic links followed, to a path under that folder — for
//!   running files written by others.
//!
//! Error messages quote file content only through [`excerpt`]: a short,
//! sanitized piece, never whole lines of a file that is not what it should be.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Largest input file, and largest decompressed text, in bytes (1 GiB: a
/// year of 15-minute profiles for 3,000 columns is about 1 GB).
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// Longest piece of file content an error message quotes, in characters.
pub const EXCERPT_CHARS: usize = 40;

static CONFINED_TO: OnceLock<PathBuf> = OnceLock::new();

/// Confines every input file of this process to `dir` (after resolving
/// symbolic links). Set once, before any input is read; a second call is
/// an error.
pub fn confine(dir: &Path) -> Result<()> {
    let root = dir
        .canonicalize()
        .map_err(|e| Error::Usage(format!("--confine {}: {e}", dir.display())))?;
    if !root.is_dir() {
        return Err(Error::Usage(format!(
            "--confine {}: not a directory",
            dir.display()
        )));
    }
    CONFINED_TO
        .set(root)
        .map_err(|_| Error::Usage("input confinement is already set".into()))
}

/// Checks that `path` is a regular file within the size limit (and within
/// the confinement folder, if set).
fn check(path: &Path) -> Result<u64> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if let Some(root) = CONFINED_TO.get() {
        let real = path.canonicalize().map_err(|e| Error::io(path, e))?;
        if !real.starts_with(root) {
            return Err(Error::Usage(format!(
                "{}: outside the folder inputs are confined to ({})",
                path.display(),
                root.display()
            )));
        }
    }
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "{}: not a regular file (a directory, device, FIFO or socket)",
            path.display()
        )));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(Error::Usage(format!(
            "{}: {} bytes, more than the {} bytes an input may have",
            path.display(),
            meta.len(),
            MAX_INPUT_BYTES
        )));
    }
    Ok(meta.len())
}

/// The bytes of an input file.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    let len = check(path)?;
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::with_capacity(len as usize);
    // Bounded even if the file grows while it is read.
    f.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Error::Usage(format!(
            "{}: more than the {MAX_INPUT_BYTES} bytes an input may have",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The text of an input file, gzip-decompressed if it starts with the
/// gzip magic bytes; it must be UTF-8.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = read(path)?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        // The gzip trailer's size (mod 2^32, of the last member) as a hint,
        // no more than deflate can expand to (1032:1) nor an input may be.
        let hint = match bytes.len() >= 18 {
            true => u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap_or_default()),
            false => 0,
        };
        let most = (bytes.len() as u64 * 1032).min(MAX_INPUT_BYTES);
        let mut out = Vec::with_capacity((hint as u64).min(most) as usize + 1);
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::io(path, e))?;
        if out.len() as u64 > MAX_INPUT_BYTES {
            return Err(Error::Usage(format!(
                "{}: decompresses to more than the {MAX_INPUT_BYTES} bytes an input may have",
                path.display()
            )));
        }
        out
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::parse(path, line, "file is not UTF-8 text")
    })
}

/// A piece of file content fit to quote in a message: at most
/// [`EXCERPT_CHARS`] characters, control characters and quotes escaped,
/// "…" where cut.
pub fn excerpt(s: &str) -> String {
    let mut out = String::new();
    for (k, c) in s.chars().enumerate() {
        if k == EXCERPT_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || c == '\'' || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A TOML parse error of `text` (read from `path`) with the line it
/// points at.
pub fn toml_error(path: &Path, text: &str, e: toml::de::Error) -> Error {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(1);
    Error::parse(path, line, e.message().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt("abc"), "abc");
        assert_eq!(excerpt("a\u{1b}[2Jb'"), "a\\u{1b}[2Jb\\'");
        let long = "x".repeat(100);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn special_files_are_refused() {
        let e = read(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read(Path::new("/")).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
