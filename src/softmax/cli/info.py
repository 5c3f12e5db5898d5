"""``softmax info``: what a model file holds."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from rich.table import Table

from ..estimator import SoftmaxRegression
from ..io.model_file import load, read_metadata
from .app import command, console
from .inputs import feature_names, read_key
from .options import Format, KeyFileOpt, ModelArg, format_option
from .output import Output, model_document

__all__ = ["info"]

_COEF_MAX_FEATURES = 20  # wider models show the first and last few features
_COEF_HEAD, _COEF_TAIL = 10, 5
_COEF_COLUMN_WIDTH = 13  # "-1.234e-05" and the cell's padding and border
#: What ``--format json`` reports of the file itself, beside its path.
_FILE_FIELDS = ("format", "format_version", "library_version", "created")


@command()
def info(
    model_file: ModelArg,
    key_file: KeyFileOpt = None,
    output_format: Annotated[
        Format,
        format_option(
            csv_holds="the coefficient table (class,intercept,<one column per feature>)",
            json_holds="file, model (settings, solver_, n_iter_, converged_), training "
            "and coefficients",
        ),
    ] = Format.text,
) -> None:
    """Show what a model file holds: versions, classes, features, settings, coefficients.

    \b
    Examples:
      softmax info iris.softmax
      softmax info iris.softmax --format json | jq .model.params
      softmax info iris.softmax --format csv > coefficients.csv
    """
    key = read_key(key_file)
    metadata = read_metadata(model_file, key=key)
    model = load(model_file, key=key)
    names = feature_names(model)
    # The columns of coef_: encoded columns (island[Dream]) and formula terms by their names.
    columns = [str(n) for n in model.feature_names_out_]
    extra = metadata["extra"] or {}
    out = Output(output_format)
    if output_format is Format.csv:
        out.csv(["class", "intercept", *columns], _coefficient_rows(model))
        return
    if output_format is Format.json:
        out.json({
            "file": {"path": model_file, **{k: metadata[k] for k in _FILE_FIELDS}},
            "model": model_document(model, extra.get("solver_")),
            "training": extra,
            "coefficients": [
                {"class": row[0], "intercept": row[1], "coef": dict(zip(columns, row[2:]))}
                for row in _coefficient_rows(model)
            ],
        })  # fmt: skip
        return

    about = Table(title=f"Model file {model_file}", show_header=False)
    about.add_row("format", f"{metadata['format']} version {metadata['format_version']}")
    about.add_row("written by", f"softmax {metadata['library_version']}")
    about.add_row("created", metadata["created"])
    about.add_row("estimator", metadata["estimator"])
    about.add_row("classes", ", ".join(map(str, model.classes_)))
    about.add_row("n_features", str(model.n_features_in_))
    about.add_row("feature names", "(none)" if names is None else ", ".join(names))
    params = {k: v for k, v in metadata["params"].items() if k != "callback"}
    about.add_row("hyper-parameters", "\n".join(f"{k}={v!r}" for k, v in params.items()))
    if "solver_" in extra:
        about.add_row("solver_", str(extra["solver_"]))
    about.add_row("n_iter_", str(int(model.n_iter_[0])))
    about.add_row("converged_", str(model.converged_))
    if hasattr(model, "beta_"):
        about.add_row("beta_ (calibrate)", f"{model.beta_:.6g}")
    tables = [about]
    if extra:
        summary = Table("field", "value", title="Training summary")
        for key, value in _flatten(extra):
            summary.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
        tables.append(summary)
    # Blocks of columns as wide as a terminal; in a pipe, one table (nothing wraps there).
    width = console.width if sys.stdout.isatty() else None
    out.text(*tables, *_coefficient_tables(model, columns, width))


def _coefficient_rows(model: SoftmaxRegression) -> list[list[Any]]:
    """[class, intercept, coefficient of each feature] for each class, at full precision."""
    return [
        [label, float(b), *map(float, w)]
        for label, b, w in zip(model.classes_, model.intercept_, model.coef_)
    ]


def _flatten(mapping: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested dicts as (dotted key, value) pairs, e.g. ``metrics.accuracy``."""
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _coefficient_tables(
    model: SoftmaxRegression, names: Sequence[str], width: int | None
) -> Iterator[Table]:
    """Classes x (intercept, features), in blocks of columns that fit `width` (None: one block).

    Models with more than ``_COEF_MAX_FEATURES`` features show the first and
    last few, around a "…" column.
    """
    d = len(names)
    shown: list[int | None] = list(range(d))
    caption = None
    if d > _COEF_MAX_FEATURES:
        shown = [*range(_COEF_HEAD), None, *range(d - _COEF_TAIL, d)]  # None: the "…" column
        caption = f"{_COEF_HEAD + _COEF_TAIL} of {d} features shown"
    columns = [("intercept", [f"{b:.4g}" for b in model.intercept_])] + [
        ("…", ["…"] * len(model.classes_))
        if j is None
        else (names[j], [f"{w:.4g}" for w in model.coef_[:, j]])
        for j in shown
    ]
    # Like pandas, print a wide table as blocks of columns rather than squeezing
    # every column to a few unreadable characters.
    labels = [str(c) for c in model.classes_]
    per_block = len(columns)
    if width is not None:
        room = width - max(map(len, ["class", *labels])) - 4
        per_block = max(1, room // _COEF_COLUMN_WIDTH)
    for start in range(0, len(columns), per_block):
        block = columns[start : start + per_block]
        last = start + per_block >= len(columns)
        table = Table(
            "class",
            *(name for name, _ in block),
            title="Coefficients" if start == 0 else "Coefficients (continued)",
            caption=caption if last else None,
        )
        for i, label in enumerate(labels):
            table.add_row(label, *(cells[i] for _, cells in block))
        yield table
