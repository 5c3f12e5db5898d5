"""Temperature scaling: ``SoftmaxRegression.calibrate`` and ``beta_``."""

import copy
import json

import numpy as np
import pytest
import safetensors.numpy
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from softmax import ModelFileError, SoftmaxRegression, load, softmax
from softmax.io.model_file import read_metadata


@pytest.fixture(scope="module")
def digits_split():
    """Digits in three stratified parts: fit (50%), calibrate (25%), test (25%)."""
    X, y = load_digits(return_X_y=True)
    X_fit, X_rest, y_fit, y_rest = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0
    )
    return X_fit, y_fit, X_val, y_val, X_test, y_test


@pytest.fixture(scope="module")
def digits_model(digits_split):
    X_fit, y_fit, *_ = digits_split
    # A weak penalty on 64 raw pixels: accurate but over-confident.
    return SoftmaxRegression(C=1.0, tol=1e-4).fit(X_fit, y_fit)


def test_calibration_on_digits(digits_split, digits_model):
    _, _, X_val, y_val, X_test, y_test = digits_split
    model = copy.deepcopy(digits_model)
    before = {
        "val": log_loss(y_val, model.predict_proba(X_val)),
        "test": log_loss(y_test, model.predict_proba(X_test)),
    }
    predicted, scores = model.predict(X_test), model.decision_function(X_test)
    assert not hasattr(model, "beta_")
    assert model.calibrate(X_val, y_val) is model
    assert 0.3 < model.beta_ < 1.0  # over-confident: the temperature goes up
    after = {
        "val": log_loss(y_val, model.predict_proba(X_val)),
        "test": log_loss(y_test, model.predict_proba(X_test)),
    }
    assert after["val"] < before["val"]
    assert after["test"] < before["test"] - 0.005  # and on data it never saw (0.156 -> 0.140)
    np.testing.assert_array_equal(model.predict(X_test), predicted)
    np.testing.assert_array_equal(model.decision_function(X_test), scores)
    # The same beta as the function: probabilities are softmax(beta_ * scores).
    np.testing.assert_allclose(
        model.predict_proba(X_test), softmax(scores, axis=1, beta=model.beta_), rtol=1e-12
    )
    np.testing.assert_allclose(
        model.predict_log_proba(X_test), np.log(model.predict_proba(X_test)), atol=1e-10
    )
    # beta_ minimises the validation log-loss: nearby values do worse.
    raw = model.decision_function(X_val)
    losses = [log_loss(y_val, softmax(raw, axis=1, beta=model.beta_ * f)) for f in (0.97, 1, 1.03)]
    assert losses[1] < min(losses[0], losses[2])


def test_recovers_a_known_temperature():
    """Labels drawn from softmax(0.4 * scores): calibration finds beta near 0.4."""
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression(C=0.05).fit(X, y)
    rng = np.random.default_rng(0)
    X_val = np.repeat(X, 60, axis=0) + rng.normal(0, 0.1, (60 * len(X), 4))
    p = softmax(model.decision_function(X_val), axis=1, beta=0.4)
    y_val = (rng.random(len(p))[:, None] > p.cumsum(axis=1)).sum(axis=1)
    assert model.calibrate(X_val, y_val).beta_ == pytest.approx(0.4, rel=0.05)


def test_weights_are_repetitions(digits_split, digits_model):
    _, _, X_val, y_val, *_ = digits_split
    model = copy.deepcopy(digits_model)
    counts = np.arange(len(y_val)) % 3
    weighted = model.calibrate(X_val, y_val, sample_weight=counts).beta_
    repeated = model.calibrate(np.repeat(X_val, counts, axis=0), np.repeat(y_val, counts)).beta_
    assert weighted == pytest.approx(repeated, rel=1e-5)


def test_string_labels_and_two_classes():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    keep = names != "setosa"  # the two overlapping species
    model = SoftmaxRegression(C=100.0).fit(X[keep][::2], names[keep][::2])
    model.calibrate(X[keep][1::2], names[keep][1::2])
    assert 0 < model.beta_ < 10 and model.predict_proba(X[:2]).shape == (2, 2)


def test_bad_input():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(NotFittedError):
        SoftmaxRegression().calibrate(X, y)
    model = SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"label\(s\) \[7\] that the model does not know"):
        model.calibrate(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="X_val has 3 samples but y_val has 2"):
        model.calibrate(X[:3], [0, 1])
    with pytest.raises(ValueError, match="non-zero|sum to zero"):
        model.calibrate(X[:3], [0, 1, 2], sample_weight=np.zeros(3))
    with pytest.raises(ValueError, match="features"):
        model.calibrate(X[:3, :2], [0, 1, 2])
    assert not hasattr(model, "beta_")


def test_separated_validation_data_warn():
    X, y = load_iris(return_X_y=True)
    setosa = (y == 0).astype(int)
    model = SoftmaxRegression().fit(X[:, 2:], setosa)  # petal size separates setosa
    with pytest.warns(UserWarning, match="classifies every validation sample correctly"):
        model.calibrate(X[:, 2:], setosa)
    assert model.beta_ == 1e4
    with pytest.warns(UserWarning, match="scores carry no information"):
        model.calibrate(X[:, 2:], 1 - setosa)  # every label wrong
    assert model.beta_ == pytest.approx(1e-4, rel=0.01)


def test_refit_forgets_the_temperature():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression().fit(X, y).calibrate(X, y)
    assert hasattr(model, "beta_")
    model.fit(X, y)
    assert not hasattr(model, "beta_")


def test_beta_survives_save_and_load(tmp_path, digits_split, digits_model):
    *_, X_test, _ = digits_split
    model = copy.deepcopy(digits_model).calibrate(*digits_split[2:4])
    path = model.save(tmp_path / "calibrated.softmax")
    loaded = load(path)
    assert loaded.beta_ == model.beta_
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
    assert read_metadata(path)["fitted"]["beta_"] == model.beta_


@pytest.mark.parametrize("bad", [-1.0, 0.0, "2", 3, {"$float": "inf"}])
def test_invalid_stored_beta(tmp_path, bad):
    from softmax.io.model_file import _DIGEST_KEY, _seal

    X, y = load_iris(return_X_y=True)
    source = SoftmaxRegression().fit(X, y).calibrate(X, y).save(tmp_path / "m")
    data = source.read_bytes()
    size = int.from_bytes(data[:8], "little")
    metadata = json.loads(json.loads(data[8 : 8 + size])["__metadata__"]["softmax"])
    metadata.pop(_DIGEST_KEY)
    metadata["fitted"]["beta_"] = bad
    target = tmp_path / "bad"
    arrays = safetensors.numpy.load(data)
    target.write_bytes(safetensors.numpy.save(arrays, metadata={"softmax": _seal(metadata)}))
    with pytest.raises(ModelFileError, match="bad 'fitted' metadata"):
        load(target)


def test_cli_info_and_predict_use_the_stored_beta(tmp_path):
    from typer.testing import CliRunner

    from softmax.cli import app
    from softmax.datasets import load_dataset

    iris = load_dataset("iris")
    model = SoftmaxRegression().fit(iris.X, iris.y)
    model.calibrate(iris.X, iris.y)  # iris has a few errors, so beta_ is finite
    path = model.save(tmp_path / "calibrated.softmax", extra={"target": "species"})
    runner = CliRunner()
    info = runner.invoke(app, ["info", str(path)])
    assert info.exit_code == 0 and f"{model.beta_:.6g}" in info.stdout
    predicted = runner.invoke(app, ["predict", str(path), "--dataset", "iris"])
    first = predicted.stdout.splitlines()[1].split(",")
    np.testing.assert_allclose([float(v) for v in first[1:]], model.predict_proba(iris.X[:1])[0])
