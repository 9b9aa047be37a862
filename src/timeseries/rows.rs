//! Per-element result rows of a block, kept in the precision they will be
//! stored in: the runner converts each value once, when it records it, and
//! the results writer hands the rows to HDF5 as they are.

use crate::solver::current_injection::LANES;

/// Columns per tile where a block's rows are filled from column-wise
/// sources (profile series): step by step within a tile, each source is
/// read in order and each step's tile written in one stretch; column by
/// column down a row-major block, every value lands in another cache line
/// (or page, with thousands of columns).
pub const COLUMN_TILE: usize = 16;

/// Precision of the per-element result rows (bus, branch and unit series).
/// Grid totals are always kept in double precision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RowPrecision {
    /// IEEE single (about 7 significant digits: |V| to 6e-8 p.u.), half the
    /// size and half the write time; the default.
    #[default]
    F32,
    /// IEEE double (about 16 significant digits).
    F64,
    /// None kept: a run whose per-element series nobody reads (hosting
    /// capacity probes, a region's jobs) records its KPIs and grid totals
    /// only. Not a file precision.
    Discard,
}

impl std::str::FromStr for RowPrecision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f64" | "float64" | "double" => Ok(RowPrecision::F64),
            "f32" | "float32" | "single" => Ok(RowPrecision::F32),
            _ => Err(format!("unknown precision '{s}' (expected f64 or f32)")),
        }
    }
}

/// Which per-element rows a run records, and in what precision: a run
/// whose results file keeps only some element kinds (`--series bus`)
/// records only those, and one that keeps none records its KPIs and grid
/// totals only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowsKept {
    /// Precision of the rows kept (never [`RowPrecision::Discard`] while
    /// any kind is kept).
    pub precision: RowPrecision,
    /// Bus series (|V|, angle, injections).
    pub bus: bool,
    /// Branch series (flows, currents, loading) of lines and transformers.
    pub branch: bool,
    /// Unit series.
    pub unit: bool,
    /// Load columns (P and Q drawn by each load).
    pub load: bool,
}

impl RowsKept {
    /// The precision of a kind's rows: none where the kind is not kept.
    pub fn precision_if(&self, kept: bool) -> RowPrecision {
        match kept {
            true => self.precision,
            false => RowPrecision::Discard,
        }
    }
}

impl From<RowPrecision> for RowsKept {
    /// Every kind in `precision` (none for [`RowPrecision::Discard`]).
    fn from(precision: RowPrecision) -> RowsKept {
        let all = precision != RowPrecision::Discard;
        RowsKept {
            precision,
            bus: all,
            branch: all,
            unit: all,
            load: all,
        }
    }
}

/// Rows of one per-element series (`step × element`, row-major).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Nothing is kept ([`RowPrecision::Discard`]).
    discard: bool,
    single: bool,
    f64: Vec<f64>,
    f32: Vec<f32>,
}

/// The values of [`Rows`], writable, in their precision ([`Rows::refill`]).
pub enum RowsMut<'a> {
    /// Double-precision values.
    F64(&'a mut [f64]),
    /// Single-precision values.
    F32(&'a mut [f32]),
}

/// A value type rows are kept in: f64, or f32 rounded as [`Rows::push`]
/// rounds.
pub trait Stored: Copy + Default {
    /// `x` in this type.
    fn stored(x: f64) -> Self;
}

impl Stored for f64 {
    #[inline(always)]
    fn stored(x: f64) -> f64 {
        x
    }
}

impl Stored for f32 {
    #[inline(always)]
    fn stored(x: f64) -> f32 {
        x as f32
    }
}

/// A borrowed view of [`Rows`] (or of a grid total) in its precision.
#[derive(Debug, Clone, Copy)]
pub enum RowSlice<'a> {
    /// Double-precision values.
    F64(&'a [f64]),
    /// Single-precision values.
    F32(&'a [f32]),
}

impl RowSlice<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            RowSlice::F64(x) => x.len(),
            RowSlice::F32(x) => x.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as f64.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            RowSlice::F64(x) => x[i],
            RowSlice::F32(x) => x[i] as f64,
        }
    }
}

impl Rows {
    /// Empties the rows and sets their precision (capacity is kept).
    pub fn clear(&mut self, precision: RowPrecision) {
        self.discard = precision == RowPrecision::Discard;
        self.single = precision == RowPrecision::F32;
        self.f64.clear();
        self.f32.clear();
    }

    /// Makes room for `n` values in all, so that recording never reallocates.
    pub fn reserve_total(&mut self, n: usize) {
        if self.discard {
            return;
        }
        if self.single {
            self.f32.reserve_exact(n.saturating_sub(self.f32.len()));
        } else {
            self.f64.reserve_exact(n.saturating_sub(self.f64.len()));
        }
    }

    /// Number of values recorded.
    pub fn len(&self) -> usize {
        if self.single {
            self.f32.len()
        } else {
            self.f64.len()
        }
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if self.discard {
            return;
        }
        if self.single {
            self.f32.push(x as f32);
        } else {
            self.f64.push(x);
        }
    }

    /// Appends a row.
    pub fn extend_from_slice(&mut self, xs: &[f64]) {
        if self.discard {
            return;
        }
        if self.single {
            self.f32.extend(xs.iter().map(|&x| x as f32));
        } else {
            self.f64.extend_from_slice(xs);
        }
    }

    /// Appends one row to each of the first `a` of `rows` (all of one
    /// precision): lane `l` of the lane-interleaved values `xs` goes to
    /// `rows[l]`, rounded as [`Self::push`] rounds it.
    pub fn extend_lanes(rows: &mut [&mut Rows; LANES], a: usize, xs: &[[f64; LANES]]) {
        let n = xs.len();
        if rows[0].discard {
            return;
        }
        let single = rows[0].single;
        debug_assert!(rows[..a].iter().all(|r| r.single == single));
        if single {
            let mut spare = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
            let mut dst: [&mut [std::mem::MaybeUninit<f32>]; LANES] =
                std::array::from_fn(|_| &mut [][..]);
            for (l, (r, sp)) in rows.iter_mut().zip(spare.iter_mut()).enumerate() {
                let v: &mut Vec<f32> = if l < a { &mut r.f32 } else { sp };
                v.reserve(n);
                dst[l] = &mut v.spare_capacity_mut()[..n];
            }
            transpose_f32(xs, dst);
            for (l, (r, sp)) in rows.iter_mut().zip(spare.iter_mut()).enumerate() {
                let v: &mut Vec<f32> = if l < a { &mut r.f32 } else { sp };
                // SAFETY: `transpose_f32` initialised the first n spare
                // values (it writes every index of every destination).
                unsafe { v.set_len(v.len() + n) };
            }
        } else {
            for (l, r) in rows.iter_mut().enumerate().take(a) {
                r.f64.extend(xs.iter().map(|x| x[l]));
            }
        }
    }

    /// Appends lane `l` of the lane-interleaved values `xs` as one row,
    /// rounded as [`Self::push`] rounds it.
    pub fn extend_lane(&mut self, l: usize, xs: &[[f64; LANES]]) {
        if self.discard {
            return;
        }
        if self.single {
            self.f32.extend(xs.iter().map(|x| x[l] as f32));
        } else {
            self.f64.extend(xs.iter().map(|x| x[l]));
        }
    }

    /// Replaces the values by `n` values (zeros) and lets `fill` write
    /// them in the rows' precision; nothing when the rows are discarded.
    pub fn refill(&mut self, n: usize, fill: impl FnOnce(RowsMut)) {
        if self.discard {
            return;
        }
        if self.single {
            self.f32.clear();
            self.f32.resize(n, 0.0);
            fill(RowsMut::F32(&mut self.f32));
        } else {
            self.f64.clear();
            self.f64.resize(n, 0.0);
            fill(RowsMut::F64(&mut self.f64));
        }
    }

    /// Overwrites the last `n` values with NaN (a lane whose step did not
    /// converge after [`Self::extend_lanes`] appended its row).
    pub fn set_last_nan(&mut self, n: usize) {
        if self.discard {
            return;
        }
        if self.single {
            let len = self.f32.len();
            self.f32[len - n..].fill(f32::NAN);
        } else {
            let len = self.f64.len();
            self.f64[len - n..].fill(f64::NAN);
        }
    }

    /// Appends `n` NaN values (a step without results).
    pub fn push_nan(&mut self, n: usize) {
        if self.discard {
            return;
        }
        if self.single {
            self.f32.resize(self.f32.len() + n, f32::NAN);
        } else {
            self.f64.resize(self.f64.len() + n, f64::NAN);
        }
    }

    /// The values in their precision.
    pub fn as_slice(&self) -> RowSlice<'_> {
        if self.single {
            RowSlice::F32(&self.f32)
        } else {
            RowSlice::F64(&self.f64)
        }
    }
}

/// `dst[l][i] = xs[i][l] as f32` for every lane: 4×4 blocks transposed in
/// AVX2 registers where the CPU has it.
fn transpose_f32(xs: &[[f64; LANES]], dst: [&mut [std::mem::MaybeUninit<f32>]; LANES]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { transpose_f32_avx2(xs, dst) };
            return;
        }
    }
    transpose_f32_tail(xs, dst, 0);
}

/// The portable part of [`transpose_f32`], from element `from` on.
fn transpose_f32_tail(
    xs: &[[f64; LANES]],
    dst: [&mut [std::mem::MaybeUninit<f32>]; LANES],
    from: usize,
) {
    for (l, d) in dst.into_iter().enumerate() {
        for (i, x) in xs.iter().enumerate().skip(from) {
            d[i].write(x[l] as f32);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn transpose_f32_avx2(xs: &[[f64; LANES]], dst: [&mut [std::mem::MaybeUninit<f32>]; LANES]) {
    use std::arch::x86_64::*;
    const _: () = assert!(LANES == 4, "4x4 transposes");
    let n = xs.len();
    assert!(dst.iter().all(|d| d.len() == n), "row lengths");
    let quads = n / 4 * 4;
    let mut i = 0;
    while i < quads {
        // SAFETY: i + 3 < n, so the four loads read whole `[f64; 4]`
        // elements of `xs` and the four stores write 4 f32 inside each
        // destination row (all of length n, checked above).
        unsafe {
            let r0 = _mm256_loadu_pd(xs[i].as_ptr());
            let r1 = _mm256_loadu_pd(xs[i + 1].as_ptr());
            let r2 = _mm256_loadu_pd(xs[i + 2].as_ptr());
            let r3 = _mm256_loadu_pd(xs[i + 3].as_ptr());
            let t0 = _mm256_unpacklo_pd(r0, r1);
            let t1 = _mm256_unpackhi_pd(r0, r1);
            let t2 = _mm256_unpacklo_pd(r2, r3);
            let t3 = _mm256_unpackhi_pd(r2, r3);
            let l0 = _mm256_permute2f128_pd::<0x20>(t0, t2);
            let l1 = _mm256_permute2f128_pd::<0x20>(t1, t3);
            let l2 = _mm256_permute2f128_pd::<0x31>(t0, t2);
            let l3 = _mm256_permute2f128_pd::<0x31>(t1, t3);
            let p = |d: &mut [std::mem::MaybeUninit<f32>]| d.as_mut_ptr().add(i) as *mut f32;
            _mm_storeu_ps(p(dst[0]), _mm256_cvtpd_ps(l0));
            _mm_storeu_ps(p(dst[1]), _mm256_cvtpd_ps(l1));
            _mm_storeu_ps(p(dst[2]), _mm256_cvtpd_ps(l2));
            _mm_storeu_ps(p(dst[3]), _mm256_cvtpd_ps(l3));
        }
        i += 4;
    }
    transpose_f32_tail(xs, dst, quads);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All lanes at once equal pushing lane by lane, bit for bit (odd lengths, NaN,
    /// infinities, values that round), in both precisions.
    #[test]
    fn extend_lanes_equals_push_lane_by_lane() {
        for p in [RowPrecision::F32, RowPrecision::F64] {
            for n in [0usize, 1, 3, 4, 7, 150] {
                let xs: Vec<[f64; LANES]> = (0..n)
                    .map(|i| {
                        std::array::from_fn(|l| match (i + l) % 7 {
                            0 => f64::NAN,
                            1 => f64::INFINITY,
                            2 => 1e300,
                            _ => (i as f64 + 0.1) / (l as f64 + 3.0) - 1.0,
                        })
                    })
                    .collect();
                for a in 1..=LANES {
                    let mut one: Vec<Rows> = (0..LANES).map(|_| Rows::default()).collect();
                    let mut all = one.clone();
                    for (r, q) in one.iter_mut().zip(all.iter_mut()) {
                        r.clear(p);
                        q.clear(p);
                        r.push(7.0);
                        q.push(7.0);
                    }
                    for (l, r) in one.iter_mut().enumerate().take(a) {
                        xs.iter().for_each(|x| r.push(x[l]));
                    }
                    {
                        let mut it = all.iter_mut();
                        let mut refs: [&mut Rows; LANES] =
                            std::array::from_fn(|_| it.next().expect("lanes"));
                        Rows::extend_lanes(&mut refs, a, &xs);
                    }
                    for l in 0..LANES {
                        let (x, y) = (one[l].as_slice(), all[l].as_slice());
                        assert_eq!(x.len(), y.len(), "n {n} a {a} lane {l}");
                        for i in 0..x.len() {
                            assert_eq!(x.get(i).to_bits(), y.get(i).to_bits(), "n {n} lane {l}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn rows_keep_their_precision() {
        let mut r = Rows::default();
        for (p, single) in [(RowPrecision::F32, true), (RowPrecision::F64, false)] {
            r.clear(p);
            r.push(1.0 + 1e-12);
            r.extend_from_slice(&[2.0, 3.0]);
            r.push(5.0);
            r.push(9.0);
            r.push_nan(2);
            assert_eq!(r.len(), 7);
            let s = r.as_slice();
            assert_eq!(matches!(s, RowSlice::F32(_)), single);
            let got: Vec<f64> = (0..s.len()).map(|i| s.get(i)).collect();
            assert_eq!(got[0] == 1.0, single);
            assert_eq!(&got[1..5], &[2.0, 3.0, 5.0, 9.0]);
            assert!(got[5].is_nan() && got[6].is_nan());
        }
    }
}
