"""Safe model files: a fitted :class:`SoftmaxRegression` as a safetensors file.

Nothing in a model file is ever executed: arrays are raw little-endian
numbers and everything else is JSON, stored as one string under the
safetensors metadata key ``"softmax"``::

    {"format": "softmax-model", "format_version": 1,
     "library_version": "0.1.0", "created": "2025-01-01T12:00:00+00:00",
     "estimator": "SoftmaxRegression",
     "params": {...get_params()...},
     "classes": {"dtype": "str" | "int" | "float" | "bool", "values": [...]},
     "feature_names": [...] | null, "n_features_in": d,
     "fitted": {"n_iter_": int, "converged_": bool, "beta_": float (if calibrated)},
     "arrays": {name: {"dtype": "float64", "shape": [...], "sha256": hex}},
     "extra": {...} | null,
     "stochastic": {"config": {...}, "t": int, "l1": float, "rng": {...}} (optional),
     "metadata_sha256": hex}

The arrays are ``coef_`` (k, d), ``intercept_`` (k,), ``objective_history_``
(n_iter,) and, for numeric labels only, ``classes_`` (k,). JSON has no
infinities or NaN and only string keys, so a non-finite float is written as
``{"$float": "inf"}`` and a dict with other keys (such as a ``class_weight``
keyed by integer labels) as ``{"$dict": [[key, value], ...]}``.
``metadata_sha256`` is the SHA-256 of the canonical JSON of all the other
fields, so that a damaged header is detected like damaged arrays are.

A model in the middle of stochastic training (``partial_fit``, or
``solver="sgd"`` on a stream) also stores its optimiser state, so that a
loaded model continues exactly where it stopped: the float64 arrays
``sgd_w``, ``sgd_m``, ``sgd_v``, ``sgd_w_avg`` (those the optimiser uses, each
of shape (n_params,)) and the field ``"stochastic"``: the optimiser settings,
the step count, and the PCG64 generator's state (``bit_generator.state``,
plain integers; no other generator is accepted). A ``random_state`` that is a
generator object is stored as None: the saved state replaces it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import pathlib
import tempfile
import warnings
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import safetensors
import safetensors.numpy
from sklearn.utils.validation import check_is_fitted

from .._errors import ModelFileError, SoftmaxInputError
from .._version import __version__

if TYPE_CHECKING:
    from ..estimator import SoftmaxRegression

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load", "read_metadata", "save"]

FORMAT_NAME = "softmax-model"
FORMAT_VERSION = 1

_METADATA_KEY = "softmax"
_DIGEST_KEY = "metadata_sha256"
_MAX_HEADER_BYTES = 16 * 2**20  # a real header is a few kB; refuse to parse more
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "format_version": int,
    "library_version": str,
    "created": str,
    "estimator": str,
    "params": dict,
    "classes": dict,
    "feature_names": (list, type(None)),
    "n_features_in": int,
    "fitted": dict,
    "arrays": dict,
    "extra": (dict, type(None)),
}
# Present only for models with a stochastic training state (see the docstring).
_OPTIONAL_FIELD_TYPES: dict[str, type] = {"stochastic": dict}
_FLOAT_ARRAYS = ("coef_", "intercept_", "objective_history_")
_CLASS_KINDS = {"int": "iu", "float": "f", "bool": "b"}  # label dtype -> numpy kinds
_NON_FINITE = ("inf", "-inf", "nan")


class _Invalid(Exception):
    """What is wrong with a model file, as the end of a sentence."""


def save(
    model: SoftmaxRegression,
    path: str | os.PathLike,
    *,
    extra: dict[str, Any] | None = None,
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

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If `model` is not fitted.
    SoftmaxInputError
        If a parameter, the labels or `extra` cannot be stored, or the file
        cannot be written.
    """
    from ..estimator import SoftmaxRegression  # deferred: the estimator imports this module

    if not isinstance(model, SoftmaxRegression):
        raise TypeError(f"save() expects a SoftmaxRegression, not {type(model).__name__}.")
    check_is_fitted(model)
    arrays, metadata = _describe(model, extra)
    data = safetensors.numpy.save(arrays, metadata={_METADATA_KEY: _seal(metadata)})
    target = pathlib.Path(path)
    try:
        _write_atomically(target, data)
    except OSError as exc:
        raise SoftmaxInputError(
            f"Cannot write model file {os.fspath(path)}: {exc.strerror or exc}."
        ) from exc
    return target


def load(path: str | os.PathLike) -> SoftmaxRegression:
    """Read a model written by :func:`save`.

    Every array is checked against its SHA-256 and shape before use, and the
    metadata against its own checksum; nothing in the file is executed.

    Parameters
    ----------
    path : str or os.PathLike
        A model file.

    Returns
    -------
    SoftmaxRegression
        A fitted model, with ``coef_`` (k, d), ``intercept_`` (k,),
        ``classes_`` (k,), ``n_features_in_``, ``feature_names_in_`` (when
        fitted on named features), ``n_iter_``, ``converged_`` and
        ``objective_history_`` as saved.

    Raises
    ------
    ModelFileError
        If the file is missing, is not a softmax model file, is truncated or
        corrupted, or was written by a newer softmax.
    """
    from ..estimator import SoftmaxRegression  # deferred: the estimator imports this module

    metadata, arrays = _read_verified(path)
    params = metadata["params"]
    unknown = sorted(set(params) - set(SoftmaxRegression().get_params()))
    if unknown:
        raise ModelFileError(
            f"Model file {os.fspath(path)} was written by softmax "
            f"{metadata['library_version']} with parameter(s) {', '.join(unknown)} that this "
            f"softmax {__version__} does not know; upgrade softmax."
        )
    model = SoftmaxRegression(**params)
    classes = metadata["classes"]
    model.classes_ = arrays["classes_"] if "classes_" in arrays else np.array(classes["values"])
    model.coef_ = arrays["coef_"]
    model.intercept_ = arrays["intercept_"]
    model.objective_history_ = arrays["objective_history_"]
    model.n_features_in_ = metadata["n_features_in"]
    if metadata["feature_names"] is not None:
        model.feature_names_in_ = np.array(metadata["feature_names"], dtype=object)
    model.n_iter_ = metadata["fitted"]["n_iter_"]
    model.converged_ = metadata["fitted"]["converged_"]
    if "beta_" in metadata["fitted"]:
        model.beta_ = metadata["fitted"]["beta_"]
    if "stochastic" in metadata:
        model._sgd = _stochastic_run(metadata, arrays)
    return model


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Read the metadata of a model file, verified as :func:`load` does.

    Parameters
    ----------
    path : str or os.PathLike
        A model file.

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
    return _read_verified(path)[0]


# -- writing -------------------------------------------------------------------


def _describe(
    model: SoftmaxRegression, extra: dict[str, Any] | None
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
        name: _encode_or_fail(value, f"parameter {name}={value!r}") for name, value in params.items()
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
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "estimator": type(model).__name__,
        "params": encoded_params,
        "classes": {"dtype": label_dtype, "values": _encode(classes.tolist())},
        "feature_names": None if names is None else [str(n) for n in names],
        "n_features_in": int(model.n_features_in_),
        "fitted": {
            "n_iter_": int(model.n_iter_),
            "converged_": bool(model.converged_),
            # Only calibrated models carry it, so other files stay as they were.
            **({"beta_": float(model.beta_)} if hasattr(model, "beta_") else {}),
        },
        "arrays": {name: _array_entry(a) for name, a in arrays.items()},
        "extra": None if extra is None else _encode_or_fail(extra, "extra"),
    }
    run = getattr(model, "_sgd", None)
    if run is not None:
        run_arrays, run_fields = run.to_file()
        run_arrays = {name: _little_endian(a) for name, a in run_arrays.items()}
        arrays.update(run_arrays)
        metadata["arrays"].update({name: _array_entry(a) for name, a in run_arrays.items()})
        metadata["stochastic"] = _encode_or_fail(run_fields, "the stochastic training state")
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


def _encode(value: Any) -> Any:
    """Turn a value into plain JSON (see the module docstring)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise TypeError(type(value).__name__)


def _encode_or_fail(value: Any, what: str) -> Any:
    try:
        return _encode(value)
    except TypeError as exc:
        raise SoftmaxInputError(
            f"Cannot save {what}: a value of type {exc} cannot be stored in a model file."
        ) from exc


def _canonical(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _seal(metadata: dict[str, Any]) -> str:
    digest = hashlib.sha256(_canonical(metadata).encode()).hexdigest()
    return _canonical({**metadata, _DIGEST_KEY: digest})


def _write_atomically(target: pathlib.Path, data: bytes) -> None:
    # Temporary files are private (0600); give the model file the mode of the
    # file it replaces, or the usual 0644.
    mode = target.stat().st_mode & 0o777 if target.is_file() else 0o644
    handle = tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise


# -- reading -------------------------------------------------------------------


def _read_verified(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read, verify and decode a model file: (metadata, arrays)."""
    shown = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            return _parse(handle, os.fstat(handle.fileno()).st_size)
    except FileNotFoundError as exc:
        raise ModelFileError(f"Model file {shown} not found.") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(f"{shown} is a directory, not a model file.") from exc
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {shown}: {exc.strerror or exc}.") from exc
    except _Invalid as exc:
        raise ModelFileError(f"Model file {shown} {exc}.") from None


def _parse(handle: IO[bytes], size: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Check the framing, then the metadata, then the arrays, reading once."""
    if size == 0:
        raise _Invalid("is empty")
    if size < 8:
        raise _Invalid("is truncated")
    prefix = handle.read(8)
    header_size = int.from_bytes(prefix, "little")
    if not 2 <= header_size <= _MAX_HEADER_BYTES:
        raise _Invalid("is not a softmax model file (bad header)")
    header_bytes = handle.read(header_size)
    if header_bytes[:1] not in (b"", b"{"):
        raise _Invalid("is not a softmax model file (bad header)")
    if len(header_bytes) < header_size:
        raise _Invalid("is truncated")
    try:
        header = json.loads(header_bytes)
    except (ValueError, RecursionError):
        raise _Invalid("is corrupted (its header is not valid JSON)") from None
    if not isinstance(header, dict):
        raise _Invalid("is not a softmax model file (bad header)")

    metadata = _unseal(header.get("__metadata__"))
    data_size = size - 8 - header_size
    expected = _data_size(header)
    if data_size < expected:
        raise _Invalid("is truncated")
    if data_size > expected:
        raise _Invalid(f"is corrupted ({data_size - expected} unexpected bytes after the data)")
    try:
        arrays = safetensors.numpy.load(prefix + header_bytes + handle.read())
    except safetensors.SafetensorError as exc:
        raise _Invalid(f"is corrupted ({exc})") from None
    _check_arrays(metadata, arrays)
    return metadata, arrays


def _data_size(header: dict[str, Any]) -> int:
    """Bytes of array data that a safetensors header announces."""
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(_is_int(o) and o >= 0 for o in offsets)
        ):
            raise _Invalid(f"is corrupted (bad entry for array {name!r})")
        end = max(end, offsets[1])
    return end


def _unseal(safetensors_metadata: Any) -> dict[str, Any]:
    """Parse and check the softmax metadata; return it decoded."""
    text = (
        safetensors_metadata.get(_METADATA_KEY)
        if isinstance(safetensors_metadata, dict)
        else None
    )
    if not isinstance(text, str):
        raise _Invalid("is a safetensors file but not a softmax model file")
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError):
        raise _Invalid("is corrupted (its metadata is not valid JSON)") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise _Invalid("is not a softmax model file (bad header)")
    version = metadata.get("format_version")
    if not _is_int(version) or version < 1:
        raise _Invalid(f"is corrupted (format version {version!r})")
    if version > FORMAT_VERSION:
        raise _Invalid(
            f"was written by format version {version}; this softmax reads version "
            f"{FORMAT_VERSION}, upgrade softmax"
        )
    digest = metadata.pop(_DIGEST_KEY, None)
    # Compare the text too: damage that keeps the values (1e-06 -> 1E-06) is damage all the same.
    if digest != hashlib.sha256(_canonical(metadata).encode()).hexdigest() or text != _canonical(
        {**metadata, _DIGEST_KEY: digest}
    ):
        raise _Invalid("is corrupted: checksum mismatch for its metadata")
    _check_fields(metadata)
    try:
        for field in ("params", "classes", "extra"):
            metadata[field] = _decode(metadata[field])
    except (TypeError, ValueError):
        raise _Invalid("is corrupted (undecodable metadata)") from None
    _check_model_fields(metadata)
    return metadata


def _check_fields(metadata: dict[str, Any]) -> None:
    for key in metadata:
        if key in _OPTIONAL_FIELD_TYPES:
            if not isinstance(metadata[key], _OPTIONAL_FIELD_TYPES[key]):
                raise _Invalid(f"is corrupted: metadata {key!r} has the wrong type")
        elif key not in _FIELD_TYPES:
            raise _Invalid(f"is corrupted: unexpected metadata key {key!r}")
    for key, kind in _FIELD_TYPES.items():
        if key not in metadata:
            raise _Invalid(f"is corrupted: its metadata lacks {key!r}")
        value = metadata[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _Invalid(f"is corrupted: metadata {key!r} has the wrong type")


def _check_model_fields(metadata: dict[str, Any]) -> None:
    """Check the decoded fields that describe the model."""
    if metadata["estimator"] != "SoftmaxRegression":
        raise _Invalid(f"holds a {metadata['estimator']}, not a SoftmaxRegression")
    classes = metadata["classes"]
    if set(classes) != {"dtype", "values"} or not isinstance(classes["values"], list):
        raise _Invalid("is corrupted: bad 'classes' metadata")
    values = classes["values"]
    wanted = {"str": str, "int": int, "float": float, "bool": bool}.get(classes["dtype"])
    if wanted is None or not all(type(v) is wanted for v in values):
        raise _Invalid("is corrupted: bad 'classes' metadata")
    if len(values) < 2 or len(set(values)) != len(values):
        raise _Invalid("is corrupted: it needs at least two distinct classes")
    d = metadata["n_features_in"]
    names = metadata["feature_names"]
    if d < 1 or (
        names is not None and (len(names) != d or not all(isinstance(n, str) for n in names))
    ):
        raise _Invalid("is corrupted: inconsistent feature names or count")
    fitted = metadata["fitted"]
    beta = fitted.get("beta_", 1.0)
    if not (
        set(fitted) - {"beta_"} == {"n_iter_", "converged_"}
        and _is_int(fitted["n_iter_"])
        and fitted["n_iter_"] >= 0
        and isinstance(fitted["converged_"], bool)
        and isinstance(beta, float)
        and 0 < beta < math.inf
    ):
        raise _Invalid("is corrupted: bad 'fitted' metadata")


def _check_arrays(metadata: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Check names, dtypes, shapes and checksums of the arrays read."""
    label_dtype = metadata["classes"]["dtype"]
    expected = set(_FLOAT_ARRAYS) | ({"classes_"} if label_dtype != "str" else set())
    if "stochastic" in metadata:
        from ..backends.stream import STATE_ARRAYS

        expected |= {f"sgd_{name}" for name in STATE_ARRAYS}
    described = metadata["arrays"]
    for name in sorted(set(arrays) | set(described)):
        if name not in expected:
            raise _Invalid(f"is corrupted: unexpected array {name!r}")
        if name not in arrays or name not in described:
            raise _Invalid(f"is corrupted: array {name!r} is missing")
        entry, array = described[name], arrays[name]
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "sha256"}:
            raise _Invalid(f"is corrupted: bad description of array {name!r}")
        if entry["dtype"] != str(array.dtype) or entry["shape"] != list(array.shape):
            raise _Invalid(f"is corrupted: dtype or shape mismatch for {name}")
        if entry["sha256"] != hashlib.sha256(array.tobytes()).hexdigest():
            raise _Invalid(f"is corrupted: checksum mismatch for {name}")

    coef, intercept, history = (arrays[n] for n in _FLOAT_ARRAYS)
    if any(a.dtype.kind != "f" for a in (coef, intercept, history)):
        raise _Invalid("is corrupted: coefficients must be floating point")
    k = len(metadata["classes"]["values"])
    d = metadata["n_features_in"]
    if coef.shape != (k, d) or intercept.shape != (k,) or history.ndim != 1:
        raise _Invalid("is corrupted: array shapes do not match the classes and features")
    if "classes_" in arrays:
        classes = arrays["classes_"]
        if classes.dtype.kind not in _CLASS_KINDS[label_dtype] or classes.tolist() != (
            metadata["classes"]["values"]
        ):
            raise _Invalid("is corrupted: classes_ does not match its metadata")
    if "stochastic" in metadata:
        _stochastic_run(metadata, arrays)  # checks it


def _stochastic_run(metadata: dict[str, Any], arrays: dict[str, np.ndarray]):
    """The saved :class:`softmax.backends.stream.StochasticRun`, checked against the model."""
    from ..backends.stream import StochasticRun

    k = len(metadata["classes"]["values"])
    n_params = k * (metadata["n_features_in"] + int(bool(metadata["params"].get("fit_intercept"))))
    try:
        fields = _decode(metadata["stochastic"])
        sgd_arrays = {name: a for name, a in arrays.items() if name.startswith("sgd_")}
        return StochasticRun.from_file(fields, sgd_arrays, n_params)
    except (TypeError, ValueError, KeyError, OverflowError):
        raise _Invalid("is corrupted: bad stochastic training state") from None


def _decode(value: Any) -> Any:
    """Inverse of :func:`_encode`; raises ValueError on malformed tags."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.keys() == {"$float"}:
        if value["$float"] not in _NON_FINITE:
            raise ValueError(value)
        return float(value["$float"])
    if value.keys() == {"$dict"}:
        pairs = _decode(value["$dict"])
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise ValueError(value)
        return {key: item for key, item in pairs}  # unhashable keys raise TypeError
    return {k: _decode(v) for k, v in value.items()}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
