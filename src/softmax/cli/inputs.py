"""What the commands on a saved model read: the model file, its key, and data in its features."""

from __future__ import annotations

import pathlib

import pandas as pd
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from ..datasets import load_dataset, names_for_message, read_features
from ..estimator import SoftmaxRegression
from ..io.model_file import load, read_metadata
from ..io.tables import Table, open_table

__all__ = ["feature_names", "load_model", "prediction_data", "read_key", "require_labels"]


def read_key(path: str | None) -> bytes | None:
    """The secret key in the file `path` (one trailing newline dropped), or None without one.

    Raises
    ------
    SoftmaxInputError
        If the file cannot be read.
    """
    if path is None:
        return None
    try:
        key = pathlib.Path(path).read_bytes()
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot read the key file {path}: {exc.strerror or exc}.") from exc
    # Editors and `echo secret > key` end the file with a newline that is not part of the key.
    return key[:-2] if key.endswith(b"\r\n") else key.removesuffix(b"\n")


def load_model(path: str, key: bytes | None = None) -> tuple[SoftmaxRegression, str | None]:
    """The model in `path` and the target column it was trained with, if stored.

    `key` is the secret the file must be signed with (see :func:`softmax.load`).
    """
    extra = read_metadata(path, key=key)["extra"] or {}
    return load(path, key=key), extra.get("target")


def feature_names(model: SoftmaxRegression) -> list[str] | None:
    """The model's feature names as strings, or None when it was fitted without."""
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def prediction_data(
    model: SoftmaxRegression,
    data: str | Table | None,
    dataset: str | None,
    target: str | None,
    dropna: bool,
) -> tuple[pd.DataFrame | NDArray, pd.Series | None, str]:
    """Features for `model` (and labels, when present) from DATA or --dataset.

    DATA is a path or a table already open (so that standard input is read once).

    Returns
    -------
    X : pandas.DataFrame or ndarray of shape (n_samples, n_features)
        In the form the model was fitted on: a frame with its feature
        names, or an array when it has none.
    y : pandas.Series of shape (n_samples,) or None
        The labels, when the data has the `target` column.
    source : str
        The name of the data, for messages.
    """
    if (data is None) == (dataset is None):
        raise SoftmaxInputError("Give either a DATA file or --dataset (such as --dataset iris).")
    names = feature_names(model)
    if data is not None:
        table = open_table(data)
        X, y = read_features(table, names, target=target, dropna=dropna)
        source = table.shown
    else:
        bundled = load_dataset(dataset)
        X, y, source = bundled.X, bundled.y, bundled.name
        missing = [n for n in names or () if n not in X.columns]
        if missing:
            raise SoftmaxInputError(
                f"The bundled data set {source!r} lacks the model's feature column(s) "
                f"{names_for_message(missing)}; its columns are {names_for_message(X.columns)}."
            )
        X = X if names is None else X[names]
    if names is not None:
        return X, y, source
    if X.shape[1] != model.n_features_in_:
        raise SoftmaxInputError(
            f"{source} has {X.shape[1]} feature column(s), but the model was trained on "
            f"{model.n_features_in_} unnamed features."
        )
    # A frame would make scikit-learn warn that the model was fitted without names.
    return X.to_numpy(), y, source


def require_labels(y: pd.Series | None, source: str, target: str | None) -> pd.Series:
    """`y`, or the error that says how to name the label column when there is none."""
    if y is None:
        raise SoftmaxInputError(
            f"{source} has no label column {target!r}; name it with --target."
            if target is not None
            else "The model file does not name its target column; name it with --target."
        )
    return y
