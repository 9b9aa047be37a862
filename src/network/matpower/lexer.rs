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

const SYMBOLS: [&str; 24] = [
    ".*", "./", ".^", "==", "~=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "^", "(", ")", "[",
    "]", "{", "}", ",", ";", "=", ":",
];

/// Splits `src` into tokens.
pub fn tokenize(path: &Path, src: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut space = true;
    let mut at_line_start = true;
    while i < chars.len() {
        let c = chars[i];
        // Block comments: a line holding only `%{` up to a line holding only `%}`.
        if at_line_start {
            let rest: String = chars[i..].iter().take_while(|&&ch| ch != '\n').collect();
            if rest.trim() == "%{" {
                let start_line = line;
                let mut depth = 0usize;
                loop {
                    let l: String = chars[i..].iter().take_while(|&&ch| ch != '\n').collect();
                    match l.trim() {
                        "%{" => depth += 1,
                        "%}" => depth -= 1,
                        _ => {}
                    }
                    i += l.chars().count();
                    if depth == 0 {
                        break;
                    }
                    if i >= chars.len() {
                        return Err(Error::parse(
                            path,
                            start_line,
                            "block comment '%{' is never closed by '%}'",
                        ));
                    }
                    i += 1; // the newline
                    line += 1;
                }
                continue;
            }
        }
        at_line_start = false;
        match c {
            '\n' => {
                out.push(Token {
                    tok: Tok::Newline,
                    line,
                    space_before: space,
                });
                line += 1;
                i += 1;
                space = true;
                at_line_start = true;
            }
            ' ' | '\t' | '\r' => {
                space = true;
                i += 1;
            }
            '%' | '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '.' if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') => {
                // Continuation: ignore the rest of the line and the newline.
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                if i < chars.len() {
                    i += 1;
                    line += 1;
                }
                space = true;
            }
            '0'..='9' | '.' if c != '.' || chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                if i < chars.len()
                    && chars[i] == '.'
                    && !matches!(chars.get(i + 1), Some('*' | '/' | '^'))
                {
                    i += 1;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if i < chars.len() && matches!(chars[i], 'e' | 'E' | 'd' | 'D') {
                    let mut j = i + 1;
                    if j < chars.len() && matches!(chars[j], '+' | '-') {
                        j += 1;
                    }
                    if j < chars.len() && chars[j].is_ascii_digit() {
                        while j < chars.len() && chars[j].is_ascii_digit() {
                            j += 1;
                        }
                        i = j;
                    }
                }
                let text: String = chars[start..i]
                    .iter()
                    .map(|&ch| if ch == 'd' || ch == 'D' { 'e' } else { ch })
                    .collect();
                let value: f64 = text
                    .parse()
                    .map_err(|_| Error::parse(path, line, format!("malformed number '{text}'")))?;
                if i < chars.len() && (chars[i].is_alphabetic() || chars[i] == '_') {
                    let bad: String = chars[start..]
                        .iter()
                        .take_while(|ch| ch.is_alphanumeric() || **ch == '_' || **ch == '.')
                        .collect();
                    return Err(Error::parse(
                        path,
                        line,
                        format!("malformed number '{bad}'"),
                    ));
                }
                out.push(Token {
                    tok: Tok::Num(value),
                    line,
                    space_before: space,
                });
                space = false;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(chars[start..i].iter().collect()),
                    line,
                    space_before: space,
                });
                space = false;
            }
            '\'' | '"' => {
                let transpose = c == '\''
                    && !space
                    && matches!(
                        out.last().map(|t| &t.tok),
                        Some(Tok::Ident(_) | Tok::Num(_) | Tok::Sym(")" | "]" | "}"))
                    );
                if transpose {
                    out.push(Token {
                        tok: Tok::Sym("'"),
                        line,
                        space_before: false,
                    });
                    i += 1;
                    continue;
                }
                let quote = c;
                let start_line = line;
                i += 1;
                let mut s = String::new();
                loop {
                    match chars.get(i) {
                        None | Some('\n') => {
                            return Err(Error::parse(
                                path,
                                start_line,
                                "unterminated string literal",
                            ))
                        }
                        Some(&ch) if ch == quote => {
                            if chars.get(i + 1) == Some(&quote) {
                                s.push(quote);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    line,
                    space_before: space,
                });
                space = false;
            }
            _ => {
                let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let sym = SYMBOLS
                    .iter()
                    .find(|s| rest.starts_with(**s))
                    .copied()
                    .or(if c == '.' { Some(".") } else { None });
                match sym {
                    Some(s) => {
                        out.push(Token {
                            tok: Tok::Sym(s),
                            line,
                            space_before: space,
                        });
                        i += s.len();
                        space = false;
                    }
                    None => {
                        return Err(Error::parse(
                            path,
                            line,
                            format!("unexpected character {c:?}"),
                        ))
                    }
                }
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        space_before: true,
    });
    Ok(out)
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
