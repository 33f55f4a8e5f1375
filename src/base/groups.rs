//! What "the same value" means for numbers read from tables and logs: IsoFLOP budgets, model
//! sizes in digitised tables and run lengths are equal only up to a tolerance. One grouping rule
//! serves them all, and one size tolerance, so the backtest's size folds, the rollout's folds and
//! the figures' iso-N curves agree on which runs are one model size.

/// Indices of `values` grouped in increasing order, a new group starting when a value exceeds the
/// group's first by more than the relative `tol`. Budgets in IsoFLOP sweeps and model sizes in
/// digitised tables are "the same" only up to such a tolerance.
pub fn groups_within(values: &[f64], tol: f64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some(g) if values[i] <= values[g[0]] * (1.0 + tol) => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    groups
}

/// Sizes within this relative distance are one model size: digitised tables (Epoch's Chinchilla
/// points) give the same model as 1.4243507e9 and 1.4243517e9.
pub const SIZE_TOL: f64 = 1e-3;

/// Distinct model sizes in increasing order, each a group of point indices.
pub fn size_groups(n: &[f64]) -> Vec<Vec<usize>> {
    groups_within(n, SIZE_TOL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digitised_sizes() {
        let g = size_groups(&[2e9, 1.4243507e9, 1e8, 1.4243517e9, 1.429e9]);
        assert_eq!(g, vec![vec![2], vec![1, 3], vec![4], vec![0]]);
    }
}
