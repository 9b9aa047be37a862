//! The per-step results that are computed from the voltages alone, in
//! loops over split real/imaginary arrays that the compiler vectorises
//! (and compiles a second time for AVX2, chosen at run time; no FMA, so
//! both builds give the same numbers).
//!
//! Buses: |V|, 1/|V| and the angle (a short series around each bus's
//! initial direction, `atan2` where a bus has moved more than about 7°).
//! Branches: complex power into both ends, the larger terminal current and
//! the loading, with the π-model admittances cached here. A tap move changes
//! those admittances: call [`ResultKernel::refresh_branches`].

use crate::math::MathModel;
use crate::network::Network;
use crate::solver::current_injection::{LaneVec, LANES, PREFETCH_AHEAD};
use num_complex::Complex64;
use std::f64::consts::PI;

/// atan(t)/t in powers of t²: for |t| < 1/8 the first omitted term
/// (t¹⁸/19) is below 1e-18.
const SERIES: [f64; 9] = [
    1.0,
    -1.0 / 3.0,
    1.0 / 5.0,
    -1.0 / 7.0,
    1.0 / 9.0,
    -1.0 / 11.0,
    1.0 / 13.0,
    -1.0 / 15.0,
    1.0 / 17.0,
];

/// Cached constants and work arrays of the results of a step.
#[derive(Debug, Clone)]
pub struct ResultKernel {
    // Buses: initial direction (unit vector, angle).
    ur: Vec<f64>,
    ui: Vec<f64>,
    ua: Vec<f64>,
    // Buses: current voltages, |V|, 1/|V|, angle in degrees.
    vr: Vec<f64>,
    vi: Vec<f64>,
    /// |V| per bus, p.u.
    pub vm: Vec<f64>,
    inv_vm: Vec<f64>,
    /// Angle per bus, degrees.
    pub va_deg: Vec<f64>,
    // Branches.
    from: Vec<usize>,
    to: Vec<usize>,
    active: Vec<bool>,
    y: [Vec<f64>; 8],
    kf: Vec<f64>,
    kt: Vec<f64>,
    // Loading per (MVA / p.u. voltage) at the from and to ends (`Branch::loading_factors`).
    lf_from: Vec<f64>,
    lf_to: Vec<f64>,
    /// Branch results of the last [`Self::branches`]: MW and Mvar into the
    /// from end, into the to end, the larger terminal current (kA) and
    /// current over the rated current (%, `Branch::loading_factors`).
    pub out: BranchOut,
}

/// The results of [`LANES`] steps at once (one per lane), each array
/// element holding one value per lane: what [`ResultKernel::buses`] and
/// [`ResultKernel::branches`] give for one step, computed by
/// [`ResultKernel::lanes`] with the same arithmetic, lane by lane.
#[derive(Debug, Clone, Default)]
pub struct LaneResults {
    /// |V| per bus, p.u.
    pub vm: Vec<[f64; LANES]>,
    inv_vm: Vec<[f64; LANES]>,
    /// Angle per bus, degrees.
    pub va_deg: Vec<[f64; LANES]>,
    /// MW into the from end of each branch.
    pub p_from: Vec<[f64; LANES]>,
    /// Mvar into the from end.
    pub q_from: Vec<[f64; LANES]>,
    /// MW into the to end.
    pub p_to: Vec<[f64; LANES]>,
    /// Mvar into the to end.
    pub q_to: Vec<[f64; LANES]>,
    /// Larger terminal current, kA.
    pub i_ka: Vec<[f64; LANES]>,
    /// Larger terminal current over its rated current, %.
    pub loading: Vec<[f64; LANES]>,
    /// Whether the flows and currents are computed and stored (else those
    /// five arrays are empty; the loading, which the KPIs need, always is).
    flows: bool,
}

impl LaneResults {
    /// Sizes the arrays for `nb` buses and `nbr` branches; `flows`: whether
    /// the branch flows and currents are wanted (their series are kept) or
    /// only the loading. Storing five unused values per branch and lane
    /// costs as much memory traffic as a sweep on a large grid.
    pub fn resize(&mut self, nb: usize, nbr: usize, flows: bool) {
        let z = [0.0; LANES];
        for v in [&mut self.vm, &mut self.inv_vm, &mut self.va_deg] {
            v.resize(nb, z);
        }
        self.flows = flows;
        let n_flows = if flows { nbr } else { 0 };
        for v in [
            &mut self.p_from,
            &mut self.q_from,
            &mut self.p_to,
            &mut self.q_to,
            &mut self.i_ka,
        ] {
            v.resize(n_flows, z);
        }
        self.loading.resize(nbr, z);
    }
}

/// Branch results, one value per branch.
#[derive(Debug, Clone, Default)]
pub struct BranchOut {
    /// MW into the from end.
    pub p_from: Vec<f64>,
    /// Mvar into the from end.
    pub q_from: Vec<f64>,
    /// MW into the to end.
    pub p_to: Vec<f64>,
    /// Mvar into the to end.
    pub q_to: Vec<f64>,
    /// Larger terminal current, kA.
    pub i_ka: Vec<f64>,
    /// Larger terminal current over its rated current, %.
    pub loading: Vec<f64>,
}

impl ResultKernel {
    /// Constants for `math` (from `net`), angles relative to `v0`.
    pub fn new(math: &MathModel, net: &Network, v0: &[Complex64]) -> ResultKernel {
        let nb = v0.len();
        let nbr = math.branches.len();
        let mut k = ResultKernel {
            ur: Vec::with_capacity(nb),
            ui: Vec::with_capacity(nb),
            ua: Vec::with_capacity(nb),
            vr: vec![0.0; nb],
            vi: vec![0.0; nb],
            vm: vec![0.0; nb],
            inv_vm: vec![0.0; nb],
            va_deg: vec![0.0; nb],
            from: math.branches.iter().map(|b| b.from).collect(),
            to: math.branches.iter().map(|b| b.to).collect(),
            active: vec![false; nbr],
            y: Default::default(),
            kf: Vec::with_capacity(nbr),
            kt: Vec::with_capacity(nbr),
            lf_from: Vec::with_capacity(nbr),
            lf_to: Vec::with_capacity(nbr),
            out: BranchOut {
                p_from: vec![0.0; nbr],
                q_from: vec![0.0; nbr],
                p_to: vec![0.0; nbr],
                q_to: vec![0.0; nbr],
                i_ka: vec![0.0; nbr],
                loading: vec![0.0; nbr],
            },
        };
        for &v in v0 {
            let m = v.norm();
            if m > 0.0 && m.is_finite() {
                let u = v / m;
                k.ur.push(u.re);
                k.ui.push(u.im);
                k.ua.push(v.im.atan2(v.re));
            } else {
                k.ur.push(1.0);
                k.ui.push(0.0);
                k.ua.push(0.0);
            }
        }
        let inv_kv = |kv: f64| {
            if kv > 0.0 {
                1.0 / (3f64.sqrt() * kv)
            } else {
                f64::NAN
            }
        };
        for b in &net.branches {
            k.kf.push(inv_kv(net.buses[b.from].base_kv));
            k.kt.push(inv_kv(net.buses[b.to].base_kv));
            let [lf, lt] = b.loading_factors(&net.buses);
            k.lf_from.push(lf);
            k.lf_to.push(lt);
        }
        k.refresh_branches(math);
        k
    }

    /// Takes the branch admittances of `math` again (after a tap move).
    pub fn refresh_branches(&mut self, math: &MathModel) {
        for y in self.y.iter_mut() {
            y.clear();
        }
        for (kb, b) in math.branches.iter().enumerate() {
            self.active[kb] = b.active;
            let z = Complex64::new(0.0, 0.0);
            let (ff, ft, tf, tt) = if b.active {
                (b.yff, b.yft, b.ytf, b.ytt)
            } else {
                (z, z, z, z)
            };
            for (j, c) in [ff, ft, tf, tt].iter().enumerate() {
                self.y[2 * j].push(c.re);
                self.y[2 * j + 1].push(c.im);
            }
        }
    }

    /// |V| and angle of every bus for the voltages `v`.
    pub fn buses(&mut self, v: &[Complex64]) {
        for (i, x) in v.iter().enumerate() {
            self.vr[i] = x.re;
            self.vi[i] = x.im;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { buses_avx2(self) };
                return self.angle_fixups();
            }
        }
        buses_impl(self);
        self.angle_fixups()
    }

    /// Buses that moved too far from their initial direction for the
    /// series: `atan2`.
    fn angle_fixups(&mut self) {
        for i in 0..self.vr.len() {
            let (ur, ui) = (self.ur[i], self.ui[i]);
            let (vr, vi) = (self.vr[i], self.vi[i]);
            let wr = vr * ur + vi * ui;
            let wi = vi * ur - vr * ui;
            if !(wr > 0.0 && wi.abs() < 0.125 * wr) {
                self.va_deg[i] = vi.atan2(vr).to_degrees();
            }
        }
    }

    /// Flows, currents and loadings of every branch (MW, Mvar, kA, %), for
    /// the voltages last given to [`Self::buses`].
    pub fn branches(&mut self, base_mva: f64) {
        let mut out = std::mem::take(&mut self.out);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { branches_avx2(self, base_mva, &mut out) };
                self.out = out;
                return;
            }
        }
        branches_impl(self, base_mva, &mut out);
        self.out = out;
    }
}

impl ResultKernel {
    /// Bus and branch results of every lane for the voltages `v` into `r`
    /// (sized by [`LaneResults::resize`]): lane `l` gets exactly the
    /// numbers [`Self::buses`] and [`Self::branches`] give for its voltages.
    pub fn lanes(&self, base_mva: f64, v: &LaneVec, r: &mut LaneResults) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { lanes_avx2(self, base_mva, v, r) };
                return self.lane_angle_fixups(v, r);
            }
        }
        lanes_impl(self, base_mva, v, r);
        self.lane_angle_fixups(v, r)
    }

    /// [`Self::angle_fixups`] for every lane.
    fn lane_angle_fixups(&self, v: &LaneVec, r: &mut LaneResults) {
        for i in 0..v.len() {
            let (ur, ui) = (self.ur[i], self.ui[i]);
            for q in 0..LANES {
                let (vr, vi) = (v[i].re[q], v[i].im[q]);
                let wr = vr * ur + vi * ui;
                let wi = vi * ur - vr * ui;
                if !(wr > 0.0 && wi.abs() < 0.125 * wr) {
                    r.va_deg[i][q] = vi.atan2(vr).to_degrees();
                }
            }
        }
    }
}

/// [`buses_impl`] and [`branches_impl`] for all lanes: the same operations
/// in the same order, each on `LANES` values at once.
#[inline(always)]
fn lanes_impl(k: &ResultKernel, base: f64, v: &LaneVec, r: &mut LaneResults) {
    lanes_buses(k, v, r);
    lanes_branches(k, base, v, r);
}

/// The bus part of [`lanes_impl`].
#[inline(always)]
fn lanes_buses(k: &ResultKernel, v: &LaneVec, r: &mut LaneResults) {
    for i in 0..v.len() {
        let (ur, ui, ua) = (k.ur[i], k.ui[i], k.ua[i]);
        for q in 0..LANES {
            let (m, a) = magnitude_angle(v[i].re[q], v[i].im[q], ur, ui, ua);
            r.vm[i][q] = m;
            r.inv_vm[i][q] = 1.0 / m;
            r.va_deg[i][q] = a;
        }
    }
}

/// The branch part of [`lanes_impl`].
#[inline(always)]
fn lanes_branches(k: &ResultKernel, base: f64, v: &LaneVec, r: &mut LaneResults) {
    let [yffr, yffi, yftr, yfti, ytfr, ytfi, yttr, ytti] = &k.y;
    for b in 0..k.from.len() {
        let (f, t) = (k.from[b], k.to[b]);
        let (fr, fi, tr, ti) = (v[f].re, v[f].im, v[t].re, v[t].im);
        let (ivf, ivt) = (r.inv_vm[f], r.inv_vm[t]);
        let (kf, kt, active) = (k.kf[b], k.kt[b], k.active[b]);
        let (lff, lft) = (k.lf_from[b], k.lf_to[b]);
        let (a, bb, cc, d) = (yffr[b], yffi[b], yftr[b], yfti[b]);
        let (e, g, h, j) = (ytfr[b], ytfi[b], yttr[b], ytti[b]);
        for q in 0..LANES {
            let (fr, fi, tr, ti) = (fr[q], fi[q], tr[q], ti[q]);
            let ifr = a * fr - bb * fi + (cc * tr - d * ti);
            let ifi = a * fi + bb * fr + (cc * ti + d * tr);
            let itr = e * fr - g * fi + (h * tr - j * ti);
            let iti = e * fi + g * fr + (h * ti + j * tr);
            let pf = (fr * ifr + fi * ifi) * base;
            let qf = (fi * ifr - fr * ifi) * base;
            let pt = (tr * itr + ti * iti) * base;
            let qt = (ti * itr - tr * iti) * base;
            let sf = (pf * pf + qf * qf).sqrt();
            let st = (pt * pt + qt * qt).sqrt();
            if r.flows {
                r.p_from[b][q] = pf;
                r.q_from[b][q] = qf;
                r.p_to[b][q] = pt;
                r.q_to[b][q] = qt;
                let i_f = sf * kf * ivf[q];
                let i_t = st * kt * ivt[q];
                r.i_ka[b][q] = if active { i_f.max(i_t) } else { 0.0 };
            }
            r.loading[b][q] = (sf * ivf[q] * lff).max(st * ivt[q] * lft);
        }
    }
}

/// [`lanes_impl`] with AVX2: the bus part as compiled (the compiler
/// vectorises it), the branch part written with intrinsics (the compiler
/// leaves it scalar), the same operations in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lanes_avx2(k: &ResultKernel, base: f64, v: &LaneVec, r: &mut LaneResults) {
    use std::arch::x86_64::*;
    const _: () = assert!(LANES == 4, "one AVX2 register per lane group");
    lanes_buses(k, v, r);
    let [yffr, yffi, yftr, yfti, ytfr, ytfi, yttr, ytti] = &k.y;
    // f64::max(x, y): y where x is NaN, else max (maxpd gives its second
    // operand when either is NaN).
    #[inline(always)]
    fn maxnum(x: __m256d, y: __m256d) -> __m256d {
        // SAFETY: AVX is enabled in the calling function.
        unsafe {
            let m = _mm256_max_pd(y, x);
            let x_nan = _mm256_cmp_pd::<_CMP_UNORD_Q>(x, x);
            _mm256_blendv_pd(m, y, x_nan)
        }
    }
    // SAFETY: AVX2 is enabled for this function; every load and store
    // below reads or writes one whole `[f64; 4]` element of a slice whose
    // index was bounds-checked by the slice indexing.
    unsafe {
        let ld = |x: &[f64; LANES]| _mm256_loadu_pd(x.as_ptr());
        let st = |x: &mut [f64; LANES], v: __m256d| _mm256_storeu_pd(x.as_mut_ptr(), v);
        let bv = _mm256_set1_pd(base);
        let zero = _mm256_setzero_pd();
        for b in 0..k.from.len() {
            // A branch's ends lie anywhere among the buses: fetch ahead.
            if let (Some(&f), Some(&t)) =
                (k.from.get(b + PREFETCH_AHEAD), k.to.get(b + PREFETCH_AHEAD))
            {
                v.prefetch(f);
                v.prefetch(t);
            }
            let (f, t) = (k.from[b], k.to[b]);
            let (fr, fi, tr, ti) = (ld(&v[f].re), ld(&v[f].im), ld(&v[t].re), ld(&v[t].im));
            let (ivf, ivt) = (ld(&r.inv_vm[f]), ld(&r.inv_vm[t]));
            let s1 = _mm256_set1_pd;
            let (a, bb, cc, d) = (s1(yffr[b]), s1(yffi[b]), s1(yftr[b]), s1(yfti[b]));
            let (e, g, h, j) = (s1(ytfr[b]), s1(ytfi[b]), s1(yttr[b]), s1(ytti[b]));
            let (mul, add, sub) = (_mm256_mul_pd, _mm256_add_pd, _mm256_sub_pd);
            let ifr = add(sub(mul(a, fr), mul(bb, fi)), sub(mul(cc, tr), mul(d, ti)));
            let ifi = add(add(mul(a, fi), mul(bb, fr)), add(mul(cc, ti), mul(d, tr)));
            let itr = add(sub(mul(e, fr), mul(g, fi)), sub(mul(h, tr), mul(j, ti)));
            let iti = add(add(mul(e, fi), mul(g, fr)), add(mul(h, ti), mul(j, tr)));
            let pf = mul(add(mul(fr, ifr), mul(fi, ifi)), bv);
            let qf = mul(sub(mul(fi, ifr), mul(fr, ifi)), bv);
            let pt = mul(add(mul(tr, itr), mul(ti, iti)), bv);
            let qt = mul(sub(mul(ti, itr), mul(tr, iti)), bv);
            let sf = _mm256_sqrt_pd(add(mul(pf, pf), mul(qf, qf)));
            let stt = _mm256_sqrt_pd(add(mul(pt, pt), mul(qt, qt)));
            if r.flows {
                st(&mut r.p_from[b], pf);
                st(&mut r.q_from[b], qf);
                st(&mut r.p_to[b], pt);
                st(&mut r.q_to[b], qt);
                let i_f = mul(mul(sf, s1(k.kf[b])), ivf);
                let i_t = mul(mul(stt, s1(k.kt[b])), ivt);
                st(
                    &mut r.i_ka[b],
                    if k.active[b] { maxnum(i_f, i_t) } else { zero },
                );
            }
            let l_f = mul(mul(sf, ivf), s1(k.lf_from[b]));
            let l_t = mul(mul(stt, ivt), s1(k.lf_to[b]));
            st(&mut r.loading[b], maxnum(l_f, l_t));
        }
    }
}

#[inline(always)]
fn buses_impl(k: &mut ResultKernel) {
    let n = k.vr.len();
    for i in 0..n {
        let (m, a) = magnitude_angle(k.vr[i], k.vi[i], k.ur[i], k.ui[i], k.ua[i]);
        k.vm[i] = m;
        k.inv_vm[i] = 1.0 / m;
        k.va_deg[i] = a;
    }
}

/// |V| and the angle in degrees of `vr + j·vi` from the series around the
/// initial direction `(ur, ui)` (angle `ua`, radians), wrapped to
/// (−180°, 180°]; where the series does not apply, `angle_fixups` replaces
/// the angle. One body for the single and the lane kernel, so both give the
/// same numbers.
#[inline(always)]
fn magnitude_angle(vr: f64, vi: f64, ur: f64, ui: f64, ua: f64) -> (f64, f64) {
    let c = &SERIES;
    let m = (vr * vr + vi * vi).sqrt();
    let wr = vr * ur + vi * ui;
    let wi = vi * ur - vr * ui;
    let t = wi / wr;
    let u = t * t;
    let u2 = u * u;
    let u4 = u2 * u2;
    let p01 = c[0] + c[1] * u;
    let p23 = c[2] + c[3] * u;
    let p45 = c[4] + c[5] * u;
    let p67 = c[6] + c[7] * u;
    let p = (p01 + p23 * u2) + ((p45 + p67 * u2) + c[8] * u4) * u4;
    let mut a = ua + t * p;
    a = if a > PI { a - 2.0 * PI } else { a };
    a = if a <= -PI { a + 2.0 * PI } else { a };
    (m, a.to_degrees())
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn buses_avx2(k: &mut ResultKernel) {
    buses_impl(k)
}

#[inline(always)]
fn branches_impl(k: &ResultKernel, base: f64, out: &mut BranchOut) {
    let n = k.from.len();
    let [yffr, yffi, yftr, yfti, ytfr, ytfi, yttr, ytti] = &k.y;
    for b in 0..n {
        let (f, t) = (k.from[b], k.to[b]);
        let (fr, fi, tr, ti) = (k.vr[f], k.vi[f], k.vr[t], k.vi[t]);
        // I_f = yff·Vf + yft·Vt, S_f = Vf·conj(I_f); likewise at the to end.
        let ifr = yffr[b] * fr - yffi[b] * fi + (yftr[b] * tr - yfti[b] * ti);
        let ifi = yffr[b] * fi + yffi[b] * fr + (yftr[b] * ti + yfti[b] * tr);
        let itr = ytfr[b] * fr - ytfi[b] * fi + (yttr[b] * tr - ytti[b] * ti);
        let iti = ytfr[b] * fi + ytfi[b] * fr + (yttr[b] * ti + ytti[b] * tr);
        let pf = (fr * ifr + fi * ifi) * base;
        let qf = (fi * ifr - fr * ifi) * base;
        let pt = (tr * itr + ti * iti) * base;
        let qt = (ti * itr - tr * iti) * base;
        out.p_from[b] = pf;
        out.q_from[b] = qf;
        out.p_to[b] = pt;
        out.q_to[b] = qt;
        let sf = (pf * pf + qf * qf).sqrt();
        let st = (pt * pt + qt * qt).sqrt();
        let i_f = sf * k.kf[b] * k.inv_vm[f];
        let i_t = st * k.kt[b] * k.inv_vm[t];
        out.i_ka[b] = if k.active[b] { i_f.max(i_t) } else { 0.0 };
        let l_f = sf * k.inv_vm[f] * k.lf_from[b];
        let l_t = st * k.inv_vm[t] * k.lf_to[b];
        out.loading[b] = l_f.max(l_t);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn branches_avx2(k: &ResultKernel, base: f64, out: &mut BranchOut) {
    branches_impl(k, base, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::matpower;
    use std::path::Path;

    /// The kernel equals the plain complex formulas (flows from
    /// `BranchAdmittance::flows`, |V|, atan2) on a real case.
    #[test]
    fn matches_complex_formulas() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/matpower/cases/case33bw.m");
        let net = matpower::read_case(&path).unwrap();
        let math = MathModel::build(&net).unwrap();
        let v0 = math.flat_start();
        let mut k = ResultKernel::new(&math, &net, &v0);
        // Voltages a few degrees off the start, one bus far off (atan2 path).
        let mut v: Vec<Complex64> = v0
            .iter()
            .enumerate()
            .map(|(i, x)| x * Complex64::from_polar(0.97 + 0.001 * i as f64, -0.002 * i as f64))
            .collect();
        v[5] *= Complex64::from_polar(1.0, 2.5);
        k.buses(&v);
        k.branches(net.base_mva);
        let BranchOut {
            p_from: pf,
            q_from: qf,
            p_to: pt,
            q_to: qt,
            ..
        } = &k.out;
        for (i, x) in v.iter().enumerate() {
            assert!((k.vm[i] - x.norm()).abs() < 1e-15);
            let d = (k.va_deg[i] - x.arg().to_degrees()).abs();
            assert!(d < 1e-12, "bus {i}: {d:e}");
        }
        for (b, ba) in math.branches.iter().enumerate() {
            let (sf, st) = ba.flows(&v);
            let (sf, st) = (sf * net.base_mva, st * net.base_mva);
            for (got, want) in [
                (pf[b], sf.re),
                (qf[b], sf.im),
                (pt[b], st.re),
                (qt[b], st.im),
            ] {
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "branch {b}"
                );
            }
        }
    }

    /// The lane kernel (the AVX2 build where the CPU has it, and the
    /// portable build) gives each lane exactly the single-step numbers,
    /// including the atan2 fallback and branches whose base kV is 0.
    #[test]
    fn lanes_equal_single_steps_bit_for_bit() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/matpower/cases/case33bw.m");
        let mut net = matpower::read_case(&path).unwrap();
        net.buses[7].base_kv = 0.0;
        let math = MathModel::build(&net).unwrap();
        let v0 = math.flat_start();
        let mut k = ResultKernel::new(&math, &net, &v0);
        let lane_v: Vec<Vec<Complex64>> = (0..LANES)
            .map(|l| {
                let mut v: Vec<Complex64> = v0
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let m = 0.95 + 0.001 * (i + 3 * l) as f64;
                        x * Complex64::from_polar(m, -0.003 * (i * (l + 1)) as f64)
                    })
                    .collect();
                v[5 + l] *= Complex64::from_polar(1.0, 2.5);
                v
            })
            .collect();
        let mut r = LaneResults::default();
        r.resize(v0.len(), math.branches.len(), true);
        let mut lv = LaneVec::splat(&v0);
        for (l, v) in lane_v.iter().enumerate() {
            lv.set_lane(l, v);
        }
        let mut portable = r.clone();
        k.lanes(net.base_mva, &lv, &mut r);
        lanes_impl(&k, net.base_mva, &lv, &mut portable);
        k.lane_angle_fixups(&lv, &mut portable);
        // Without the flows: the same loading, nothing else stored.
        let mut loading_only = LaneResults::default();
        loading_only.resize(v0.len(), math.branches.len(), false);
        k.lanes(net.base_mva, &lv, &mut loading_only);
        assert!(loading_only.p_from.is_empty() && loading_only.i_ka.is_empty());
        let mut portable_loading = loading_only.clone();
        lanes_impl(&k, net.base_mva, &lv, &mut portable_loading);
        let bits = |r: &LaneResults| -> Vec<u64> {
            r.loading.iter().flatten().map(|x| x.to_bits()).collect()
        };
        assert_eq!(bits(&loading_only), bits(&r));
        assert_eq!(bits(&portable_loading), bits(&r));
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
        for (l, v) in lane_v.iter().enumerate() {
            k.buses(v);
            k.branches(net.base_mva);
            for rr in [&r, &portable] {
                for i in 0..v.len() {
                    assert!(same(rr.vm[i][l], k.vm[i]), "vm bus {i} lane {l}");
                    assert!(same(rr.va_deg[i][l], k.va_deg[i]), "va bus {i} lane {l}");
                }
                let o = &k.out;
                for b in 0..math.branches.len() {
                    for (got, want) in [
                        (rr.p_from[b][l], o.p_from[b]),
                        (rr.q_from[b][l], o.q_from[b]),
                        (rr.p_to[b][l], o.p_to[b]),
                        (rr.q_to[b][l], o.q_to[b]),
                        (rr.i_ka[b][l], o.i_ka[b]),
                        (rr.loading[b][l], o.loading[b]),
                    ] {
                        assert!(same(got, want), "branch {b} lane {l}: {got} vs {want}");
                    }
                }
            }
        }
    }

    /// Angles equal atan2 to a few ulps for initial directions all around
    /// the circle, including moves across ±180°.
    #[test]
    fn angles_all_around() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/matpower/cases/case69.m");
        let net = matpower::read_case(&path).unwrap();
        let math = MathModel::build(&net).unwrap();
        let n = math.bus_type.len();
        let v0: Vec<Complex64> = (0..n)
            .map(|i| {
                Complex64::from_polar(
                    1.0,
                    (-179.95 + 359.9 * i as f64 / (n - 1) as f64).to_radians(),
                )
            })
            .collect();
        let mut k = ResultKernel::new(&math, &net, &v0);
        for off_deg in [-6.9, -0.3, 0.0, 0.2, 4.0, 30.0] {
            let v: Vec<Complex64> = v0
                .iter()
                .map(|x| x * Complex64::from_polar(0.96, f64::to_radians(off_deg)))
                .collect();
            k.buses(&v);
            for (i, x) in v.iter().enumerate() {
                let want = x.im.atan2(x.re).to_degrees();
                let mut d = (k.va_deg[i] - want).abs();
                if d > 180.0 {
                    d = 360.0 - d;
                }
                assert!(
                    d < 1e-12,
                    "bus {i}, offset {off_deg}: {} vs {want}",
                    k.va_deg[i]
                );
                assert!(k.va_deg[i] > -180.0 && k.va_deg[i] <= 180.0);
            }
        }
    }
}
