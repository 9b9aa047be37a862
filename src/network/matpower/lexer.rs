//! Tokenizer for the MATLAB subset used by MATPOWER case files.
//!
//! Handles `%` comments, `%{ ... %}` block comments, `...` line
//! continuations, single- and double-quoted strings and numbers in MATLAB
//! syntax. Every token records its line and whether white space preceded
//! it: inside `[...]` white space separates elements, so `[1 -2]` is two
//! elements while `[1 - 2]` is one.

use crate::error::{Error, Result};
use std::path::Path;

/// Kinds of token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A number literal.
    Num(f64),
    /// An identifier or keyword.
    Ident(Box<str>),
    /// A string literal.
    Str(Box<str>),
    /// An operator or punctuation, e.g. `+`, `.*`, `(`, `=`.
    Sym(&'static str),
    /// End of a line (statement separator outside brackets).
    Newline,
    /// End of file.
    Eof,
}

/// A token with its position: 32 bytes (a large case file has millions).
#[derive(Debug, Clone)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// 1-based line (an input has at most 2^30 bytes).
    line_no: u32,
    /// Whether white space (or a continuation) came right before it.
    pub space_before: bool,
}

// A 100,000-bus case has about 3 million tokens: keep them at 32 bytes.
const _: () = assert!(std::mem::size_of::<Token>() <= 32);

impl Token {
    /// 1-based line.
    pub fn line(&self) -> usize {
        self.line_no as usize
    }
}

/// Symbols, longest first. Logical and comparison operators are tokens so
/// that a case file's control flow (`if a & b ... end`) reaches the
/// interpreter, which refuses it by name and line.
const SYMBOLS: [&str; 33] = [
    ".*", "./", ".^", "==", "~=", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "^", "(", ")",
    "[", "]", "{", "}", ",", ";", "=", ":", "&", "|", "<", ">", "~", "!", "@", "\\",
];

/// Splits `src` into tokens.
pub fn tokenize(path: &Path, src: &str) -> Result<Vec<Token>> {
    let mut lx = Lexer {
        path,
        text: src,
        b: src.as_bytes(),
        i: 0,
        line: 1,
        space: true,
        // About one token per five bytes in numeric case files.
        out: Vec::with_capacity(src.len() / 5 + 16),
    };
    let mut at_line_start = true;
    while lx.i < lx.b.len() {
        let c = lx.b[lx.i];
        if at_line_start && lx.block_comment()? {
            continue;
        }
        at_line_start = false;
        match c {
            b'\n' => {
                lx.push(Tok::Newline);
                lx.line += 1;
                lx.i += 1;
                lx.space = true;
                at_line_start = true;
            }
            b' ' | b'\t' | b'\r' => {
                lx.space = true;
                lx.i += 1;
            }
            b'%' | b'#' => lx.skip_to_newline(),
            b'.' if lx.peek(1) == Some(b'.') && lx.peek(2) == Some(b'.') => {
                // Continuation: ignore the rest of the line and the newline.
                lx.skip_to_newline();
                if lx.i < lx.b.len() {
                    lx.i += 1;
                    lx.line += 1;
                }
                lx.space = true;
            }
            b'0'..=b'9' | b'.' if c != b'.' || lx.peek(1).is_some_and(|d| d.is_ascii_digit()) => {
                lx.number()?
            }
            c if c.is_ascii_alphabetic() || c == b'_' => lx.ident(),
            b'\'' | b'"' => lx.string_or_transpose(c)?,
            _ => lx.symbol()?,
        }
    }
    lx.space = true;
    lx.push(Tok::Eof);
    Ok(lx.out)
}

/// The state of tokenizing one file: the text and its bytes (every byte
/// the lexer stops at is ASCII, so slices between them are valid UTF-8).
struct Lexer<'a> {
    path: &'a Path,
    text: &'a str,
    b: &'a [u8],
    i: usize,
    line: usize,
    /// White space before the next token.
    space: bool,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    fn push(&mut self, tok: Tok) {
        self.out.push(Token {
            tok,
            line_no: u32::try_from(self.line).unwrap_or(u32::MAX),
            space_before: self.space,
        });
        self.space = false;
    }

    fn skip_to_newline(&mut self) {
        self.i = self.line_end();
    }

    /// Index of the next newline (or the end).
    fn line_end(&self) -> usize {
        self.b[self.i..]
            .iter()
            .position(|&ch| ch == b'\n')
            .map_or(self.b.len(), |p| self.i + p)
    }

    /// A block comment: a line holding only `%{` up to a line holding only
    /// `%}` (nested). Returns whether one was skipped.
    fn block_comment(&mut self) -> Result<bool> {
        // Cheap test first: the line's first non-blank byte must be `%`.
        let first = self.b[self.i..]
            .iter()
            .find(|&&ch| !matches!(ch, b' ' | b'\t' | b'\r'));
        if first != Some(&b'%') || self.text[self.i..self.line_end()].trim() != "%{" {
            return Ok(false);
        }
        let start_line = self.line;
        let mut depth = 0usize;
        loop {
            let end = self.line_end();
            match self.text[self.i..end].trim() {
                "%{" => depth += 1,
                "%}" => depth -= 1,
                _ => {}
            }
            self.i = end;
            if depth == 0 {
                return Ok(true);
            }
            if self.i >= self.b.len() {
                return Err(Error::parse(
                    self.path,
                    start_line,
                    "block comment '%{' is never closed by '%}'",
                ));
            }
            self.i += 1; // the newline
            self.line += 1;
        }
    }

    fn skip_digits(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
    }

    /// A number: digits, a fraction (not the dot of `.*`, `./`, `.^`), an
    /// exponent (`e`, `E`, or Fortran's `d`, `D`).
    fn number(&mut self) -> Result<()> {
        let start = self.i;
        self.skip_digits();
        if self.peek(0) == Some(b'.') && !matches!(self.peek(1), Some(b'*' | b'/' | b'^')) {
            self.i += 1;
            self.skip_digits();
        }
        let mut fortran = false;
        if let Some(e @ (b'e' | b'E' | b'd' | b'D')) = self.peek(0) {
            let mut j = self.i + 1;
            if matches!(self.b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if self.b.get(j).is_some_and(|d| d.is_ascii_digit()) {
                fortran = matches!(e, b'd' | b'D');
                self.i = j;
                self.skip_digits();
            }
        }
        let text = &self.text[start..self.i];
        let parsed = if fortran {
            text.replace(['d', 'D'], "e").parse::<f64>()
        } else {
            text.parse::<f64>()
        };
        let value = parsed.map_err(|_| {
            Error::parse(self.path, self.line, format!("malformed number '{text}'"))
        })?;
        if self
            .peek(0)
            .is_some_and(|ch| ch.is_ascii_alphabetic() || ch == b'_')
        {
            let bad: String = self.text[start..]
                .chars()
                .take_while(|ch| ch.is_alphanumeric() || *ch == '_' || *ch == '.')
                .take(40)
                .collect();
            return Err(Error::parse(
                self.path,
                self.line,
                format!("malformed number '{bad}'"),
            ));
        }
        self.push(Tok::Num(value));
        Ok(())
    }

    fn ident(&mut self) {
        let start = self.i;
        while self
            .peek(0)
            .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == b'_')
        {
            self.i += 1;
        }
        self.push(Tok::Ident(self.text[start..self.i].into()));
    }

    /// `'` after a value is the transpose operator; else a string in `'` or
    /// `"` (the quote doubled inside it).
    fn string_or_transpose(&mut self, quote: u8) -> Result<()> {
        let transpose = quote == b'\''
            && !self.space
            && matches!(
                self.out.last().map(|t| &t.tok),
                Some(Tok::Ident(_) | Tok::Num(_) | Tok::Sym(")" | "]" | "}"))
            );
        if transpose {
            self.push(Tok::Sym("'"));
            self.i += 1;
            return Ok(());
        }
        let start_line = self.line;
        self.i += 1;
        let mut s = String::new();
        let mut from = self.i;
        loop {
            match self.peek(0) {
                None | Some(b'\n') => {
                    return Err(Error::parse(
                        self.path,
                        start_line,
                        "unterminated string literal",
                    ))
                }
                Some(ch) if ch == quote && self.peek(1) == Some(quote) => {
                    s.push_str(&self.text[from..=self.i]);
                    self.i += 2;
                    from = self.i;
                }
                Some(ch) if ch == quote => {
                    s.push_str(&self.text[from..self.i]);
                    self.i += 1;
                    break;
                }
                Some(_) => self.i += 1,
            }
        }
        self.push(Tok::Str(s.into()));
        Ok(())
    }

    fn symbol(&mut self) -> Result<()> {
        let rest = &self.b[self.i..self.b.len().min(self.i + 2)];
        let sym = SYMBOLS
            .iter()
            .find(|s| rest.starts_with(s.as_bytes()))
            .copied()
            .or(if rest[0] == b'.' { Some(".") } else { None });
        match sym {
            Some(s) => {
                self.push(Tok::Sym(s));
                self.i += s.len();
                Ok(())
            }
            None => {
                let c = self.text[self.i..].chars().next().unwrap_or('?');
                Err(Error::parse(
                    self.path,
                    self.line,
                    format!("unexpected character {c:?}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(Path::new("t.m"), s)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn numbers_in_matlab_forms() {
        assert_eq!(
            toks("1 2.5 .5 4.43E-05 1e3 3."),
            vec![
                Tok::Num(1.0),
                Tok::Num(2.5),
                Tok::Num(0.5),
                Tok::Num(4.43e-5),
                Tok::Num(1e3),
                Tok::Num(3.0),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn comments_and_continuations() {
        let t = toks("a = 1; % comment\nb = [1, ...\n 2];");
        assert!(t.contains(&Tok::Ident("b".into())));
        assert!(!t
            .iter()
            .any(|x| matches!(x, Tok::Ident(s) if &s[..] == "comment")));
        // The continuation swallows the newline.
        let newlines = t.iter().filter(|x| **x == Tok::Newline).count();
        assert_eq!(newlines, 1);
    }

    #[test]
    fn block_comment_skipped() {
        let t = toks("%{\nx = 1\n%}\ny = 2");
        assert!(!t.contains(&Tok::Ident("x".into())));
        assert!(t.contains(&Tok::Ident("y".into())));
    }

    #[test]
    fn dot_operators_after_numbers() {
        assert_eq!(
            toks("2.*3"),
            vec![Tok::Num(2.0), Tok::Sym(".*"), Tok::Num(3.0), Tok::Eof]
        );
    }

    #[test]
    fn transpose_is_a_postfix_token_and_strings_still_work() {
        let t = toks("x = y'; z = 'a';");
        assert!(t.contains(&Tok::Sym("'")));
        assert!(t.contains(&Tok::Str("a".into())));
    }

    #[test]
    fn strings() {
        assert_eq!(
            toks("v = '2';"),
            vec![
                Tok::Ident("v".into()),
                Tok::Sym("="),
                Tok::Str("2".into()),
                Tok::Sym(";"),
                Tok::Eof
            ]
        );
    }
}
