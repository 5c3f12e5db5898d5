"""ONNX export: the exported graph, run in onnxruntime, predicts as the model does.

Probabilities agree to 1e-5 in float32 (rounding of float32 arithmetic) and
labels exactly, on numbers (iris; standardised and calibrated digits),
string, boolean and float labels, tables of text, categorical, boolean and
numeric columns with unseen categories (penguins, a hand-made frame) and
formulas of plain and categorical terms; the ``softmax export`` command;
skl2onnx pipelines; and the errors for what has no export.
"""

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError

from softmax import SoftmaxInputError, SoftmaxRegression, UnknownCategoryWarning
from softmax.datasets import load_dataset

onnx = pytest.importorskip("onnx", reason="ONNX export needs the onnx extra")
ort = pytest.importorskip("onnxruntime", reason="running exported graphs needs onnxruntime")

from softmax.io.onnx_export import OnnxExportError, onnx_inputs, to_onnx  # noqa: E402

FLOAT32_TOL = 1e-5


def run_graph(graph, X) -> tuple[np.ndarray, np.ndarray]:
    """(label, probabilities) of an exported graph on the rows of `X`."""
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    return tuple(session.run(["label", "probabilities"], onnx_inputs(graph, X)))


def ours(model, X) -> tuple[np.ndarray, np.ndarray]:
    """(predict, predict_proba), unseen categories allowed (they warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownCategoryWarning)
        return model.predict(X), model.predict_proba(X)


def assert_same_predictions(model, X, tol=FLOAT32_TOL, **export):
    graph = model.to_onnx(**export)
    label, proba = run_graph(graph, X)
    expected_label, expected_proba = ours(model, X)
    np.testing.assert_allclose(proba, expected_proba, rtol=0, atol=tol)
    np.testing.assert_array_equal(label, expected_label)
    assert proba.dtype == np.dtype(export.get("dtype", np.float32))
    return graph


@pytest.fixture(scope="module")
def iris():
    data = load_dataset("iris")
    return data.X, data.y


@pytest.fixture(scope="module")
def penguins():
    """Penguins with a boolean column too, and rows of an island never seen in training."""
    data = load_dataset("penguins")
    X = data.X.assign(heavy=data.X["body_mass_g"] > 4000)
    model = SoftmaxRegression(C=10.0).fit(X, data.y)
    new = X.copy()
    new.loc[new.index[:5], "island"] = "Atlantis"
    return model, X, data.y, new


# -- numbers ------------------------------------------------------------------------------


def test_iris_graph_predicts_as_the_model(iris):
    X, y = iris
    model = SoftmaxRegression().fit(X.to_numpy(), pd.factorize(y)[0])  # int64 labels
    graph = assert_same_predictions(model, X.to_numpy())
    assert [i.name for i in graph.graph.input] == ["X"]
    assert [o.name for o in graph.graph.output] == ["label", "probabilities"]
    label_type = graph.graph.output[0].type.tensor_type.elem_type
    assert label_type == onnx.TensorProto.INT64
    assert {node.op_type for node in graph.graph.node} == {"Gemm", "Softmax", "ArgMax", "Gather"}
    assert_same_predictions(model, X.to_numpy(), tol=1e-12, dtype=np.float64)


def test_string_labels_and_a_frame_of_numbers(iris):
    X, y = iris
    model = SoftmaxRegression().fit(X, y)  # named columns, string labels
    graph = assert_same_predictions(model, X)
    assert graph.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.STRING


def test_digits_standardized_and_calibrated():
    X, y = load_digits(return_X_y=True)
    model = SoftmaxRegression(C=0.1, standardize=True).fit(X[:1200], y[:1200])
    model.calibrate(X[1200:], y[1200:])
    assert model.beta_ != 1.0
    graph = assert_same_predictions(model, X)
    assert "Mul" in {node.op_type for node in graph.graph.node}  # beta_ is in the graph


def test_two_classes_float32_training_and_other_label_types():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = X[:, 0] + rng.normal(size=60) > 0
    for labels in (y, y.astype(np.float64) + 1.0):
        model = SoftmaxRegression(fit_intercept=False).fit(X, labels)
        assert_same_predictions(model, X)


# -- tables and formulas ------------------------------------------------------------------


def test_penguins_table_with_an_unseen_island(penguins):
    model, X, _, new = penguins
    graph = assert_same_predictions(model, new)
    kinds = {i.name: i.type.tensor_type.elem_type for i in graph.graph.input}
    assert kinds == {
        **dict.fromkeys(["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"],
                        onnx.TensorProto.FLOAT),
        "island": onnx.TensorProto.STRING, "sex": onnx.TensorProto.STRING,
        "heavy": onnx.TensorProto.BOOL,
    }  # fmt: skip
    with pytest.warns(UnknownCategoryWarning):
        expected = model.predict_proba(new.iloc[:5])
    # The unseen island scores as all-zero indicators, as the model does when it warns.
    np.testing.assert_allclose(run_graph(graph, new.iloc[:5])[1], expected, atol=FLOAT32_TOL)
    assert_same_predictions(model, new, tol=1e-12, dtype=np.float64)


def test_categories_of_numbers_and_booleans():
    rng = np.random.default_rng(1)
    n = 120
    X = pd.DataFrame({
        "x": rng.normal(size=n),
        "color": rng.choice(["red", "green", "blue"], n),
        "grade": pd.Categorical(rng.choice([1, 2, 3], n)),
        "level": pd.Categorical(rng.choice([0.5, 1.5], n)),
        "flag": rng.random(n) < 0.5,
    })  # fmt: skip
    y = np.where(X["x"] + (X["color"] == "red") + X["flag"] > 1, "hi", "lo")
    model = SoftmaxRegression().fit(X, y)
    new = X.assign(grade=X["grade"].astype(int))
    new.loc[:4, ["color", "grade"]] = ["purple", 7]  # unseen: all-zero indicators
    graph = assert_same_predictions(model, new)
    kinds = {i.name: i.type.tensor_type.elem_type for i in graph.graph.input}
    assert kinds["grade"] == onnx.TensorProto.INT64 and kinds["level"] == onnx.TensorProto.FLOAT


@pytest.mark.parametrize(
    "formula",
    [
        "species ~ bill_length_mm + C(island) + sex",
        "species ~ 0 + island + sex + flipper_length_mm",
        "species ~ C(island, contr.sum) + bill_depth_mm",
    ],
)
def test_formulas_of_plain_and_categorical_terms(penguins, formula):
    pytest.importorskip("formulaic")
    _, X, y, new = penguins
    model = SoftmaxRegression.from_formula(formula, X.assign(species=y), C=10.0)
    graph = assert_same_predictions(model, new)
    assert {i.name for i in graph.graph.input} == set(model.feature_encoding_.feature_names_in)


@pytest.mark.parametrize(
    ("formula", "named"),
    [
        ("species ~ bill_length_mm:island", "the interaction 'bill_length_mm:island'"),
        ("species ~ center(bill_length_mm)", "the term 'center(bill_length_mm)'"),
        ("species ~ np.log(body_mass_g) + island", "the term 'np.log(body_mass_g)'"),
    ],
)
def test_formulas_with_interactions_or_transforms_are_refused(penguins, formula, named):
    pytest.importorskip("formulaic")
    _, X, y, _ = penguins
    model = SoftmaxRegression.from_formula(formula, X.assign(species=y), C=10.0)
    with pytest.raises(OnnxExportError, match="No ONNX export for the formula") as error:
        model.to_onnx()
    assert named in str(error.value)
    assert isinstance(error.value, NotImplementedError)


# -- files, arguments, errors -------------------------------------------------------------


def test_writes_the_file_atomically_and_returns_the_graph(iris, tmp_path):
    X, y = iris
    model = SoftmaxRegression().fit(X, y)
    path = tmp_path / "iris.onnx"
    graph = model.to_onnx(path, opset=17)
    assert onnx.load(path) == graph
    assert [o.version for o in graph.opset_import] == [17]
    assert sorted(os.listdir(tmp_path)) == ["iris.onnx"]  # no temporary file left


def test_bad_inputs_give_clear_errors(iris, tmp_path):
    X, y = iris
    with pytest.raises(NotFittedError):
        SoftmaxRegression().to_onnx()
    model = SoftmaxRegression().fit(X, y)
    with pytest.raises(SoftmaxInputError, match="dtype must be float32 or float64"):
        model.to_onnx(dtype=np.int32)
    with pytest.raises(SoftmaxInputError, match="opset must be an integer from 13"):
        model.to_onnx(opset=11)
    with pytest.raises(SoftmaxInputError, match="does not exist"):
        model.to_onnx(tmp_path / "missing" / "m.onnx")
    table = pd.DataFrame({"label": ["a", "b", "a", "b"], "x": [1.0, 2.0, 3.0, 4.0]})
    clash = SoftmaxRegression().fit(table, [0, 1, 0, 1])
    with pytest.raises(OnnxExportError, match="column named 'label'"):
        clash.to_onnx()
    table = table.rename(columns={"label": "word"})
    graph = SoftmaxRegression().fit(table, [0, 1, 0, 1]).to_onnx()
    with pytest.raises(SoftmaxInputError, match="it lacks 'x'"):
        onnx_inputs(graph, table.drop(columns="x"))


def test_a_missing_onnx_names_the_extra(iris, monkeypatch):
    from softmax._optional import MissingDependencyError

    X, y = iris
    model = SoftmaxRegression().fit(X, y)
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now fails
    with pytest.raises(MissingDependencyError, match=r"softmax\[onnx\]"):
        to_onnx(model)


# -- the command line ---------------------------------------------------------------------


def _softmax_command() -> str:
    found = shutil.which("softmax") or str(Path(sys.executable).parent / "softmax")
    assert Path(found).exists(), "the softmax console script is not installed"
    return found


def test_softmax_export_writes_a_graph_that_onnxruntime_runs(penguins, tmp_path):
    model, _, _, new = penguins
    model.save(tmp_path / "penguins.softmax")
    done = subprocess.run(
        [_softmax_command(), "export", "penguins.softmax", "penguins.onnx", "--dtype", "float64"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("wrote penguins.onnx (inputs: bill_length_mm,")
    graph = onnx.load(tmp_path / "penguins.onnx")
    label, proba = run_graph(graph, new)
    expected_label, expected_proba = ours(model, new)
    np.testing.assert_allclose(proba, expected_proba, atol=1e-12)
    np.testing.assert_array_equal(label, expected_label)


def test_softmax_export_reports_an_unsupported_formula_in_one_line(penguins, tmp_path):
    pytest.importorskip("formulaic")
    from typer.testing import CliRunner

    from softmax.cli import app

    _, X, y, _ = penguins
    model = SoftmaxRegression.from_formula("species ~ bill_length_mm:island", X.assign(species=y))
    model.save(tmp_path / "f.softmax")
    result = CliRunner().invoke(app, ["export", str(tmp_path / "f.softmax"),
                                      str(tmp_path / "f.onnx")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: No ONNX export for the formula")
    assert "Traceback" not in result.output and not (tmp_path / "f.onnx").exists()


# -- skl2onnx ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def skl2onnx():
    found = pytest.importorskip("skl2onnx", reason="pipelines convert through skl2onnx")
    from softmax.io.onnx_pipeline import register_skl2onnx

    register_skl2onnx()
    return found


@pytest.mark.parametrize("string_labels", [False, True])
def test_skl2onnx_converts_a_pipeline(skl2onnx, iris, string_labels):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = iris
    X = X.to_numpy(dtype=np.float32)
    labels = y.to_numpy() if string_labels else pd.factorize(y)[0]
    pipeline = make_pipeline(StandardScaler(), SoftmaxRegression()).fit(X[::2], labels[::2])
    pipeline[-1].calibrate(pipeline[0].transform(X[1::2]), labels[1::2])  # held-out rows
    graph = skl2onnx.to_onnx(pipeline, X[:1], options={SoftmaxRegression: {"zipmap": False}})
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": X})
    np.testing.assert_allclose(proba, pipeline.predict_proba(X), atol=FLOAT32_TOL)
    np.testing.assert_array_equal(label, pipeline.predict(X))
    # By default, as for scikit-learn's classifiers: a list of {label: probability}.
    graph = skl2onnx.to_onnx(pipeline, X[:1])
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    _, maps = session.run(None, {"X": X[:1]})
    assert list(maps[0]) == pipeline.classes_.tolist()


def test_skl2onnx_refuses_a_model_of_table_columns(skl2onnx, penguins):
    model, X, _, _ = penguins
    from skl2onnx.common.data_types import FloatTensorType

    with pytest.raises(OnnxExportError, match="export it with model.to_onnx"):
        skl2onnx.convert_sklearn(model, initial_types=[("X", FloatTensorType([None, 7]))])
