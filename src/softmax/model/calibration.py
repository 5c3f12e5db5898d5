"""Temperature scaling: one inverse temperature ``beta`` fitted on held-out scores."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from sklearn.utils.validation import _check_sample_weight

from .. import functions

__all__ = ["BETA_BOUNDS", "fit_temperature"]

#: Temperature scaling searches beta in this range; beyond it the probabilities
#: are a hard-max or a uniform distribution to many digits.
BETA_BOUNDS = (1e-4, 1e4)


def fit_temperature(raw: NDArray, labels, classes: NDArray, sample_weight=None) -> float:
    """The ``beta > 0`` minimising the weighted mean log-loss of ``softmax(beta * raw)``.

    Parameters
    ----------
    raw : ndarray of shape (n_samples, n_classes)
        Held-out class scores.
    labels : array-like of shape (n_samples,)
        Their labels, each one of ``classes``.
    classes : ndarray of shape (n_classes,)
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    beta : float
        Within :data:`BETA_BOUNDS`; a warning says when it sits at a bound.

    Raises
    ------
    ValueError
        If a label is not one of ``classes``, the lengths differ, or the
        weights sum to zero.
    """
    from scipy.optimize import minimize_scalar  # deferred: only calibration needs it

    raw = raw.astype(np.float64, copy=False)
    labels = np.asarray(labels).ravel()
    if len(labels) != len(raw):
        raise ValueError(f"X_val has {len(raw)} samples but y_val has {len(labels)} labels.")
    position = {label: i for i, label in enumerate(classes.tolist())}
    unknown = sorted({v for v in labels.tolist() if v not in position}, key=str)
    if unknown:
        raise ValueError(
            f"y_val has label(s) {unknown[:10]} that the model does not know; "
            f"its classes are {classes.tolist()}."
        )
    codes = np.fromiter((position[v] for v in labels.tolist()), np.intp, len(labels))
    weight = _check_sample_weight(sample_weight, raw, dtype=np.float64, ensure_non_negative=True)
    total = weight.sum()
    if not total > 0:
        raise ValueError("The sample weights of the validation data sum to zero.")
    rows = np.arange(len(codes))
    if not np.any((raw.max(axis=1) > raw[rows, codes]) & (weight > 0)):
        # No sample is misclassified: the log-loss falls all the way to beta = inf.
        warnings.warn(
            "calibrate: the model classifies every validation sample correctly, so their "
            "log-loss keeps falling as beta grows; beta_ is set to its upper limit "
            f"{BETA_BOUNDS[1]:g}. Calibrate on more (or harder) held-out data.",
            UserWarning,
            stacklevel=3,
        )
        return float(BETA_BOUNDS[1])

    def mean_log_loss(log_beta: float) -> float:
        log_p = functions.log_softmax(raw, axis=1, beta=np.exp(log_beta))
        return float(-(weight @ log_p[rows, codes]) / total)

    # The log-loss is convex in beta, and a misclassified sample makes it grow
    # without bound, so it has one minimum; it is unimodal in log(beta), which a
    # bounded Brent search finds, and log(beta) keeps beta positive.
    low, high = np.log(BETA_BOUNDS[0]), np.log(BETA_BOUNDS[1])
    found = minimize_scalar(
        mean_log_loss, bounds=(low, high), method="bounded", options={"xatol": 1e-6}
    )
    log_beta = float(found.x)
    if log_beta - low < 1e-3:
        warnings.warn(
            f"calibrate: the held-out log-loss is smallest at the lower limit beta="
            f"{BETA_BOUNDS[0]:g}, where every class is equally likely: the scores carry "
            "no information about these labels. Check that X_val and y_val belong "
            "together and come from the training distribution.",
            UserWarning,
            stacklevel=3,
        )
    return float(np.exp(log_beta))
