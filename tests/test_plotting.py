"""Tests for softmax.plotting and the ``--plot DIR`` options of the command line.

Figures are checked through their artists (bar heights, line data, image
pixels) without rendering; the command-line tests at the end write every
kind of figure as a PNG file, which checks that drawing succeeds end to end.
"""

import ast
import inspect
import sys
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from softmax import SoftmaxRegression, softmax
from softmax import plotting as P
from softmax.cli import app
from softmax.datasets import load_dataset
from softmax.explain import compare

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path) -> bool:
    return path.read_bytes()[:8] == PNG


@pytest.fixture(scope="module")
def iris2():
    """An iris model on the two petal measurements, with its data."""
    data = load_dataset("iris")
    X = data.X[["petal length (cm)", "petal width (cm)"]]
    return SoftmaxRegression().fit(X, data.y), X, data.y.to_numpy()


@pytest.fixture(scope="module")
def digits_model():
    X, y = load_digits(return_X_y=True)
    gradients = []
    model = SoftmaxRegression(tol=1e-3, callback=lambda info: gradients.append(info.gradient_max))
    return model.fit(X, y), gradients, X, y


def test_matplotlib_is_imported_lazily_and_without_pyplot(tmp_path):
    # No module-level matplotlib import: `import softmax.plotting` stays cheap.
    tree = ast.parse(inspect.getsource(P))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
    assert not any(name.startswith("matplotlib") for name in names)
    P.plot_explain([1, 2], path=tmp_path / "x.png")
    assert is_png(tmp_path / "x.png")
    assert "matplotlib.pyplot" not in sys.modules  # no global figure manager touched


# -- softmax itself ---------------------------------------------------------------------


def test_explain_bars_are_the_article_numbers():
    fig = P.plot_explain([3, 7, 14])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    c = compare([3, 7, 14])
    assert len(ax.containers) == 3
    for bars, expected in zip(ax.containers, (c.hardmax, c.normalized, c.softmax)):
        np.testing.assert_allclose([b.get_height() for b in bars], expected)
    labels = {t.get_text() for t in ax.texts}
    assert {"0.13", "0.29", "0.58", "1.7e-05", "9.1e-04", "0.999"} <= labels
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "hard-max", "sum-normalisation", "softmax (beta=1)",
    ]


def test_explain_bars_without_sum_normalisation():
    ax = P.plot_explain([-1, 0, 1], beta=2).axes[0]
    assert len(ax.containers) == 2  # the scores sum to 0: sum-normalisation is undefined
    assert ax.get_legend().get_texts()[1].get_text() == "softmax (beta=2)"
    assert any("undefined" in t.get_text() for t in ax.texts)
    # softmax keeps its colour (the third) when sum-normalisation is left out
    three = P.plot_explain([1, 2]).axes[0]
    assert ax.containers[1][0].get_facecolor() == three.containers[2][0].get_facecolor()


def test_beta_sweep():
    fig = P.plot_beta_sweep([3, 7, 14])
    ax = fig.axes[0]
    lines = ax.get_lines()[:3]
    betas = lines[0].get_xdata()
    p = np.column_stack([line.get_ydata() for line in lines])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p, softmax(betas[:, None] * [3, 7, 14], axis=1))
    assert betas[0] <= 0.01 / 11 and betas[-1] >= 10 and ax.get_xscale() == "log"
    np.testing.assert_allclose(p[0], 1 / 3, atol=0.01)  # nearly uniform
    np.testing.assert_allclose(p[-1], [0, 0, 1], atol=1e-6)  # nearly hard-max
    custom = P.plot_beta_sweep([0, 1], betas=[2, 0.5, 1]).axes[0].get_lines()[0]
    assert custom.get_xdata().tolist() == [0.5, 1, 2]
    for bad in ([], [0, 1], [np.inf]):
        with pytest.raises(ValueError, match="positive finite"):
            P.plot_beta_sweep([1, 2], betas=bad)


# -- training ---------------------------------------------------------------------------


def test_training_curves(digits_model):
    model, gradients, _, _ = digits_model
    fig = P.plot_training(model, gradients)
    objective, gradient = fig.axes
    np.testing.assert_array_equal(objective.get_lines()[0].get_ydata(), model.objective_history_)
    assert len(gradients) == model.n_iter_ + 1  # the start, then each iteration
    np.testing.assert_array_equal(gradient.get_lines()[0].get_xdata(), range(model.n_iter_[0] + 1))
    np.testing.assert_array_equal(gradient.get_lines()[0].get_ydata(), gradients)
    without_start = P.plot_training(model, gradients[1:]).axes[1].get_lines()[0]
    assert without_start.get_xdata()[0] == 1
    tol_line = gradient.get_lines()[1]
    assert tol_line.get_ydata()[0] == model.tol and gradient.get_yscale() == "log"
    assert len(P.plot_training(model.objective_history_).axes) == 1
    with pytest.raises(ValueError, match="empty"):
        P.plot_training([])


def test_confusion_matrix():
    y_true = ["a", "a", "b", "b", "b", "c"]
    y_pred = ["a", "b", "b", "b", "c", "c"]
    fig = P.plot_confusion_matrix(y_true, y_pred)
    ax = fig.axes[0]
    shares = ax.images[0].get_array()
    np.testing.assert_allclose(shares[1], [0, 2 / 3, 1 / 3])
    assert [t.get_text() for t in ax.texts[:3]] == ["1", "1", "0"]
    assert "accuracy 0.667" in ax.get_title()
    # A class never predicted nor present still gets its row and column.
    wider = P.plot_confusion_matrix([0, 1], [0, 1], labels=[0, 1, 2])
    assert wider.axes[0].images[0].get_array().shape == (3, 3)


# -- calibration ----------------------------------------------------------------------


def test_expected_calibration_error():
    y = np.array([0, 0, 0, 1])
    # Every sample 75% sure of class 0, right 3 times out of 4: perfectly calibrated.
    p = np.tile([0.75, 0.25], (4, 1))
    assert P.expected_calibration_error(y, p) == pytest.approx(0.0)
    assert P.expected_calibration_error(y, np.eye(2)[y]) == 0.0
    assert P.expected_calibration_error(y, np.eye(2)[1 - y]) == 1.0
    # Certain (1.0) but right half the time: off by 0.5.
    assert P.expected_calibration_error([0, 1], [[1.0, 0.0], [1.0, 0.0]]) == 0.5
    with pytest.raises(ValueError, match="pass classes="):
        P.expected_calibration_error([0, 0], [[0.5, 0.5], [0.5, 0.5]])
    assert P.expected_calibration_error([0, 0], [[0.5, 0.5]] * 2, classes=[0, 1]) == 0.5
    with pytest.raises(ValueError, match="shape"):
        P.expected_calibration_error([0, 1, 1], [[0.5, 0.5]] * 2)


def test_reliability_diagram(digits_model):
    model, _, X, y = digits_model
    before = model.predict_proba(X)
    after = softmax(model.decision_function(X), axis=1, beta=0.5)
    both = {"raw": before, "beta 0.5": after}
    fig = P.plot_reliability(y, both, classes=model.classes_, n_bins=5)
    top, bottom = fig.axes
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert legend[0] == "perfectly calibrated"
    ece = P.expected_calibration_error(y, before, n_bins=5)
    assert legend[1] == f"raw (ECE {ece:.3f})" and legend[2].startswith("beta 0.5 (ECE ")
    counts = bottom.patches[0].get_data()[0]  # the histogram of the first series
    assert counts.sum() == len(y) and len(counts) == 5
    single = P.plot_reliability(y, before).axes[0].get_legend().get_texts()
    assert single[1].get_text().startswith("model (ECE")


# -- the model ------------------------------------------------------------------------


def test_decision_regions(iris2):
    model, X, y = iris2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. scikit-learn's feature-name warning
        fig = P.plot_decision_regions(model, X, y, resolution=60)
    ax = fig.axes[0]
    rgb = ax.images[0].get_array()
    assert rgb.shape == (60, 60, 3) and rgb.min() >= 0 and rgb.max() <= 1
    # Bottom left (short, narrow petals) is setosa: its pixel is white blended with
    # setosa's colour (tab10's first), strongly as the model is sure there.
    import matplotlib

    setosa = np.asarray(matplotlib.colormaps["tab10"].colors[0])
    blend = (1 - rgb[0, 0]) / (1 - setosa)
    assert np.ptp(blend) < 1e-9 and 0.5 < blend[0] <= 0.65
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("petal length (cm)", "petal width (cm)")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(model.classes_)
    assert len(ax.collections) >= 3 + 2  # three scatters and at least two boundaries


def test_decision_regions_need_two_features(iris2):
    _, X, y = iris2
    unnamed = SoftmaxRegression().fit(X.to_numpy(), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = P.plot_decision_regions(unnamed, X.to_numpy(), resolution=20).axes[0]
    assert ax.get_xlabel() == "feature 0"
    wide = SoftmaxRegression().fit(np.column_stack([X, X]), y)
    with pytest.raises(ValueError, match="2 features; this one has 4"):
        P.plot_decision_regions(wide, X)


@pytest.mark.parametrize(
    ("n", "names", "shape"),
    [
        (64, [f"pixel_{r}_{c}" for r in range(8) for c in range(8)], (8, 8)),
        (12, [f"pixel_{r}_{c}" for r in range(3) for c in range(4)], (3, 4)),
        (784, [f"pixel{j}" for j in range(784)], (28, 28)),
        (784, [f"px{j}" for j in range(1, 785)], (28, 28)),
        (64, None, (8, 8)),
        (16, None, None),  # too small to be taken for an image unnamed
        (4, ["sepal length", "sepal width", "petal length", "petal width"], None),
        (2, ["pixel_0_1", "pixel_0_0"], None),  # not row-major
        (784, [f"pixel{j}" for j in range(2, 786)], None),
        (63, None, None),
    ],
)
def test_image_shape(n, names, shape):
    assert P.image_shape(n, names) == shape


def test_weight_images(digits_model):
    model, _, _, _ = digits_model
    fig = P.plot_weights(model)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 10
    np.testing.assert_array_equal(images[3].get_array(), model.coef_[3].reshape(8, 8))
    assert images[0].get_clim() == (-np.abs(model.coef_).max(), np.abs(model.coef_).max())
    assert [ax.get_title() for ax in fig.axes if ax.images][:2] == ["0", "1"]
    assert len(P.plot_weights(model, shape=(4, 16), columns=2).axes) == 10 + 1  # + colour bar
    with pytest.raises(ValueError, match="have 60 pixels, not 64"):
        P.plot_weights(model, shape=(6, 10))
    iris = SoftmaxRegression().fit(load_dataset("iris").X, load_dataset("iris").y)
    with pytest.raises(ValueError, match="do not look like image pixels"):
        P.plot_weights(iris)


# -- the command line -------------------------------------------------------------------


def run_cli(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_explain_plot(tmp_path):
    out = tmp_path / "new" / "pictures"
    code, stdout, stderr = run_cli("explain", "3", "7", "14", "--plot", out)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["beta_sweep.png", "explain.png"]
    assert is_png(out / "explain.png") and is_png(out / "beta_sweep.png")
    assert "1.7e-05" in stdout and stderr.count("wrote ") == 2  # messages on stderr


def test_cli_fit_plot_two_features(tmp_path, iris2):
    _, X, y = iris2
    table = tmp_path / "petals.csv"
    X.assign(species=y).to_csv(table, index=False)
    out = tmp_path / "pictures"
    code, stdout, stderr = run_cli("fit", table, "--plot", out)
    assert code == 0, stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "confusion_matrix.png", "decision_regions.png", "reliability.png", "training.png",
    ]
    assert all(is_png(out / name) for name in written)


def test_cli_plot_folder_errors(tmp_path):
    a_file = tmp_path / "file.png"
    a_file.write_bytes(b"")
    for command in (["explain", "1", "2"], ["fit"]):
        code, _, stderr = run_cli(*command, "--plot", a_file)
        assert code == 2 and "is a file; give a folder" in stderr
