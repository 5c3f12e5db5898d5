"""Fuzzing model files: whatever the bytes, ``softmax.load`` raises ModelFileError or works.

Hypothesis mutates valid model files at three levels: raw bytes (flips,
insertions, deletions, truncations), the safetensors header (re-framed so the
size is right) and the softmax metadata and arrays, re-sealed as a forger
would (every SHA-256 recomputed) so that the checks behind the seal are
reached. A file that loads must give a model whose numbers are finite and
whose shapes agree; a signed file loaded with its key must refuse every change. ``make test`` runs
a small budget (``FAST``); ``make test-slow`` a large one (``SLOW``).
"""

import copy
import hashlib
import json
import signal

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.datasets import load_iris

from softmax import ModelFileError, SoftmaxRegression, load
from softmax.io.model_file import _DIGEST_KEY, _seal

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

KEY = b"fuzzing key"
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(FAST, max_examples=5000)
_SECONDS_PER_LOAD = 10  # a load that takes longer is a hang


class _Files(tuple):
    """(model files by kind, scratch path): shown short when Hypothesis reports a failure."""

    def __repr__(self):
        return "<model files>"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Valid model files of every kind, as bytes, and a scratch path to write variants to."""
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    folder = tmp_path_factory.mktemp("fuzz")
    models = {
        "int labels": SoftmaxRegression(max_iter=20).fit(X, y),
        "str labels, class weights": SoftmaxRegression(
            max_iter=20, class_weight={"setosa": 2.0, "virginica": 0.5}, C=np.inf
        ).fit(X, names),
        "calibrated": SoftmaxRegression(max_iter=20).fit(X, y).calibrate(X, y),
        "stochastic": SoftmaxRegression(solver="sgd", alpha=1e-3, random_state=0).partial_fit(
            X, y, classes=[0, 1, 2]
        ),
    }
    data = {}
    for kind, model in models.items():
        data[kind] = model.save(folder / "m", extra={"rows": 150, "loss": [np.inf]}).read_bytes()
    data["signed"] = models["stochastic"].save(folder / "m", key=KEY).read_bytes()
    return _Files((data, folder / "variant.softmax"))


def _alarm(signum, frame):
    raise TimeoutError("load hung")


def _load_or_refuse(path, data, key=None):
    """Write ``data`` and load it: a ModelFileError or a sound model; nothing else."""
    path.write_bytes(data)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(_SECONDS_PER_LOAD)
    try:
        model = load(path, key=key)
    except ModelFileError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    # What load promises (huge finite coefficients may still overflow a prediction).
    k, d = len(model.classes_), model.n_features_in_
    assert model.coef_.shape == (k, d) and model.intercept_.shape == (k,)
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()
    assert 0 < getattr(model, "beta_", 1.0) < np.inf
    return model


# -- raw bytes ------------------------------------------------------------------------------------

_positions = st.integers(min_value=0, max_value=2**20)
_edits = st.one_of(
    st.tuples(st.just("flip"), _positions, st.integers(1, 255)),
    st.tuples(st.just("insert"), _positions, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), _positions, st.integers(1, 64)),
    st.tuples(st.just("overwrite"), _positions, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("truncate"), _positions, st.none()),
)


def _mutate(data, edits, header_bias):
    """Apply byte edits; with ``header_bias`` positions fall in the header (its logic is richer)."""
    data = bytearray(data)
    for action, position, arg in edits:
        span = min(len(data), 8 + int.from_bytes(data[:8], "little")) if header_bias else len(data)
        i = position % max(span, 1)
        if action == "flip" and data:
            data[i] ^= arg
        elif action == "insert":
            data[i:i] = arg
        elif action == "delete":
            del data[i : i + arg]
        elif action == "overwrite":
            data[i : i + len(arg)] = arg
        elif action == "truncate":
            del data[i:]
    return bytes(data)


def _byte_variants(files, kind, edits, header_bias):
    data, path = files
    original = data[kind]
    mutated = _mutate(original, edits, header_bias)
    key = KEY if kind == "signed" else None
    loaded = _load_or_refuse(path, mutated, key)
    if key is not None and mutated != original:
        assert loaded is None, "a changed signed file loaded with its key"


_kinds = st.sampled_from(["int labels", "str labels, class weights", "calibrated", "stochastic",
                          "signed"])


@FAST
@given(kind=_kinds, edits=st.lists(_edits, min_size=1, max_size=4), header_bias=st.booleans())
def test_mutated_bytes(files, kind, edits, header_bias):
    _byte_variants(files, kind, edits, header_bias)


@pytest.mark.slow
@SLOW
@given(kind=_kinds, edits=st.lists(_edits, min_size=1, max_size=8), header_bias=st.booleans())
def test_mutated_bytes_long(files, kind, edits, header_bias):
    _byte_variants(files, kind, edits, header_bias)


# -- JSON edits, re-sealed ------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10), st.integers(),
    st.sampled_from([2**31, 2**63, 2**64, -(2**63) - 1, 10**100, -(10**100)]),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.0, -0.0, 1e308, 5e-324]),
    st.text(max_size=8), st.sampled_from(["F64", "float64", "setosa", "inf", "nan", "PCG64"]),
)
_json = st.recursive(
    # Copies: a later edit may change a value in place, which must not change the strategy.
    _scalars | st.sampled_from([{"$float": "inf"}, {"$float": "nan"}, {"$float": "x"},
                                {"$dict": [[1, 2.0], [0, 1.0]]}, {"$dict": [[[1], 2]]}]
                               ).map(copy.deepcopy),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12,
)
_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8,
                           np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
)  # elements of any value: NaN, infinities, subnormals
_special = st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 0.0])


def _walk(draw, value):
    """A random (container, key) inside ``value``, going deeper while the draws say so."""
    container, key = None, None
    while isinstance(value, (dict, list)) and value and (container is None or draw(st.booleans())):
        keys = sorted(value) if isinstance(value, dict) else range(len(value))
        container, key = value, draw(st.sampled_from(list(keys)))
        value = container[key]
    return container, key


def _edit_metadata(draw, metadata):
    container, key = _walk(draw, metadata)
    if container is None:
        return
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "replace":
        container[key] = draw(_json)
    elif action == "delete":
        del container[key]
    elif isinstance(container, dict):
        container[draw(st.text(max_size=6))] = draw(_json)
    else:
        container.append(draw(_json))


def _edit_arrays(draw, tensors):
    name = draw(st.sampled_from(sorted(tensors) + ["coef_", "sgd_w", "classes_", "new"]))
    action = draw(st.sampled_from(["random", "special", "delete", "dtype"]))
    if action == "delete":
        tensors.pop(name, None)
    elif action == "random":
        tensors[name] = draw(_arrays)
    elif name in tensors:
        array = tensors[name].copy()
        with np.errstate(all="ignore"):  # NaN to int, 1e308 to float16: any value will do
            if action == "dtype":
                tensors[name] = array.astype(draw(st.sampled_from(["<f4", "<f8", "<f2", "<i8"])))
            elif array.size and array.dtype.kind == "f":
                array.flat[draw(st.integers(0, array.size - 1))] = draw(_special)
                tensors[name] = array


def _reseal(metadata, tensors, describe):
    """Recompute every digest, as a forger who edits a file would; ``describe`` fixes dtypes too."""
    described = metadata.get("arrays")
    if isinstance(described, dict):
        for name, array in tensors.items():
            entry = described.get(name)
            if isinstance(entry, dict):
                entry["sha256"] = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
                if describe:
                    entry.update(dtype=str(array.dtype), shape=list(array.shape))
    return _seal(metadata)


def _semantic_variant(files, kind, draw):
    data, path = files
    original = data[kind]
    header = json.loads(original[8 : 8 + int.from_bytes(original[:8], "little")])
    metadata = json.loads(header["__metadata__"]["softmax"])
    metadata.pop(_DIGEST_KEY)
    tensors = safetensors.numpy.load(original)
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            _edit_metadata(draw, metadata)
        else:
            _edit_arrays(draw, tensors)
    try:
        text = _reseal(metadata, tensors, describe=draw(st.booleans()))
    except ValueError:  # a value the sealing JSON refuses (an int of 5000 digits)
        return
    variant = safetensors.numpy.save(tensors, metadata={"softmax": text})
    _load_or_refuse(path, variant)
    if kind == "signed":  # re-sealed, but the HMAC cannot follow
        with pytest.raises(ModelFileError):
            load(path, key=KEY)


@FAST
@given(kind=_kinds, data=st.data())
def test_resealed_edits(files, kind, data):
    _semantic_variant(files, kind, data.draw)


@pytest.mark.slow
@SLOW
@given(kind=_kinds, data=st.data())
def test_resealed_edits_long(files, kind, data):
    _semantic_variant(files, kind, data.draw)


# -- the safetensors header, re-framed ------------------------------------------------------------


def _header_variant(files, draw):
    data, path = files
    original = data["int labels"]
    end = 8 + int.from_bytes(original[:8], "little")
    header = json.loads(original[8:end])
    container, key = _walk(draw, {k: v for k, v in header.items() if k != "__metadata__"})
    if container is not None:
        container[key] = draw(_json)
    if draw(st.booleans()):
        header[draw(st.text(max_size=6))] = draw(_json)
    text = json.dumps(header).encode()
    framed = len(text).to_bytes(8, "little") + text + original[end:]
    _load_or_refuse(path, framed)


@FAST
@given(data=st.data())
def test_edited_safetensors_header(files, data):
    _header_variant(files, data.draw)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_edited_safetensors_header_long(files, data):
    _header_variant(files, data.draw)


# -- hostile files found by hand ------------------------------------------------------------------


def _framed(header_text):
    raw = header_text.encode("utf-8", "surrogatepass")
    return len(raw).to_bytes(8, "little") + raw


@pytest.mark.parametrize(
    "content",
    [
        _framed("[" * 100_000 + "]" * 100_000),
        _framed('{"a":' * 5000 + "1" + "}" * 5000),
        _framed('{"__metadata__": {"softmax": "' + "[" * 2000 + '"}}'),
        _framed('{"__metadata__": {"softmax": "{\\"n\\": ' + "9" * 5000 + '}"}}'),
        _framed('{"__metadata__": {"softmax": "{\\"n\\": NaN}"}}'),
        _framed('{"__metadata__": {"softmax": "{\\"n\\": 1e999}"}}'),
        _framed('{"__metadata__": {"softmax": "\\ud800"}}'),
        _framed('{"__metadata__": {"softmax": "{\\"\\ud800\\": 1}"}}'),
        _framed('{"__metadata__": "x"}'),
        _framed('{"__metadata__": {"softmax": "{}"}, "__metadata__": 1}'),
        _framed('{"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 0]}}'),
        _framed('{"x": {"dtype": "F64", "shape": [-1], "data_offsets": [0, 0]}}'),
        _framed('{"x": {"dtype": "F64", "shape": [1], "data_offsets": [0, 1e300]}}'),
        _framed('{"x": {"dtype": "F64", "shape": [1], "data_offsets": [8, 0]}}') + bytes(8),
        _framed('"' + "\\" * 10_000),
        _framed('{"a": "' + '\\"' * 50_000),
        _framed("{" + " " * 100_000),
    ],
    ids=lambda content: repr(content[8:40]),
)
def test_hostile_headers(tmp_path, content):
    _load_or_refuse(tmp_path / "hostile", content)
    with pytest.raises(ModelFileError):
        load(tmp_path / "hostile", key=KEY)
