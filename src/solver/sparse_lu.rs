//! Sparse LU with the symbolic analysis done once per sparsity pattern.
//!
//! Wraps faer's sparse LU (COLAMD column ordering at analysis, partial
//! pivoting at each numeric factorization; see ARCHITECTURE.md for why
//! faer). All work buffers are allocated at analysis time, so
//! refactorizing and solving allocate nothing after the first call.

use crate::error::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::lu::partial_pivoting::factor::PartialPivLuParams;
use faer::sparse::linalg::lu::{factorize_symbolic_lu, LuRef, NumericLu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Spec};

/// A square sparse matrix pattern (CSC) with its symbolic LU factorization.
pub struct SparseLu {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    symbolic: SymbolicLu<usize>,
    numeric: NumericLu<usize, f64>,
    mem: MemBuffer,
    factored: bool,
}

impl std::fmt::Debug for SparseLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SparseLu {{ n: {}, nnz: {} }}",
            self.n,
            self.row_idx.len()
        )
    }
}

impl SparseLu {
    /// Analyses the CSC pattern (`col_ptr`, sorted `row_idx`) of an `n × n` matrix.
    pub fn analyze(n: usize, col_ptr: Vec<usize>, row_idx: Vec<usize>) -> Result<SparseLu> {
        if col_ptr.len() != n + 1 || col_ptr.last() != Some(&row_idx.len()) {
            return Err(Error::Numerical("invalid sparse pattern".into()));
        }
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let symbolic = factorize_symbolic_lu(sym, Default::default())
            .map_err(|e| Error::Numerical(format!("symbolic LU analysis failed: {e:?}")))?;
        let params: Spec<PartialPivLuParams, f64> = Default::default();
        let req = StackReq::any_of(&[
            symbolic.factorize_numeric_lu_scratch::<f64>(Par::Seq, params),
            symbolic.solve_in_place_scratch::<f64>(1, Par::Seq),
        ]);
        Ok(SparseLu {
            n,
            col_ptr,
            row_idx,
            symbolic,
            numeric: NumericLu::new(),
            mem: MemBuffer::new(req),
            factored: false,
        })
    }

    /// Dimension.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of structural non-zeros of the pattern.
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }

    /// Numeric factorization of the matrix with this pattern and `values`
    /// (in CSC order).
    pub fn factor(&mut self, values: &[f64]) -> Result<()> {
        debug_assert_eq!(values.len(), self.row_idx.len());
        let sym = SymbolicSparseColMatRef::new_checked(
            self.n,
            self.n,
            &self.col_ptr,
            None,
            &self.row_idx,
        );
        let a = SparseColMatRef::new(sym, values);
        let stack = MemStack::new(&mut self.mem);
        self.factored = false;
        self.symbolic
            .factorize_numeric_lu(&mut self.numeric, a, Par::Seq, stack, Default::default())
            .map_err(|e| {
                Error::Numerical(format!("singular matrix in LU factorization ({e:?})"))
            })?;
        self.factored = true;
        Ok(())
    }

    /// Solves `A x = rhs` in place with the last factorization.
    pub fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        if !self.factored {
            return Err(Error::Numerical(
                "solve before a successful factorization".into(),
            ));
        }
        let lu = LuRef::new_unchecked(&self.symbolic, &self.numeric);
        let stack = MemStack::new(&mut self.mem);
        let n = self.n;
        let rhs_mat = MatMut::from_column_major_slice_mut(rhs, n, 1);
        lu.solve_in_place_with_conj(Conj::No, rhs_mat, Par::Seq, stack);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_small_unsymmetric_system_and_refactors() {
        // A = [[4, 1, 0], [2, 5, 1], [0, 3, 6]] in CSC
        let col_ptr = vec![0, 2, 5, 7];
        let row_idx = vec![0, 1, 0, 1, 2, 1, 2];
        let mut lu = SparseLu::analyze(3, col_ptr, row_idx).unwrap();
        lu.factor(&[4.0, 2.0, 1.0, 5.0, 3.0, 1.0, 6.0]).unwrap();
        let mut b = vec![5.0, 8.0, 9.0]; // x = [1, 1, 1]
        lu.solve_in_place(&mut b).unwrap();
        for x in &b {
            assert!((x - 1.0).abs() < 1e-14);
        }
        // Same pattern, new values (needs pivoting: zero on the diagonal).
        lu.factor(&[0.0, 2.0, 1.0, 5.0, 3.0, 1.0, 6.0]).unwrap();
        let mut b = vec![1.0, 8.0, 9.0];
        lu.solve_in_place(&mut b).unwrap();
        for x in &b {
            assert!((x - 1.0).abs() < 1e-14, "{b:?}");
        }
    }
}
