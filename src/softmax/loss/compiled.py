"""Numba kernels: one fused pass over dense rows for the loss, gradient and Hessian products.

Imported lazily by :mod:`softmax.loss.kernels`, only for problems large enough
to repay compilation (a few seconds per kernel and dtype the first time;
``cache=True`` keeps the machine code on disk for later processes).

Why compiled code: the NumPy block path is bound by two small BLAS products
per block (``k`` is ~10, so BLAS packs each block of ``X`` for only ``k``
uses of every element, ~45% of peak) plus several passes over the scores.
Here each pair of rows is loaded once, scored against four classes at a
time (eight running dot products share the loads; with two classes at a
time a Hessian product took 13.7 ms instead of 12.5), turned into the
gradient on its scores in registers, and added to the gradient
accumulator while it is still in L1: measured 1.4-1.7x less time than the
NumPy block path at n=100,000, d=100, k=10.
(Four rows at a time was no faster: 4% better in float32, 12% worse in
float64; measured again with four classes at a time, 7% worse in both.)

For many classes the fused kernels lose to BLAS; there
:func:`softmax_block` and :func:`hessian_block` do only the element-wise
work between two BLAS products (see :mod:`softmax.loss.kernels`).

Conventions are those of :func:`softmax.loss.kernels.loss_gradient`: the
kernels see one contiguous range of rows, ``offset`` is its first row in the
full problem (for the ``(n_classes, n_samples)`` probability array), the
gradient is accumulated into float64 arrays owned by the caller, and loss
values are accumulated in float64. Rows are taken in pairs; an odd last row
is paired with itself and the copy given weight 0.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

# Reassociation lets LLVM vectorise the dot products and sums; no flag that
# assumes finite values, so infinities and NaN propagate as in NumPy.
_FASTMATH = {"reassoc", "contract", "nsz"}
# Rows between flushes of the working-precision accumulator into float64.
_FLUSH_ROWS = 256

_jit = numba.njit(nogil=True, cache=True, fastmath=_FASTMATH, boundscheck=False)


@_jit
def _scores2(x0, x1, W, b, z):
    """``z[0] = W @ x0 + b`` and ``z[1] = W @ x1 + b``, four classes at a time."""
    k, d = W.shape
    c = 0
    while c + 3 < k:
        w0 = W[c]
        w1 = W[c + 1]
        w2 = W[c + 2]
        w3 = W[c + 3]
        a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = z.dtype.type(0)
        for j in range(d):
            u = x0[j]
            v = x1[j]
            a00 += u * w0[j]
            a01 += u * w1[j]
            a02 += u * w2[j]
            a03 += u * w3[j]
            a10 += v * w0[j]
            a11 += v * w1[j]
            a12 += v * w2[j]
            a13 += v * w3[j]
        z[0, c] = a00 + b[c]
        z[0, c + 1] = a01 + b[c + 1]
        z[0, c + 2] = a02 + b[c + 2]
        z[0, c + 3] = a03 + b[c + 3]
        z[1, c] = a10 + b[c]
        z[1, c + 1] = a11 + b[c + 1]
        z[1, c + 2] = a12 + b[c + 2]
        z[1, c + 3] = a13 + b[c + 3]
        c += 4
    while c + 1 < k:
        w0 = W[c]
        w1 = W[c + 1]
        a00 = a01 = a10 = a11 = z.dtype.type(0)
        for j in range(d):
            a00 += x0[j] * w0[j]
            a01 += x0[j] * w1[j]
            a10 += x1[j] * w0[j]
            a11 += x1[j] * w1[j]
        z[0, c] = a00 + b[c]
        z[0, c + 1] = a01 + b[c + 1]
        z[1, c] = a10 + b[c]
        z[1, c + 1] = a11 + b[c + 1]
        c += 2
    if c < k:
        w0 = W[c]
        a00 = a10 = z.dtype.type(0)
        for j in range(d):
            a00 += x0[j] * w0[j]
            a10 += x1[j] * w0[j]
        z[0, c] = a00 + b[c]
        z[1, c] = a10 + b[c]


@_jit
def _accumulate2(x0, x1, z, acc, gsum):
    """``acc += z[0] (x) x0 + z[1] (x) x1`` and ``gsum += z[0] + z[1]``."""
    k, d = acc.shape
    for c in range(k):
        u = z[0, c]
        v = z[1, c]
        a = acc[c]
        for j in range(d):
            a[j] += u * x0[j] + v * x1[j]
        gsum[c] += u + v


@_jit
def _flush(acc, grad):
    k, d = acc.shape
    for c in range(k):
        for j in range(d):
            grad[c, j] += acc[c, j]
            acc[c, j] = 0


# Short rows are asked for _PREFETCH_ROWS ahead: the hardware prefetcher alone
# left the kernels waiting on memory. Two threads, interleaved, evaluation /
# Hessian product: d=100, k=10 float64 15.3 -> 14.5 / 12.6 -> 11.4 ms (4 to 16
# rows ahead timed alike); d=128, k=5 float64 17.3 -> 11.9 / 14.2 -> 8.5 ms;
# d=256 float32 -18% / -21%. Pairs of rows over _PREFETCH_MAX_PAIR_BYTES stream
# well without it: d=512 and d=1000 ran 1-10% slower with it.
_PREFETCH_ROWS = 4
_PREFETCH_MAX_PAIR_BYTES = 4096


@_jit
def _prefetch_pair(X, i):
    """Hint rows ``i`` and ``i + 1`` of C-contiguous ``X``, when they exist and are short."""
    if i + 1 < X.shape[0] and 2 * X.shape[1] * X.itemsize <= _PREFETCH_MAX_PAIR_BYTES:
        row = X[i]
        for q in range(0, 2 * X.shape[1], 64 // X.itemsize):  # one per cache line
            _prefetch(row, q)


@_jit
def loss_gradient_rows(X, W, b, codes, Y, soft, sw, want_grad, proba, keep, offset, grad, gsum):
    """Weighted loss of the rows of ``X``; adds their gradient to ``grad``, ``gsum``.

    ``codes`` (soft False) or ``Y`` (soft True) are the targets of these rows;
    the unused one may be a dummy. With ``keep``, ``proba[:, offset + i]``
    receives ``softmax`` of row ``i``'s scores.
    """
    n, d = X.shape
    k = W.shape[0]
    z = np.empty((2, k), dtype=X.dtype)
    # Both rows' max-shifted exps in one loop over the pair's 2k scores, which
    # LLVM vectorises whole (row by row, k=10 left two scalar exps a row):
    # float64 evaluation at 100,000 x 100 x 10, two threads, 13.4 -> 12.7 ms;
    # k=5 12.9 -> 11.3 ms; float32 within 3% either way.
    flat = z.reshape(2 * k)
    shift = np.empty(2 * k, dtype=X.dtype)
    acc = np.zeros((k, d), dtype=X.dtype)
    loss = 0.0
    # One log for a run of rows of equal weight (all of them, unweighted): the
    # product of their totals, each in [1, k], stays finite below 1e280 * k.
    # Evaluation at 100,000 x 100 x 10, two threads: 13.7 -> 13.0 ms (float32
    # 9.6 -> 8.7); the loss moves by 1e-15 relative.
    prod, prod_weight = 1.0, 0.0
    for i in range(0, n, 2):
        i1 = min(i + 1, n - 1)
        x0 = X[i]
        x1 = X[i1]
        _prefetch_pair(X, i + _PREFETCH_ROWS)
        _scores2(x0, x1, W, b, z)
        m0 = z[0, 0]
        m1 = z[1, 0]
        for c in range(1, k):
            m0 = max(m0, z[0, c])
            m1 = max(m1, z[1, c])
        target0 = 0.0  # the targets' scores, before the exps overwrite them
        target1 = 0.0
        if soft:
            for c in range(k):
                target0 += Y[i, c] * z[0, c]
                target1 += Y[i1, c] * z[1, c]
        else:
            target0 = z[0, codes[i]]
            target1 = z[1, codes[i1]]
        for c in range(k):
            shift[c] = m0
            shift[k + c] = m1
        for q in range(2 * k):
            flat[q] = _exp(flat[q] - shift[q])
        for r in range(2):
            row = i + r
            s = sw[row] if row < n else sw.dtype.type(0)  # the copy of an odd last row
            row = min(row, n - 1)
            m = m0 if r == 0 else m1
            target = target0 if r == 0 else target1
            total = z.dtype.type(0)
            for c in range(k):
                total += z[r, c]
            if s != prod_weight or prod > 1e280:
                loss += prod_weight * np.log(prod)
                prod, prod_weight = 1.0, s
            prod *= np.float64(total)
            loss += s * (m - target)
            inv = z.dtype.type(1) / total
            if keep and r + i < n:
                for c in range(k):
                    proba[c, offset + row] = z[r, c] * inv
            scale = s * inv
            for c in range(k):
                z[r, c] *= scale
            if soft:
                for c in range(k):
                    z[r, c] -= s * Y[row, c]
            else:
                z[r, codes[row]] -= s
        if want_grad:
            _accumulate2(x0, x1, z, acc, gsum)
            if (i + 2) % _FLUSH_ROWS == 0:
                _flush(acc, grad)
    if want_grad:
        _flush(acc, grad)
    return loss + prod_weight * np.log(prod)


@_jit
def hessian_product_rows(X, V, vb, proba, offset, sw, grad, gsum):
    """Add the rows' Hessian-vector product to ``grad``, ``gsum``.

    Per row: ``u = V @ x + vb``, ``h = s p * (u - p . u)``, ``grad += h (x) x``.
    """
    n, d = X.shape
    k = V.shape[0]
    z = np.empty((2, k), dtype=X.dtype)
    acc = np.zeros((k, d), dtype=X.dtype)
    for i in range(0, n, 2):
        i1 = min(i + 1, n - 1)
        x0 = X[i]
        x1 = X[i1]
        _prefetch_pair(X, i + _PREFETCH_ROWS)
        _scores2(x0, x1, V, vb, z)
        for r in range(2):
            row = i + r
            s = sw[row] if row < n else sw.dtype.type(0)
            row = min(row, n - 1)
            pu = z.dtype.type(0)
            for c in range(k):
                pu += proba[c, offset + row] * z[r, c]
            for c in range(k):
                z[r, c] = s * proba[c, offset + row] * (z[r, c] - pu)
        _accumulate2(x0, x1, z, acc, gsum)
        if (i + 2) % _FLUSH_ROWS == 0:
            _flush(acc, grad)
    _flush(acc, grad)


# -- many classes: the element-wise part between two BLAS products ---------------------------------
# For large k the fused kernels above lose to BLAS (their dot products reach
# a fraction of GEMM speed; see kernels._FUSED_MAX_CLASSES). There the block
# path of softmax.loss.kernels takes the scores from a GEMM, transposed as
# (n_classes, block), and these kernels do everything between that GEMM and
# the next in place in its output: each loop runs along a row of the scores
# (the block's samples, contiguous), so LLVM vectorises it, and the block
# stays in cache. NumPy would need ~10 passes and temporaries for the same.


@intrinsic
def _as_float(typingctx, bits):
    """The float32 (float64) whose bits are the int32 (int64) ``bits``."""
    if bits == types.int32:
        sig, float_type = types.float32(types.int32), ir.FloatType()
    elif bits == types.int64:
        sig, float_type = types.float64(types.int64), ir.DoubleType()
    else:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], float_type)

    return sig, codegen


@intrinsic
def _prefetch(typingctx, array, index):
    """Hint that element ``index`` of ``array`` (its flat index when C-contiguous) is read soon.

    ``llvm.prefetch``: no effect on results, and no fault past the end.
    """
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        hint = builder.module.declare_intrinsic(
            "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
        )
        # read (0), keep in all cache levels (3), data cache (1)
        address = builder.bitcast(builder.gep(data, [args[1]]), byte_ptr)
        builder.call(hint, [address, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


# exp for the softmax, in plain arithmetic so that LLVM vectorises it: Numba
# calls libm's scalar exp, ~4x slower here than these on AVX2 (4-8 lanes),
# and NumPy's exp needs a pass of its own (in the fused kernel above too: one
# evaluation at k=10, 18.1 -> 16.5 ms at its fastest). Cephes' method: x = n ln2 + r
# (ln2 in two parts, exact products), exp(r) by a polynomial, 2^n from the
# exponent bits. Measured max error on [-30, 0] against an extended-precision
# reference (tests/test_compiled_math.py): 0.995 ulp (float32), 0.955 ulp
# (float64); NaN propagates; below the smallest normal exp gives 0 (a
# probability under 1e-38 times the largest one, which is 1).
def _exp32(x):
    n = np.floor(max(x, np.float32(-87.0)) * np.float32(1.4426950408889634) + np.float32(0.5))
    r = x - n * np.float32(0.693359375) + n * np.float32(2.12194440e-4)
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * r * r + r + np.float32(1)
    e = p * _as_float(np.int32((np.int32(n) + 127) << 23))
    return np.float32(0) if x < np.float32(-87.0) else e


def _exp64(x):
    n = np.floor(max(x, -708.0) * 1.4426950408889634 + 0.5)
    r = x - n * 6.93145751953125e-1 - n * 1.42860682030941723212e-6
    p = 1.6059043836821613e-10  # Taylor to r^13: |r| <= ln2 / 2 leaves < 0.02 ulp
    for coefficient in _TAYLOR64:
        p = p * r + coefficient
    p = p * r * r + r + 1.0
    # n through int32: AVX2 converts float64 to int32 lanes, not to int64.
    e = p * _as_float(np.int64(np.int32(n) + 1023) << 52)
    return 0.0 if x < -708.0 else e


_TAYLOR64 = tuple(1 / math.factorial(j) for j in range(12, 1, -1))


def _exp(x):
    """``exp(x)`` for float32 or float64 ``x``, vectorisable (compiled only)."""
    raise NotImplementedError("compiled code only")


# Compiled without reassociation, which could merge the two parts of ln2;
# LLVM still inlines it into the (fastmath) loops and vectorises them.
@overload(_exp, jit_options={"fastmath": {"contract"}})
def _exp_overload(x):
    return _exp32 if x == types.float32 else _exp64


@_jit
def softmax_block(Z, b, codes, Y, soft, sw, want_grad, proba, keep, offset, gsum):
    """Weighted loss of one block of scores; ``Z`` becomes the gradient on its scores.

    ``Z`` (k, L) holds ``W @ X_b.T`` without the intercept ``b``. Returns the
    loss of the block in float64. With ``want_grad``, ``Z`` becomes
    ``s * (p - t)`` and ``gsum`` (float64) gets its row sums; with ``keep``,
    ``proba[:, offset:offset + L]`` receives ``p``.
    """
    k, L = Z.shape
    m = np.empty(L, dtype=Z.dtype)
    total = np.zeros(L, dtype=Z.dtype)
    target = np.zeros(L)
    for i in range(L):
        m[i] = Z[0, i] + b[0]
    for c in range(1, k):
        z, bc = Z[c], b[c]
        for i in range(L):
            m[i] = max(m[i], z[i] + bc)
    # t . z, taken before z is overwritten; float64 so that m - t does not cancel.
    if soft:
        for c in range(k):
            z, bc = Z[c], b[c]
            for i in range(L):
                target[i] += Y[i, c] * (z[i] + bc)
    else:
        for i in range(L):
            target[i] = Z[codes[i], i] + b[codes[i]]
    for c in range(k):
        z, bc = Z[c], b[c]
        for i in range(L):
            e = _exp(z[i] + bc - m[i])
            z[i] = e
            total[i] += e
    loss = 0.0
    for i in range(L):
        loss += sw[i] * (np.log(np.float64(total[i])) + m[i] - target[i])
    for i in range(L):
        total[i] = 1 / total[i]  # from here on: 1 / total
    if keep:
        for c in range(k):
            z, p = Z[c], proba[c]
            for i in range(L):
                p[offset + i] = z[i] * total[i]
    if not want_grad:
        return loss
    for i in range(L):
        total[i] *= sw[i]  # from here on: s / total
    for c in range(k):
        z = Z[c]
        for i in range(L):
            z[i] *= total[i]
    if soft:
        for c in range(k):
            z = Z[c]
            for i in range(L):
                z[i] -= sw[i] * Y[i, c]
    else:
        for i in range(L):
            Z[codes[i], i] -= sw[i]
    _row_sums(Z, gsum)
    return loss


@_jit
def hessian_block(U, vb, proba, offset, sw, gsum):
    """``U`` (k, L), ``V @ X_b.T`` without ``vb``, becomes ``s p * (u - p . u)`` in place.

    ``gsum`` (float64) gets its row sums; ``p`` is ``proba[:, offset:offset + L]``.
    """
    k, L = U.shape
    pu = np.zeros(L, dtype=U.dtype)
    for c in range(k):
        u, p, vc = U[c], proba[c], vb[c]
        for i in range(L):
            pu[i] += p[offset + i] * (u[i] + vc)
    for c in range(k):
        u, p, vc = U[c], proba[c], vb[c]
        for i in range(L):
            u[i] = sw[i] * p[offset + i] * (u[i] + vc - pu[i])
    _row_sums(U, gsum)


@_jit
def _row_sums(Z, out):
    k, L = Z.shape
    for c in range(k):
        z = Z[c]
        acc = 0.0
        for i in range(L):
            acc += z[i]
        out[c] += acc
