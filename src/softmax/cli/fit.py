"""``softmax fit``: train on a file, a bundled data set or IDX images; report held-out metrics."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from numpy.typing import NDArray

from .._errors import SoftmaxInputError
from .._progress import ConvergenceProgress
from ..datasets import Dataset, load_dataset, read_idx
from ..estimator import SoftmaxRegression
from ..io.atomic import check_writable
from ..solvers import SOLVERS
from .app import command
from .crossval import CsOpt, CvOpt, Rule, RuleOpt, choose_c, cv_plots
from .metrics import Metrics, write_metrics
from .inputs import (
    DropOpt, FeaturesOpt, FormulaOpt, SampleWeightOpt, TrainingColumns, read_key,
)  # fmt: skip
from .options import DataArg, DatasetOpt, DropnaOpt, Format, PlotDirOpt, QuietOpt, format_option
from .output import Output, model_document
from .plots import fit_plots, plot_folder

__all__ = ["fit"]

# The estimator's choices: "auto" (its default, and the command's) and every solver.
SolverName = StrEnum("SolverName", {name: name for name in ("auto", *SOLVERS)})
ClassWeight = StrEnum("ClassWeight", {"balanced": "balanced"})


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
    solver: Annotated[
        SolverName,
        typer.Option(
            help="Optimisation method; auto picks the one measured fastest for the data "
            "(prox-newton for --l1-ratio > 0)."
        ),
    ] = SolverName.auto,
    max_iter: Annotated[int, typer.Option(min=1, help="Maximum solver iterations.")] = 1000,
    tol: Annotated[float, typer.Option(min=0.0, help="Stop when max|gradient| <= tol.")] = 1e-6,
    standardize: Annotated[
        bool,
        typer.Option(
            help="Fit on features centred and scaled to unit variance (coefficients are "
            "reported in the original units): features on different scales converge fast."
        ),
    ] = False,
    l1_ratio: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0,
            help="Elastic-net mixing: the penalty is ((1 - r)/2 ||W||^2 + r ||W||_1) / C; "
            "r > 0 gives sparse coefficients (solver auto or prox-newton).",
        ),
    ] = 0.0,
    grouped: Annotated[
        bool,
        typer.Option(
            help="With --l1-ratio: penalise each feature's norm across classes, so a feature "
            "is in or out for all classes at once (glmnet's grouped lasso)."
        ),
    ] = False,
    class_weight: Annotated[
        ClassWeight | None,
        typer.Option(
            help="balanced: weight each class by n_samples / (n_classes * its count).",
            show_default=False,
        ),
    ] = None,
    cv: CvOpt = None,
    cs: CsOpt = 20,
    rule: RuleOpt = Rule.min,
    output_format: Annotated[
        Format,
        format_option(
            csv_holds="the per-class table (class,precision,recall,f1,support)",
            json_holds="metrics, per_class, confusion_matrix, model (settings, solver_, "
            "n_iter_, converged_), rows and model_file",
        ),
    ] = Format.text,
    quiet: QuietOpt = False,
    dropna: DropnaOpt = False,
    features: FeaturesOpt = None,
    drop: DropOpt = None,
    formula: FormulaOpt = None,
    sample_weight: SampleWeightOpt = None,
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
    The report goes to stdout (--format); a progress bar (on a terminal) and
    messages go to stderr; -o saves the model before the report is printed.

    \b
    Examples:
      softmax fit                                  # iris, 80/20 split
      softmax fit --dataset wine -C 10 -o wine.softmax
      softmax fit flowers.csv --target species -o flowers.softmax
      softmax fit data.parquet --test-size 0 --solver gd --max-iter 5000 --standardize
      softmax fit --dataset wine --standardize --l1-ratio 0.5 --class-weight balanced
      softmax fit --dataset digits --standardize --cv 5 --rule 1se --plot pictures/
      softmax fit --dataset wine -q --format json -o wine.softmax | jq .metrics
      zcat flowers.csv.gz | softmax fit - --target species -o flowers.softmax
      softmax fit --dataset digits --plot pictures/
      softmax fit penguins.csv --target species --drop year,id --dropna
      softmax fit --dataset penguins --formula 'species ~ bill_length_mm + C(island)'
      softmax fit big.parquet --target y --solver sgd --batch-size 1024   # streamed
      softmax fit --idx-images train-images-idx3-ubyte.gz \\
                  --idx-labels train-labels-idx1-ubyte.gz --tol 1e-4
    """
    out = Output(output_format, quiet)
    if not 0.0 <= test_size < 1.0:
        raise SoftmaxInputError(f"--test-size must be at least 0 and below 1, not {test_size:g}.")
    if output is not None:
        check_writable(output)  # before training, which may take long
    if key_file is not None and output is None:
        raise SoftmaxInputError("--key-file signs the saved model; give -o too.")
    key = read_key(key_file)
    columns = TrainingColumns.from_options(features, drop, formula, sample_weight)
    settings = {"standardize": standardize, "l1_ratio": l1_ratio, "grouped": grouped,
                "class_weight": None if class_weight is None else class_weight.value}  # fmt: skip
    if solver.value == "sgd" and data is not None and dataset is None and idx_images is None:
        from .streaming import cli_fit  # deferred: out of core, the file is read in chunks

        given = [f"--{k.replace('_', '-')}" for k, v in settings.items() if v]
        if given:
            raise SoftmaxInputError(
                f"{', '.join(given)} need the data in memory; they are not available when "
                "streaming DATA with --solver sgd."
            )
        columns.refuse("when streaming DATA with --solver sgd")
        if cv is not None:
            raise SoftmaxInputError("--cv needs the data in memory; not with --solver sgd.")
        return cli_fit(
            data, out, target=target, classes=classes, output=output, plot=plot,
            test_size=test_size, seed=seed, C=C, alpha=alpha, batch_size=batch_size or 256,
            epochs=epochs, tol=tol, dropna=dropna, key=key,
        )  # fmt: skip
    if classes is not None:
        raise SoftmaxInputError("--classes is for a DATA file streamed with --solver sgd.")
    folder = None if plot is None else plot_folder(plot)
    source = _training_data(data, dataset, target, dropna, idx_images, idx_labels, columns)
    y = source.y.to_numpy()
    X_train, X_test, y_train, y_test = _split(source.X, y, test_size, seed)
    model = SoftmaxRegression(
        C, solver=solver.value, max_iter=max_iter, tol=tol, alpha=alpha, **settings,
        **columns.params(),
    )
    if batch_size is not None:
        model.set_params(batch_size=batch_size)
    weights = columns.weights_of(source, X_train)
    search, lines = None, []
    if cv is not None:
        if alpha is not None or columns.params():
            raise SoftmaxInputError("--cv chooses C itself; it takes neither --alpha nor a formula.")
        model, search, line = choose_c(
            model, X_train, y_train, weights, folds=cv, cs=cs, rule=rule.value, seed=seed
        )
        gradients, lines = None, [line]
    else:
        gradients = _fit_with_progress(model, X_train, y_train, out.progress, weights)

    n_test = len(y_test) if test_size > 0 else 0
    scores = Metrics.of(model, X_test, y_test)
    rows = {"dataset": source.name, "target": source.target, "n_train": len(y_train),
            "n_test": n_test, "test_size": test_size, "seed": seed}  # fmt: skip
    # Files first, the report last: a reader that leaves early (`| head -1`) ends the
    # command at the report, and the model must be on disk by then.
    if output is not None:
        extra = {**rows, "solver_": model.solver_, "metrics": scores.summary()}
        out.note(f"model saved to {model.save(output, extra=extra, key=key)}")
    if folder is not None:
        pictures = fit_plots(folder, model, gradients, X_test, y_test, source.X, y)
        for path in pictures + ([] if search is None else cv_plots(folder, search)):
            out.note(f"wrote {path}")
    where = (
        f"the held-out test part ({n_test} of {len(y)} rows)"
        if n_test
        else f"the training data ({len(y)} rows; --test-size 0 leaves no held-out part)"
    )
    state = "converged" if model.converged_ else "did not converge"
    write_metrics(
        out, scores, title=f"{source.name}: metrics on {where}",
        lines=[*lines, f"solver {model.solver_}: {int(model.n_iter_[0])} iteration(s), {state}"],
        context={**rows, "scored_on": "test" if n_test else "train", "model_file": output},
        model=model_document(model, model.solver_),
    )  # fmt: skip


def _training_data(
    data: str | None, dataset: str | None, target: str | None, dropna: bool,
    idx_images: str | None = None, idx_labels: str | None = None,
    columns: TrainingColumns = TrainingColumns(),
) -> Dataset:  # fmt: skip
    """The one source of training rows that the options name (iris by default), in `columns`."""
    idx = idx_images is not None or idx_labels is not None
    if (data is not None) + (dataset is not None) + idx > 1:
        raise SoftmaxInputError("Give one of a DATA file, --dataset or --idx-images, not several.")
    if idx:
        if idx_images is None or idx_labels is None:
            raise SoftmaxInputError("--idx-images and --idx-labels go together; give both.")
        if target is not None:
            raise SoftmaxInputError("--target is for DATA files; IDX labels have their own file.")
        columns.refuse("with IDX images")
        return read_idx(idx_images, idx_labels)
    if data is not None:
        return columns.read(data, target, dropna)
    bundled = load_dataset(dataset or "iris")
    if target is not None and target != bundled.target:
        raise SoftmaxInputError(
            f"The bundled data set {bundled.name!r} has the target column {bundled.target!r}, "
            f"not {target!r}; --target is for DATA files."
        )
    return columns.select(bundled)


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


def _fit_with_progress(
    model: SoftmaxRegression, X: pd.DataFrame, y: NDArray, show: bool,
    sample_weight: NDArray | None = None,
) -> list[float]:  # fmt: skip
    """Fit `model` (with `sample_weight`); with `show`, draw its way to ``tol`` on stderr
    (see ConvergenceProgress).

    Returns max|gradient| at the start and after each iteration, for the
    training curves.
    """
    with ConvergenceProgress(model.tol, enabled=show) as progress:
        model.set_params(callback=progress)
        try:
            model.fit(X, y, sample_weight=sample_weight)
        finally:
            # A callback cannot be stored in a model file.
            model.set_params(callback=None)
        progress.finish(model.converged_)
    return progress.gradients
