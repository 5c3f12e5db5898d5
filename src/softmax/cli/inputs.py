"""What the commands read: the model file, its key, data in its features, and which
columns of a table are features (``--features``, ``--drop``, ``--formula``,
``--sample-weight``, ``--keep``), declared here with the logic behind them.

Columns of text (``island`` holding ``Torgersen``) are categorical features,
one-hot encoded by the estimator as in the library (:mod:`softmax.model.columns`);
how a column is told to be text is said in :mod:`softmax.io.tables`.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Annotated

import pandas as pd
import typer
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from ..datasets import Dataset, load_dataset, names_for_message, read_features, read_table
from ..estimator import SoftmaxRegression
from ..io.model_file import load, read_metadata
from ..io.tables import Table, feature_columns, open_table, read_frame
from ..model.design import text_columns
from ..model.formula import formula_columns, formula_has_intercept

__all__ = [
    "DropOpt",
    "FeaturesOpt",
    "FormulaOpt",
    "KeepOpt",
    "SampleWeightOpt",
    "StrictOpt",
    "TrainingColumns",
    "feature_names",
    "load_model",
    "prediction_data",
    "read_key",
    "require_labels",
    "split_names",
]

FeaturesOpt = Annotated[
    str | None,
    typer.Option(
        "--features",
        metavar="COL,...",
        help="Feature columns of DATA, comma-separated (default: every column but the target).",
        show_default=False,
    ),
]
DropOpt = Annotated[
    str | None,
    typer.Option(
        "--drop", metavar="COL,...", help="Columns of DATA that are not features (ids, notes).",
        show_default=False,
    ),
]  # fmt: skip
FormulaOpt = Annotated[
    str | None,
    typer.Option(
        "--formula",
        help="A formulaic formula, such as 'species ~ bill_length_mm + C(island)': the "
        "features are its terms, its left side the target (needs softmax[formula]).",
        show_default=False,
    ),
]
SampleWeightOpt = Annotated[
    str | None,
    typer.Option(
        "--sample-weight",
        metavar="COL",
        help="Column of DATA holding non-negative row weights (not a feature).",
        show_default=False,
    ),
]
KeepOpt = Annotated[
    str | None,
    typer.Option(
        "--keep",
        metavar="COL,...",
        help="Columns of DATA (ids) copied to the output, first, comma-separated.",
        show_default=False,
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Refuse categories not seen in training (default: score them with all-zero "
        "indicators for that column, with a warning).",
    ),
]


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


def split_names(value: str | None) -> list[str] | None:
    """``"id, name"`` -> ``["id", "name"]``; None stays None.

    Raises
    ------
    SoftmaxInputError
        If a name is empty (``"a,,b"``).
    """
    if value is None:
        return None
    names = [name.strip() for name in value.split(",")]
    if not all(names):
        raise SoftmaxInputError(f"{value!r} is not a comma-separated list of column names.")
    return names


@dataclasses.dataclass(frozen=True)
class TrainingColumns:
    """Which columns ``softmax fit`` trains on: ``--features``, ``--drop``, ``--formula``,
    ``--sample-weight``.

    Attributes
    ----------
    features : list of str or None
        The feature columns; None for every column but the target (and the others).
    drop : list of str
        Columns that are not features.
    formula : str or None
        A formula; then its terms are the features and its left side the target.
    sample_weight : str or None
        The column of row weights.
    """

    features: list[str] | None = None
    drop: list[str] = dataclasses.field(default_factory=list)
    formula: str | None = None
    sample_weight: str | None = None

    @classmethod
    def from_options(
        cls, features: str | None, drop: str | None, formula: str | None,
        sample_weight: str | None,
    ) -> TrainingColumns:  # fmt: skip
        """From the options as typed; a formula goes with none of --features and --drop."""
        if formula is not None and (features is not None or drop is not None):
            raise SoftmaxInputError(
                "--formula names the features itself; give it without --features and --drop."
            )
        return cls(split_names(features), split_names(drop) or [], formula, sample_weight)

    def refuse(self, where: str) -> None:
        """Fail when any of these options was given: they are not available `where`."""
        given = [option for option, value in (
            ("--features", self.features), ("--drop", self.drop), ("--formula", self.formula),
            ("--sample-weight", self.sample_weight)) if value]  # fmt: skip
        if given:
            verb = "is" if len(given) == 1 else "are"
            raise SoftmaxInputError(f"{', '.join(given)} {verb} not available {where}.")

    def read(self, data: str | Table, target: str | None, dropna: bool) -> Dataset:
        """The training rows of DATA: the chosen features, labels and weights.

        With a formula, the features are the columns its terms read, kept as
        read (formulaic decides what they are), and the target is the column
        its left side names.
        """
        table = open_table(data)
        if self.formula is None:
            return read_table(
                table, target, dropna=dropna, features=self.features, drop=self.drop,
                sample_weight=self.sample_weight,
            )  # fmt: skip
        # Read whole once to find the columns the formula reads, and again by read_table,
        # which checks them (a table of standard input is a temporary file: it can).
        variables, lhs = formula_columns(self.formula, read_frame(table))
        return read_table(
            table, self._target(lhs, target), dropna=dropna, features=variables,
            sample_weight=self.sample_weight, text=variables,
        )  # fmt: skip

    def select(self, bundled: Dataset) -> Dataset:
        """The chosen columns of a bundled data set."""
        if self.sample_weight is not None:
            raise SoftmaxInputError("--sample-weight names a column of DATA; the bundled data "
                                    "sets have no weights.")  # fmt: skip
        if self.formula is not None:
            variables, lhs = formula_columns(self.formula, bundled.X)
            target = self._target(lhs, bundled.target)
            if target != bundled.target:
                raise SoftmaxInputError(
                    f"The bundled data set {bundled.name!r} has the target column "
                    f"{bundled.target!r}, not {target!r}."
                )
        else:
            variables = feature_columns(
                list(bundled.X.columns), repr(bundled.name), bundled.target,
                features=self.features, drop=self.drop,
            )  # fmt: skip
        return dataclasses.replace(bundled, X=bundled.X[variables])

    def params(self) -> dict:
        """The estimator's parameters for these columns: the formula and its intercept."""
        if self.formula is None:
            return {}
        return {"formula": self.formula, "fit_intercept": formula_has_intercept(self.formula)}

    @staticmethod
    def weights_of(source: Dataset, X: pd.DataFrame) -> NDArray | None:
        """The weights of the rows of `X`, a part of ``source.X`` (None without weights)."""
        if source.sample_weight is None:
            return None
        return source.sample_weight.loc[X.index].to_numpy()

    def _target(self, lhs: str | None, target: str | None) -> str | None:
        if lhs is not None and target is not None and lhs != target:
            raise SoftmaxInputError(
                f"The formula's left side names the target {lhs!r}, but --target is {target!r}."
            )
        return lhs or target


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
        X, y = read_features(table, names, target=target, dropna=dropna, text=text_columns(model))
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
