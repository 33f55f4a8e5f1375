//! Least squares that cannot panic.
//!
//! nalgebra's SVD panics ("Singular value was NaN") on a matrix with a non-finite entry, and a
//! design matrix built from data gets one as soon as a row is extreme (N = 1e30 overflows
//! `exp(-α ln N)` terms; a peak LR of 1e308 overflows S1). Every linear solve of a law's starts,
//! a projection or a polynomial goes through [`lstsq`], which answers `None` instead.

use nalgebra::{DMatrix, DVector, SVD};

/// The SVD of `x`, or `None` when an entry of `x` is not finite.
pub fn svd(x: DMatrix<f64>) -> Option<SVD<f64, nalgebra::Dyn, nalgebra::Dyn>> {
    x.iter().all(|v| v.is_finite()).then(|| x.svd(true, true))
}

/// The least-squares solution of `x · b = y` (singular values below `eps` treated as 0), or
/// `None` when an entry of `x` or `y` is not finite or the solution is not.
pub fn lstsq(x: DMatrix<f64>, y: &DVector<f64>, eps: f64) -> Option<DVector<f64>> {
    if !y.iter().all(|v| v.is_finite()) {
        return None;
    }
    let sol = svd(x)?.solve(y, eps).ok()?;
    sol.iter().all(|v| v.is_finite()).then_some(sol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_finite_entry_is_none_not_a_panic() {
        let y = DVector::from_vec(vec![1.0, 2.0, 3.0]);
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0]);
        let b = lstsq(x.clone(), &y, 1e-12).unwrap();
        assert!((b[0] - 1.0).abs() < 1e-12 && (b[1] - 1.0).abs() < 1e-12);
        let mut bad = x;
        bad[(1, 1)] = f64::INFINITY;
        assert!(lstsq(bad, &y, 1e-12).is_none());
    }
}
