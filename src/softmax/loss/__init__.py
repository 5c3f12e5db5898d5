"""The data term: cross-entropy on raw scores, the linear model's layout, its kernels, standardisation and the objective solvers minimise."""
