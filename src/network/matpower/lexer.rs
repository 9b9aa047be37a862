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

/// Tokenizes one file on demand: [`Lexer::next_token`] gives the tokens in
/// order, so a reader keeps only those it still needs (every byte the lexer
/// stops at is ASCII, so slices between them are valid UTF-8).
struct Lexer<'a> {
    path: &'a Path,
    text: &'a str,
    b: &'a [u8],
    i: usize,
    line: usize,
    /// White space before the next token.
    space: bool,
    at_line_start: bool,
    /// The token just made, not yet handed out.
    made: Option<Token>,
    /// Whether the last token ends a value (a `'` right after it is the
    /// transpose operator).
    after_value: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src` (`path` names it in errors).
    fn new(path: &'a Path, src: &'a str) -> Self {
        Lexer {
            path,
            text: src,
            b: src.as_bytes(),
            i: 0,
            line: 1,
            space: true,
            at_line_start: true,
            made: None,
            after_value: false,
        }
    }

    /// The next token; `Eof` at the end, and again if asked after it.
    fn next_token(&mut self) -> Result<Token> {
        while self.made.is_none() && self.i < self.b.len() {
            self.step()?;
        }
        if let Some(t) = self.made.take() {
            return Ok(t);
        }
        self.space = true;
        self.push(Tok::Eof);
        Ok(self.made.take().expect("just made"))
    }

    /// Reads past white space or a comment, or makes one token.
    fn step(&mut self) -> Result<()> {
        let c = self.b[self.i];
        if self.at_line_start && self.block_comment()? {
            return Ok(());
        }
        self.at_line_start = false;
        match c {
            b'\n' => {
                self.push(Tok::Newline);
                self.line += 1;
                self.i += 1;
                self.space = true;
                self.at_line_start = true;
            }
            b' ' | b'\t' | b'\r' => {
                self.space = true;
                self.i += 1;
            }
            b'%' | b'#' => self.skip_to_newline(),
            b'.' if self.peek(1) == Some(b'.') && self.peek(2) == Some(b'.') => {
                // Continuation: ignore the rest of the line and the newline.
                self.skip_to_newline();
                if self.i < self.b.len() {
                    self.i += 1;
                    self.line += 1;
                }
                self.space = true;
            }
            b'0'..=b'9' | b'.' if c != b'.' || self.peek(1).is_some_and(|d| d.is_ascii_digit()) => {
                self.number()?
            }
            c if c.is_ascii_alphabetic() || c == b'_' => self.ident(),
            b'\'' | b'"' => self.string_or_transpose(c)?,
            _ => self.symbol()?,
        }
        Ok(())
    }
}

/// Tokens a reader may still look at past its position (peeking at most
/// this many ahead).
pub const LOOKAHEAD: usize = 4;

/// A reader's window on the tokens of one file, made on demand: from the
/// first token it may still look back to (the start of a statement whose
/// text it keeps) to [`LOOKAHEAD`] tokens past its position. A data
/// statement of a million numbers is read through a window of a few
/// thousand tokens.
pub struct TokenWindow<'a> {
    lexer: Lexer<'a>,
    /// The tokens from absolute index `base` on; the last is `Eof` once
    /// the lexer has reached the end.
    buf: Vec<Token>,
    base: usize,
    /// Absolute index of the current token.
    pos: usize,
    /// First absolute index the reader may still ask for (None: `pos`).
    keep_from: Option<usize>,
    /// The lexer's error, if it met one; the tokens end with `Eof` there.
    error: Option<Error>,
}

/// Tokens already read that are dropped from a window at once.
const DROP_BATCH: usize = 4096;

impl<'a> TokenWindow<'a> {
    /// A window at the first token of `src`.
    pub fn new(path: &'a Path, src: &'a str) -> Self {
        let mut w = TokenWindow {
            lexer: Lexer::new(path, src),
            buf: Vec::new(),
            base: 0,
            pos: 0,
            keep_from: None,
            error: None,
        };
        w.fill();
        w
    }

    fn fill(&mut self) {
        while self.buf.len() <= self.pos - self.base + LOOKAHEAD
            && self.buf.last().is_none_or(|t| t.tok != Tok::Eof)
        {
            let t = self.lexer.next_token().unwrap_or_else(|e| {
                self.error = Some(e);
                Token {
                    tok: Tok::Eof,
                    line_no: u32::try_from(self.lexer.line).unwrap_or(u32::MAX),
                    space_before: true,
                }
            });
            self.buf.push(t);
        }
    }

    /// Absolute index of the current token.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The token `k` (at most [`LOOKAHEAD`]) past the current one, or the
    /// final `Eof`.
    pub fn peek_at(&self, k: usize) -> &Token {
        debug_assert!(k <= LOOKAHEAD, "peeking {k} tokens ahead");
        &self.buf[(self.pos - self.base + k).min(self.buf.len() - 1)]
    }

    /// Moves past the current token (staying on the final `Eof`).
    pub fn advance(&mut self) {
        if self.pos - self.base + 1 < self.buf.len() {
            self.pos += 1;
        }
        let keep = self.keep_from.map_or(self.pos, |k| k.min(self.pos));
        if keep - self.base >= DROP_BATCH {
            self.buf.drain(..keep - self.base);
            self.base = keep;
        }
        self.fill();
    }

    /// From now on the reader may ask for the tokens from `start` (an
    /// index it has seen, not yet dropped) on, or, with None, only from
    /// its position on.
    pub fn keep_from(&mut self, start: Option<usize>) {
        debug_assert!(
            start.is_none_or(|s| s >= self.base),
            "token already dropped"
        );
        self.keep_from = start;
    }

    /// The tokens from `start` (kept by [`Self::keep_from`]) up to the
    /// current one.
    pub fn since(&self, start: usize) -> &[Token] {
        &self.buf[start - self.base..self.pos - self.base]
    }

    /// The lexer's error, if it stopped at one.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    fn push(&mut self, tok: Tok) {
        self.after_value = matches!(tok, Tok::Ident(_) | Tok::Num(_) | Tok::Sym(")" | "]" | "}"));
        self.made = Some(Token {
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
        let transpose = quote == b'\'' && !self.space && self.after_value;
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

    /// Splits `src` into tokens, all of them (the interpreter reads them
    /// through a [`TokenWindow`]).
    fn tokenize(path: &Path, src: &str) -> Result<Vec<Token>> {
        let mut lx = Lexer::new(path, src);
        let mut out = Vec::new();
        loop {
            let t = lx.next_token()?;
            let end = t.tok == Tok::Eof;
            out.push(t);
            if end {
                return Ok(out);
            }
        }
    }

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(Path::new("t.m"), s)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn a_window_holds_only_the_tokens_still_needed() {
        let mut src = String::from("mpc.bus = [\n");
        for k in 0..20_000 {
            src.push_str(&format!("{k} 2 3.5;\n"));
        }
        src.push_str("];\nx = 1;\n");
        let all = tokenize(Path::new("t.m"), &src).unwrap();
        let mut w = TokenWindow::new(Path::new("t.m"), &src);
        let mut most = 0;
        for (k, want) in all.iter().enumerate() {
            assert_eq!(w.pos(), k);
            assert_eq!(w.peek_at(0).tok, want.tok);
            assert_eq!(w.peek_at(0).line(), want.line());
            assert_eq!(
                w.peek_at(LOOKAHEAD).tok,
                all[(k + LOOKAHEAD).min(all.len() - 1)].tok
            );
            most = most.max(w.buf.len());
            w.advance();
        }
        assert_eq!(w.pos(), all.len() - 1, "stays on Eof");
        assert!(most <= DROP_BATCH + LOOKAHEAD + 1, "{most} tokens held");
        // Kept from the start: everything read is there to look back at.
        let mut w = TokenWindow::new(Path::new("t.m"), &src);
        w.keep_from(Some(0));
        (0..10_000).for_each(|_| w.advance());
        let back: Vec<&Tok> = w.since(0).iter().map(|t| &t.tok).collect();
        let want: Vec<&Tok> = all[..10_000].iter().map(|t| &t.tok).collect();
        assert_eq!(back, want);
    }

    #[test]
    fn a_lexing_error_ends_the_window_and_is_kept() {
        let mut w = TokenWindow::new(Path::new("t.m"), "a = 1;\nb = 'open\n");
        while w.peek_at(0).tok != Tok::Eof {
            w.advance();
        }
        assert_eq!(w.peek_at(0).line(), 2);
        let e = w.take_error().expect("the lexer's error").to_string();
        assert!(e.contains("unterminated string"), "{e}");
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
