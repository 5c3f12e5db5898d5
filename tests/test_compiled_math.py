"""The compiled kernels' own exp and prefetch (softmax.loss.compiled)."""

from __future__ import annotations

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from softmax.loss.compiled import _exp as exp  # noqa: E402
from softmax.loss.compiled import _prefetch as prefetch  # noqa: E402


@numba.njit
def _exp_all(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = exp(x[i])
    return out


@numba.njit
def _sum_with_hints(x, ahead):
    total = 0.0
    for i in range(x.size):
        prefetch(x, i + ahead)  # past the end too: a hint never faults
        total += x[i]
    return total


@pytest.mark.skipif(np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps,
                    reason="needs an extended-precision reference")
@pytest.mark.parametrize("dtype, low", [(np.float32, -87.0), (np.float64, -708.0)])
def test_exp_error_in_ulps(dtype, low):
    # The softmax takes exp of shifted scores, all <= 0: at most 1 ulp on [-30, 0]
    # (0.995 in float32, 0.955 in float64 on this grid), under 1.5 down to the
    # smallest normal result.
    def ulps(x):
        x = x.astype(dtype)
        got = _exp_all(x)
        assert got.dtype == dtype
        exact = np.exp(x.astype(np.longdouble))
        return float(np.max(np.abs(got - exact) / np.spacing(exact.astype(dtype))))

    assert ulps(np.linspace(-30, 0, 200_001)) <= 1.0
    assert ulps(np.linspace(low, -30, 100_001)) < 1.5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_underflows_to_zero_and_propagates_nan(dtype):
    x = np.array([-1e4, -np.inf, np.nan, 0.0], dtype=dtype)
    got = _exp_all(x)
    assert got[0] == 0 and got[1] == 0 and np.isnan(got[2]) and got[3] == 1


def test_prefetch_changes_nothing():
    x = np.random.default_rng(0).standard_normal(10_000)
    for ahead in (0, 8, 20_000):
        assert _sum_with_hints(x, ahead) == pytest.approx(x.sum(), rel=1e-12)
