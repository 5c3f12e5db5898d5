"""The model-file format: a safetensors file whose metadata is one sealed JSON document.

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
plain integers; no other generator is accepted), as the model's
``sgd_state_`` writes them (:meth:`softmax.backends.stream.StochasticRun.to_file`).
A ``random_state`` that is a generator object is stored as None: the saved
state replaces it.

This module reads and checks the container (its framing, the seal of the
metadata, field types, the JSON encoding of values); :mod:`softmax.io.model_file`
turns a model into arrays and metadata and back, and checks what they say.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from typing import IO, Any

import numpy as np
import safetensors
import safetensors.numpy

from .._errors import ModelFileError, SoftmaxInputError

__all__ = [
    "DIGEST_KEY", "FORMAT_NAME", "FORMAT_VERSION", "METADATA_KEY", "Invalid", "decode",
    "encode", "encode_or_fail", "is_int", "read_verified", "seal",
]  # fmt: skip

FORMAT_NAME = "softmax-model"
FORMAT_VERSION = 1

METADATA_KEY = "softmax"
DIGEST_KEY = "metadata_sha256"
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
_NON_FINITE = ("inf", "-inf", "nan")


class Invalid(Exception):
    """What is wrong with a model file, as the end of a sentence."""


#: A check of a model file's content: raises :class:`Invalid`.
Check = Callable[[dict[str, Any], "dict[str, np.ndarray] | None"], None]


def encode(value: Any) -> Any:
    """Turn a value into plain JSON (see the module docstring); TypeError if it cannot be."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(type(value).__name__)


def encode_or_fail(value: Any, what: str) -> Any:
    """:func:`encode`, or a :class:`SoftmaxInputError` naming ``what`` cannot be saved."""
    try:
        return encode(value)
    except TypeError as exc:
        raise SoftmaxInputError(
            f"Cannot save {what}: a value of type {exc} cannot be stored in a model file."
        ) from exc


def _canonical(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), allow_nan=False)


def seal(metadata: dict[str, Any]) -> str:
    """The metadata as canonical JSON with its SHA-256 under ``metadata_sha256``."""
    digest = hashlib.sha256(_canonical(metadata).encode()).hexdigest()
    return _canonical({**metadata, DIGEST_KEY: digest})


# -- reading -------------------------------------------------------------------


def read_verified(
    path: str | os.PathLike, check_fields: Check, check_arrays: Check
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read, verify and decode a model file: (metadata, arrays).

    Parameters
    ----------
    path : str or os.PathLike
    check_fields : callable
        ``check_fields(metadata, None)`` checks the decoded metadata, before
        the arrays are read.
    check_arrays : callable
        ``check_arrays(metadata, arrays)`` checks the arrays read.
        Both raise :class:`Invalid` with what is wrong.

    Raises
    ------
    ModelFileError
        Naming the file and what is wrong with it.
    """
    shown = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            return _parse(handle, os.fstat(handle.fileno()).st_size, check_fields, check_arrays)
    except FileNotFoundError as exc:
        raise ModelFileError(f"Model file {shown} not found.") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(f"{shown} is a directory, not a model file.") from exc
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {shown}: {exc.strerror or exc}.") from exc
    except Invalid as exc:
        raise ModelFileError(f"Model file {shown} {exc}.") from None


def _parse(
    handle: IO[bytes], size: int, check_fields: Check, check_arrays: Check
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Check the framing, then the metadata, then the arrays, reading once."""
    if size == 0:
        raise Invalid("is empty")
    if size < 8:
        raise Invalid("is truncated")
    prefix = handle.read(8)
    header_size = int.from_bytes(prefix, "little")
    if not 2 <= header_size <= _MAX_HEADER_BYTES:
        raise Invalid("is not a softmax model file (bad header)")
    header_bytes = handle.read(header_size)
    if header_bytes[:1] not in (b"", b"{"):
        raise Invalid("is not a softmax model file (bad header)")
    if len(header_bytes) < header_size:
        raise Invalid("is truncated")
    try:
        header = json.loads(header_bytes)
    except (ValueError, RecursionError):
        raise Invalid("is corrupted (its header is not valid JSON)") from None
    if not isinstance(header, dict):
        raise Invalid("is not a softmax model file (bad header)")

    metadata = _unseal(header.get("__metadata__"))
    check_fields(metadata, None)
    data_size = size - 8 - header_size
    expected = _data_size(header)
    if data_size < expected:
        raise Invalid("is truncated")
    if data_size > expected:
        raise Invalid(f"is corrupted ({data_size - expected} unexpected bytes after the data)")
    try:
        arrays = safetensors.numpy.load(prefix + header_bytes + handle.read())
    except safetensors.SafetensorError as exc:
        raise Invalid(f"is corrupted ({exc})") from None
    check_arrays(metadata, arrays)
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
            and all(is_int(o) and o >= 0 for o in offsets)
        ):
            raise Invalid(f"is corrupted (bad entry for array {name!r})")
        end = max(end, offsets[1])
    return end


def _unseal(safetensors_metadata: Any) -> dict[str, Any]:
    """Parse and check the softmax metadata; return it decoded."""
    text = (
        safetensors_metadata.get(METADATA_KEY)
        if isinstance(safetensors_metadata, dict)
        else None
    )
    if not isinstance(text, str):
        raise Invalid("is a safetensors file but not a softmax model file")
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError):
        raise Invalid("is corrupted (its metadata is not valid JSON)") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise Invalid("is not a softmax model file (bad header)")
    version = metadata.get("format_version")
    if not is_int(version) or version < 1:
        raise Invalid(f"is corrupted (format version {version!r})")
    if version > FORMAT_VERSION:
        raise Invalid(
            f"was written by format version {version}; this softmax reads version "
            f"{FORMAT_VERSION}, upgrade softmax"
        )
    digest = metadata.pop(DIGEST_KEY, None)
    # Compare the text too: damage that keeps the values (1e-06 -> 1E-06) is damage all the same.
    if digest != hashlib.sha256(_canonical(metadata).encode()).hexdigest() or text != _canonical(
        {**metadata, DIGEST_KEY: digest}
    ):
        raise Invalid("is corrupted: checksum mismatch for its metadata")
    _check_fields(metadata)
    try:
        for field in ("params", "classes", "extra"):
            metadata[field] = decode(metadata[field])
    except (TypeError, ValueError):
        raise Invalid("is corrupted (undecodable metadata)") from None
    return metadata


def _check_fields(metadata: dict[str, Any]) -> None:
    for key in metadata:
        if key in _OPTIONAL_FIELD_TYPES:
            if not isinstance(metadata[key], _OPTIONAL_FIELD_TYPES[key]):
                raise Invalid(f"is corrupted: metadata {key!r} has the wrong type")
        elif key not in _FIELD_TYPES:
            raise Invalid(f"is corrupted: unexpected metadata key {key!r}")
    for key, kind in _FIELD_TYPES.items():
        if key not in metadata:
            raise Invalid(f"is corrupted: its metadata lacks {key!r}")
        value = metadata[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Invalid(f"is corrupted: metadata {key!r} has the wrong type")


def decode(value: Any) -> Any:
    """Inverse of :func:`encode`; raises ValueError on malformed tags."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.keys() == {"$float"}:
        if value["$float"] not in _NON_FINITE:
            raise ValueError(value)
        return float(value["$float"])
    if value.keys() == {"$dict"}:
        pairs = decode(value["$dict"])
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise ValueError(value)
        return {key: item for key, item in pairs}  # unhashable keys raise TypeError
    return {k: decode(v) for k, v in value.items()}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
