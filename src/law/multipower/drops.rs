//! The fit-time quadrature of the Multi-Power Law's LD term (see `Law::fit_features`): the LR
//! drops far from a point are summed in blocks, each with its total weight and weighted means,
//! which prefix sums give in O(1) per block.

use super::{aux, ln_lr_of};

/// Prefix sums over k of d, d·ln η_k and d·S1(k−1), split where the sign of d changes, so that
/// any block within one sign segment gets its weight and weighted means in O(1).
pub(super) struct DropSums {
    d: Vec<f64>,
    d_ln: Vec<f64>,
    d_s1: Vec<f64>,
    /// For each k, the first k of its sign segment.
    segment_start: Vec<usize>,
    ln_lr: Vec<f64>,
    s1_before: Vec<f64>,
}

impl DropSums {
    pub(super) fn new(lr: &[f64], s1: &[f64]) -> Self {
        let n = lr.len();
        let (mut d, mut d_ln, mut d_s1) = (vec![0.0; n + 1], vec![0.0; n + 1], vec![0.0; n + 1]);
        let mut segment_start = vec![1; n];
        let mut ln_lr = vec![0.0; n];
        let mut s1_before = vec![0.0; n];
        let mut sign = 0.0;
        let mut start = 1;
        for k in 1..n {
            let dk = lr[k - 1] - lr[k];
            ln_lr[k] = ln_lr_of(lr[k]);
            s1_before[k] = s1[k - 1];
            if dk != 0.0 && dk.signum() != sign {
                if sign != 0.0 {
                    start = k;
                }
                sign = dk.signum();
            }
            segment_start[k] = start;
            let (wl, ws) = if dk == 0.0 {
                (0.0, 0.0)
            } else {
                (dk * ln_lr[k], dk * s1[k - 1])
            };
            d[k + 1] = d[k] + dk;
            d_ln[k + 1] = d_ln[k] + wl;
            d_s1[k + 1] = d_s1[k] + ws;
        }
        DropSums {
            d,
            d_ln,
            d_s1,
            segment_start,
            ln_lr,
            s1_before,
        }
    }

    /// Push block `a..=b`, halving it while ln η varies by more than `tol` across it
    /// (η^(−γ) is the fastest-varying factor, e.g. in a warmup ramp that starts near 0).
    pub(super) fn push_adaptive(&self, a: usize, b: usize, tol: f64, out: &mut [Vec<f64>; 3]) {
        if b > a && (self.ln_lr[a] - self.ln_lr[b]).abs() > tol {
            let mid = a + (b - a) / 2;
            self.push_adaptive(mid + 1, b, tol, out);
            self.push_adaptive(a, mid, tol, out);
        } else {
            self.push_block(a, b, out);
        }
    }

    /// Push the term(s) of block `a..=b` (one sign segment or several).
    fn push_block(&self, a: usize, b: usize, out: &mut [Vec<f64>; 3]) {
        let mut hi = b;
        loop {
            let lo = self.segment_start[hi].max(a);
            let w = self.d[hi + 1] - self.d[lo];
            if w != 0.0 {
                let (ln, s) = if lo == hi {
                    (self.ln_lr[lo], self.s1_before[lo])
                } else {
                    (
                        (self.d_ln[hi + 1] - self.d_ln[lo]) / w,
                        (self.d_s1[hi + 1] - self.d_s1[lo]) / w,
                    )
                };
                out[aux::D].push(w);
                out[aux::LN_LR].push(ln);
                out[aux::S1_BEFORE].push(s);
            }
            if lo <= a {
                break;
            }
            hi = lo - 1;
        }
    }
}
