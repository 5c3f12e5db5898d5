"""Fused loss, gradient and Hessian-product kernels in C (``fused.c``), through ctypes.

Dense rows with few classes get one pass per row block: scores, softmax,
loss and the gradient's rank-one updates with the classes along the vector
lanes and the block in registers (see ``fused_body.h``). At 100,000 x 100,
10 classes, on two threads, an evaluation took 8.5 ms in float64 and 5.9 ms
in float32 where the Numba kernels of :mod:`softmax.loss.compiled` took 12.1
and 8.7 ms (AVX-512; ``benchmarks/results/eval-k10-2026-12-02k.md``).

The library ``_fused.so`` is compiled by ``hatch_build.py`` when the package
is installed (or by ``make``); without it, or with ``SOFTMAX_NATIVE=off``,
:mod:`softmax.loss.kernels` falls back to Numba or NumPy. The instruction
set is the CPU's widest of AVX-512, AVX2 with FMA and the baseline (16-byte
vectors, any architecture); ``SOFTMAX_NATIVE=avx2`` or ``baseline`` caps it.

Conventions are those of :func:`softmax.loss.kernels.loss_gradient`; the
workers see one contiguous range of rows each and return float64
accumulators, transposed views of shape ``(n_classes, n_features)``.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

__all__ = [
    "ISAS",
    "available",
    "hessian_product_worker",
    "isa",
    "loss_gradient_worker",
    "max_classes",
]

ISAS = ("baseline", "avx2", "avx512")
_LIBRARY = Path(__file__).with_name("_fused.so")
# Vectors per row the kernels are built for (fused_body.h, MAX_V).
_MAX_VECTORS = 4


class _Args(ctypes.Structure):
    """``sm_args`` of fused.c: one call over one chunk of rows."""

    _fields_ = [
        ("X", ctypes.c_void_p),
        ("n", ctypes.c_int64),
        ("d", ctypes.c_int64),
        ("Wt", ctypes.c_void_p),
        ("kp", ctypes.c_int64),
        ("bias", ctypes.c_void_p),
        ("codes", ctypes.c_void_p),
        ("Y", ctypes.c_void_p),
        ("k", ctypes.c_int64),
        ("sw", ctypes.c_void_p),
        ("proba", ctypes.c_void_p),
        ("ldp", ctypes.c_int64),
        ("offset", ctypes.c_int64),
        ("acc", ctypes.c_void_p),
        ("grad", ctypes.c_void_p),
        ("gsum", ctypes.c_void_p),
    ]


def _load():
    """``(library, instruction set)``, or ``(None, None)`` when off or not built."""
    wanted = os.environ.get("SOFTMAX_NATIVE", "").strip().lower()
    if wanted in ("0", "off", "no", "false") or not _LIBRARY.exists():
        return None, None
    if wanted and wanted not in ISAS:
        raise ValueError(f"SOFTMAX_NATIVE must be off or one of {ISAS}, got {wanted!r}")
    try:
        lib = ctypes.CDLL(str(_LIBRARY))
    except OSError:  # built for another platform, or damaged: the other paths serve
        return None, None
    lib.sm_isa.restype = ctypes.c_int
    lib.sm_lanes.restype = ctypes.c_int
    lib.sm_lanes.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.sm_loss.restype = ctypes.c_double
    lib.sm_loss.argtypes = [ctypes.POINTER(_Args), ctypes.c_int, ctypes.c_int]
    lib.sm_hessp.restype = None
    lib.sm_hessp.argtypes = [ctypes.POINTER(_Args), ctypes.c_int, ctypes.c_int]
    best = lib.sm_isa()
    level = min(best, ISAS.index(wanted)) if wanted else best
    return lib, level


_lib, _isa = _load()


def available() -> bool:
    """Whether the compiled library is loaded (built, and not switched off)."""
    return _lib is not None


def isa() -> str | None:
    """The instruction set the kernels use, one of :data:`ISAS`, or None when unavailable."""
    return None if _isa is None else ISAS[_isa]


def _lanes(dtype) -> int:
    return _lib.sm_lanes(int(dtype == np.float32), _isa)


def max_classes(dtype) -> int:
    """The most classes the kernels take in ``dtype`` (0 when unavailable)."""
    return 0 if _lib is None else _MAX_VECTORS * _lanes(np.dtype(dtype))


def _padded(W, b, fill, dtype):
    """``(W.T, b)`` with the classes padded to a whole number of vectors, in ``dtype``."""
    k, d = W.shape
    if k > max_classes(dtype):
        raise ValueError(f"the C kernels take at most {max_classes(dtype)} classes, got {k}")
    lanes = _lanes(dtype)
    kp = -(-k // lanes) * lanes
    Wt = np.zeros((d, kp), dtype)
    Wt[:, :k] = W.T
    bias = np.full(kp, fill, dtype)
    bias[:k] = 0 if b is None else b
    return Wt, bias


def _chunk(X, Wt, bias, sw, k, s, e, gradient):
    """The arguments of one call over rows ``s:e``, and the arrays they point into."""
    d, kp = Wt.shape
    f32 = X.dtype == np.float32
    grad = np.zeros((d, kp)) if gradient else None
    acc = np.zeros((d, kp), X.dtype) if gradient and f32 else grad
    gsum = np.zeros(kp)
    args = _Args(
        X=X[s:e].ctypes.data if e > s else X.ctypes.data,
        n=e - s,
        d=d,
        Wt=Wt.ctypes.data,
        kp=kp,
        bias=bias.ctypes.data,
        k=k,
        sw=None if sw is None else sw[s:e].ctypes.data,
        acc=None if acc is None else acc.ctypes.data,
        grad=None if grad is None else grad.ctypes.data,
        gsum=gsum.ctypes.data,
    )
    return args, (acc, grad, gsum)


def _prepared(X, W, b, fill, sw):
    """What both workers pass every chunk: ``(X, k, f32, W.T padded, b padded, weights)``.

    ``X`` as a plain C-contiguous ndarray (np.memmap is a subclass); weights
    None for all 1 (the kernels read NULL so, with no array of ones).
    """
    X = np.ascontiguousarray(X)
    Wt, bias = _padded(W, b, fill, X.dtype)
    weights = None if sw is None else np.ascontiguousarray(sw, X.dtype)
    return X, W.shape[0], int(X.dtype == np.float32), Wt, bias, weights


def loss_gradient_worker(X, W, b, y, sw, gradient, proba):
    """``worker(blocks) -> (loss, grad, gsum)`` over the rows the blocks span.

    Arguments as prepared by :func:`softmax.loss.kernels.loss_gradient` (``b``
    and ``sw`` may be None; ``y`` codes or a target matrix; ``proba`` an
    ``(n_classes, n_samples)`` array to fill, or None).
    """
    X, k, f32, Wt, bias, weights = _prepared(X, W, b, -np.inf, sw)
    soft = y.ndim == 2
    y = np.ascontiguousarray(y, X.dtype if soft else np.int64)

    def worker(blocks):
        s, e = blocks[0][0], blocks[-1][1]
        args, (_, grad, gsum) = _chunk(X, Wt, bias, weights, k, s, e, gradient)
        if soft:
            args.Y = y[s:e].ctypes.data
        else:
            args.codes = y[s:e].ctypes.data
        if proba is not None:
            args.proba, args.ldp, args.offset = proba.ctypes.data, proba.shape[1], s
        loss = _lib.sm_loss(ctypes.byref(args), f32, _isa) if e > s else 0.0
        return loss, None if grad is None else grad[:, :k].T, gsum[:k]

    return worker


def hessian_product_worker(X, proba, V, vb, sw):
    """``worker(blocks) -> (grad, gsum)``, the Hessian product over the rows the blocks span."""
    X, k, f32, Vt, bias, weights = _prepared(X, V, vb, 0, sw)
    proba = np.ascontiguousarray(proba, X.dtype)

    def worker(blocks):
        s, e = blocks[0][0], blocks[-1][1]
        args, (_, grad, gsum) = _chunk(X, Vt, bias, weights, k, s, e, True)
        args.proba, args.ldp, args.offset = proba.ctypes.data, proba.shape[1], s
        if e > s:
            _lib.sm_hessp(ctypes.byref(args), f32, _isa)
        return grad[:, :k].T, gsum[:k]

    return worker
