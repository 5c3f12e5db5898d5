"""Pictures for the ``softmax`` command line: ``fit --plot DIR`` and ``explain --plot DIR``.

Each helper draws with :mod:`softmax.plotting`, writes PNG files into one
folder and returns their paths, so that the commands only parse and print.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .._errors import SoftmaxInputError

if TYPE_CHECKING:  # annotations only: `softmax explain` need not import either
    import pandas as pd

    from ..estimator import SoftmaxRegression

__all__ = ["explain_plots", "fit_plots", "plot_folder"]


def plot_folder(path: str) -> pathlib.Path:
    """Create the folder for the pictures before any work, so a bad path fails fast."""
    folder = pathlib.Path(path)
    if folder.exists() and not folder.is_dir():
        raise SoftmaxInputError(f"--plot {path} is a file; give a folder for the pictures.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot create the folder {path}: {exc.strerror or exc}.") from exc
    return folder


def fit_plots(
    folder: pathlib.Path,
    model: SoftmaxRegression,
    gradients: Sequence[float] | None,
    X_eval: pd.DataFrame,
    y_eval: ArrayLike,
    X_all: pd.DataFrame,
    y_all: ArrayLike,
) -> list[pathlib.Path]:
    """The training pictures of ``softmax fit --plot``.

    Always ``training.png`` (objective and max|gradient| per iteration),
    ``confusion_matrix.png`` and ``reliability.png`` (on the evaluation
    rows); ``weights.png`` when the features are image pixels and
    ``decision_regions.png`` (over all rows) when there are two features.
    """
    from .. import plotting

    written = []

    def save(name: str) -> pathlib.Path:
        written.append(folder / name)
        return written[-1]

    plotting.plot_training(model, gradients, path=save("training.png"))
    plotting.plot_confusion_matrix(
        y_eval, model.predict(X_eval), labels=model.classes_, path=save("confusion_matrix.png")
    )
    plotting.plot_reliability(
        y_eval, model.predict_proba(X_eval), classes=model.classes_, path=save("reliability.png")
    )
    if plotting.image_shape(model.n_features_in_, list(X_all.columns)) is not None:
        plotting.plot_weights(model, path=save("weights.png"))
    if model.n_features_in_ == 2 and model.feature_encoding_ is None:  # two numeric axes
        plotting.plot_decision_regions(model, X_all, np.asarray(y_all),
                                       path=save("decision_regions.png"))
    return written


def explain_plots(folder: pathlib.Path, scores: Sequence[float], beta: float) -> list[pathlib.Path]:
    """``explain.png`` (the three methods as bars) and ``beta_sweep.png``."""
    from .. import plotting

    bars, sweep = folder / "explain.png", folder / "beta_sweep.png"
    plotting.plot_explain(scores, beta, path=bars)
    plotting.plot_beta_sweep(scores, path=sweep)
    return [bars, sweep]
