"""The ``softmax`` command-line tool: a thin layer over the library.

Commands read data with :mod:`softmax.datasets`, fit and load models with
:class:`~softmax.SoftmaxRegression` and :mod:`softmax.io.model_file`, and only
format what those return. Bad input (a missing file, a damaged model, an
unknown label) ends in one line ``error: <message>`` on stderr and exit
status 2, never a traceback; usage errors also exit with 2, success with 0.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pathlib
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from typing import Annotated, Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd
import typer
from numpy.typing import NDArray
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .plots import PlotDirOpt, explain_plots, fit_plots, plot_folder
from .._errors import SoftmaxInputError
from ..datasets import BUNDLED, Dataset, load_dataset, names_for_message, read_features, read_table
from ..datasets import read_idx
from ..estimator import SoftmaxRegression
from ..explain import compare, explanation, format_probability
from ..io.model_file import load, read_metadata
from ..solvers import SOLVERS, IterationInfo

__all__ = ["app"]

app = typer.Typer(
    name="softmax",
    help="Softmax regression (multinomial logistic regression) on CSV/Parquet files "
    "and bundled data sets.",
    no_args_is_help=True,
    add_completion=False,
    # Tracebacks are for bugs; bad input is one line (see _reporting_user_errors).
    pretty_exceptions_enable=False,
)

# Markup off: file, column and class names are printed as given, brackets and all.
_stdout = Console(markup=False, emoji=False)
_stderr = Console(stderr=True, markup=False, emoji=False)

# What bad input raises: SoftmaxInputError and scikit-learn's parameter errors
# are ValueErrors, unwritable outputs OSErrors, diverging fits FloatingPointError.
_USER_ERRORS = (ValueError, OSError, FloatingPointError)
_COEF_MAX_FEATURES = 20  # wider models show the first and last few features
_COEF_HEAD, _COEF_TAIL = 10, 5
_COEF_COLUMN_WIDTH = 13  # "-1.234e-05" and the cell's padding and border

SolverName = StrEnum("SolverName", {name: name for name in SOLVERS})

_P = ParamSpec("_P")
_R = TypeVar("_R")


# -- error and warning reporting ---------------------------------------------------


def _reporting_user_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `command`, turning bad input into ``error: ...`` and exit status 2.

    Warnings (a ``ConvergenceWarning`` above all) become one yellow line each
    on stderr instead of Python's two-line format with a source location.
    """

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with warnings.catch_warnings(record=True) as caught:
            try:
                return command(*args, **kwargs)
            except BrokenPipeError:
                # The reader (`| head`) left: not an error. Point stdout at devnull so
                # the interpreter's final flush does not fail again, and exit as a
                # process killed by SIGPIPE would (128 + 13).
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(141) from None
            except _USER_ERRORS as exc:
                _stderr_line("error:", "red", str(exc))
                raise typer.Exit(2) from None
            finally:
                for message in dict.fromkeys(str(w.message) for w in caught):
                    _stderr_line("warning:", "yellow", message)

    return run


def _stderr_line(label: str, colour: str, message: str) -> None:
    # typer.echo, not rich: rich would wrap a long message over several lines.
    styled = typer.style(label, fg=colour, bold=True)
    typer.echo(f"{styled} {' '.join(message.split())}", err=True)


def _command(**settings: Any) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Register a command on `app`, with user errors reported as one line."""

    def register(function: Callable[_P, _R]) -> Callable[_P, _R]:
        return app.command(**settings)(_reporting_user_errors(function))

    return register


# -- arguments and options shared by several commands --------------------------------

_DataArg = Annotated[
    str | None, typer.Argument(metavar="DATA", help="CSV or Parquet file.", show_default=False)
]
_DatasetOpt = Annotated[
    str | None,
    typer.Option(help=f"Bundled data set: {', '.join(BUNDLED)}.", show_default=False),
]
_DropnaOpt = Annotated[
    bool, typer.Option("--dropna", help="Drop rows with missing values instead of failing.")
]
_ModelArg = Annotated[
    str, typer.Argument(metavar="MODEL", help="Model file written by 'softmax fit -o'.")
]


# -- fit ------------------------------------------------------------------------------


@_command()
def fit(
    data: _DataArg = None,
    dataset: _DatasetOpt = None,
    target: Annotated[
        str | None,
        typer.Option(help="Label column of DATA (default: the last column).", show_default=False),
    ] = None,
    test_size: Annotated[
        float, typer.Option(help="Fraction held out for evaluation; 0 trains on everything.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed of the train/test split.")] = 0,
    C: Annotated[
        float, typer.Option("-C", help="Inverse regularisation strength (larger: weaker penalty).")
    ] = 1.0,
    solver: Annotated[SolverName, typer.Option(help="Optimisation method.")] = SolverName.lbfgs,
    max_iter: Annotated[int, typer.Option(min=1, help="Maximum solver iterations.")] = 1000,
    tol: Annotated[float, typer.Option(min=0.0, help="Stop when max|gradient| <= tol.")] = 1e-6,
    dropna: _DropnaOpt = False,
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="Save the model to this file.", show_default=False),
    ] = None,
    idx_images: Annotated[
        str | None,
        typer.Option(help="MNIST-format IDX images file (gzipped or not).", show_default=False),
    ] = None,
    idx_labels: Annotated[
        str | None, typer.Option(help="IDX labels file for --idx-images.", show_default=False)
    ] = None,
    plot: PlotDirOpt = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Rows per stochastic step of --solver sgd (default 256). With --solver sgd a "
            "DATA file is streamed in chunks: memory stays bounded whatever its size.",
            show_default=False,
        ),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated labels of a streamed DATA file (skips the pass that finds them).",
            show_default=False,
        ),
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="Penalty per sample: mean CE + alpha/2 ||W||^2 (overrides -C; "
            "alpha = 1/(C n) on n rows).",
            show_default=False,
        ),
    ] = None,
    epochs: Annotated[
        int, typer.Option(min=1, help="Passes over a streamed DATA file (--solver sgd).")
    ] = 5,
) -> None:
    """Train a softmax regression model and report held-out metrics.

    Without DATA, --dataset or --idx-images, trains on the bundled iris data.
    The rows are split into a stratified training and test part; the model is
    trained on the training part and evaluated on the test part. --plot DIR
    writes training curves, a confusion matrix and a reliability diagram, plus
    the weights as images (pixel features) or decision regions (2 features).

    \b
    Examples:
      softmax fit                                  # iris, 80/20 split
      softmax fit --dataset wine -C 10 -o wine.softmax
      softmax fit flowers.csv --target species -o flowers.softmax
      softmax fit data.parquet --test-size 0 --solver gd --max-iter 5000
      softmax fit --dataset digits --plot pictures/
      softmax fit big.parquet --target y --solver sgd --batch-size 1024   # streamed
      softmax fit --idx-images train-images-idx3-ubyte.gz \\
                  --idx-labels train-labels-idx1-ubyte.gz --tol 1e-4
    """
    if not 0.0 <= test_size < 1.0:
        raise SoftmaxInputError(f"--test-size must be at least 0 and below 1, not {test_size:g}.")
    if solver.value == "sgd" and data is not None and dataset is None and idx_images is None:
        from .streaming import cli_fit  # out of core: the file is read in chunks

        return cli_fit(
            _stdout, data, target=target, classes=classes, output=output, plot=plot,
            test_size=test_size, seed=seed, C=C, alpha=alpha, batch_size=batch_size or 256,
            epochs=epochs, tol=tol, dropna=dropna,
        )  # fmt: skip
    if classes is not None:
        raise SoftmaxInputError("--classes is for a DATA file streamed with --solver sgd.")
    folder = None if plot is None else plot_folder(plot)
    source = _training_data(data, dataset, target, dropna, idx_images, idx_labels)
    y = source.y.to_numpy()
    X_train, X_test, y_train, y_test = _split(source.X, y, test_size, seed)
    model = SoftmaxRegression(C, solver=solver.value, max_iter=max_iter, tol=tol, alpha=alpha)
    if batch_size is not None:
        model.set_params(batch_size=batch_size)
    gradients = _fit_with_progress(model, X_train, y_train)

    n_test = len(y_test) if test_size > 0 else 0
    where = (
        f"the held-out test part ({n_test} of {len(y)} rows)"
        if n_test
        else f"the training data ({len(y)} rows; --test-size 0 leaves no held-out part)"
    )
    metrics = _report_metrics(model, X_test, y_test, f"{source.name}: metrics on {where}")
    if folder is not None:
        for path in fit_plots(folder, model, gradients, X_test, y_test, source.X, y):
            _stdout.print(f"wrote {path}")
    if output is not None:
        extra = {
            "dataset": source.name,
            "target": source.target,
            "n_train": len(y_train),
            "n_test": n_test,
            "test_size": test_size,
            "seed": seed,
            "metrics": metrics,
        }
        _stdout.print(f"model saved to {model.save(output, extra=extra)}")


def _training_data(
    data: str | None, dataset: str | None, target: str | None, dropna: bool,
    idx_images: str | None = None, idx_labels: str | None = None,
) -> Dataset:
    idx = idx_images is not None or idx_labels is not None
    if (data is not None) + (dataset is not None) + idx > 1:
        raise SoftmaxInputError("Give one of a DATA file, --dataset or --idx-images, not several.")
    if idx:
        if idx_images is None or idx_labels is None:
            raise SoftmaxInputError("--idx-images and --idx-labels go together; give both.")
        if target is not None:
            raise SoftmaxInputError("--target is for DATA files; IDX labels have their own file.")
        return read_idx(idx_images, idx_labels)
    if data is not None:
        return read_table(data, target, dropna=dropna)
    bundled = load_dataset(dataset or "iris")
    if target is not None and target != bundled.target:
        raise SoftmaxInputError(
            f"The bundled data set {bundled.name!r} has the target column {bundled.target!r}, "
            f"not {target!r}; --target is for DATA files."
        )
    return bundled


def _split(
    X: pd.DataFrame, y: NDArray, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, NDArray, NDArray]:
    """Stratified split; with ``test_size == 0`` both parts are all the data."""
    if test_size == 0:
        return X, X, y, y
    from sklearn.model_selection import train_test_split  # deferred: only fit needs it

    labels, counts = np.unique(y, return_counts=True)
    single = labels[counts < 2].tolist()
    if single:
        raise SoftmaxInputError(
            f"Class(es) {single} have a single row, so a stratified split cannot put them in "
            "both the training and the test part; add rows or use --test-size 0."
        )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed
    )
    # Rounding can give a small class no training row when the test part is large.
    absent = sorted(set(labels.tolist()) - set(y_train.tolist()), key=str)
    if absent:
        raise SoftmaxInputError(
            f"--test-size {test_size:g} leaves class(es) {absent} without training rows; "
            "use a smaller --test-size."
        )
    return X_train, X_test, y_train, y_test


def _fit_with_progress(model: SoftmaxRegression, X: pd.DataFrame, y: NDArray) -> list[float]:
    """Fit `model`, showing iteration, objective and max|gradient| as it goes.

    Returns max|gradient| at the start and after each iteration, for the
    training curves.
    """
    gradients: list[float] = []
    progress = Progress(
        TextColumn("fitting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("objective {task.fields[objective]:.6g}"),
        TextColumn("max|grad| {task.fields[gradient]:.2e}"),
        TimeElapsedColumn(),
        console=_stdout,
    )
    with progress:
        task = progress.add_task(
            "fit", total=model.max_iter, objective=float("nan"), gradient=float("nan")
        )

        def report(info: IterationInfo) -> None:
            gradients.append(info.gradient_max)
            progress.update(
                task,
                completed=info.iteration,
                objective=info.objective,
                gradient=info.gradient_max,
            )

        model.set_params(callback=report)
        try:
            model.fit(X, y)
        finally:
            # A callback cannot be stored in a model file.
            model.set_params(callback=None)
    return gradients


# -- metrics ----------------------------------------------------------------------------


def _report_metrics(
    model: SoftmaxRegression, X: pd.DataFrame | NDArray, y: NDArray, title: str
) -> dict[str, float]:
    """Print accuracy, log-loss, per-class scores and the confusion matrix.

    Returns ``{"accuracy": ..., "log_loss": ...}`` for the model file.
    """
    from sklearn import metrics  # deferred: only fit and evaluate need it

    labels = model.classes_
    predicted = model.predict(X)
    scores = {
        "accuracy": float(metrics.accuracy_score(y, predicted)),
        "log_loss": float(metrics.log_loss(y, model.predict_proba(X), labels=labels)),
    }
    _stdout.print(title, style="bold")
    summary = Table(show_header=False)
    summary.add_row("accuracy", f"{scores['accuracy']:.4f}")
    summary.add_row("log-loss", f"{scores['log_loss']:.4f}")
    _stdout.print(summary)

    per_class = Table("class", "precision", "recall", "F1", "support", title="Per class")
    columns = metrics.precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    for label, *values, support in zip(labels, *columns):
        per_class.add_row(str(label), *(f"{v:.3f}" for v in values), str(support))
    _stdout.print(per_class)

    confusion = Table(
        "true \\ predicted",
        *map(str, labels),
        title="Confusion matrix (rows: true, columns: predicted)",
    )
    for label, row in zip(labels, metrics.confusion_matrix(y, predicted, labels=labels)):
        confusion.add_row(str(label), *map(str, row))
    _stdout.print(confusion)
    return scores


# -- predict and evaluate -----------------------------------------------------------------


def _load_model(path: str) -> tuple[SoftmaxRegression, str | None]:
    """The model in `path` and the target column it was trained with, if stored."""
    extra = read_metadata(path)["extra"] or {}
    return load(path), extra.get("target")


def _feature_names(model: SoftmaxRegression) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _prediction_data(
    model: SoftmaxRegression,
    data: str | None,
    dataset: str | None,
    target: str | None,
    dropna: bool,
) -> tuple[pd.DataFrame | NDArray, pd.Series | None, str]:
    """Features for `model` (and labels, when present) from DATA or --dataset.

    Returns the features in the form the model was fitted on (a frame with
    its feature names, or an array when it has none), the labels or ``None``,
    and the name of the source for messages.
    """
    if (data is None) == (dataset is None):
        raise SoftmaxInputError("Give either a DATA file or --dataset (such as --dataset iris).")
    names = _feature_names(model)
    if data is not None:
        X, y = read_features(data, names, target=target, dropna=dropna)
        source = data
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


@_command()
def predict(
    model_file: _ModelArg,
    data: _DataArg = None,
    dataset: _DatasetOpt = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o", "--output", help="Write the CSV here (default: stdout).", show_default=False
        ),
    ] = None,
    dropna: _DropnaOpt = False,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Read DATA in chunks (of at least this many rows), so memory stays bounded; "
            "files over 256 MB are always read in chunks.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Predict labels and class probabilities, as CSV.

    Reads the model's feature columns by name from DATA (other columns are
    ignored). The CSV has a column 'label' with the predicted class, then one
    column 'proba_<class>' per class.

    \b
    Examples:
      softmax predict iris.softmax --dataset iris
      softmax predict iris.softmax new_flowers.csv -o predictions.csv
      softmax predict iris.softmax new_flowers.parquet > predictions.csv
      softmax predict big.softmax big.parquet --batch-size 100000 -o predictions.csv
    """
    model, target = _load_model(model_file)
    if data is not None and dataset is None:
        from . import streaming  # deferred: only chunked prediction needs it

        if streaming.should_stream(data, batch_size):
            return streaming.cli_predict(
                model, data, target=target, dropna=dropna, output=output,
                batch_size=batch_size, stderr=_stderr,
            )  # fmt: skip
    X, _, source = _prediction_data(model, data, dataset, target, dropna)
    frame = pd.DataFrame(model.predict_proba(X), columns=[f"proba_{c}" for c in model.classes_])
    frame.insert(0, "label", model.predict(X))
    text = frame.to_csv(index=False)
    if output is None:
        sys.stdout.write(text)
        return
    _write_text_atomically(pathlib.Path(output), text)
    # stderr: stdout may be a pipe that expects CSV only.
    _stderr.print(f"wrote {len(frame)} predictions for {source} to {output}")


def _write_text_atomically(target: pathlib.Path, text: str) -> None:
    """Write `text` to `target` so that a failure leaves no half-written file."""
    # Temporary files are private (0600); give the output the usual 0644.
    mode = target.stat().st_mode & 0o777 if target.is_file() else 0o644
    try:
        # newline="": the CSV text already has its line endings.
        handle = tempfile.NamedTemporaryFile(
            "w",
            dir=target.parent,
            prefix=f".{target.name}.",
            suffix=".tmp",
            delete=False,
            newline="",
        )
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    try:
        with handle:
            handle.write(text)
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise


@_command()
def evaluate(
    model_file: _ModelArg,
    data: _DataArg = None,
    dataset: _DatasetOpt = None,
    target: Annotated[
        str | None,
        typer.Option(
            help="Label column of DATA (default: the target column stored in the model).",
            show_default=False,
        ),
    ] = None,
    dropna: _DropnaOpt = False,
) -> None:
    """Score a saved model on labelled data: accuracy, log-loss, per-class metrics.

    Uses every row given; the labels are read from the model's target column
    unless --target names another.

    \b
    Examples:
      softmax evaluate iris.softmax --dataset iris
      softmax evaluate flowers.softmax more_flowers.csv
      softmax evaluate flowers.softmax more_flowers.csv --target kind
    """
    model, stored_target = _load_model(model_file)
    target = target or stored_target
    X, y, source = _prediction_data(model, data, dataset, target, dropna)
    if y is None:
        raise SoftmaxInputError(
            f"{source} has no label column {target!r}; name it with --target."
            if target is not None
            else "The model file does not name its target column; name it with --target."
        )
    labels = y.to_numpy()
    known = set(model.classes_.tolist())
    unknown = sorted({label for label in labels.tolist() if label not in known}, key=str)
    if unknown:
        raise SoftmaxInputError(
            f"{source} has label(s) {unknown} that the model does not know; "
            f"its classes are {model.classes_.tolist()}."
        )
    _report_metrics(model, X, labels, f"{source}: metrics on all {len(labels)} rows")


# -- info -------------------------------------------------------------------------------


@_command()
def info(model_file: _ModelArg) -> None:
    """Show what a model file holds: versions, classes, features, settings, coefficients.

    \b
    Examples:
      softmax info iris.softmax
    """
    metadata = read_metadata(model_file)
    model = load(model_file)
    names = _feature_names(model)

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
    about.add_row("n_iter_", str(model.n_iter_))
    about.add_row("converged_", str(model.converged_))
    if hasattr(model, "beta_"):
        about.add_row("beta_ (calibrate)", f"{model.beta_:.6g}")
    _stdout.print(about)

    if metadata["extra"]:
        summary = Table("field", "value", title="Training summary")
        for key, value in _flatten(metadata["extra"]):
            summary.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
        _stdout.print(summary)

    unnamed = [f"x{j}" for j in range(model.n_features_in_)]
    for table in _coefficient_tables(model, names or unnamed):
        _stdout.print(table)


def _flatten(mapping: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested dicts as (dotted key, value) pairs, e.g. ``metrics.accuracy``."""
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _coefficient_tables(model: SoftmaxRegression, names: Sequence[str]) -> Iterator[Table]:
    """Classes x (intercept, features), in blocks of columns that fit the console.

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
    room = _stdout.width - max(map(len, ["class", *labels])) - 4
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


# -- explain ------------------------------------------------------------------------------


# Negative scores (-1) look like options to the parser; let them through as arguments.
@_command(context_settings={"ignore_unknown_options": True})
def explain(
    scores: Annotated[
        list[float],
        typer.Argument(metavar="SCORES", help="Two or more scores (logits).", show_default=False),
    ],
    beta: Annotated[
        float, typer.Option(help="Inverse temperature of softmax: exp(beta*z) / sum exp(beta*z).")
    ] = 1.0,
    plot: PlotDirOpt = None,
) -> None:
    """Compare hard-max, sum-normalisation and softmax on a few scores.

    --plot DIR draws the comparison as bars (explain.png) and softmax of the
    scores as beta varies (beta_sweep.png).

    \b
    Examples:
      softmax explain 3 7 14                # the article's example
      softmax explain 0.3 0.7 1.4           # the same scores, scaled down
      softmax explain 3 7 14 --beta 0.5     # a higher temperature
      softmax explain -1 0 2                # negative scores
      softmax explain 3 7 14 --plot pictures/
    """
    c = compare(scores, beta=beta)
    table = Table(
        "score",
        "hard-max",
        "sum-normalisation",
        f"softmax (beta={beta:g})",
        title="Scores to probabilities",
    )
    for i, score in enumerate(c.scores):
        table.add_row(
            f"{score:g}",
            format_probability(c.hardmax[i]),
            "undefined" if c.normalized is None else format_probability(c.normalized[i]),
            format_probability(c.softmax[i]),
        )
    _stdout.print(table)
    for line in explanation(c):
        _stdout.print(line)
    if plot is not None:
        for path in explain_plots(plot_folder(plot), scores, beta):
            _stdout.print(f"wrote {path}")


from . import bandit as _cli_bandit  # noqa: E402, F401  (registers `softmax bandit`)
from . import summary as _cli_summary  # noqa: E402, F401  (registers `softmax summary`)
