"""The problem one fit solves, described once, whatever holds the rows.

Every fitting path (arrays in memory, Dask collections, streams of chunks,
``partial_fit``) goes through the functions here for what the estimator's
parameters mean: the class weights (:func:`class_weights`), the penalty
strengths (:func:`penalties`), the starting point (:func:`initial_point`)
and the report of the solution in the original units (:meth:`Problem.coefficients`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.utils.class_weight import compute_class_weight

from ..loss.array_api import to_numpy
from ..loss.linear import LinearModelLoss
from ..loss.standardize import StandardizedLinearLoss
from ..penalties import elastic_net
from . import glmnet

__all__ = [
    "Problem", "centring", "check_classes", "class_weights", "initial_point", "label_codes",
    "penalties", "report",
]  # fmt: skip


def class_weights(class_weight, classes: NDArray, class_totals: NDArray | None) -> NDArray | None:
    """Weight of each class, multiplying the sample weights of its rows; None for none.

    ``"balanced"`` gives ``S / (n_classes * S_k)``, with ``S_k`` the summed
    sample weight of class ``k`` and ``S`` their total: the row counts of
    ``n_samples / (n_classes * np.bincount(y))`` when every weight is 1. This
    is scikit-learn's ``compute_class_weight(..., sample_weight=sample_weight)``,
    which ``LogisticRegression`` uses, so the weighted fits agree. Every fit
    path (arrays, Dask blocks, ``partial_fit``, streams) calls this function.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
        The estimator's parameter.
    classes : ndarray of shape (n_classes,)
    class_totals : ndarray of shape (n_classes,) or None
        Summed sample weight (before class weights) of each class; None when
        unknown (a stream).

    Raises
    ------
    ValueError
        For ``"balanced"`` without ``class_totals``.
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, str):  # "balanced"
        if class_totals is None:
            raise ValueError(
                "class_weight='balanced' needs the class counts of all the data, which a "
                "stream does not have; pass a dict of class weights to partial_fit's model "
                "instead."
            )
        totals = np.asarray(class_totals, dtype=np.float64)
        # A class whose rows all weigh 0 takes no part in the fit: any weight does.
        safe = np.where(totals > 0, totals, 1.0)
        return np.where(totals > 0, totals.sum() / (len(classes) * safe), 0.0)
    # scikit-learn's rules for a dict (missing classes weigh 1, unknown keys are errors).
    return compute_class_weight(class_weight, classes=classes, y=classes)


def penalties(
    model, total_weight: float | None, *, per_sample: bool = False, factor: NDArray | None = None
):
    """The smooth (L2) and non-smooth (L1, grouped or None) penalties of ``model``.

    The one place where ``C``, ``alpha``, ``l1_ratio`` and ``grouped`` become
    penalties (:func:`softmax.penalties.elastic_net`). On the scale of the
    summed loss the strength is ``1 / C``, or ``alpha * S`` when ``alpha`` is
    set (``S``, the total weight); per sample (a stream, whose objective is a
    mean) it is ``alpha``, or ``1 / (C * S)``.

    Parameters
    ----------
    model : SoftmaxRegression
    total_weight : float or None
        ``S``; None when unknown (a stream).
    per_sample : bool, default=False
    factor : ndarray of shape (n_features,), optional
        The checked ``penalty_factor`` (:func:`softmax.model.glmnet.penalty_factor`).

    Raises
    ------
    ValueError
        Per sample without ``alpha`` and without a total weight.
    """
    if not per_sample:
        strength = 1.0 / model.C if model.alpha is None else model.alpha * total_weight
    elif model.alpha is not None:
        strength = float(model.alpha)
    elif total_weight is None:
        raise ValueError(
            "partial_fit needs alpha: a stream has no known size, so its penalty is per "
            "sample, mean CE + alpha/2 * ||coef||^2. Set alpha (alpha = 1 / (C * n) matches "
            "C on n samples; alpha=0 means no penalty)."
        )
    else:
        strength = 0.0 if math.isinf(model.C) else 1.0 / (model.C * total_weight)
    return elastic_net(strength, model.l1_ratio, model.grouped, factor)


def check_classes(classes: NDArray, weight_per_class: NDArray) -> None:
    """Raise ValueError unless at least two classes have positive weight."""
    if np.count_nonzero(weight_per_class) < 2:
        present = classes[np.asarray(weight_per_class) > 0]
        raise ValueError(
            "SoftmaxRegression needs samples of at least 2 classes with positive weight, "
            f"but the data has only one class: {present.tolist()} "
            f"(labels seen: {classes.tolist()})"
        )


def label_codes(classes: NDArray, y: NDArray) -> NDArray:
    """Class codes of labels ``y`` in ``classes``; a clear error for unseen labels."""
    codes = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    unseen = classes[codes] != y
    if np.any(unseen):
        labels = sorted(set(np.asarray(y)[unseen].tolist()), key=str)
        raise ValueError(
            f"y contains label(s) {labels[:10]} that are not in classes_ "
            f"{classes.tolist()}: pass every label with classes= in the first call to "
            "partial_fit."
        )
    return codes


def initial_point(model, linear_loss, classes: NDArray, *, warm: bool) -> NDArray:
    """Where the solver starts: the model's own solution when ``warm``, else zeros.

    The previous ``coef_`` and ``intercept_`` are used only when they are for
    the same classes and features (and brought to the host after a fit on a device).
    """
    if (
        warm
        and hasattr(model, "coef_")
        and tuple(model.coef_.shape) == (linear_loss.n_classes, linear_loss.n_features)
        and np.array_equal(model.classes_, classes)
    ):
        coef = to_numpy(model.coef_).astype(np.float64)
        intercept = to_numpy(model.intercept_).astype(np.float64)
        return linear_loss.pack(*linear_loss.from_original_coef(coef, intercept))
    return np.zeros(linear_loss.n_params)


@dataclass
class Problem:
    """What one full-batch fit minimises, built once by the estimator.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
    linear_loss : LinearModelLoss or StandardizedLinearLoss
        The coefficient layout, in standardised coordinates with ``standardize=True``.
    smooth : L2
        Strength on the summed scale.
    nonsmooth : L1, GroupL1 or None
    w0 : ndarray of shape (n_params,)
        The starting point (warm start).
    bounds : tuple (lower, upper) of ndarrays of shape (n_params,) or None
        Box constraints in the solver's coordinates (:mod:`softmax.model.glmnet`).
    """

    classes: NDArray
    linear_loss: LinearModelLoss | StandardizedLinearLoss
    smooth: object
    nonsmooth: object
    w0: NDArray
    bounds: tuple[NDArray, NDArray] | None = None

    @classmethod
    def build(
        cls, model, classes: NDArray, n_features: int, total_weight: float,
        mean_scale: tuple[NDArray, NDArray] | None = None,
    ) -> Problem:  # fmt: skip
        """The problem of ``model`` on data with these classes, features and total weight.

        ``mean_scale`` (the features' means and scales) turns on standardisation.
        """
        linear_loss = LinearModelLoss(len(classes), n_features, model.fit_intercept)
        if mean_scale is not None:
            linear_loss = StandardizedLinearLoss(linear_loss, *mean_scale)
        factor = glmnet.penalty_factor(model, n_features)
        smooth, nonsmooth = penalties(model, total_weight, factor=factor)
        w0 = initial_point(model, linear_loss, classes, warm=model.warm_start)
        bounds = glmnet.coefficient_bounds(model, linear_loss)
        return cls(classes, linear_loss, smooth, nonsmooth, w0, bounds)

    def coefficients(self, w: NDArray, dtype) -> tuple[NDArray, NDArray]:
        """``coef_`` and ``intercept_`` of the flat solution ``w``, in the original units.

        Adding one vector to every row changes no probability: report the
        representative with rows (and intercepts) summing to zero. Not with an
        L1 part: its optimum's rows need not sum to zero, and shifting them
        would destroy the exact zeros; with bounds, only the columns without any.
        """
        centre = centring(self.linear_loss, self.bounds, l1=self.nonsmooth is not None)
        return report(self.linear_loss, w, dtype, centre=centre)


def centring(linear_loss, bounds: tuple[NDArray, NDArray] | None, *, l1: bool) -> bool | NDArray:
    """Which columns of ``coef`` :func:`report` centres: all, none, or a mask (n_features,).

    None with an L1 part (see :meth:`Problem.coefficients`). With bounds, the
    columns with no bound: shifting a bounded one could leave its box, while
    an unbounded, unpenalised column (``penalty_factor`` 0) is otherwise free
    to drift along the shift, which changes nothing.
    """
    if l1:
        return False
    if bounds is None:
        return True
    lower, upper = (linear_loss.coef_view(bound) for bound in bounds)
    return np.all(np.isinf(lower) & np.isinf(upper), axis=0)


def report(
    linear_loss, w: NDArray, dtype, *, centre: bool | NDArray
) -> tuple[NDArray, NDArray]:
    """``coef_`` and ``intercept_`` from ``w`` (see :meth:`Problem.coefficients`).

    ``centre``: whether to centre the columns of ``coef`` over the classes, or
    a mask of the columns to centre (:func:`centring`).
    """
    coef, intercept = linear_loss.to_original_coef(*linear_loss.unpack(w))
    if np.any(centre):
        coef = coef - np.where(centre, coef.mean(axis=0), 0.0)
    return coef.astype(dtype), (intercept - intercept.mean()).astype(dtype)
