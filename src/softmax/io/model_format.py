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
     "fitted": {"n_iter_": int, "converged_": bool, "beta_": float (if calibrated),
                "offset_used_": true (if fitted with an offset)},
     "arrays": {name: {"dtype": "float64", "shape": [...], "sha256": hex}},
     "extra": {...} | null,
     "stochastic": {"config": {...}, "t": int, "l1": float, "rng": {...}} (optional),
     "encoding": {"kind": "columns" | "formula", ...} (optional),
     "metadata_sha256": hex}

The arrays are ``coef_`` (k, d), ``intercept_`` (k,), ``objective_history_``
(n_iter,) and, for numeric labels only, ``classes_`` (k,). JSON has no
infinities or NaN and only string keys, so a non-finite float is written as
``{"$float": "inf"}`` and a dict with other keys (such as a ``class_weight``
keyed by integer labels) as ``{"$dict": [[key, value], ...]}``.
``metadata_sha256`` is the SHA-256 of the canonical JSON of all the other
fields, so that a damaged header is detected like damaged arrays are.

A model whose features are encoded from a table's columns stores its
``feature_encoding_`` under ``"encoding"`` (see :mod:`softmax.model.design`):
``{"kind": "columns", "columns": [{"name": str, "kind": "numeric" | "bool" |
"category", "categories": [...] | null}, ...]}`` for one-hot encoded columns,
or ``{"kind": "formula", "formula": str, "target": str | null, "variables":
[...], "columns": [...], "intercept": bool, "factors": [[expression, kind,
categories | null], ...], "transform_state": {...}}`` for a formula (what
formulaic needs to rebuild the design; :mod:`softmax.model.formula`). Then
``feature_names`` and ``n_features_in`` are the input columns, and the second
dimension of ``coef_`` is the number of encoded features. Files with it have
``format_version`` 2, so that earlier versions of softmax (which read version
1) say to upgrade; files without it hold models of numeric features and stay
version 1, readable by every version. A model fitted with an ``offset``
(:mod:`softmax.model.offset`) stores ``"offset_used_": true`` and has
``format_version`` 3, so that earlier readers, which would predict without
the offset, say to upgrade.

A model in the middle of stochastic training (``partial_fit``, or
``solver="sgd"`` on a stream) also stores its optimiser state, so that a
loaded model continues exactly where it stopped: the float64 arrays
``sgd_w``, ``sgd_m``, ``sgd_v``, ``sgd_w_avg`` (those the optimiser uses, each
of shape (n_params,)) and the field ``"stochastic"``: the optimiser settings,
the step count (settings written before ``asgd_momentum`` existed read as
0, plain averaged SGD, so older files continue exactly), and the PCG64 generator's state (``bit_generator.state``,
plain integers; no other generator is accepted), as the model's
``sgd_state_`` writes them (:meth:`softmax.backends.stream.StochasticRun.to_file`).
A ``random_state`` that is a generator object is stored as None: the saved
state replaces it.

**What a reader checks.** The framing, the seal, the field types, then the
numbers, and only what the writer guarantees (a writer refuses to write a
file that a reader would refuse): ``coef_``, ``intercept_`` (float32 or
float64, the same dtype), the ``sgd_*`` arrays and ``beta_`` (> 0) are
finite; ``objective_history_`` (float64) holds no infinity (NaN is the mean
of an iteration that saw no sample weight, so it stays); shapes match the
classes and features; ``n_iter_`` fits an int32. ``n_iter_`` is not compared
with the history's length: solvers that stop early count differently. JSON
nested more than :data:`MAX_DEPTH` (64) levels deep is refused before it is
parsed (the writer refuses such an ``extra``), and ``NaN``, ``Infinity`` and
numbers too large for a float while it is.

**What the digests do not catch.** The SHA-256 digests detect damage (a
flipped bit, a truncated copy, a hand edit that forgot to re-seal), not
tampering: SHA-256 needs no secret, so whoever edits a file can recompute
every digest and the file is sealed again. Only a signature with a key the
editor does not hold tells a genuine file from a forged one.

**Signed files.** ``save(..., key=...)`` adds a second safetensors metadata
key, ``"softmax_hmac"``: 64 lowercase hex digits, the HMAC-SHA256 under the
key of *every byte of the file* (the 8-byte header size, the header JSON with
its padding, the array data), computed with those 64 digits written as
``"0"`` and stored in their place (a fixed width, so no offset moves). The
field sits in the safetensors header, so a signed file is still a valid
safetensors file, and the format version is unchanged: readers that predate
signatures, and readers given no key, ignore the field and check the digests
only. A reader given a key (``load(..., key=...)``) checks the HMAC (with
:func:`hmac.compare_digest`) before it parses the metadata, and refuses a
file that is not signed or whose HMAC does not match. Loading a signed file
without a key does not warn: a forger would simply remove the field, so only
a reader who asks for the key is protected, and such a reader must always
pass it.

This module reads and checks the container (its framing, the seal of the
metadata, field types, the JSON encoding of values, the signature);
:mod:`softmax.io.model_file` turns a model into arrays and metadata and back,
and checks what they say.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
from collections.abc import Callable
from typing import IO, Any

import numpy as np
import safetensors
import safetensors.numpy

from .._errors import ModelFileError, SoftmaxInputError

__all__ = [
    "DIGEST_KEY", "ENCODING_FORMAT_VERSION", "FORMAT_NAME", "FORMAT_VERSION", "MAX_DEPTH",
    "METADATA_KEY", "PLAIN_FORMAT_VERSION", "SIGNATURE_KEY",
    "Invalid", "decode", "encode", "encode_or_fail", "is_int", "read_verified", "seal", "to_bytes",
]  # fmt: skip

FORMAT_NAME = "softmax-model"
#: The newest format version, which this softmax reads and writes: 3 added "offset_used_".
FORMAT_VERSION = 3
#: The version of files with "encoding" (and no offset): 2 added it.
ENCODING_FORMAT_VERSION = 2
#: The version of files without "encoding": version 1, which every softmax reads.
PLAIN_FORMAT_VERSION = 1

METADATA_KEY = "softmax"
DIGEST_KEY = "metadata_sha256"
SIGNATURE_KEY = "softmax_hmac"
#: How deeply JSON in a model file may nest; a real file nests about 5 levels.
MAX_DEPTH = 64
_MAX_HEADER_BYTES = 16 * 2**20  # a real header is a few kB; refuse to parse more
_UNSIGNED = b"0" * 64  # the HMAC's place while it is computed
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_NESTING = np.zeros(256, np.int32)  # byte -> change of depth outside strings
_NESTING[list(b"[{")], _NESTING[list(b"]}")] = 1, -1
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
# Present only for models with a stochastic training state, or encoded features (see above).
_OPTIONAL_FIELD_TYPES: dict[str, type] = {"stochastic": dict, "encoding": dict}
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
    except RecursionError:  # a value that contains itself
        raise SoftmaxInputError(
            f"Cannot save {what}: it nests more than {MAX_DEPTH} levels deep."
        ) from None


def _canonical(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), allow_nan=False)


def seal(metadata: dict[str, Any]) -> str:
    """The metadata as canonical JSON with its SHA-256 under ``metadata_sha256``."""
    digest = hashlib.sha256(_canonical(metadata).encode()).hexdigest()
    return _canonical({**metadata, DIGEST_KEY: digest})


def to_bytes(
    arrays: dict[str, np.ndarray], metadata: dict[str, Any], key: bytes | str | None = None
) -> bytes:
    """The content of a model file: the arrays and the sealed metadata, signed with ``key``.

    Raises
    ------
    SoftmaxInputError
        If the metadata nests more than :data:`MAX_DEPTH` levels deep (a
        reader would refuse it) or ``key`` is empty.
    TypeError
        If ``key`` is neither bytes nor str.
    """
    secret = None if key is None else _key_bytes(key)
    text = seal(metadata)
    if _depth(text.encode()) > MAX_DEPTH:
        raise SoftmaxInputError(
            f"Cannot save the model: its metadata (extra?) nests more than {MAX_DEPTH} levels deep."
        )
    if secret is None:
        return safetensors.numpy.save(arrays, metadata={METADATA_KEY: text})
    data = safetensors.numpy.save(
        arrays, metadata={METADATA_KEY: text, SIGNATURE_KEY: _UNSIGNED.decode()}
    )
    # The placeholder is found once: quotes inside the sealed text are escaped.
    start = data.index(_signature_field(_UNSIGNED)) + len(_signature_field(b"")) - 1
    tag = hmac.new(secret, data, hashlib.sha256).hexdigest().encode()
    return data[:start] + tag + data[start + len(tag) :]


def _key_bytes(key: bytes | str) -> bytes:
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"key must be bytes or str, not {type(key).__name__}.")
    if not key:
        raise SoftmaxInputError("The model-file key is empty; use a long random key.")
    return bytes(key)


def _signature_field(tag: bytes) -> bytes:
    """The signature as it appears in the header JSON (safetensors writes it compact)."""
    return b'"' + SIGNATURE_KEY.encode() + b'":"' + tag + b'"'


def _depth(text: bytes) -> int:
    """How deeply a JSON text's arrays and objects nest, found without parsing it.

    Brackets inside strings do not count; a quote opens or closes a string
    unless an odd run of backslashes precedes it. Vectorised, in linear time
    (a hostile 16 MB header of quotes or brackets costs a few array passes).
    """
    codes = np.frombuffer(text, np.uint8)
    index = np.arange(len(codes), dtype=np.int32)
    # The last byte at or before each position that is not a backslash.
    last_plain = np.maximum.accumulate(np.where(codes != ord("\\"), index, -1))
    escaped = np.zeros(len(codes), bool)
    escaped[1:] = (index[:-1] - last_plain[:-1]) % 2 == 1
    in_string = np.cumsum((codes == ord('"')) & ~escaped, dtype=np.int32) % 2 == 1
    steps = np.where(in_string, 0, _NESTING[codes])
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: the writer never writes it
        raise ValueError(text)
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON


def _load_json(text: str | bytes, what: str) -> Any:
    """Parse JSON from a file, refusing deep nesting first (it would exhaust the stack)."""
    # surrogatepass: JSON may spell a lone surrogate ("\ud800"), which UTF-8 cannot.
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if _depth(raw) > MAX_DEPTH:
        raise Invalid(f"is corrupted (its {what} nests more than {MAX_DEPTH} levels deep)")
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # RecursionError: a last resort, see _depth
        raise Invalid(f"is corrupted (its {what} is not valid JSON)") from None


# -- reading -------------------------------------------------------------------


def read_verified(
    path: str | os.PathLike,
    check_fields: Check,
    check_arrays: Check,
    key: bytes | str | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read, verify and decode a model file: (metadata, arrays).

    Parameters
    ----------
    path : str or os.PathLike
    check_fields : callable
        ``check_fields(metadata, None)`` checks the decoded metadata, before
        the arrays are decoded.
    check_arrays : callable
        ``check_arrays(metadata, arrays)`` checks the arrays read.
        Both raise :class:`Invalid` with what is wrong.
    key : bytes or str, optional
        Check the file's HMAC with this key (a str is encoded as UTF-8), and
        refuse the file unless it was signed with it.

    Raises
    ------
    ModelFileError
        Naming the file and what is wrong with it.
    SoftmaxInputError
        If ``key`` is empty.
    TypeError
        If ``key`` is neither bytes nor str.
    """
    secret = None if key is None else _key_bytes(key)
    shown = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return _parse(handle, size, check_fields, check_arrays, secret)
    except FileNotFoundError as exc:
        raise ModelFileError(f"Model file {shown} not found.") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(f"{shown} is a directory, not a model file.") from exc
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {shown}: {exc.strerror or exc}.") from exc
    except Invalid as exc:
        raise ModelFileError(f"Model file {shown} {exc}.") from None


def _parse(
    handle: IO[bytes], size: int, check_fields: Check, check_arrays: Check, key: bytes | None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Check the framing, the signature, the metadata, then the arrays, reading once."""
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
    header = _load_json(header_bytes, "header")
    if not isinstance(header, dict):
        raise Invalid("is not a softmax model file (bad header)")
    safetensors_metadata = header.get("__metadata__")
    if not isinstance(safetensors_metadata, dict):
        raise Invalid("is a safetensors file but not a softmax model file")

    data_size = size - 8 - header_size
    expected = _data_size(header)
    if data_size < expected:
        raise Invalid("is truncated")
    if data_size > expected:
        raise Invalid(f"is corrupted ({data_size - expected} unexpected bytes after the data)")
    content = prefix + header_bytes + handle.read()
    if key is not None:
        _check_signature(content, safetensors_metadata.get(SIGNATURE_KEY), key)
    metadata = _unseal(safetensors_metadata.get(METADATA_KEY))
    check_fields(metadata, None)
    try:
        arrays = safetensors.numpy.load(content)
    except safetensors.SafetensorError as exc:
        raise Invalid(f"is corrupted ({exc})") from None
    check_arrays(metadata, arrays)
    return metadata, arrays


def _check_signature(content: bytes, tag: Any, key: bytes) -> None:
    """Check the HMAC of the whole file (see the module docstring)."""
    if tag is None:
        raise Invalid("is not signed, so it cannot be checked with a key")
    if not isinstance(tag, str) or not _HEX_DIGEST.fullmatch(tag):
        raise Invalid("was not signed with this key (its signature is malformed)")
    header_end = 8 + int.from_bytes(content[:8], "little")
    field = _signature_field(tag.encode())
    if content.count(field, 8, header_end) != 1:
        raise Invalid("was not signed with this key (its signature is malformed)")
    start = content.index(field, 8, header_end) + len(_signature_field(b"")) - 1
    unsigned = content[:start] + _UNSIGNED + content[start + len(_UNSIGNED) :]
    if not hmac.compare_digest(hmac.new(key, unsigned, hashlib.sha256).hexdigest(), tag):
        raise Invalid("was not signed with this key, or was changed after it was signed")


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


def _unseal(text: Any) -> dict[str, Any]:
    """Parse and check the softmax metadata; return it decoded."""
    if not isinstance(text, str):
        raise Invalid("is a safetensors file but not a softmax model file")
    metadata = _load_json(text, "metadata")
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise Invalid("is not a softmax model file (bad header)")
    version = metadata.get("format_version")
    if not is_int(version) or version < 1:
        raise Invalid(f"is corrupted (format version {version!r})")
    if version > FORMAT_VERSION:
        raise Invalid(
            f"was written by format version {version}; this softmax reads versions up to "
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
    # A tag in the place of a whole field ({"$float": "inf"}) decodes to another type.
    if not (
        all(isinstance(metadata[field], dict) for field in ("params", "classes"))
        and all(isinstance(name, str) for name in metadata["params"])
        and isinstance(metadata["extra"], (dict, type(None)))
    ):
        raise Invalid("is corrupted (undecodable metadata)")
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
