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
    if !is_gzip(&bytes) {
        return utf8(path, 1, bytes);
    }
    let mut text = String::new();
    Lines::new(path, &bytes, usize::MAX).next_piece(&mut text)?;
    Ok(text)
}

/// Whether `bytes` start as gzip data does.
fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// `bytes` as text, lines numbered from `first`, else an error naming the
/// line that is not UTF-8.
fn utf8(path: &Path, first: usize, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let line = first + line_ends(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        Error::parse(path, line, "file is not UTF-8 text")
    })
}

/// The text of an input file's bytes (as [`read`] gives them) a piece of
/// whole lines at a time, inflated as it goes where the bytes are gzip
/// data (they start with its magic bytes): a large table is parsed while
/// the rest is inflated, from a piece that is still in the cache, and its
/// whole text is never in memory at once. Decompressed text is bounded by
/// [`MAX_INPUT_BYTES`]; each piece must be UTF-8.
pub struct Lines<'a> {
    path: &'a Path,
    source: Source<'a>,
    /// Bytes read past the last whole line of the piece before.
    pending: Vec<u8>,
    /// Number of the first line of the next piece.
    line: usize,
    /// Bytes of text read so far.
    total: u64,
    /// A piece's least length, bytes (it ends at the first line end after).
    piece_bytes: usize,
    /// Length of the whole text as the file states it, a hint.
    expected: u64,
}

enum Source<'a> {
    Plain(&'a [u8]),
    Gzip(Box<flate2::bufread::MultiGzDecoder<&'a [u8]>>),
}

impl<'a> Lines<'a> {
    /// The text of `bytes` (read from `path`), in pieces of at least
    /// `piece_bytes` (usize::MAX: the whole text in one).
    pub fn new(path: &'a Path, bytes: &'a [u8], piece_bytes: usize) -> Lines<'a> {
        let gzip = is_gzip(bytes);
        // The gzip trailer's size (mod 2^32, of the last member), no more
        // than deflate can expand to (1032:1) nor an input may be.
        let expected = match (gzip, bytes.len() >= 18) {
            (false, _) => bytes.len() as u64,
            (true, true) => {
                let size =
                    u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap_or_default());
                u64::from(size)
                    .min(bytes.len() as u64 * 1032)
                    .min(MAX_INPUT_BYTES)
            }
            (true, false) => 0,
        };
        let source = match gzip {
            true => Source::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(bytes))),
            false => Source::Plain(bytes),
        };
        Lines {
            path,
            source,
            pending: Vec::new(),
            line: 1,
            total: 0,
            piece_bytes: piece_bytes.max(1),
            expected,
        }
    }

    /// Pieces from the next on of at least `bytes`.
    pub fn set_piece_bytes(&mut self, bytes: usize) {
        self.piece_bytes = bytes.max(1);
    }

    /// Length of the whole text, bytes, as far as the file tells before
    /// it is read (a gzip file's trailer; possibly wrong), for reserving.
    pub fn expected_bytes(&self) -> u64 {
        self.expected
    }

    /// The next piece of whole lines into `into` (replacing what it held)
    /// and the number of its first line; None at the end of the text.
    pub fn next_piece(&mut self, into: &mut String) -> Result<Option<usize>> {
        let mut buf = std::mem::take(into).into_bytes();
        buf.clear();
        buf.append(&mut self.pending);
        let at_end = self.fill(&mut buf)?;
        if buf.is_empty() && at_end {
            return Ok(None);
        }
        if !at_end {
            // `fill` stopped after a line end: the rest waits.
            let cut = buf
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(buf.len(), |i| i + 1);
            self.pending.extend_from_slice(&buf[cut..]);
            buf.truncate(cut);
        }
        let first = self.line;
        self.line += line_ends(&buf);
        *into = utf8(self.path, first, buf)?;
        Ok(Some(first))
    }

    /// Appends text to `buf` until it holds a piece's length and a line
    /// end after it, or the text ends (then true).
    fn fill(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        let reserve = (self.expected.saturating_sub(self.total) as usize).min(self.piece_bytes);
        buf.reserve(reserve.saturating_add(1).min(MAX_INPUT_BYTES as usize));
        loop {
            let before = buf.len();
            let want = self.piece_bytes.saturating_sub(before).max(1 << 16);
            let room = (MAX_INPUT_BYTES + 1).saturating_sub(self.total);
            let n = match &mut self.source {
                Source::Plain(rest) => {
                    let n = want.min(rest.len());
                    buf.extend_from_slice(&rest[..n]);
                    *rest = &rest[n..];
                    n
                }
                Source::Gzip(d) => Read::take(&mut **d, (want as u64).min(room))
                    .read_to_end(buf)
                    .map_err(|e| Error::io(self.path, e))?,
            };
            self.total += n as u64;
            if self.total > MAX_INPUT_BYTES {
                return Err(Error::Usage(format!(
                    "{}: decompresses to more than the {MAX_INPUT_BYTES} bytes an input may have",
                    self.path.display()
                )));
            }
            if n == 0 {
                return Ok(true);
            }
            if buf.len() >= self.piece_bytes && buf[before..].contains(&b'\n') {
                return Ok(false);
            }
        }
    }
}

/// Number of line ends in `b`.
fn line_ends(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
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
