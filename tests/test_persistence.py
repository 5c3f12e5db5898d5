"""Tests for softmax.io.model_file: round trips, atomic writes, hostile files."""

import json
import os
import pathlib
import pickle
import re
import zipfile
from datetime import datetime

import numpy as np
import pytest
import safetensors.numpy
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from softmax import SoftmaxRegression
from softmax._errors import ModelFileError, SoftmaxInputError
from softmax.datasets import load_dataset
from softmax.io.model_file import FORMAT_NAME, FORMAT_VERSION, load, read_metadata, save

# Round trips need fitted models, not converged ones: short fits keep this file fast.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


@pytest.fixture(scope="module")
def fitted(iris):
    return SoftmaxRegression(C=np.inf, max_iter=20).fit(iris.X, iris.y)


@pytest.fixture
def model_file(tmp_path, fitted):
    return save(fitted, tmp_path / "model.softmax", extra={"dataset": "iris"})


def _assert_same_model(a, b, X):
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.get_params() == b.get_params()
    assert a.classes_.tolist() == b.classes_.tolist()
    # String labels come back as a numpy str array, whatever held them before.
    kinds = {a.classes_.dtype.kind, b.classes_.dtype.kind}
    assert len(kinds) == 1 or kinds == {"O", "U"}
    for name in ("coef_", "intercept_", "objective_history_"):
        assert getattr(a, name).dtype == getattr(b, name).dtype
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("n_features_in_", "n_iter_", "converged_"):
        assert getattr(a, name) == getattr(b, name)
    assert hasattr(a, "feature_names_in_") == hasattr(b, "feature_names_in_")
    if hasattr(a, "feature_names_in_"):
        assert b.feature_names_in_.tolist() == a.feature_names_in_.tolist()


@pytest.mark.parametrize(
    "params",
    [
        {"C": np.inf},
        {"C": 0.5, "fit_intercept": False, "tol": 1e-8},
        {"class_weight": "balanced"},
        {"class_weight": {"setosa": 3.0, "virginica": 0.5}},
    ],
)
def test_round_trip_string_classes(tmp_path, iris, params):
    model = SoftmaxRegression(max_iter=20, **params).fit(iris.X, iris.y)
    loaded = load(save(model, tmp_path / "m.softmax"))
    assert type(loaded) is SoftmaxRegression
    check_is_fitted(loaded)
    _assert_same_model(model, loaded, iris.X)
    assert loaded.predict(iris.X).tolist() == model.predict(iris.X).tolist()


def test_round_trip_integer_classes_and_float32(tmp_path):
    digits = load_dataset("digits")
    X = digits.X.to_numpy(np.float32)[:300]
    y = digits.y.to_numpy()[:300]
    weights = {int(c): 1.0 + c / 10 for c in range(10)}
    model = SoftmaxRegression(class_weight=weights, max_iter=20).fit(X, y)
    assert model.coef_.dtype == np.float32
    loaded = load(save(model, tmp_path / "digits.softmax"))
    _assert_same_model(model, loaded, X)
    assert loaded.coef_.dtype == loaded.intercept_.dtype == np.float32
    assert loaded.classes_.dtype == model.classes_.dtype
    assert loaded.get_params()["class_weight"] == weights
    assert not hasattr(loaded, "feature_names_in_")


@pytest.mark.parametrize("labels", [np.tile([-1.0, 2.0, 3.0], 10), np.tile([True, False], 15)])
def test_round_trip_float_and_bool_classes(tmp_path, labels):
    X = np.random.default_rng(0).normal(size=(len(labels), 3))
    model = SoftmaxRegression().fit(X, labels)
    loaded = load(save(model, tmp_path / "m"))
    _assert_same_model(model, loaded, X)
    assert loaded.classes_.dtype == model.classes_.dtype


@pytest.mark.parametrize(
    "name", ["model", "model.pkl", "a b.c.d.json", ".hidden", "m\u00e9l.softmax"]
)
def test_any_file_name(tmp_path, fitted, iris, name):
    path = save(fitted, str(tmp_path / name))
    assert path == tmp_path / name
    assert os.listdir(tmp_path) == [name]
    _assert_same_model(fitted, load(path), iris.X)


def test_read_metadata(model_file, fitted):
    meta = read_metadata(model_file)
    # Version 1: a model of numeric features, which every softmax reads (2 added "encoding").
    assert meta["format"] == FORMAT_NAME and meta["format_version"] == 1 < FORMAT_VERSION
    assert meta["estimator"] == "SoftmaxRegression"
    assert meta["params"] == fitted.get_params() and meta["params"]["C"] == np.inf
    assert meta["classes"] == {"dtype": "str", "values": ["setosa", "versicolor", "virginica"]}
    assert meta["feature_names"] == fitted.feature_names_in_.tolist()
    assert meta["n_features_in"] == 4
    assert meta["fitted"] == {"n_iter_": fitted.n_iter_, "converged_": fitted.converged_}
    assert set(meta["arrays"]) == {"coef_", "intercept_", "objective_history_"}
    assert meta["arrays"]["coef_"]["shape"] == [3, 4]
    assert meta["extra"] == {"dataset": "iris"}
    assert datetime.fromisoformat(meta["created"]).utcoffset().total_seconds() == 0


def test_extra_with_numpy_values_and_non_finite_floats(tmp_path, fitted):
    extra = {"n_samples": np.int64(150), "accuracy": np.float64(0.98), "loss": [np.nan, -np.inf]}
    meta = read_metadata(save(fitted, tmp_path / "m", extra=extra))
    assert meta["extra"]["n_samples"] == 150 and meta["extra"]["accuracy"] == 0.98
    assert np.isnan(meta["extra"]["loss"][0]) and meta["extra"]["loss"][1] == -np.inf
    with pytest.raises(SoftmaxInputError, match="Cannot save extra"):
        save(fitted, tmp_path / "m", extra={"what": object()})


def test_callback_is_dropped_with_a_warning(tmp_path, iris):
    model = SoftmaxRegression(callback=lambda info: None, max_iter=20).fit(iris.X, iris.y)
    with pytest.warns(UserWarning, match="callback"):
        path = save(model, tmp_path / "m")
    assert load(path).callback is None
    assert model.callback is not None


def test_unfitted_model_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        save(SoftmaxRegression(), tmp_path / "m")
    assert not any(tmp_path.iterdir())


def test_write_is_atomic(tmp_path, model_file, iris, monkeypatch):
    before = model_file.read_bytes()
    other = SoftmaxRegression(C=0.01, max_iter=5).fit(iris.X, iris.y)

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(SoftmaxInputError, match="No space left on device"):
        save(other, model_file)
    assert model_file.read_bytes() == before
    assert os.listdir(tmp_path) == [model_file.name]


def test_overwrite_keeps_mode(tmp_path, fitted, model_file):
    model_file.chmod(0o640)
    save(fitted, model_file)
    assert model_file.stat().st_mode & 0o777 == 0o640
    assert save(fitted, tmp_path / "new").stat().st_mode & 0o777 == 0o644


def test_unwritable_destination(tmp_path, fitted):
    with pytest.raises(SoftmaxInputError, match="Cannot write model file"):
        save(fitted, tmp_path / "no" / "such" / "dir" / "m")


# -- hostile and damaged files ------------------------------------------------


def _load_fails(path, match="."):
    with pytest.raises(ModelFileError, match=match) as info:
        load(path)
    with pytest.raises(ModelFileError):
        read_metadata(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_missing_and_directory(tmp_path):
    _load_fails(tmp_path / "nope.softmax", "not found")
    _load_fails(tmp_path, "is a directory")


@pytest.mark.parametrize("size", [1, 7, 8, 100, 5000])
def test_random_bytes(tmp_path, size):
    path = tmp_path / "random.bin"
    path.write_bytes(np.random.default_rng(size).bytes(size))
    message = _load_fails(path)
    assert "bad header" in message or "truncated" in message


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    _load_fails(path, "is empty")


class _Booby:
    """Unpickling this creates a marker file, so executing a file shows."""

    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_pickle_is_never_executed(tmp_path, protocol):
    canary = tmp_path / "canary"
    pickle.loads(pickle.dumps(_Booby(canary), protocol=protocol))
    assert canary.exists()  # the payload works when unpickled...
    marker = tmp_path / "marker"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Booby(marker), protocol=protocol))
    _load_fails(path, "not a softmax model file \\(bad header\\)")
    assert not marker.exists()  # ...and load did not unpickle it


def test_other_formats(tmp_path):
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("coef.npy", b"\x93NUMPY" + bytes(100))
    _load_fails(archive, "bad header")
    npy = tmp_path / "coef.npy"
    np.save(npy, np.ones((3, 4)))
    _load_fails(npy, "bad header")
    text = tmp_path / "model.json"
    text.write_text('{"format": "softmax-model"}')
    _load_fails(text, "bad header")


def test_huge_header_length(tmp_path, model_file):
    data = model_file.read_bytes()
    path = tmp_path / "huge"
    path.write_bytes((2**60).to_bytes(8, "little") + data[8:])
    _load_fails(path, "bad header")


def _messages(path, variants):
    """Load every variant of a file; return {variant: message}, failing if one loads.

    A plain loop rather than pytest.raises: there are thousands of variants.
    """
    messages = {}
    for key, data in variants:
        path.write_bytes(data)
        try:
            load(path)
        except ModelFileError as exc:
            messages[key] = str(exc)
        else:
            pytest.fail(f"variant {key} of the model file loaded")
    return messages


def test_every_truncation(tmp_path, model_file):
    data = model_file.read_bytes()
    variants = ((n, data[:n]) for n in range(1, len(data)))
    for n, message in _messages(tmp_path / "cut", variants).items():
        assert message.endswith("is truncated."), (n, message)


def test_trailing_bytes(tmp_path, model_file):
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    _load_fails(model_file, "unexpected bytes after the data")


def _header_size(data):
    return 8 + int.from_bytes(data[:8], "little")


def _flipped(data, positions, bit):
    for i in positions:
        damaged = bytearray(data)
        damaged[i] ^= bit
        yield i, bytes(damaged)


def test_every_flipped_byte_in_the_arrays(tmp_path, model_file):
    data = model_file.read_bytes()
    variants = _flipped(data, range(_header_size(data), len(data)), 0x01)
    for i, message in _messages(tmp_path / "flipped", variants).items():
        assert re.search(r"is corrupted: checksum mismatch for [a-z_]+_\.$", message), (i, message)


@pytest.mark.parametrize("bit", [0x01, 0x20])
def test_every_flipped_byte_in_the_header(tmp_path, model_file, bit):
    data = model_file.read_bytes()
    variants = _flipped(data, range(_header_size(data)), bit)
    messages = _messages(tmp_path / "flipped", variants)
    assert len(messages) == _header_size(data)
    assert all(str(tmp_path) in m for m in messages.values())


def _rewrite(source, target, edit_metadata=None, arrays=None, reseal=True):
    """Write a copy of a model file with edited metadata and arrays."""
    from softmax.io.model_file import _DIGEST_KEY, _seal

    data = source.read_bytes()
    header = json.loads(data[8 : _header_size(data)])
    metadata = json.loads(header["__metadata__"]["softmax"])
    tensors = safetensors.numpy.load(data)
    if arrays is not None:
        tensors = arrays(tensors)
    if edit_metadata is not None:
        edit_metadata(metadata)
    if reseal:
        metadata.pop(_DIGEST_KEY)
        text = _seal(metadata)
    else:
        text = json.dumps(metadata)
    target.write_bytes(safetensors.numpy.save(tensors, metadata={"softmax": text}))
    return target


def test_other_safetensors_files(tmp_path):
    arrays = {"weight": np.ones((2, 2), dtype=np.float32)}
    plain = tmp_path / "plain.safetensors"
    plain.write_bytes(safetensors.numpy.save(arrays))
    _load_fails(plain, "is a safetensors file but not a softmax model file")
    other = tmp_path / "other.safetensors"
    other.write_bytes(safetensors.numpy.save(arrays, metadata={"format": "pt"}))
    _load_fails(other, "is a safetensors file but not a softmax model file")
    foreign = tmp_path / "foreign.safetensors"
    foreign.write_bytes(safetensors.numpy.save(arrays, metadata={"softmax": '{"format": "x"}'}))
    _load_fails(foreign, "not a softmax model file")


def test_newer_format_version(tmp_path, model_file):
    def newer(meta):
        meta["format_version"] = 999
        meta["new_field"] = {"unknown": True}

    path = _rewrite(model_file, tmp_path / "newer", newer, reseal=False)
    _load_fails(path, "format version 999; this softmax reads versions up to 3, upgrade softmax")


def test_unknown_parameter(tmp_path, model_file):
    path = _rewrite(model_file, tmp_path / "future", lambda m: m["params"].update(future=1))
    with pytest.raises(ModelFileError, match="parameter\\(s\\) future that this .* upgrade"):
        load(path)
    assert read_metadata(path)["params"]["future"] == 1  # still readable by `softmax info`


def test_edited_metadata_without_checksum(tmp_path, model_file):
    def edit(meta):
        meta["params"]["C"] = 5.0

    path = _rewrite(model_file, tmp_path / "edited", edit, reseal=False)
    _load_fails(path, "checksum mismatch for its metadata")


@pytest.mark.parametrize(
    ("edit", "arrays", "match"),
    [
        (lambda m: m.update(surprise=1), None, "unexpected metadata key 'surprise'"),
        (lambda m: m.pop("fitted"), None, "lacks 'fitted'"),
        (lambda m: m.update(n_features_in="4"), None, "'n_features_in' has the wrong type"),
        (lambda m: m.update(n_features_in=5), None, "inconsistent feature names"),
        (lambda m: m.update(estimator="Pipeline"), None, "holds a Pipeline"),
        (lambda m: m["classes"]["values"].pop(), None, "shapes do not match"),
        (lambda m: m["classes"].update(values=["a", "a", "b"]), None, "two distinct classes"),
        (lambda m: m["params"].update(C={"$float": "1e999"}), None, "undecodable"),
        (lambda m: m["params"].update(class_weight={"$dict": [[[1], 2]]}), None, "undecodable"),
        (None, lambda t: {**t, "evil": np.zeros(1)}, "unexpected array 'evil'"),
        (None, lambda t: {k: v for k, v in t.items() if k != "coef_"}, "'coef_' is missing"),
        (None, lambda t: {**t, "coef_": t["coef_"][:, :3]}, "mismatch for coef_"),
    ],
)
def test_inconsistent_but_sealed_files(tmp_path, model_file, edit, arrays, match):
    path = _rewrite(model_file, tmp_path / "bad", edit, arrays)
    _load_fails(path, match)
