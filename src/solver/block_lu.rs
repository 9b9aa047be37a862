//! Sparse LU of a matrix of 2 × 2 real blocks with a symmetric block
//! pattern, pivoting only inside the diagonal blocks.
//!
//! The Newton power-flow Jacobian is such a matrix when its unknowns are
//! kept per bus (angle, magnitude): its block pattern is the bus admittance
//! matrix's. The 2 × 2 diagonal block of a bus, about
//! `[[-B, G], [-G, -B]]·V²`, stays well conditioned where a scalar pivot
//! on `-B` alone would not (cables with R ≫ X), so no pivoting between
//! buses is needed (power-grid-model's block LU takes the same view). The
//! order and fill come from [`Elimination`] (minimum degree on the bus
//! graph: no fill on radial feeders); a near-singular block is reported so
//! that the caller can fall back to a pivoting LU.

use super::elimination::Elimination;
use crate::error::{Error, Result};

/// A 2 × 2 block, row-major: `[a, b, c, d]` is `[[a, b], [c, d]]`.
pub type Block = [f64; 4];

fn mul(x: &Block, y: &Block) -> Block {
    [
        x[0] * y[0] + x[1] * y[2],
        x[0] * y[1] + x[1] * y[3],
        x[2] * y[0] + x[3] * y[2],
        x[2] * y[1] + x[3] * y[3],
    ]
}

fn mul_vec(x: &Block, v: [f64; 2]) -> [f64; 2] {
    [x[0] * v[0] + x[1] * v[1], x[2] * v[0] + x[3] * v[1]]
}

fn norm_max(x: &Block) -> f64 {
    x.iter().fold(0.0f64, |a, v| a.max(v.abs()))
}

/// LU factors of a block matrix with a fixed pattern.
#[derive(Debug, Clone)]
pub struct BlockLu {
    elim: Elimination,
    /// Diagonal blocks at `0..n`, L blocks at `n..n+m` (already multiplied
    /// by the inverse pivot from the right), U blocks at `n+m..n+2m`.
    val: Vec<Block>,
    /// Inverse of each pivot block.
    inv_diag: Vec<Block>,
    /// Largest entry in each pivot's original block row and column.
    scale: Vec<f64>,
}

impl BlockLu {
    /// Analyses an `n × n` block matrix given by its blocks' coordinates
    /// `(row, col)`; the pattern is symmetrised. The order of `entries` is
    /// the order in which [`Self::factor`] expects the blocks.
    pub fn analyze(n: usize, entries: &[(usize, usize)]) -> Result<BlockLu> {
        let elim = Elimination::analyze(n, entries)?;
        let m = elim.m();
        Ok(BlockLu {
            elim,
            val: vec![[0.0; 4]; n + 2 * m],
            inv_diag: vec![[0.0; 4]; n],
            scale: vec![0.0; n],
        })
    }

    /// Number of block rows.
    pub fn dim(&self) -> usize {
        self.elim.n
    }

    /// Off-diagonal blocks of L plus U after fill.
    pub fn fill_blocks(&self) -> usize {
        2 * self.elim.m()
    }

    /// Factors the matrix whose blocks are `values`, in the order of the
    /// entries given to [`Self::analyze`] (duplicates are summed). A pivot
    /// block whose determinant vanishes relative to its row and column
    /// (1e-13 of their largest entry, squared) is an error naming it.
    pub fn factor(&mut self, values: &[Block]) -> Result<()> {
        let e = &self.elim;
        let (n, m) = (e.n, e.m());
        if values.len() != e.input_slot.len() {
            return Err(Error::Numerical(
                "value count does not match the pattern".into(),
            ));
        }
        self.val.iter_mut().for_each(|x| *x = [0.0; 4]);
        for (&s, x) in e.input_slot.iter().zip(values) {
            let t = &mut self.val[s as usize];
            for q in 0..4 {
                t[q] += x[q];
            }
        }
        for k in 0..n {
            let mut sc = norm_max(&self.val[k]);
            for p in e.pat_ptr[k]..e.pat_ptr[k + 1] {
                sc = sc
                    .max(norm_max(&self.val[n + p]))
                    .max(norm_max(&self.val[n + m + p]));
            }
            self.scale[k] = sc;
        }
        for k in 0..n {
            let d = self.val[k];
            let det = d[0] * d[3] - d[1] * d[2];
            let tol = 1e-13 * self.scale[k];
            if !(det.abs() > tol * tol) || !det.is_finite() {
                return Err(Error::Numerical(format!(
                    "near-singular pivot block at block row {} of the fixed-pattern LU",
                    e.perm[k]
                )));
            }
            let inv = [d[3] / det, -d[1] / det, -d[2] / det, d[0] / det];
            self.inv_diag[k] = inv;
            for p in e.pat_ptr[k]..e.pat_ptr[k + 1] {
                self.val[n + p] = mul(&self.val[n + p], &inv);
            }
            for u in &e.upd[e.upd_ptr[k]..e.upd_ptr[k + 1]] {
                let prod = mul(&self.val[u[1] as usize], &self.val[u[2] as usize]);
                let t = &mut self.val[u[0] as usize];
                for q in 0..4 {
                    t[q] -= prod[q];
                }
            }
        }
        Ok(())
    }

    /// Solves `A x = b` in place: `x` holds two entries per block row in
    /// the original order; `work` must have the same length.
    ///
    /// # Panics
    /// If `x` or `work` do not have twice the block dimension.
    pub fn solve_in_place(&self, x: &mut [f64], work: &mut [f64]) {
        let e = &self.elim;
        let (n, m) = (e.n, e.m());
        assert!(x.len() == 2 * n && work.len() == 2 * n, "wrong length");
        for (k, &p) in e.perm.iter().enumerate() {
            work[2 * k] = x[2 * p];
            work[2 * k + 1] = x[2 * p + 1];
        }
        for k in 0..n {
            let xk = [work[2 * k], work[2 * k + 1]];
            for p in e.pat_ptr[k]..e.pat_ptr[k + 1] {
                let i = e.pat_idx[p];
                let d = mul_vec(&self.val[n + p], xk);
                work[2 * i] -= d[0];
                work[2 * i + 1] -= d[1];
            }
        }
        for k in (0..n).rev() {
            let mut s = [work[2 * k], work[2 * k + 1]];
            for p in e.pat_ptr[k]..e.pat_ptr[k + 1] {
                let j = e.pat_idx[p];
                let d = mul_vec(&self.val[n + m + p], [work[2 * j], work[2 * j + 1]]);
                s[0] -= d[0];
                s[1] -= d[1];
            }
            let r = mul_vec(&self.inv_diag[k], s);
            work[2 * k] = r[0];
            work[2 * k + 1] = r[1];
        }
        for (k, &p) in e.perm.iter().enumerate() {
            x[2 * p] = work[2 * k];
            x[2 * p + 1] = work[2 * k + 1];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A x` for blocks `v` at coordinates `e`.
    fn matvec(n: usize, e: &[(usize, usize)], v: &[Block], x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; 2 * n];
        for (k, &(r, c)) in e.iter().enumerate() {
            let d = mul_vec(&v[k], [x[2 * c], x[2 * c + 1]]);
            y[2 * r] += d[0];
            y[2 * r + 1] += d[1];
        }
        y
    }

    #[test]
    fn solves_a_meshed_unsymmetric_block_system() {
        // A 7-node ring with a chord; diagonal blocks whose scalar diagonal
        // is tiny (R >> X cables) but whose blocks are well conditioned.
        let n = 7;
        let edges = [
            (0, 1),
            (1, 2),
            (2, 3),
            (3, 4),
            (4, 5),
            (5, 6),
            (6, 0),
            (1, 4),
        ];
        let mut e = Vec::new();
        let mut v = Vec::new();
        for i in 0..n {
            e.push((i, i));
            v.push([1e-9, 20.0 + i as f64, -21.0, 3e-9]);
        }
        for (k, &(a, b)) in edges.iter().enumerate() {
            e.push((a, b));
            v.push([0.3, -2.0 - 0.1 * k as f64, 1.9, 0.2]);
            e.push((b, a));
            v.push([-0.1, -1.5, 2.2 + 0.1 * k as f64, 0.4]);
        }
        // A duplicate entry is summed.
        e.push((3, 3));
        v.push([0.5, 0.0, 0.0, 0.5]);
        let mut lu = BlockLu::analyze(n, &e).expect("analyze");
        lu.factor(&v).expect("factor");
        let x_true: Vec<f64> = (0..2 * n).map(|i| 1.0 + 0.37 * i as f64).collect();
        let mut b = matvec(n, &e, &v, &x_true);
        let mut work = vec![0.0; 2 * n];
        lu.solve_in_place(&mut b, &mut work);
        for i in 0..2 * n {
            assert!(
                (b[i] - x_true[i]).abs() < 1e-11,
                "{i}: {} vs {}",
                b[i],
                x_true[i]
            );
        }
        assert!(lu.fill_blocks() > 2 * edges.len());
    }

    #[test]
    fn a_tree_has_no_fill() {
        let n = 40;
        let mut e = vec![(0, 0)];
        for i in 1..n {
            e.extend([(i, i), (i, (i - 1) / 2), ((i - 1) / 2, i)]);
        }
        let lu = BlockLu::analyze(n, &e).expect("analyze");
        assert_eq!(lu.fill_blocks(), 2 * (n - 1));
    }

    #[test]
    fn a_singular_pivot_block_is_an_error() {
        let e = [(0, 0), (0, 1), (1, 0), (1, 1)];
        let v = [
            [1.0, 2.0, 2.0, 4.0],
            [1.0; 4],
            [1.0; 4],
            [3.0, 0.0, 0.0, 3.0],
        ];
        let mut lu = BlockLu::analyze(2, &e).expect("analyze");
        let err = lu.factor(&v).expect_err("singular");
        assert!(err.to_string().contains("near-singular"), "{err}");
    }
}
