"""Safe model files: a fitted :class:`SoftmaxRegression` as a safetensors file.

The format is specified in :mod:`softmax.io.model_format`, which also reads
and checks the container. This module turns a fitted model into the arrays
and metadata of a file (:func:`save`) and back (:func:`load`), checking what
they say about the model; the stochastic training state goes through the
model's ``sgd_state_`` (:meth:`softmax.backends.stream.StochasticRun.to_file`
and ``from_file``), and the fitted attributes are set by
:func:`softmax.model.fitted.set_fitted`.
"""

from __future__ import annotations

import hashlib
import math
import os
import pathlib
import warnings
from datetime import datetime, timezone
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._errors import ModelFileError, SoftmaxInputError
from .._version import __version__
from ..backends.stream import StochasticRun
from ..model.design import encoding_from_file
from ..model.fitted import ESTIMATORS, set_fitted
from .atomic import atomic_write
# The checksum key and the sealing function keep their old private names: tests
# that write damaged (or forged) files import them from here.
from .model_format import (
    DIGEST_KEY as _DIGEST_KEY,  # noqa: F401  (re-exported for tests)
    FORMAT_NAME,
    ENCODING_FORMAT_VERSION,
    FORMAT_VERSION,
    PLAIN_FORMAT_VERSION,
    Invalid,
    decode,
    encode,
    encode_or_fail,
    is_int,
    read_verified,
    to_bytes,
)
from .model_format import seal as _seal  # noqa: F401  (re-exported for tests)

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load", "read_metadata", "save"]

_FLOAT_ARRAYS = ("coef_", "intercept_", "objective_history_")
_COEF_DTYPES = (np.dtype("<f4"), np.dtype("<f8"))  # those of the training data
_MAX_N_ITER = np.iinfo(np.int32).max  # the model holds n_iter_ as int32, as scikit-learn does
_CLASS_KINDS = {"int": "iu", "float": "f", "bool": "b"}  # label dtype -> numpy kinds


def save(
    model,
    path: str | os.PathLike,
    *,
    extra: dict[str, Any] | None = None,
    key: bytes | str | None = None,
) -> pathlib.Path:
    """Write a fitted model to a file, atomically.

    The file is written next to `path` under a temporary name and then
    renamed onto `path`, so a failure leaves any existing file untouched.
    Any file name is accepted; ``.softmax`` is a good suffix.

    Parameters
    ----------
    model : SoftmaxRegression
        A fitted model. A ``callback`` parameter cannot be saved; the file
        stores ``callback=None`` and a warning says so.
    path : str or os.PathLike
        Where to write.
    extra : dict, optional
        JSON-like information to keep beside the model, such as the data set,
        target column, number of samples and metrics; read it back with
        :func:`read_metadata`.
    key : bytes or str, optional
        Sign the file with an HMAC-SHA256 under this secret (a str is encoded
        as UTF-8), so that :func:`load` given the same key can tell it from a
        forgery; see :mod:`softmax.io.model_format`.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If `model` is not fitted.
    SoftmaxInputError
        If a parameter, the labels or `extra` cannot be stored, the model
        holds non-finite coefficients (a diverged fit), `key` is empty, or the
        file cannot be written.
    TypeError
        If `key` is neither bytes nor str.
    """
    if not isinstance(model, ESTIMATORS["SoftmaxRegression"]):
        raise TypeError(f"save() expects a SoftmaxRegression, not {type(model).__name__}.")
    check_is_fitted(model)
    arrays, metadata = _describe(model, extra)
    problem = _non_finite(arrays)
    if problem is not None:  # a reader would refuse the file: do not write it
        raise SoftmaxInputError(f"Cannot save the model: {problem}; refit it.")
    data = to_bytes(arrays, metadata, key)
    shown = os.fspath(path)
    try:
        with atomic_write(path, binary=True) as handle:
            handle.write(data)
    except OSError as exc:
        raise SoftmaxInputError(f"Cannot write model file {shown}: {exc.strerror or exc}.") from exc
    except SoftmaxInputError as exc:  # the folder is missing or not writable
        reason = str(exc).removeprefix(f"Cannot write {shown}: ")
        raise SoftmaxInputError(f"Cannot write model file {shown}: {reason}") from exc
    return pathlib.Path(path)


def load(path: str | os.PathLike, *, key: bytes | str | None = None) -> BaseEstimator:
    """Read a model written by :func:`save`.

    Every array is checked against its SHA-256, dtype and shape before use,
    its numbers are checked to be finite, and the metadata is checked against
    its own checksum; nothing in the file is executed. The checksums catch
    damage, not forgery: pass `key` to refuse files not signed with it.

    Parameters
    ----------
    path : str or os.PathLike
        A model file.
    key : bytes or str, optional
        The secret the file was signed with (``save(..., key=...)``). Without
        it a signed file loads like any other, checked by its digests only.

    Returns
    -------
    SoftmaxRegression
        A fitted model, with ``coef_`` (k, d), ``intercept_`` (k,),
        ``classes_`` (k,), ``n_features_in_``, ``feature_names_in_`` (when
        fitted on named features), ``feature_encoding_`` (when fitted on
        encoded columns or a formula), ``n_iter_``, ``converged_`` and
        ``objective_history_`` as saved.

    Raises
    ------
    ModelFileError
        If the file is missing, is not a softmax model file, is truncated or
        corrupted, was written by a newer softmax, or (with `key`) is not
        signed or was not signed with `key`.
    SoftmaxInputError
        If `key` is empty.
    TypeError
        If `key` is neither bytes nor str.
    """
    metadata, arrays = _read(path, key)
    estimator_cls = ESTIMATORS[metadata["estimator"]]  # checked: "SoftmaxRegression"
    params = metadata["params"]
    unknown = sorted(set(params) - set(estimator_cls().get_params()))
    if unknown:
        names = ", ".join(_shown(name) for name in unknown)
        raise ModelFileError(
            f"Model file {os.fspath(path)} was written by softmax "
            f"{_shown(metadata['library_version'])} with parameter(s) {names} that this "
            f"softmax {__version__} does not know; upgrade softmax."
        )
    model = estimator_cls(**params)
    fields = metadata["fitted"]
    classes = metadata["classes"]
    set_fitted(
        model,
        classes=arrays["classes_"] if "classes_" in arrays else np.array(classes["values"]),
        coef=arrays["coef_"],
        intercept=arrays["intercept_"],
        n_iter=fields["n_iter_"],
        converged=fields["converged_"],
        objective_history=arrays["objective_history_"],
        n_features=metadata["n_features_in"],
        feature_names=metadata["feature_names"],
        sgd_state=_stochastic_run(metadata, arrays) if "stochastic" in metadata else None,
        beta=fields.get("beta_"),
        encoding=_encoding(metadata),
        offset_used=fields.get("offset_used_", False),
    )
    return model


def read_metadata(path: str | os.PathLike, *, key: bytes | str | None = None) -> dict[str, Any]:
    """Read the metadata of a model file, verified as :func:`load` does.

    Parameters
    ----------
    path : str or os.PathLike
        A model file.
    key : bytes or str, optional
        As for :func:`load`.

    Returns
    -------
    dict
        The fields listed in this module's docstring, decoded (``inf`` is a
        float again, ``class_weight`` a dict), without ``metadata_sha256``.

    Raises
    ------
    ModelFileError
        As :func:`load`.
    """
    return _read(path, key)[0]


def _read(
    path: str | os.PathLike, key: bytes | str | None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return read_verified(path, _check_model_fields, _check_arrays, key)


# -- writing -------------------------------------------------------------------


def _describe(
    model, extra: dict[str, Any] | None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split a fitted model into arrays and JSON-ready metadata."""
    params = model.get_params(deep=False)
    if params.get("callback") is not None:
        warnings.warn(
            "The callback parameter cannot be saved; the model file stores callback=None.",
            UserWarning,
            stacklevel=3,
        )
        params["callback"] = None
    if not isinstance(params.get("random_state"), (int, type(None))):
        # A generator object is not JSON; the saved stochastic state carries its stream.
        params["random_state"] = None
    encoded_params = {
        name: encode_or_fail(value, f"parameter {name}={value!r}") for name, value in params.items()
    }
    if extra is not None and not isinstance(extra, dict):
        raise SoftmaxInputError(f"extra must be a dict, not {type(extra).__name__}.")

    classes = np.asarray(model.classes_)
    label_dtype = _label_dtype(classes)
    arrays = {name: _little_endian(getattr(model, name)) for name in _FLOAT_ARRAYS}
    if label_dtype != "str":
        arrays["classes_"] = _little_endian(classes)
    names = getattr(model, "feature_names_in_", None)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": PLAIN_FORMAT_VERSION,
        "library_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "estimator": type(model).__name__,
        "params": encoded_params,
        "classes": {"dtype": label_dtype, "values": encode(classes.tolist())},
        "feature_names": None if names is None else [str(n) for n in names],
        "n_features_in": int(model.n_features_in_),
        "fitted": {
            # n_iter_ is a count or, as scikit-learn's, an array holding one.
            "n_iter_": int(np.asarray(model.n_iter_).item()),
            "converged_": bool(model.converged_),
            # Only calibrated models carry it, so other files stay as they were.
            **({"beta_": float(model.beta_)} if hasattr(model, "beta_") else {}),
            **({"offset_used_": True} if getattr(model, "offset_used_", False) else {}),
        },
        "arrays": {name: _array_entry(a) for name, a in arrays.items()},
        "extra": None if extra is None else encode_or_fail(extra, "extra"),
    }
    run = getattr(model, "sgd_state_", None)
    if run is not None:
        run_arrays, run_fields = run.to_file()
        run_arrays = {name: _little_endian(a) for name, a in run_arrays.items()}
        arrays.update(run_arrays)
        metadata["arrays"].update({name: _array_entry(a) for name, a in run_arrays.items()})
        metadata["stochastic"] = encode_or_fail(run_fields, "the stochastic training state")
    encoding = getattr(model, "feature_encoding_", None)
    if encoding is not None:  # files of numeric models stay as they were
        metadata["encoding"] = encode_or_fail(encoding.to_file(), "the feature encoding")
        metadata["format_version"] = ENCODING_FORMAT_VERSION
    if getattr(model, "offset_used_", False):
        metadata["format_version"] = FORMAT_VERSION
    return arrays, metadata


def _label_dtype(classes: np.ndarray) -> str:
    for name, kinds in _CLASS_KINDS.items():
        if classes.dtype.kind in kinds:
            return name
    if classes.dtype.kind == "U" or (
        classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes)
    ):
        return "str"
    raise SoftmaxInputError(
        f"Cannot save a model whose labels have dtype {classes.dtype}; "
        "labels must be strings, integers, floats or booleans."
    )


def _little_endian(values: Any) -> np.ndarray:
    array = np.asarray(values)
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))


def _array_entry(array: np.ndarray) -> dict[str, Any]:
    return {
        "dtype": str(array.dtype),
        "shape": list(array.shape),
        "sha256": hashlib.sha256(array.tobytes()).hexdigest(),
    }


# -- checking what a file says about the model ------------------------------------


def _check_model_fields(metadata: dict[str, Any], _arrays: None) -> None:
    """Check the decoded fields that describe the model."""
    if metadata["estimator"] != "SoftmaxRegression":
        raise Invalid(f"holds a {_shown(metadata['estimator'])}, not a SoftmaxRegression")
    classes = metadata["classes"]
    if set(classes) != {"dtype", "values"} or not isinstance(classes["values"], list):
        raise Invalid("is corrupted: bad 'classes' metadata")
    values = classes["values"]
    wanted = {"str": str, "int": int, "float": float, "bool": bool}.get(str(classes["dtype"]))
    if wanted is None or not all(type(v) is wanted for v in values):
        raise Invalid("is corrupted: bad 'classes' metadata")
    if len(values) < 2 or len(set(values)) != len(values):
        raise Invalid("is corrupted: it needs at least two distinct classes")
    d = metadata["n_features_in"]
    names = metadata["feature_names"]
    if d < 1 or (
        names is not None and (len(names) != d or not all(isinstance(n, str) for n in names))
    ):
        raise Invalid("is corrupted: inconsistent feature names or count")
    encoding = _encoding(metadata)
    # A formula goes with its design, columns of text with theirs, numbers with none.
    if metadata["params"].get("formula") != getattr(encoding, "formula", None) or (
        encoding is not None and encoding.feature_names_in != names
    ):
        raise Invalid("is corrupted: its feature encoding does not match its features")
    fitted = metadata["fitted"]
    if not (
        set(fitted) - {"beta_", "offset_used_"} == {"n_iter_", "converged_"}
        and fitted.get("offset_used_", True) is True
        and is_int(fitted["n_iter_"])
        and 0 <= fitted["n_iter_"] <= _MAX_N_ITER
        and isinstance(fitted["converged_"], bool)
    ):
        raise Invalid("is corrupted: bad 'fitted' metadata")
    beta = fitted.get("beta_", 1.0)
    if not (isinstance(beta, float) and 0 < beta < math.inf):
        raise Invalid("is corrupted: bad 'fitted' metadata (beta_ must be positive and finite)")


def _check_arrays(metadata: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Check names, dtypes, shapes, checksums and numbers of the arrays read."""
    label_dtype = metadata["classes"]["dtype"]
    expected = set(_FLOAT_ARRAYS) | ({"classes_"} if label_dtype != "str" else set())
    described = metadata["arrays"]
    for name in sorted(set(arrays) | set(described) | expected):
        # The stochastic state's own arrays are checked by StochasticRun.from_file.
        if name not in expected and not (name.startswith("sgd_") and "stochastic" in metadata):
            raise Invalid(f"is corrupted: unexpected array {name!r}")
        if name not in arrays or name not in described:
            raise Invalid(f"is corrupted: array {name!r} is missing")
        entry, array = described[name], arrays[name]
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "sha256"}:
            raise Invalid(f"is corrupted: bad description of array {name!r}")
        if entry["dtype"] != str(array.dtype) or entry["shape"] != list(array.shape):
            raise Invalid(f"is corrupted: dtype or shape mismatch for {_shown(name)}")
        if entry["sha256"] != hashlib.sha256(array.tobytes()).hexdigest():
            raise Invalid(f"is corrupted: checksum mismatch for {_shown(name)}")

    coef, intercept, history = (arrays[n] for n in _FLOAT_ARRAYS)
    if coef.dtype not in _COEF_DTYPES or intercept.dtype != coef.dtype:
        raise Invalid("is corrupted: coef_ and intercept_ must both be float32 or float64")
    if history.dtype != np.float64:
        raise Invalid("is corrupted: objective_history_ must be float64")
    k = len(metadata["classes"]["values"])
    d = _n_coef_columns(metadata)
    if coef.shape != (k, d) or intercept.shape != (k,) or history.ndim != 1:
        raise Invalid("is corrupted: array shapes do not match the classes and features")
    if "classes_" in arrays:
        classes = arrays["classes_"]
        if classes.dtype.kind not in _CLASS_KINDS[label_dtype] or classes.tolist() != (
            metadata["classes"]["values"]
        ):
            raise Invalid("is corrupted: classes_ does not match its metadata")
    problem = _non_finite(arrays)
    if problem is not None:
        raise Invalid(f"is corrupted: {problem}")
    if "stochastic" in metadata:
        _stochastic_run(metadata, arrays)  # checks it


def _non_finite(arrays: dict[str, np.ndarray]) -> str | None:
    """Which array holds numbers that a fitted model never has, said as a clause.

    The history may hold NaN (the mean of an iteration that saw no sample
    weight) but no infinity; the other float arrays only finite numbers.
    Labels (``classes_``) are not numbers of the model.
    """
    for name in sorted(set(arrays) - {"classes_"}):
        array = arrays[name]
        if name == "objective_history_":
            if np.isinf(array).any():
                return f"{name} holds an infinite value"
        elif not np.isfinite(array).all():
            return f"{_shown(name)} holds NaN or infinite values"
    return None


def _shown(text: str) -> str:
    """A string from a file as a message shows it: quoted unless printable (no line breaks)."""
    return text if text.isprintable() else repr(text)


def _stochastic_run(metadata: dict[str, Any], arrays: dict[str, np.ndarray]) -> StochasticRun:
    """The saved ``sgd_state_``, checked against the model."""
    k = len(metadata["classes"]["values"])
    n_params = k * (_n_coef_columns(metadata) + int(bool(metadata["params"].get("fit_intercept"))))
    try:
        fields = decode(metadata["stochastic"])
        sgd_arrays = {name: a for name, a in arrays.items() if name.startswith("sgd_")}
        return StochasticRun.from_file(fields, sgd_arrays, n_params)
    except (TypeError, ValueError, KeyError, OverflowError):
        raise Invalid("is corrupted: bad stochastic training state") from None


def _encoding(metadata: dict[str, Any]):
    """The saved ``feature_encoding_`` (None for numeric features), checked."""
    if "encoding" not in metadata:
        return None
    try:
        return encoding_from_file(decode(metadata["encoding"]))
    except (TypeError, ValueError):
        raise Invalid("is corrupted: bad feature encoding") from None


def _n_coef_columns(metadata: dict[str, Any]) -> int:
    """Columns of ``coef_``: the encoded features, or the input features."""
    encoding = _encoding(metadata)
    return metadata["n_features_in"] if encoding is None else len(encoding.names_out)
