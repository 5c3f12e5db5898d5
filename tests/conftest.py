"""Test-session setup."""

import os

# Lets scikit-learn's check_array_api_input run instead of skipping: SciPy reads
# this once, at import, and no test module has imported SciPy yet.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


import pytest  # noqa: E402  (after the environment variable above)


@pytest.fixture
def layout_problem():
    """``make(layout, fit_intercept, rng) -> (X, sample_weight, offset, loss)``.

    300 rows of 7 features on different scales and offsets, 4 classes, as
    ``layout``: ``"dense"``, ``"csr"`` (entries under 1 in size dropped),
    ``"float32"`` or ``"standardised"`` (the loss seen in standardised coordinates).
    """

    def make(layout, fit_intercept, rng):
        import numpy as np
        from scipy import sparse

        from softmax.loss.linear import LinearModelLoss
        from softmax.loss.standardize import StandardizedLinearLoss, feature_mean_scale

        X = rng.standard_normal((300, 7)) * rng.uniform(0.1, 5, 7) + rng.uniform(-2, 2, 7)
        sw, offset = rng.uniform(0.5, 2, 300), rng.standard_normal((300, 4))
        loss = LinearModelLoss(4, 7, fit_intercept)
        if layout == "csr":
            X = sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0))
        elif layout == "float32":
            X = X.astype(np.float32)
        elif layout == "standardised":
            loss = StandardizedLinearLoss(loss, *feature_mean_scale(X, sw, center=fit_intercept))
        return X, sw, offset, loss

    return make
