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
    Ident(String),
    /// A string literal.
    Str(String),
    /// An operator or punctuation, e.g. `+`, `.*`, `(`, `=`.
    Sym(&'static str),
    /// End of a line (statement separator outside brackets).
    Newline,
    /// End of file.
    Eof,
}

/// A token with its position.
#[derive(Debug, Clone)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// 1-based line.
    pub line: usize,
    /// Whether white space (or a continuation) came right before it.
    pub space_before: bool,
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
        chars: src.chars().collect(),
        i: 0,
        line: 1,
        space: true,
        out: Vec::new(),
    };
    let mut at_line_start = true;
    while lx.i < lx.chars.len() {
        let c = lx.chars[lx.i];
        if at_line_start && lx.block_comment()? {
            continue;
        }
        at_line_start = false;
        match c {
            '\n' => {
                lx.push(Tok::Newline);
                lx.line += 1;
                lx.i += 1;
                lx.space = true;
                at_line_start = true;
            }
            ' ' | '\t' | '\r' => {
                lx.space = true;
                lx.i += 1;
            }
            '%' | '#' => lx.skip_to_newline(),
            '.' if lx.peek(1) == Some('.') && lx.peek(2) == Some('.') => {
                // Continuation: ignore the rest of the line and the newline.
                lx.skip_to_newline();
                if lx.i < lx.chars.len() {
                    lx.i += 1;
                    lx.line += 1;
                }
                lx.space = true;
            }
            '0'..='9' | '.' if c != '.' || lx.peek(1).is_some_and(|d| d.is_ascii_digit()) => {
                lx.number()?
            }
            c if c.is_alphabetic() || c == '_' => lx.ident(),
            '\'' | '"' => lx.string_or_transpose(c)?,
            _ => lx.symbol(c)?,
        }
    }
    lx.space = true;
    lx.push(Tok::Eof);
    Ok(lx.out)
}

/// The state of tokenizing one file.
struct Lexer<'a> {
    path: &'a Path,
    chars: Vec<char>,
    i: usize,
    line: usize,
    /// White space before the next token.
    space: bool,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    fn push(&mut self, tok: Tok) {
        self.out.push(Token {
            tok,
            line: self.line,
            space_before: self.space,
        });
        self.space = false;
    }

    fn skip_to_newline(&mut self) {
        while self.i < self.chars.len() && self.chars[self.i] != '\n' {
            self.i += 1;
        }
    }

    fn rest_of_line(&self) -> String {
        self.chars[self.i..]
            .iter()
            .take_while(|&&ch| ch != '\n')
            .collect()
    }

    /// A block comment: a line holding only `%{` up to a line holding only
    /// `%}` (nested). Returns whether one was skipped.
    fn block_comment(&mut self) -> Result<bool> {
        if self.rest_of_line().trim() != "%{" {
            return Ok(false);
        }
        let start_line = self.line;
        let mut depth = 0usize;
        loop {
            let l = self.rest_of_line();
            match l.trim() {
                "%{" => depth += 1,
                "%}" => depth -= 1,
                _ => {}
            }
            self.i += l.chars().count();
            if depth == 0 {
                return Ok(true);
            }
            if self.i >= self.chars.len() {
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
        while self.i < self.chars.len() && self.chars[self.i].is_ascii_digit() {
            self.i += 1;
        }
    }

    /// A number: digits, a fraction (not the dot of `.*`, `./`, `.^`), an
    /// exponent (`e`, `E`, or Fortran's `d`, `D`).
    fn number(&mut self) -> Result<()> {
        let start = self.i;
        self.skip_digits();
        if self.peek(0) == Some('.') && !matches!(self.peek(1), Some('*' | '/' | '^')) {
            self.i += 1;
            self.skip_digits();
        }
        if matches!(self.peek(0), Some('e' | 'E' | 'd' | 'D')) {
            let mut j = self.i + 1;
            if matches!(self.chars.get(j), Some('+' | '-')) {
                j += 1;
            }
            if self.chars.get(j).is_some_and(|d| d.is_ascii_digit()) {
                self.i = j;
                self.skip_digits();
            }
        }
        let text: String = self.chars[start..self.i]
            .iter()
            .map(|&ch| if ch == 'd' || ch == 'D' { 'e' } else { ch })
            .collect();
        let value: f64 = text.parse().map_err(|_| {
            Error::parse(self.path, self.line, format!("malformed number '{text}'"))
        })?;
        if self
            .peek(0)
            .is_some_and(|ch| ch.is_alphabetic() || ch == '_')
        {
            let bad: String = self.chars[start..]
                .iter()
                .take_while(|ch| ch.is_alphanumeric() || **ch == '_' || **ch == '.')
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
            .is_some_and(|ch| ch.is_alphanumeric() || ch == '_')
        {
            self.i += 1;
        }
        let name = self.chars[start..self.i].iter().collect();
        self.push(Tok::Ident(name));
    }

    /// `'` after a value is the transpose operator; else a string in `'` or
    /// `"` (the quote doubled inside it).
    fn string_or_transpose(&mut self, quote: char) -> Result<()> {
        let transpose = quote == '\''
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
        loop {
            match self.peek(0) {
                None | Some('\n') => {
                    return Err(Error::parse(
                        self.path,
                        start_line,
                        "unterminated string literal",
                    ))
                }
                Some(ch) if ch == quote && self.peek(1) == Some(quote) => {
                    s.push(quote);
                    self.i += 2;
                }
                Some(ch) if ch == quote => {
                    self.i += 1;
                    break;
                }
                Some(ch) => {
                    s.push(ch);
                    self.i += 1;
                }
            }
        }
        self.push(Tok::Str(s));
        Ok(())
    }

    fn symbol(&mut self, c: char) -> Result<()> {
        let rest: String = self.chars[self.i..self.chars.len().min(self.i + 2)]
            .iter()
            .collect();
        let sym = SYMBOLS
            .iter()
            .find(|s| rest.starts_with(**s))
            .copied()
            .or(if c == '.' { Some(".") } else { None });
        match sym {
            Some(s) => {
                self.push(Tok::Sym(s));
                self.i += s.len();
                Ok(())
            }
            None => Err(Error::parse(
                self.path,
                self.line,
                format!("unexpected character {c:?}"),
            )),
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
            .any(|x| matches!(x, Tok::Ident(s) if s == "comment")));
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
