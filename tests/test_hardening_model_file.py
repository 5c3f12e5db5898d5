"""Issue 11, model files and atomic writes.

Each test here failed on the main of 2026-12-01.
"""

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from softmax import ModelFileError, SoftmaxInputError, SoftmaxRegression, load


# -- 4. model files with impossible numbers ----------------------------------------------------


def _rewrite(source, target, arrays=None, edit=None):
    import safetensors.numpy

    from softmax.io.model_file import _DIGEST_KEY, _seal

    data = Path(source).read_bytes()
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    metadata = json.loads(header["__metadata__"]["softmax"])
    metadata.pop(_DIGEST_KEY)
    tensors = safetensors.numpy.load(data)
    tensors.update(arrays or {})
    if edit:
        edit(metadata)
    import hashlib

    # Re-seal the arrays' digests and the metadata, as a forger would.
    if "arrays" in metadata and isinstance(metadata["arrays"], dict):
        for name, value in tensors.items():
            if name in metadata["arrays"]:
                metadata["arrays"][name]["sha256"] = hashlib.sha256(
                    np.ascontiguousarray(value).tobytes()
                ).hexdigest()
    Path(target).write_bytes(safetensors.numpy.save(tensors, metadata={"softmax": _seal(metadata)}))
    return target


def test_model_file_with_nan_coefficients_is_refused(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression().fit(X, y)
    good = model.save(tmp_path / "good.softmax")
    coef = model.coef_.copy()
    coef[1, 2] = np.nan
    bad = _rewrite(good, tmp_path / "nan.softmax", arrays={"coef_": coef})
    with pytest.raises(ModelFileError, match="finite|NaN"):
        load(bad)
    intercept = model.intercept_.copy()
    intercept[0] = np.inf
    worse = _rewrite(good, tmp_path / "inf.softmax", arrays={"intercept_": intercept})
    with pytest.raises(ModelFileError, match="finite|inf"):
        load(worse)


def test_deeply_nested_metadata_is_a_model_file_error(tmp_path):
    X, y = load_iris(return_X_y=True)
    good = SoftmaxRegression().fit(X, y).save(tmp_path / "good.softmax")
    deep: list = []
    for _ in range(900):  # parses, but recursing through it overflows Python's stack
        deep = [deep]

    def nest(metadata):
        metadata["extra"] = {"deep": deep}

    bad = _rewrite(good, tmp_path / "deep.softmax", edit=nest)
    with pytest.raises(ModelFileError, match="nested|deep"):
        load(bad)


@pytest.fixture(scope="module")
def iris_model():
    X, y = load_iris(return_X_y=True)
    return SoftmaxRegression().fit(X, y)


@pytest.fixture(scope="module")
def stream_model():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression(solver="sgd", alpha=1e-3, random_state=0)
    return model.partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize(
    ("name", "position", "value", "match"),
    [
        ("objective_history_", 0, np.inf, "objective_history_ holds an infinite value"),
        ("objective_history_", -1, -np.inf, "objective_history_ holds an infinite value"),
        ("sgd_w", 3, np.nan, "sgd_w holds NaN or infinite values"),
        ("sgd_w", 0, -np.inf, "sgd_w holds NaN or infinite values"),
    ],
)
def test_other_impossible_numbers_are_refused(tmp_path, stream_model, name, position, value,
                                              match):
    good = stream_model.save(tmp_path / "good.softmax")
    saved = {"objective_history_": stream_model.objective_history_,
             "sgd_w": stream_model.sgd_state_.to_file()[0]["sgd_w"]}
    array = saved[name].copy()
    array[position] = value
    with pytest.raises(ModelFileError, match=match):
        load(_rewrite(good, tmp_path / "bad.softmax", arrays={name: array}))


def test_nan_in_the_history_is_kept(tmp_path):
    # A partial_fit chunk whose weights are all zero has no mean objective: NaN.
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression(solver="sgd", alpha=1e-3, random_state=0,
                              class_weight={0: 0.0, 1: 1.0, 2: 1.0})
    model.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X[y == 0], y[y == 0])
    assert np.isnan(model.objective_history_[-1])
    loaded = load(model.save(tmp_path / "m.softmax"))
    np.testing.assert_array_equal(loaded.objective_history_, model.objective_history_)


@pytest.mark.parametrize(
    ("edit", "arrays", "match"),
    [
        (None, lambda m: {"coef_": m.coef_.astype(np.float16)}, "must both be float32 or float64"),
        (None, lambda m: {"intercept_": m.intercept_.astype(np.float32)}, "must both be float32"),
        (None, lambda m: {"objective_history_": m.objective_history_.astype(np.float32)},
         "objective_history_ must be float64"),
        (lambda meta: meta["fitted"].update(beta_={"$float": "nan"}), None, "beta_ must be"),
        (lambda meta: meta["fitted"].update(beta_=-0.5), None, "beta_ must be positive"),
    ],
)
def test_wrong_dtypes_and_beta_are_refused(tmp_path, iris_model, edit, arrays, match):
    good = iris_model.save(tmp_path / "good.softmax")
    replaced = None if arrays is None else arrays(iris_model)
    if replaced:  # the description must follow the dtype, or the dtype check never runs
        edit = _describe_as(replaced)
    with pytest.raises(ModelFileError, match=match):
        load(_rewrite(good, tmp_path / "bad.softmax", arrays=replaced, edit=edit))


def _describe_as(arrays):
    def edit(metadata):
        for name, array in arrays.items():
            metadata["arrays"][name]["dtype"] = str(array.dtype)

    return edit


def test_the_writer_refuses_what_the_reader_would(tmp_path, iris_model):
    import copy

    broken = copy.deepcopy(iris_model)
    broken.coef_[0, 0] = np.nan  # as left by a fit that raised FloatingPointError
    with pytest.raises(SoftmaxInputError, match="coef_ holds NaN or infinite values"):
        broken.save(tmp_path / "m.softmax")
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(SoftmaxInputError, match="nests more than 64 levels deep"):
        iris_model.save(tmp_path / "m.softmax", extra={"deep": deep})
    looped: dict = {}
    looped["self"] = looped
    with pytest.raises(SoftmaxInputError, match="Cannot save extra"):
        iris_model.save(tmp_path / "m.softmax", extra=looped)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_numbers_a_writer_never_writes(tmp_path, iris_model, text):
    good = iris_model.save(tmp_path / "good.softmax").read_bytes()
    # Not re-sealed: the parse must fail cleanly before the seal is even computed.
    bad = good.replace(b'\\"n_features_in\\":4', b'\\"n_features_in\\":' + text.encode())
    assert bad != good
    (tmp_path / "bad.softmax").write_bytes(_same_length(good, bad))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load(tmp_path / "bad.softmax")


def _same_length(good, bad):
    """``bad`` with its header size corrected (the header grew)."""
    grown = len(bad) - len(good)
    size = int.from_bytes(good[:8], "little") + grown
    return size.to_bytes(8, "little") + bad[8:]


# -- signed files ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [b"\x00secret\xff", "clé secrète"])
def test_signed_round_trip(tmp_path, iris_model, key):
    X, _ = load_iris(return_X_y=True)
    path = iris_model.save(tmp_path / "signed.softmax", key=key)
    loaded = load(path, key=key)
    np.testing.assert_array_equal(loaded.predict_proba(X), iris_model.predict_proba(X))
    # Without a key, a signed file is checked by its digests only (the format docstring: why).
    np.testing.assert_array_equal(load(path).coef_, iris_model.coef_)
    assert safetensors_header(path)["__metadata__"].keys() == {"softmax", "softmax_hmac"}
    import safetensors.numpy

    assert set(safetensors.numpy.load_file(path)) == {"coef_", "intercept_", "objective_history_",
                                                      "classes_"}


def safetensors_header(path):
    data = Path(path).read_bytes()
    return json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])


def test_signed_with_a_stochastic_state(tmp_path, stream_model):
    X, y = load_iris(return_X_y=True)
    loaded = load(stream_model.save(tmp_path / "s.softmax", key="k"), key="k")
    np.testing.assert_array_equal(loaded.sgd_state_.state.w, stream_model.sgd_state_.state.w)
    loaded.partial_fit(X, y)


def test_wrong_key_and_unsigned_file_are_refused(tmp_path, iris_model):
    signed = iris_model.save(tmp_path / "signed.softmax", key=b"right")
    with pytest.raises(ModelFileError, match="was not signed with this key"):
        load(signed, key=b"wrong")
    with pytest.raises(ModelFileError, match="was not signed with this key"):
        load(signed, key="righ")
    unsigned = iris_model.save(tmp_path / "unsigned.softmax")
    with pytest.raises(ModelFileError, match="unsigned.softmax is not signed"):
        load(unsigned, key=b"right")
    with pytest.raises(SoftmaxInputError, match="key is empty"):
        load(signed, key=b"")
    with pytest.raises(SoftmaxInputError, match="key is empty"):
        iris_model.save(tmp_path / "x.softmax", key="")
    with pytest.raises(TypeError, match="key must be bytes or str"):
        load(signed, key=123)


def test_a_resealed_forgery_is_caught_only_by_the_key(tmp_path, iris_model):
    import safetensors.numpy

    from softmax.io.model_file import _DIGEST_KEY, _seal

    signed = iris_model.save(tmp_path / "signed.softmax", key=b"key")
    header = safetensors_header(signed)
    metadata = json.loads(header["__metadata__"]["softmax"])
    metadata.pop(_DIGEST_KEY)
    metadata["classes"]["values"] = [2, 0, 1]  # every prediction relabelled
    metadata["arrays"]["classes_"]["sha256"] = __import__("hashlib").sha256(
        np.array([2, 0, 1]).tobytes()).hexdigest()
    tensors = safetensors.numpy.load_file(signed)
    tensors["classes_"] = np.array([2, 0, 1])
    # The forger keeps the old signature: it still sits in the header, now over other bytes.
    forged = tmp_path / "forged.softmax"
    forged.write_bytes(safetensors.numpy.save(tensors, metadata={
        "softmax": _seal(metadata), "softmax_hmac": header["__metadata__"]["softmax_hmac"]}))
    assert load(forged).classes_.tolist() == [2, 0, 1]  # the digests are all consistent...
    with pytest.raises(ModelFileError, match="was not signed with this key"):
        load(forged, key=b"key")  # ...but the HMAC is not


@pytest.mark.parametrize("position", ["header", "data", "padding", "size"])
def test_any_changed_byte_of_a_signed_file_is_refused(tmp_path, iris_model, position):
    # The header is padded with spaces to a multiple of 8 bytes: a note of the
    # right length makes sure there is padding to change, whatever the header holds.
    for length in range(8):
        saved = iris_model.save(tmp_path / "s.softmax", key=b"key", extra={"note": "x" * length})
        data = bytearray(saved.read_bytes())
        end = 8 + int.from_bytes(data[:8], "little")
        if data[end - 1 : end] == b" ":
            break
    index = {"header": data.index(b"n_features_in"), "data": end + 5, "padding": end - 1,
             "size": 0}[position]
    if position == "padding":  # trailing spaces of the header: JSON ignores them
        assert data[index : index + 1] == b" "
        data[index : index + 1] = b"\t"
    elif position == "size":  # one more padding space, announced in the size
        data[end:end] = b" "
        data[:8] = (end - 7).to_bytes(8, "little")
    else:
        data[index] ^= 0x01
    path = tmp_path / "changed.softmax"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        load(path, key=b"key")


def test_sigterm_during_save_leaves_no_temporary(tmp_path):
    script = tmp_path / "slow_save.py"
    script.write_text(
        "import sys, time\n"
        "from softmax.io.atomic import atomic_write\n"
        "with atomic_write(sys.argv[1], binary=True) as f:\n"
        "    f.write(b'x' * 1000)\n"
        "    f.flush()\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(30)\n"
    )
    target = tmp_path / "model.softmax"
    child = subprocess.Popen([sys.executable, str(script), str(target)], stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "ready"
    assert len(list(tmp_path.glob(".model.softmax.*"))) == 1
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=30)
    assert list(tmp_path.glob(".model.softmax.*")) == [] and not target.exists()
    # kill -9 leaves one behind; the next save into the folder removes it.
    child = subprocess.Popen([sys.executable, str(script), str(target)], stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "ready"
    child.kill()
    child.wait(timeout=30)
    assert len(list(tmp_path.glob(".model.softmax.*"))) == 1
    X, y = load_iris(return_X_y=True)
    SoftmaxRegression().fit(X, y).save(target)
    assert list(tmp_path.glob(".model.softmax.*")) == []


