"""Temperature scaling: one inverse temperature ``beta`` fitted on held-out scores."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils.validation import _check_sample_weight

from .. import functions
from . import device, predictions
from .fitted import set_temperature

__all__ = ["BETA_BOUNDS", "CalibrationMixin", "fit_temperature"]

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


class CalibrationMixin:
    """:meth:`calibrate` of :class:`softmax.SoftmaxRegression` (temperature scaling).

    Examples
    --------
    >>> from softmax import SoftmaxRegression
    >>> issubclass(SoftmaxRegression, CalibrationMixin)
    True
    """

    def calibrate(
        self, X_val: ArrayLike, y_val: ArrayLike, sample_weight: ArrayLike | None = None,
        offset: ArrayLike | None = None,
    ) -> CalibrationMixin:  # fmt: skip
        """Temperature scaling: fit one inverse temperature ``beta_`` on held-out data.

        Finds the ``beta_ > 0`` that minimises the (weighted) mean log-loss of
        ``softmax(beta_ * scores)`` on ``X_val, y_val``, the ``beta`` of
        :func:`softmax.functions.softmax`, and uses it in :meth:`predict_proba`
        and :meth:`predict_log_proba` from then on. Scaling every score by the
        same positive number keeps their order, so :meth:`predict` and
        :meth:`decision_function` are unchanged; ``beta_ < 1`` softens
        over-confident probabilities (a weak penalty on many features) and
        ``beta_ > 1`` sharpens under-confident ones (a strong penalty).
        The validation data must not have been used by :meth:`fit`: on the
        training data the fitted model is itself the fit, and ``beta_`` would
        only reflect the penalty. Calling it again fits ``beta_`` afresh.

        Parameters
        ----------
        X_val : {array-like, sparse matrix} of shape (n_samples, n_features)
            Held-out features.
        y_val : array-like of shape (n_samples,)
            Their labels, each one of ``classes_``.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each sample in the log-loss.
        offset : array-like of shape (n_samples, n_classes), optional
            The held-out rows' offset; needed exactly when ``fit`` had one.

        Returns
        -------
        self : SoftmaxRegression

        Raises
        ------
        ValueError
            If a label is not one of ``classes_``, the lengths differ, or the
            weights sum to zero.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn.metrics import log_loss
        >>> from sklearn.model_selection import train_test_split
        >>> X, y = load_digits(return_X_y=True)
        >>> X_fit, X_val, y_fit, y_val = train_test_split(X, y, random_state=0)
        >>> from softmax import SoftmaxRegression
        >>> model = SoftmaxRegression(C=10.0, max_iter=200, tol=1e-4).fit(X_fit, y_fit)
        >>> before = log_loss(y_val, model.predict_proba(X_val))
        >>> model.calibrate(X_val, y_val).beta_ < 1  # the model was over-confident
        True
        >>> bool(log_loss(y_val, model.predict_proba(X_val)) < before)
        True
        """
        device.refuse(self, "calibrate", X_val)
        beta = fit_temperature(
            predictions.predict(self, "scores", X_val, offset), y_val, self.classes_,
            sample_weight,
        )
        set_temperature(self, beta)
        return self
