//! A small interpreter for the statements MATPOWER case files execute.
//!
//! Supported: `function mpc = name` headers, `mpc.FIELD = expr`, scalar and
//! matrix variables, `[A, B, ...] = idx_bus | idx_brch | idx_gen | idx_cost`,
//! `define_constants`, indexed assignment `mpc.X(ROWS, COLS) = expr` with
//! `:`, `end`, ranges and index vectors, the operators `+ - * / ^ .* ./ .^`,
//! the functions `sqrt sin cos tan asin acos atan exp log log10 abs`,
//! the constants `pi Inf NaN eps`, matrix literals (with expressions inside)
//! and cell arrays (kept only as their string entries). Anything else is an
//! error naming the file, the line and the construct.

use super::lexer::{Tok, Token, TokenWindow};
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Deepest nesting of expressions (parentheses, brackets, function calls,
/// unary signs): real case files nest a few levels; a hostile one must not
/// overflow the stack.
pub const MAX_DEPTH: usize = 200;

/// Most elements of one matrix (20 million: about 160 MB; the largest
/// MATPOWER cases have about 1.2 million entries in their largest table).
pub const MAX_ELEMENTS: usize = 20_000_000;

/// A dense numeric matrix with the source line of each row.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Row-major data.
    pub data: Vec<f64>,
    /// Source line of each row (0 where unknown).
    pub row_lines: Vec<usize>,
}

impl Matrix {
    fn filled(rows: usize, cols: usize, v: f64) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![v; rows * cols],
            row_lines: vec![0; rows],
        }
    }

    /// Element at 0-based `(r, c)`.
    pub fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    fn map(mut self, f: impl Fn(f64) -> f64) -> Self {
        for x in &mut self.data {
            *x = f(*x);
        }
        self
    }
}

/// A value of the interpreted language.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar.
    Num(f64),
    /// A matrix.
    Mat(Matrix),
    /// A string.
    Str(String),
    /// A cell array; only string entries are kept (e.g. `bus_name`).
    Cell(Vec<String>),
}

impl Value {
    fn as_matrix(&self) -> Option<Matrix> {
        match self {
            Value::Num(x) => Some(Matrix::filled(1, 1, *x)),
            Value::Mat(m) => Some(m.clone()),
            _ => None,
        }
    }
}

/// The outcome of running a case file: its struct fields and variables.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Name of the function's output struct (usually `mpc`), if any.
    pub struct_name: Option<String>,
    /// Fields of the output struct (`bus`, `gen`, `baseMVA`, ...) with the
    /// line where each was first assigned.
    pub fields: HashMap<String, (Value, usize)>,
    /// Plain variables (also the outputs of version-1 case files).
    pub vars: HashMap<String, (Value, usize)>,
    /// Every statement after the data matrices that changed data, as text
    /// with its line (for `info` and tests).
    pub statements: Vec<(usize, String)>,
}

const IDX_BUS: [(&str, f64); 21] = [
    ("PQ", 1.0),
    ("PV", 2.0),
    ("REF", 3.0),
    ("NONE", 4.0),
    ("BUS_I", 1.0),
    ("BUS_TYPE", 2.0),
    ("PD", 3.0),
    ("QD", 4.0),
    ("GS", 5.0),
    ("BS", 6.0),
    ("BUS_AREA", 7.0),
    ("VM", 8.0),
    ("VA", 9.0),
    ("BASE_KV", 10.0),
    ("ZONE", 11.0),
    ("VMAX", 12.0),
    ("VMIN", 13.0),
    ("LAM_P", 14.0),
    ("LAM_Q", 15.0),
    ("MU_VMAX", 16.0),
    ("MU_VMIN", 17.0),
];

const IDX_BRCH: [(&str, f64); 21] = [
    ("F_BUS", 1.0),
    ("T_BUS", 2.0),
    ("BR_R", 3.0),
    ("BR_X", 4.0),
    ("BR_B", 5.0),
    ("RATE_A", 6.0),
    ("RATE_B", 7.0),
    ("RATE_C", 8.0),
    ("TAP", 9.0),
    ("SHIFT", 10.0),
    ("BR_STATUS", 11.0),
    ("PF", 14.0),
    ("QF", 15.0),
    ("PT", 16.0),
    ("QT", 17.0),
    ("MU_SF", 18.0),
    ("MU_ST", 19.0),
    ("ANGMIN", 12.0),
    ("ANGMAX", 13.0),
    ("MU_ANGMIN", 20.0),
    ("MU_ANGMAX", 21.0),
];

const IDX_GEN: [(&str, f64); 25] = [
    ("GEN_BUS", 1.0),
    ("PG", 2.0),
    ("QG", 3.0),
    ("QMAX", 4.0),
    ("QMIN", 5.0),
    ("VG", 6.0),
    ("MBASE", 7.0),
    ("GEN_STATUS", 8.0),
    ("PMAX", 9.0),
    ("PMIN", 10.0),
    ("MU_PMAX", 22.0),
    ("MU_PMIN", 23.0),
    ("MU_QMAX", 24.0),
    ("MU_QMIN", 25.0),
    ("PC1", 11.0),
    ("PC2", 12.0),
    ("QC1MIN", 13.0),
    ("QC1MAX", 14.0),
    ("QC2MIN", 15.0),
    ("QC2MAX", 16.0),
    ("RAMP_AGC", 17.0),
    ("RAMP_10", 18.0),
    ("RAMP_30", 19.0),
    ("RAMP_Q", 20.0),
    ("APF", 21.0),
];

const IDX_COST: [(&str, f64); 7] = [
    ("PW_LINEAR", 1.0),
    ("POLYNOMIAL", 2.0),
    ("MODEL", 1.0),
    ("STARTUP", 2.0),
    ("SHUTDOWN", 3.0),
    ("NCOST", 4.0),
    ("COST", 5.0),
];

fn index_function(name: &str) -> Option<&'static [(&'static str, f64)]> {
    match name {
        "idx_bus" => Some(&IDX_BUS),
        "idx_brch" => Some(&IDX_BRCH),
        "idx_gen" => Some(&IDX_GEN),
        "idx_cost" => Some(&IDX_COST),
        _ => None,
    }
}

/// Runs the case file text and returns its workspace.
pub fn run(path: &Path, src: &str) -> Result<Workspace> {
    let mut it = Interp {
        path: path.to_path_buf(),
        toks: TokenWindow::new(path, src),
        ws: Workspace::default(),
        end_value: Vec::new(),
        depth: 0,
    };
    let done = it.program();
    // The lexer's error comes first: the interpreter met the end of the
    // tokens there.
    if let Some(e) = it.toks.take_error() {
        return Err(e);
    }
    done.map(|()| it.ws)
}

/// Index along one dimension.
enum Index {
    All,
    List(Vec<f64>),
}

struct Interp<'a> {
    path: PathBuf,
    toks: TokenWindow<'a>,
    ws: Workspace,
    /// Stack of values `end` takes inside index expressions.
    end_value: Vec<f64>,
    /// Current expression nesting depth.
    depth: usize,
}

impl Interp<'_> {
    fn peek(&self) -> &Token {
        self.toks.peek_at(0)
    }
    fn peek_at(&self, k: usize) -> &Token {
        self.toks.peek_at(k)
    }
    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        self.advance();
        t
    }
    /// Moves past the current token (staying on the final `Eof`).
    fn advance(&mut self) {
        self.toks.advance();
    }
    fn line(&self) -> usize {
        self.peek().line()
    }
    fn err<T>(&self, line: usize, msg: impl Into<String>) -> Result<T> {
        Err(Error::parse(&self.path, line, msg))
    }
    fn is_sym(&self, s: &str) -> bool {
        matches!(&self.peek().tok, Tok::Sym(x) if *x == s)
    }
    fn expect_sym(&mut self, s: &str) -> Result<()> {
        if self.is_sym(s) {
            self.next();
            Ok(())
        } else {
            let t = self.peek().clone();
            self.err(
                t.line(),
                format!("expected '{s}', found {}", describe(&t.tok)),
            )
        }
    }

    fn program(&mut self) -> Result<()> {
        loop {
            match self.peek().tok.clone() {
                Tok::Eof => return Ok(()),
                Tok::Newline | Tok::Sym(";") | Tok::Sym(",") => {
                    self.next();
                }
                _ => {
                    self.statement()?;
                    self.end_of_statement()?;
                }
            }
        }
    }

    fn end_of_statement(&mut self) -> Result<()> {
        match &self.peek().tok {
            Tok::Newline | Tok::Sym(";") | Tok::Sym(",") => {
                self.next();
                Ok(())
            }
            Tok::Eof => Ok(()),
            t => {
                let line = self.line();
                self.err(
                    line,
                    format!("unexpected {} after the end of a statement", describe(t)),
                )
            }
        }
    }

    fn skip_line(&mut self) {
        while !matches!(self.peek().tok, Tok::Newline | Tok::Eof) {
            self.next();
        }
    }

    fn statement_text(&self, start: usize) -> String {
        let mut s = String::new();
        for t in self.toks.since(start) {
            if t.space_before && !s.is_empty() {
                s.push(' ');
            }
            match &t.tok {
                Tok::Num(x) => s.push_str(&format!("{x}")),
                Tok::Ident(x) => s.push_str(x),
                Tok::Str(x) => s.push_str(&format!("'{x}'")),
                Tok::Sym(x) => s.push_str(x),
                _ => {}
            }
        }
        s
    }

    fn statement(&mut self) -> Result<()> {
        let start = self.toks.pos();
        // Its text may be kept (see `statement_text`).
        self.toks.keep_from(Some(start));
        let line = self.line();
        match self.peek().tok.clone() {
            Tok::Ident(name) if &name[..] == "function" => {
                self.next();
                // function mpc = name | function [a, b, c] = name | function name
                if self.is_sym("[") {
                    self.skip_line();
                    return Ok(());
                }
                if let (Tok::Ident(out), Tok::Sym("=")) =
                    (self.peek().tok.clone(), self.peek_at(1).tok.clone())
                {
                    self.ws.struct_name = Some(out.into());
                }
                self.skip_line();
                Ok(())
            }
            Tok::Ident(name) if matches!(&name[..], "end" | "return" | "endfunction") => {
                self.next();
                Ok(())
            }
            Tok::Ident(name) if &name[..] == "define_constants" => {
                self.next();
                for table in [&IDX_BUS[..], &IDX_BRCH[..], &IDX_GEN[..], &IDX_COST[..]] {
                    for (n, v) in table {
                        self.ws
                            .vars
                            .insert((*n).to_string(), (Value::Num(*v), line));
                    }
                }
                Ok(())
            }
            Tok::Ident(name)
                if matches!(
                    &name[..],
                    "if" | "for"
                        | "while"
                        | "switch"
                        | "try"
                        | "global"
                        | "persistent"
                        | "elseif"
                        | "else"
                        | "case"
                        | "otherwise"
                        | "catch"
                        | "break"
                        | "continue"
                ) =>
            {
                self.err(
                    line,
                    format!("unsupported construct '{name}': case files may only assign data (remove the block, or write the case out with MATPOWER's savecase)"),
                )
            }
            Tok::Sym("[") => self.multi_assign(line),
            Tok::Ident(name) => {
                self.next();
                // Field path: mpc.bus, or nested like mpc.softlims.VMAX.hl_mod.
                let mut field: Option<String> = None;
                while self.is_sym(".") {
                    self.next();
                    match self.next().tok {
                        Tok::Ident(f) => {
                            field = Some(match field {
                                Some(p) => format!("{p}.{f}"),
                                None => f.into(),
                            })
                        }
                        t => {
                            return self.err(
                                line,
                                format!(
                                    "expected a field name after '{name}.', found {}",
                                    describe(&t)
                                ),
                            )
                        }
                    }
                }
                let full = match &field {
                    Some(f) => format!("{name}.{f}"),
                    None => name.to_string(),
                };
                if self.is_sym("(") {
                    // Indexed assignment.
                    self.next();
                    let dims = match self.lookup_lvalue(&name, field.as_deref(), line)? {
                        Value::Mat(m) => (m.rows, m.cols),
                        Value::Num(_) => (1, 1),
                        _ => {
                            return self.err(
                                line,
                                format!("'{full}' is not a numeric matrix and cannot be indexed"),
                            )
                        }
                    };
                    let (ri, ci) = self.index_pair(dims, &full, line)?;
                    self.expect_sym(")")?;
                    self.expect_sym("=")?;
                    let rhs = self.expr(false)?;
                    // Taken out of the workspace and changed in place (the
                    // right-hand side may read it, so only now).
                    let (target, first_line) = self.take_lvalue(&name, field.as_deref(), line);
                    let m = match target {
                        Value::Mat(m) => m,
                        Value::Num(x) => Matrix::filled(1, 1, x),
                        _ => unreachable!("checked above"),
                    };
                    let m = self.assign_indexed(m, ri, ci, rhs, &full, line)?;
                    self.store(&name, field.as_deref(), Value::Mat(m), first_line)?;
                    let text = self.statement_text(start);
                    self.ws.statements.push((line, text));
                    return Ok(());
                }
                if !self.is_sym("=") {
                    return self.err(
                        line,
                        format!(
                            "unsupported statement starting with '{full}': expected an assignment"
                        ),
                    );
                }
                self.next();
                let is_data_literal = matches!(self.peek().tok, Tok::Sym("[") | Tok::Sym("{"));
                if is_data_literal {
                    // Its text is not kept: its tokens can go once read.
                    self.toks.keep_from(None);
                }
                let v = self.expr(false)?;
                self.store(&name, field.as_deref(), v, line)?;
                if !is_data_literal {
                    let text = self.statement_text(start);
                    self.ws.statements.push((line, text));
                }
                Ok(())
            }
            t => self.err(
                line,
                format!("unexpected {} at the start of a statement", describe(&t)),
            ),
        }
    }

    fn multi_assign(&mut self, line: usize) -> Result<()> {
        let start = self.toks.pos();
        self.next(); // [
        let mut names = Vec::new();
        loop {
            match self.next().tok {
                Tok::Ident(n) => names.push(n.into()),
                Tok::Sym(",") => {}
                Tok::Sym("]") => break,
                t => {
                    return self.err(
                        line,
                        format!(
                            "unsupported multiple assignment: unexpected {}",
                            describe(&t)
                        ),
                    )
                }
            }
        }
        self.expect_sym("=")?;
        let func = match self.next().tok {
            Tok::Ident(f) => f,
            t => {
                return self.err(
                    line,
                    format!("expected a function name, found {}", describe(&t)),
                )
            }
        };
        let Some(table) = index_function(&func) else {
            return self.err(
                line,
                format!("unsupported function '{func}' in a multiple assignment (only idx_bus, idx_brch, idx_gen, idx_cost)"),
            );
        };
        if names.len() > table.len() {
            return self.err(
                line,
                format!(
                    "{func} returns {} values but {} names are assigned",
                    table.len(),
                    names.len()
                ),
            );
        }
        for (n, (_, v)) in names.into_iter().zip(table.iter()) {
            self.ws.vars.insert(n, (Value::Num(*v), line));
        }
        if self.is_sym("(") {
            self.next();
            self.expect_sym(")")?;
        }
        let text = self.statement_text(start);
        self.ws.statements.push((line, text));
        Ok(())
    }

    /// Stores a value. A field path may not pass through a value
    /// (`mpc.bus.x` when `mpc.bus` is a matrix) nor replace a struct of
    /// fields by a value, and the case struct itself is not a variable
    /// (`mpc = 5`): MATLAB would refuse or lose data; both are errors.
    fn store(&mut self, name: &str, field: Option<&str>, v: Value, line: usize) -> Result<()> {
        match field {
            Some(f) => {
                let mut prefix = String::new();
                for part in f.split('.') {
                    if !prefix.is_empty() && self.ws.fields.contains_key(&prefix) {
                        return self.err(
                            line,
                            format!("'{name}.{prefix}' is a value, not a struct: it has no field '{part}'"),
                        );
                    }
                    if !prefix.is_empty() {
                        prefix.push('.');
                    }
                    prefix.push_str(part);
                }
                let sub = format!("{f}.");
                if self.ws.fields.keys().any(|k| k.starts_with(&sub)) {
                    return self.err(
                        line,
                        format!(
                            "'{name}.{f}' is a struct of fields and cannot be replaced by a value"
                        ),
                    );
                }
                if self.ws.struct_name.as_deref().is_some_and(|s| s != name) {
                    let s = self.ws.struct_name.clone().unwrap_or_default();
                    return self.err(
                        line,
                        format!("'{name}.{f}': the case struct is '{s}'; one case file defines one struct"),
                    );
                }
                if self.ws.struct_name.is_none() {
                    self.ws.struct_name = Some(name.to_string());
                }
                let l = self.ws.fields.get(f).map(|(_, l)| *l).unwrap_or(line);
                self.ws.fields.insert(f.to_string(), (v, l));
            }
            None => {
                if self.ws.struct_name.as_deref() == Some(name) {
                    return self.err(
                        line,
                        format!("'{name}' is the case struct: assign its fields ('{name}.bus = ...'), not the struct"),
                    );
                }
                let l = self.ws.vars.get(name).map(|(_, l)| *l).unwrap_or(line);
                self.ws.vars.insert(name.to_string(), (v, l));
            }
        }
        Ok(())
    }

    /// Removes a defined variable or field from the workspace (with the
    /// line it was first assigned); `line` if it is not there.
    fn take_lvalue(&mut self, name: &str, field: Option<&str>, line: usize) -> (Value, usize) {
        let found = match field {
            Some(f) => self.ws.fields.remove(f),
            None => self.ws.vars.remove(name),
        };
        found.unwrap_or((Value::Num(0.0), line))
    }

    fn lookup_lvalue(&self, name: &str, field: Option<&str>, line: usize) -> Result<&Value> {
        let found = match field {
            Some(f) => self.ws.fields.get(f),
            None => self.ws.vars.get(name),
        };
        match found {
            Some((v, _)) => Ok(v),
            None => {
                let full = field
                    .map(|f| format!("{name}.{f}"))
                    .unwrap_or(name.to_string());
                self.err(line, format!("'{full}' is used before it is defined"))
            }
        }
    }

    fn index_pair(
        &mut self,
        (rows, cols): (usize, usize),
        what: &str,
        line: usize,
    ) -> Result<(Index, Index)> {
        let first = self.index_arg(rows)?;
        if self.is_sym(",") {
            self.next();
            let second = self.index_arg(cols)?;
            Ok((first, second))
        } else {
            // Linear indexing is only meaningful for vectors.
            if rows == 1 {
                Ok((Index::List(vec![1.0]), first))
            } else if cols == 1 {
                Ok((first, Index::List(vec![1.0])))
            } else {
                self.err(
                    line,
                    format!(
                        "linear indexing of the matrix '{what}' is not supported; use (rows, cols)"
                    ),
                )
            }
        }
    }

    fn index_arg(&mut self, dim: usize) -> Result<Index> {
        if self.is_sym(":") && matches!(self.peek_at(1).tok, Tok::Sym(",") | Tok::Sym(")")) {
            self.next();
            return Ok(Index::All);
        }
        self.end_value.push(dim as f64);
        let r = self.range_expr();
        self.end_value.pop();
        let v = r?;
        let line = self.line();
        match v {
            Value::Num(x) => Ok(Index::List(vec![x])),
            Value::Mat(m) => Ok(Index::List(m.data)),
            _ => self.err(line, "an index must be numeric"),
        }
    }

    fn range_expr(&mut self) -> Result<Value> {
        let a = self.expr(false)?;
        if !self.is_sym(":") {
            return Ok(a);
        }
        let line = self.line();
        self.next();
        let b = self.expr(false)?;
        let (step, stop) = if self.is_sym(":") {
            self.next();
            (b, self.expr(false)?)
        } else {
            (Value::Num(1.0), b)
        };
        let (Value::Num(a), Value::Num(step), Value::Num(stop)) = (a, step, stop) else {
            return self.err(line, "range bounds must be scalars");
        };
        if step == 0.0 || !step.is_finite() || !a.is_finite() || !stop.is_finite() {
            return self.err(line, "invalid range");
        }
        let n = ((stop - a) / step).floor() + 1.0;
        if n > MAX_ELEMENTS as f64 {
            return self.err(
                line,
                format!("the range {a:?}:{step:?}:{stop:?} has more than {MAX_ELEMENTS} elements"),
            );
        }
        let n = if n > 0.0 { n as usize } else { 0 };
        let data: Vec<f64> = (0..n).map(|k| a + step * k as f64).collect();
        Ok(Value::Mat(Matrix {
            rows: 1,
            cols: n,
            data,
            row_lines: vec![line],
        }))
    }

    fn resolve_index(
        &self,
        idx: &Index,
        dim: usize,
        what: &str,
        line: usize,
    ) -> Result<Vec<usize>> {
        match idx {
            Index::All => Ok((0..dim).collect()),
            Index::List(v) => v
                .iter()
                .map(|&x| {
                    if x >= 1.0 && x.fract() == 0.0 && x < 1e9 {
                        Ok(x as usize - 1)
                    } else {
                        self.err(
                            line,
                            format!(
                                "invalid index {x} into '{what}': indices are positive integers"
                            ),
                        )
                    }
                })
                .collect(),
        }
    }

    fn assign_indexed(
        &self,
        mut m: Matrix,
        ri: Index,
        ci: Index,
        rhs: Value,
        what: &str,
        line: usize,
    ) -> Result<Matrix> {
        let rows = self.resolve_index(&ri, m.rows, what, line)?;
        let cols = self.resolve_index(&ci, m.cols, what, line)?;
        let rhs = match rhs.as_matrix() {
            Some(r) => r,
            None => {
                return self.err(
                    line,
                    format!("cannot assign a non-numeric value into '{what}'"),
                )
            }
        };
        let scalar = rhs.rows == 1 && rhs.cols == 1;
        if !scalar && (rhs.rows != rows.len() || rhs.cols != cols.len()) {
            return self.err(
                line,
                format!(
                    "size mismatch in assignment to '{what}': {}x{} selected, {}x{} given",
                    rows.len(),
                    cols.len(),
                    rhs.rows,
                    rhs.cols
                ),
            );
        }
        // Grow as MATLAB does, padding with zeros (rows alone in place).
        let need_r = rows.iter().max().map_or(0, |r| r + 1).max(m.rows);
        let need_c = cols.iter().max().map_or(0, |c| c + 1).max(m.cols);
        if need_r.saturating_mul(need_c) > MAX_ELEMENTS {
            return self.err(
                line,
                format!(
                    "assignment to '{what}' would make it {need_r}x{need_c}, more than {MAX_ELEMENTS} elements"
                ),
            );
        }
        if need_c == m.cols && need_r > m.rows {
            m.data.resize(need_r * need_c, 0.0);
            m.row_lines.resize(need_r, 0);
            m.rows = need_r;
        } else if need_r > m.rows || need_c > m.cols {
            let mut g = Matrix::filled(need_r, need_c, 0.0);
            for r in 0..m.rows {
                g.row_lines[r] = m.row_lines[r];
                for c in 0..m.cols {
                    g.data[r * need_c + c] = m.get(r, c);
                }
            }
            m = g;
        }
        for (a, &r) in rows.iter().enumerate() {
            for (b, &c) in cols.iter().enumerate() {
                let v = if scalar { rhs.data[0] } else { rhs.get(a, b) };
                m.data[r * m.cols + c] = v;
            }
        }
        Ok(m)
    }

    // ----- expressions -----

    /// `ws_sep`: inside `[...]`, where white space separates elements.
    fn expr(&mut self, ws_sep: bool) -> Result<Value> {
        let mut lhs = self.term(ws_sep)?;
        loop {
            let t = self.peek().clone();
            let op = match t.tok {
                Tok::Sym(s @ ("+" | "-")) => s,
                _ => break,
            };
            if ws_sep && t.space_before && !self.peek_at(1).space_before {
                break; // `[1 -2]`: a new element starts
            }
            self.next();
            let rhs = self.term(ws_sep)?;
            lhs = self.binary(op, lhs, rhs, t.line())?;
        }
        Ok(lhs)
    }

    fn term(&mut self, ws_sep: bool) -> Result<Value> {
        let mut lhs = self.unary(ws_sep)?;
        loop {
            let t = self.peek().clone();
            let op = match t.tok {
                Tok::Sym(s @ ("*" | "/" | ".*" | "./")) => s,
                _ => break,
            };
            self.next();
            let rhs = self.unary(ws_sep)?;
            lhs = self.binary(op, lhs, rhs, t.line())?;
        }
        Ok(lhs)
    }

    /// A unary expression; every nesting level of an expression passes
    /// through here once, so the depth is counted here.
    fn unary(&mut self, ws_sep: bool) -> Result<Value> {
        if self.depth >= MAX_DEPTH {
            let line = self.line();
            return self.err(
                line,
                format!("expression nested more than {MAX_DEPTH} levels deep"),
            );
        }
        self.depth += 1;
        let r = self.unary_inner(ws_sep);
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self, ws_sep: bool) -> Result<Value> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Sym("-") => {
                self.next();
                let v = self.unary(ws_sep)?;
                self.binary("*", Value::Num(-1.0), v, t.line())
            }
            Tok::Sym("+") => {
                self.next();
                self.unary(ws_sep)
            }
            _ => self.power(ws_sep),
        }
    }

    fn power(&mut self, ws_sep: bool) -> Result<Value> {
        let mut base = self.primary(ws_sep)?;
        // Postfix transpose: [1 2 3]' is a column.
        while self.is_sym("'") {
            self.next();
            base = match base {
                Value::Mat(m) => {
                    let mut t = Matrix {
                        rows: m.cols,
                        cols: m.rows,
                        data: vec![0.0; m.data.len()],
                        row_lines: vec![m.row_lines.first().copied().unwrap_or(0); m.cols],
                    };
                    for r in 0..m.rows {
                        for c in 0..m.cols {
                            t.data[c * m.rows + r] = m.get(r, c);
                        }
                    }
                    Value::Mat(t)
                }
                other => other,
            };
        }
        loop {
            let t = self.peek().clone();
            let op = match t.tok {
                Tok::Sym(s @ ("^" | ".^")) => s,
                _ => break,
            };
            self.next();
            // MATLAB: the exponent may carry a sign: 2^-1.
            let exp = match self.peek().tok {
                Tok::Sym("-") => {
                    self.next();
                    let e = self.primary(ws_sep)?;
                    self.binary("*", Value::Num(-1.0), e, t.line())?
                }
                Tok::Sym("+") => {
                    self.next();
                    self.primary(ws_sep)?
                }
                _ => self.primary(ws_sep)?,
            };
            base = self.binary(op, base, exp, t.line())?;
        }
        Ok(base)
    }

    fn primary(&mut self, ws_sep: bool) -> Result<Value> {
        let t = self.next();
        let line = t.line();
        match t.tok {
            Tok::Num(x) => Ok(Value::Num(x)),
            Tok::Str(s) => Ok(Value::Str(s.into())),
            Tok::Sym("(") => {
                let v = self.expr(false)?;
                self.expect_sym(")")?;
                Ok(v)
            }
            Tok::Sym("[") => self.matrix_literal(line),
            Tok::Sym("{") => self.cell_literal(line),
            Tok::Ident(name) => self.ident_expr(name.into(), line, ws_sep),
            other => self.err(
                line,
                format!("unexpected {} in an expression", describe(&other)),
            ),
        }
    }

    fn ident_expr(&mut self, name: String, line: usize, _ws_sep: bool) -> Result<Value> {
        // Struct field access: mpc.bus, mpc.bus(1, BASE_KV)
        if self.is_sym(".") && !self.peek().space_before {
            let mut field = String::new();
            while self.is_sym(".") && !self.peek().space_before {
                self.next();
                match self.next().tok {
                    Tok::Ident(f) => {
                        if !field.is_empty() {
                            field.push('.');
                        }
                        field.push_str(&f);
                    }
                    t => {
                        return self.err(
                            line,
                            format!(
                                "expected a field name after '{name}.', found {}",
                                describe(&t)
                            ),
                        )
                    }
                }
            }
            let full = format!("{name}.{field}");
            let v = match self.ws.fields.get(&field) {
                Some((v, _)) => v.clone(),
                None => return self.err(line, format!("'{full}' is used before it is defined")),
            };
            if self.is_sym("(") && !self.peek().space_before {
                return self.index_read(v, &full, line);
            }
            return Ok(v);
        }
        if name == "end" {
            return match self.end_value.last() {
                Some(&e) => Ok(Value::Num(e)),
                None => self.err(line, "'end' used outside an index expression"),
            };
        }
        if let Some((v, _)) = self.ws.vars.get(&name) {
            let v = v.clone();
            if self.is_sym("(") && !self.peek().space_before {
                return self.index_read(v, &name, line);
            }
            return Ok(v);
        }
        match name.as_str() {
            "pi" => return Ok(Value::Num(std::f64::consts::PI)),
            "Inf" | "inf" => return Ok(Value::Num(f64::INFINITY)),
            "NaN" | "nan" => return Ok(Value::Num(f64::NAN)),
            "eps" => return Ok(Value::Num(f64::EPSILON)),
            "true" => return Ok(Value::Num(1.0)),
            "false" => return Ok(Value::Num(0.0)),
            _ => {}
        }
        let f: Option<fn(f64) -> f64> = match name.as_str() {
            "sqrt" => Some(f64::sqrt),
            "sin" => Some(f64::sin),
            "cos" => Some(f64::cos),
            "tan" => Some(f64::tan),
            "asin" => Some(f64::asin),
            "acos" => Some(f64::acos),
            "atan" => Some(f64::atan),
            "exp" => Some(f64::exp),
            "log" => Some(f64::ln),
            "log10" => Some(f64::log10),
            "abs" => Some(f64::abs),
            _ => None,
        };
        if let Some(f) = f {
            if !self.is_sym("(") {
                return self.err(
                    line,
                    format!("function '{name}' needs an argument in parentheses"),
                );
            }
            self.next();
            let arg = self.expr(false)?;
            self.expect_sym(")")?;
            return match arg {
                Value::Num(x) => Ok(Value::Num(f(x))),
                Value::Mat(m) => Ok(Value::Mat(m.map(f))),
                _ => self.err(line, format!("function '{name}' needs a numeric argument")),
            };
        }
        if self.is_sym("(") {
            self.err(line, format!("unsupported function '{name}'"))
        } else {
            self.err(line, format!("undefined variable '{name}'"))
        }
    }

    fn index_read(&mut self, v: Value, what: &str, line: usize) -> Result<Value> {
        self.next(); // (
        let m = match v.as_matrix() {
            Some(m) => m,
            None => {
                return self.err(
                    line,
                    format!("'{what}' is not numeric and cannot be indexed"),
                )
            }
        };
        let (ri, ci) = self.index_pair((m.rows, m.cols), what, line)?;
        self.expect_sym(")")?;
        let rows = self.resolve_index(&ri, m.rows, what, line)?;
        let cols = self.resolve_index(&ci, m.cols, what, line)?;
        for &r in &rows {
            if r >= m.rows {
                return self.err(
                    line,
                    format!(
                        "row index {} exceeds the {} rows of '{what}'",
                        r + 1,
                        m.rows
                    ),
                );
            }
        }
        for &c in &cols {
            if c >= m.cols {
                return self.err(
                    line,
                    format!(
                        "column index {} exceeds the {} columns of '{what}'",
                        c + 1,
                        m.cols
                    ),
                );
            }
        }
        if rows.len().saturating_mul(cols.len()) > MAX_ELEMENTS {
            return self.err(
                line,
                format!("indexing '{what}' would select more than {MAX_ELEMENTS} elements"),
            );
        }
        let mut out = Matrix::filled(rows.len(), cols.len(), 0.0);
        for (a, &r) in rows.iter().enumerate() {
            out.row_lines[a] = m.row_lines[r];
            for (b, &c) in cols.iter().enumerate() {
                out.data[a * cols.len() + b] = m.get(r, c);
            }
        }
        if out.rows == 1 && out.cols == 1 {
            Ok(Value::Num(out.data[0]))
        } else {
            Ok(Value::Mat(out))
        }
    }

    fn matrix_literal(&mut self, open_line: usize) -> Result<Value> {
        // Elements go straight into one row-major array; each row is its
        // source line and where it starts.
        let mut data: Vec<f64> = Vec::new();
        let mut starts: Vec<(usize, usize)> = Vec::new();
        let mut row_open = false;
        loop {
            let line = self.peek().line();
            match self.peek().tok {
                Tok::Sym("]") => {
                    self.advance();
                    break;
                }
                Tok::Sym(";") | Tok::Newline => {
                    self.advance();
                    row_open = false;
                }
                Tok::Sym(",") => self.advance(),
                Tok::Eof => return self.err(open_line, "matrix opened with '[' is never closed"),
                _ => {
                    if !row_open {
                        starts.push((line, data.len()));
                        row_open = true;
                    }
                    // Plain numbers (most of a case file): no expression.
                    if let Some(x) = self.literal_number() {
                        data.push(x);
                        continue;
                    }
                    match self.expr(true)? {
                        Value::Num(x) => data.push(x),
                        Value::Mat(m) if m.rows == 1 => data.extend(m.data),
                        Value::Mat(m) if m.rows == 0 || m.cols == 0 => {}
                        Value::Mat(_) => {
                            return self.err(line, "nested matrices with several rows are not supported inside a matrix literal")
                        }
                        _ => return self.err(line, "a matrix may only hold numbers"),
                    }
                }
            }
        }
        // Rows with no element (only `[]` in them) do not count.
        let ends = starts.iter().skip(1).map(|r| r.1).chain([data.len()]);
        let rows: Vec<(usize, usize)> = starts
            .iter()
            .zip(ends)
            .map(|(&(l, a), b)| (l, b - a))
            .filter(|r| r.1 > 0)
            .collect();
        let ncols = rows.first().map_or(0, |r| r.1);
        if let Some(&(l, len)) = rows.iter().find(|r| r.1 != ncols) {
            return self.err(
                l,
                format!("matrix row has {len} columns but the first row has {ncols}"),
            );
        }
        Ok(Value::Mat(Matrix {
            rows: rows.len(),
            cols: ncols,
            data,
            row_lines: rows.iter().map(|r| r.0).collect(),
        }))
    }

    /// Whether the token `k` ahead ends a matrix element that precedes it:
    /// a separator, the end, a number, or a sign with white space before
    /// and none after (`[1 -2]`: a new element). Anything else (an
    /// operator, a transpose) may continue the expression.
    fn ends_element(&self, k: usize) -> bool {
        let t = self.peek_at(k);
        match t.tok {
            Tok::Sym("]" | ";" | ",") | Tok::Newline | Tok::Eof | Tok::Num(_) => true,
            Tok::Sym("+" | "-") => t.space_before && !self.peek_at(k + 1).space_before,
            _ => false,
        }
    }

    /// A matrix element that is a plain number or a negated one, consumed;
    /// None (nothing consumed) for anything the expression parser must
    /// read. Gives what [`Self::expr`] would: `-x` is −1 · x.
    fn literal_number(&mut self) -> Option<f64> {
        match (&self.peek().tok, &self.peek_at(1).tok) {
            (Tok::Num(x), _) if self.ends_element(1) => {
                let x = *x;
                self.advance();
                Some(x)
            }
            (Tok::Sym("-"), Tok::Num(x)) if self.ends_element(2) => {
                let x = -*x;
                self.advance();
                self.advance();
                Some(x)
            }
            _ => None,
        }
    }

    fn cell_literal(&mut self, open_line: usize) -> Result<Value> {
        let mut items = Vec::new();
        let mut depth = 1usize;
        loop {
            let t = self.next();
            match t.tok {
                Tok::Sym("{") => depth += 1,
                Tok::Sym("}") => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Tok::Str(s) => items.push(s.into()),
                Tok::Eof => {
                    return self.err(open_line, "cell array opened with '{' is never closed")
                }
                _ => {}
            }
        }
        Ok(Value::Cell(items))
    }

    fn binary(&self, op: &str, a: Value, b: Value, line: usize) -> Result<Value> {
        let f: fn(f64, f64) -> f64 = match op {
            "+" => |x, y| x + y,
            "-" => |x, y| x - y,
            "*" | ".*" => |x, y| x * y,
            "/" | "./" => |x, y| x / y,
            "^" | ".^" => f64::powf,
            _ => return self.err(line, format!("unsupported operator '{op}'")),
        };
        match (a, b) {
            (Value::Num(x), Value::Num(y)) => Ok(Value::Num(f(x, y))),
            (Value::Mat(m), Value::Num(_)) if op == "^" && m.data.len() != 1 => self.err(
                line,
                "matrix power 'A^p' is not supported; use '.^' for element-wise powers",
            ),
            (Value::Mat(m), Value::Num(y)) => Ok(Value::Mat(m.map(|x| f(x, y)))),
            (Value::Num(x), Value::Mat(m)) => {
                if op == "/" || op == "^" {
                    return self.err(
                        line,
                        format!("'scalar {op} matrix' is not supported; use './' or '.^'"),
                    );
                }
                Ok(Value::Mat(m.map(|y| f(x, y))))
            }
            (Value::Mat(m), Value::Mat(n)) => {
                let elementwise = matches!(op, "+" | "-" | ".*" | "./" | ".^");
                if !elementwise {
                    return self.err(
                        line,
                        format!(
                            "matrix '{op}' matrix is not supported (only element-wise operators)"
                        ),
                    );
                }
                if m.rows != n.rows || m.cols != n.cols {
                    return self.err(
                        line,
                        format!(
                            "size mismatch: {}x{} {op} {}x{}",
                            m.rows, m.cols, n.rows, n.cols
                        ),
                    );
                }
                let mut out = m;
                for (x, y) in out.data.iter_mut().zip(n.data) {
                    *x = f(*x, y);
                }
                Ok(Value::Mat(out))
            }
            _ => self.err(line, format!("operator '{op}' needs numeric operands")),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(x) => format!("number {x}"),
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Sym(s) => format!("'{s}'"),
        Tok::Newline => "end of line".into(),
        Tok::Eof => "end of file".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(src: &str) -> Workspace {
        run(Path::new("t.m"), src).unwrap()
    }
    fn err(src: &str) -> String {
        run(Path::new("t.m"), src).unwrap_err().to_string()
    }
    fn mat(w: &Workspace, f: &str) -> Matrix {
        match &w.fields[f].0 {
            Value::Mat(m) => m.clone(),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn matrix_with_expressions_and_signs() {
        let w = ws("function mpc = t\nmpc.x = [1 -2 3 - 1 12/sqrt(3);\n 4, 5 6 2^-1]\n");
        let m = mat(&w, "x");
        assert_eq!((m.rows, m.cols), (2, 4));
        assert_eq!(&m.data[..3], &[1.0, -2.0, 2.0]);
        assert!((m.data[3] - 12.0 / 3f64.sqrt()).abs() < 1e-15);
        assert_eq!(&m.data[4..], &[4.0, 5.0, 6.0, 0.5]);
        assert_eq!(m.row_lines, vec![2, 3]);
        // Plain numbers take a shortcut; signs, powers and transposes next
        // to them still read as expressions.
        let w = ws("mpc.y = [-5 2^2 -1 -0; 1 -2^2 7 +3; 3 - 4 5 6 -7; 1,-2,3 -4]\n");
        let m = mat(&w, "y");
        assert_eq!((m.rows, m.cols), (4, 4));
        assert_eq!(&m.data[..4], &[-5.0, 4.0, -1.0, -0.0]);
        assert!(m.data[3].is_sign_negative());
        assert_eq!(&m.data[4..8], &[1.0, -4.0, 7.0, 3.0]);
        assert_eq!(&m.data[8..12], &[-1.0, 5.0, 6.0, -7.0]);
        assert_eq!(&m.data[12..], &[1.0, -2.0, 3.0, -4.0]);
    }

    #[test]
    fn scalar_vars_and_fields() {
        let w = ws("mpc.baseMVA = 50/3;\nS = mpc.baseMVA * 1e6;");
        assert_eq!(w.fields["baseMVA"].0, Value::Num(50.0 / 3.0));
        assert_eq!(w.vars["S"].0, Value::Num(50.0 / 3.0 * 1e6));
    }

    #[test]
    fn column_set_assignment_with_constants() {
        let src = "mpc.bus = [1 3 100 50; 2 1 200 80];\n\
            [PQ, PV, REF, NONE, BUS_I, BUS_TYPE, PD, QD] = idx_bus;\n\
            mpc.bus(:, [PD, QD]) = mpc.bus(:, [PD QD]) / 1e3;\n\
            pf = 0.85;\n\
            mpc.bus(:, QD) = mpc.bus(:, PD) * sin(acos(pf));\n";
        let w = ws(src);
        let m = mat(&w, "bus");
        assert_eq!(m.get(0, 2), 0.1);
        assert!((m.get(1, 3) - 0.2 * (1.0f64 - 0.85 * 0.85).sqrt()).abs() < 1e-15);
        assert_eq!(w.statements.len(), 4);
    }

    #[test]
    fn long_statements_keep_their_text_after_long_data() {
        // A data block longer than the token window drops, then a
        // statement longer than it whose text is kept whole.
        let mut src = String::from("mpc.bus = [\n");
        (0..3_000).for_each(|k| src.push_str(&format!("{k} 1 0.5;\n")));
        src.push_str("];\nx = 0");
        (0..3_000).for_each(|_| src.push_str(" + 1"));
        src.push_str(";\n");
        let w = ws(&src);
        assert_eq!(mat(&w, "bus").rows, 3_000);
        assert_eq!(w.vars["x"].0, Value::Num(3_000.0));
        let (line, text) = &w.statements[0];
        assert_eq!(*line, 3_003);
        assert_eq!(text.len(), "x = 0".len() + 3_000 * " + 1".len());
    }

    #[test]
    fn idx_gen_assigns_by_position() {
        let w = ws("[GEN_BUS, PG, QG, QMAX, QMIN, VG, MBASE, GEN_STATUS, PMAX, PMIN, MU_PMAX, MU_PMIN, MU_QMAX, MU_QMIN, PC1] = idx_gen;");
        assert_eq!(w.vars["MU_PMAX"].0, Value::Num(22.0));
        assert_eq!(w.vars["PC1"].0, Value::Num(11.0));
    }

    #[test]
    fn element_read_and_end_and_ranges() {
        let w = ws(
            "mpc.a = [1 2 3; 4 5 6];\nx = mpc.a(end, 2);\nmpc.a(1, 2:3) = [7 8];\nmpc.a(:, 5) = 9;",
        );
        assert_eq!(w.vars["x"].0, Value::Num(5.0));
        let m = mat(&w, "a");
        assert_eq!((m.rows, m.cols), (2, 5));
        assert_eq!(
            m.data,
            vec![1.0, 7.0, 8.0, 0.0, 9.0, 4.0, 5.0, 6.0, 0.0, 9.0]
        );
    }

    #[test]
    fn transpose_of_matrices() {
        let w = ws("x = [1 2 3]';\ny = x(3, 1);\nmpc.c = {'a'; 'b'}';");
        assert_eq!(w.vars["y"].0, Value::Num(3.0));
        match &w.vars["x"].0 {
            Value::Mat(m) => assert_eq!((m.rows, m.cols), (3, 1)),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn nested_struct_fields_are_accepted() {
        let w = ws("mpc.softlims.VMAX.hl_mod = 'remove';\nmpc.softlims.VMAX.idx = [1; 2];\nx = mpc.softlims.VMAX.idx(2);");
        assert_eq!(w.vars["x"].0, Value::Num(2.0));
        assert_eq!(
            w.fields["softlims.VMAX.hl_mod"].0,
            Value::Str("remove".into())
        );
    }

    #[test]
    fn fields_through_values_and_struct_assignment_are_errors() {
        let e = err("mpc.bus = [1 2];\nmpc.bus.x = 1;");
        assert!(
            e.contains(":2: 'mpc.bus' is a value, not a struct: it has no field 'x'"),
            "{e}"
        );
        let e = err("mpc.a.b = 1;\nmpc.a = 2;");
        assert!(e.contains(":2: 'mpc.a' is a struct of fields"), "{e}");
        let e = err("mpc.bus = [1 2];\nmpc = 5;");
        assert!(e.contains(":2: 'mpc' is the case struct"), "{e}");
    }

    #[test]
    fn cell_arrays_are_kept_as_strings() {
        let w = ws("mpc.bus_name = {\n 'Bus 1';\n 'Bus 2';\n};");
        assert_eq!(
            w.fields["bus_name"].0,
            Value::Cell(vec!["Bus 1".into(), "Bus 2".into()])
        );
    }

    #[test]
    fn unsupported_constructs_are_errors_with_lines() {
        let e = err("a = 1;\nif a\n b = 2;\nend");
        assert!(e.starts_with("t.m:2:") && e.contains("'if'"), "{e}");
        let e = err("x = 1;\ny = foo(3);");
        assert!(
            e.starts_with("t.m:2:") && e.contains("unsupported function 'foo'"),
            "{e}"
        );
        let e = err("x = [1 2\n 3];");
        assert!(e.starts_with("t.m:2:") && e.contains("columns"), "{e}");
        let e = err("mpc.bus(:, 3) = 1;");
        assert!(e.contains("'mpc.bus' is used before it is defined"), "{e}");
        let e = err("x = y + 1;");
        assert!(e.contains("undefined variable 'y'"), "{e}");
        let e = err("mpc.bus = [1 2\n");
        assert!(e.contains("never closed"), "{e}");
        let e = err("x = [1 2; 3 4] * [1 2; 3 4];");
        assert!(e.contains("not supported"), "{e}");
        let e = err("[a, b] = idx_dcline;");
        assert!(e.contains("idx_dcline"), "{e}");
        let e = err("x = 1 2;");
        assert!(e.contains("after the end of a statement"), "{e}");
    }
}
