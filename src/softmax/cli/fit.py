"""``softmax fit``: train on a file, a bundled data set or IDX images; report held-out metrics."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from numpy.typing import NDArray
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .._errors import SoftmaxInputError
from ..datasets import Dataset, load_dataset, read_idx, read_table
from ..estimator import SoftmaxRegression
from ..io.atomic import check_writable
from ..solvers import SOLVERS, IterationInfo
from .app import command, console
from .metrics import report_metrics
from .inputs import read_key
from .options import DataArg, DatasetOpt, DropnaOpt, PlotDirOpt
from .plots import fit_plots, plot_folder

__all__ = ["fit"]

SolverName = StrEnum("SolverName", {name: name for name in SOLVERS})


@command()
def fit(
    data: DataArg = None,
    dataset: DatasetOpt = None,
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
    dropna: DropnaOpt = False,
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
    key_file: Annotated[
        str | None,
        typer.Option(
            "--key-file",
            metavar="PATH",
            help="Sign the saved model (HMAC-SHA256) with the secret key in this file; "
            "one trailing newline is ignored. Commands that read the model need it too.",
            show_default=False,
        ),
    ] = None,
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
      zcat flowers.csv.gz | softmax fit - --target species -o flowers.softmax
      softmax fit --dataset digits --plot pictures/
      softmax fit big.parquet --target y --solver sgd --batch-size 1024   # streamed
      softmax fit --idx-images train-images-idx3-ubyte.gz \\
                  --idx-labels train-labels-idx1-ubyte.gz --tol 1e-4
    """
    if not 0.0 <= test_size < 1.0:
        raise SoftmaxInputError(f"--test-size must be at least 0 and below 1, not {test_size:g}.")
    if output is not None:
        check_writable(output)  # before training, which may take long
    if key_file is not None and output is None:
        raise SoftmaxInputError("--key-file signs the saved model; give -o too.")
    key = read_key(key_file)
    if solver.value == "sgd" and data is not None and dataset is None and idx_images is None:
        from .streaming import cli_fit  # deferred: out of core, the file is read in chunks

        return cli_fit(
            data, target=target, classes=classes, output=output, plot=plot,
            test_size=test_size, seed=seed, C=C, alpha=alpha, batch_size=batch_size or 256,
            epochs=epochs, tol=tol, dropna=dropna, key=key,
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
    metrics = report_metrics(model, X_test, y_test, f"{source.name}: metrics on {where}")
    if folder is not None:
        for path in fit_plots(folder, model, gradients, X_test, y_test, source.X, y):
            console.print(f"wrote {path}")
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
        console.print(f"model saved to {model.save(output, extra=extra, key=key)}")


def _training_data(
    data: str | None, dataset: str | None, target: str | None, dropna: bool,
    idx_images: str | None = None, idx_labels: str | None = None,
) -> Dataset:  # fmt: skip
    """The one source of training rows that the options name (iris by default)."""
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
        console=console,
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
