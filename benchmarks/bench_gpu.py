"""GPU benchmark (issue 15): a linear probe on PyTorch CUDA arrays, three ways, one process.

A synthetic linear probe (float32 features of width 768, as from a vision or
text encoder, 1,000 classes, labels drawn from a known softmax model) of
100,000 and 1,000,000 rows is generated on the GPU, and the same objective

    mean cross-entropy + lam / 2 * ||W||^2   (lam = 1e-4, i.e. C = 1 / (lam * n))

is minimised, on the same tensors, by

- ``softmax``: ``SoftmaxRegression(alpha=lam)`` under scikit-learn's
  ``array_api_dispatch`` (X stays on the GPU; only the parameters travel),
  with its default solver (``auto``, Newton-CG for 1,000 classes) and with
  ``solver="lbfgs"``;
- ``scikit-learn``: ``LogisticRegression(solver="lbfgs", C=1 / (lam * n))``
  with array-API dispatch on the same tensors;
- ``torch.optim.LBFGS``: a plain PyTorch loop (strong-Wolfe line search,
  history 20) on ``F.cross_entropy + lam / 2 * ||W||^2`` with autograd.

Reported per method: the time until the objective is within ``1e-6``
(relative, what float32 resolves) of the best objective any method reached,
iterations, the matrix products (GEMMs of the size of ``X``) done, the
GEMM-bound floor of those products at the TF32-free float32 rate measured on
this GPU (the time of ``X @ W.T`` and ``G.T @ X``; scikit-learn's products are
not counted), and the peak GPU memory
(``torch.cuda.max_memory_allocated``, X and y included). Each method has a
time cap; scikit-learn, which has no per-iteration hook, is refitted with
``max_iter`` doubling until it reaches the target or the cap (its time is
that of the first fit that reached it). The whole run is sized to finish in
under 5 minutes on one H200-class GPU.

Run ``python benchmarks/bench_gpu.py`` on a machine with a CUDA GPU and
PyTorch; the report goes to ``benchmarks/results/gpu.md``. Without a CUDA
device the script stops with a message. ``--smoke`` runs every code path on
tiny sizes on the CPU with array_api_strict arrays (PyTorch on the CPU for
the PyTorch loop, when installed), writing ``gpu-smoke.md``: a test runs it.
"""

from __future__ import annotations

import os

# scikit-learn's array-API dispatch needs SciPy's, which SciPy reads once, at import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
LAM = 1e-4  # the per-sample penalty of every fit
TARGET = 1e-6  # relative distance to the best objective: what float32 resolves
WIDTH, CLASSES = 768, 1000
#: (rows, features, classes) and the time cap of each method, in seconds.
# Worst case, every method at its cap (scikit-learn's doubling fits up to twice
# it): 5 x (10 + 35) s = 225 s, plus generation, warm-up and start-up.
FULL = [((100_000, WIDTH, CLASSES), 10.0), ((1_000_000, WIDTH, CLASSES), 35.0)]
SMOKE = [((2_000, 16, 5), 20.0)]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class TimeUp(Exception):
    """Raised from a callback to stop a fit at its time cap or at the target."""


@dataclass
class Run:
    """One method's course: (seconds, objective, GEMMs so far or None) per iteration."""

    method: str
    points: list[tuple[float, float, int | None]] = field(default_factory=list)
    iterations: int = 0
    peak_bytes: int | None = None
    note: str = ""

    def best(self) -> float:
        return min((f for _, f, _ in self.points), default=float("inf"))

    def reached(self, target: float) -> tuple[float, int | None] | None:
        """Seconds and GEMMs until the objective was at most ``target``; None if never."""
        return next(((t, g) for t, f, g in self.points if f <= target), None)


# -- where the arrays live ----------------------------------------------------------------------


class Place:
    """The namespace, device and clock of the run: PyTorch CUDA, or the CPU for ``--smoke``."""

    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        self.torch = None
        try:
            import torch

            self.torch = torch
        except ImportError:
            if not smoke:
                sys.exit("bench_gpu.py needs PyTorch with CUDA (pip install torch); "
                         "use --smoke for the CPU smoke run")  # fmt: skip
        if smoke:
            import array_api_strict as xp

            self.xp, self.device, self.name = xp, xp.Device("CPU_DEVICE"), "CPU (smoke)"
            return
        torch = self.torch
        if not torch.cuda.is_available():
            sys.exit(
                "bench_gpu.py: no CUDA device (torch.cuda.is_available() is False). "
                "The benchmark needs a CUDA GPU; --smoke runs it on the CPU at tiny sizes."
            )
        # Full float32 products for every method (TF32 would change the arithmetic).
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
        import array_api_compat

        self.device = torch.device("cuda", torch.cuda.current_device())
        self.xp = array_api_compat.array_namespace(torch.empty(0, device=self.device))
        self.name = torch.cuda.get_device_name(0)

    def asarray(self, a: np.ndarray):
        return self.xp.asarray(a, device=self.device)

    def sync(self) -> None:
        if not self.smoke:
            self.torch.cuda.synchronize()

    def reset_peak(self) -> None:
        if not self.smoke:
            self.sync()
            self.torch.cuda.reset_peak_memory_stats()

    def peak(self) -> int | None:
        return None if self.smoke else int(self.torch.cuda.max_memory_allocated())

    def to_torch(self, a):
        """``a`` as a PyTorch tensor (on the GPU, or on the CPU for ``--smoke``)."""
        if not self.smoke:
            return a
        from softmax.loss.array_api import to_numpy

        return self.torch.from_numpy(np.ascontiguousarray(to_numpy(a)))


def make_problem(place: Place, n: int, d: int, k: int, seed: int = 0):
    """Features N(0, 1), labels drawn from softmax(x W_true^T) (logits of spread ~3).

    Generated where the fits run: with PyTorch on the GPU, with NumPy for ``--smoke``.
    """
    if place.smoke:
        rng = np.random.default_rng(seed)
        W = rng.normal(scale=3.0 / np.sqrt(d), size=(k, d))
        X = rng.standard_normal((n, d), dtype=np.float32)
        y = np.argmax(X @ W.T - np.log(-np.log(rng.uniform(size=(n, k)))), axis=1)
        return place.asarray(X), place.asarray(y.astype(np.int64))
    torch = place.torch
    g = torch.Generator(device=place.device).manual_seed(seed)
    W = torch.randn(k, d, generator=g, device=place.device) * (3.0 / d**0.5)
    X = torch.randn(n, d, generator=g, device=place.device)
    y = torch.empty(n, dtype=torch.int64, device=place.device)
    for s in range(0, n, 100_000):  # bounds the (rows, k) logits
        Xb = X[s : s + 100_000]
        uniform = torch.rand(Xb.shape[0], k, generator=g, device=place.device)
        gumbel = -torch.log(-torch.log(uniform))
        y[s : s + 100_000] = torch.argmax(Xb @ W.T + gumbel, dim=1)
    return X, y


def objective(place: Place, X, y, coef, intercept, lam: float) -> float:
    """The common yardstick: mean CE (float32 products, float64 sums) + lam/2 ||coef||^2."""
    xp = place.xp
    n, k = X.shape[0], coef.shape[0]
    coef, intercept = xp.astype(coef, X.dtype), xp.astype(intercept, X.dtype)
    classes = xp.arange(k, dtype=y.dtype, device=place.device)
    total = 0.0
    for s in range(0, n, 100_000):
        e = min(s + 100_000, n)  # the array API leaves out-of-bounds slices unspecified
        z = X[s:e, :] @ xp.matrix_transpose(coef) + intercept
        m = xp.max(z, axis=1, keepdims=True)
        lse = xp.log(xp.sum(xp.exp(z - m), axis=1)) + m[:, 0]
        picked = xp.sum(xp.where(y[s:e, None] == classes, z, xp.zeros_like(z)), axis=1)
        total += float(xp.sum(xp.astype(lse - picked, xp.float64)))
    c64 = xp.astype(coef, xp.float64)
    return total / n + 0.5 * lam * float(xp.sum(c64 * c64))


def gemm_floor(place: Place, X, k: int, repeats: int = 5) -> tuple[float, float]:
    """Seconds of the two products of one evaluation, and the float32 TFLOP/s measured.

    ``Z = X @ W.T`` (the scores) and ``Z.T @ X`` (the gradient's product), as
    every method does per evaluation; the rest of an evaluation is element-wise.
    """
    xp = place.xp
    rng = np.random.default_rng(1)
    W = place.asarray(rng.standard_normal((k, X.shape[1]), dtype=np.float32))
    times = []
    for _ in range(repeats + 1):  # the first warms up
        place.sync()
        t0 = time.perf_counter()
        Z = X @ xp.matrix_transpose(W)
        xp.matrix_transpose(Z) @ X
        place.sync()
        times.append(time.perf_counter() - t0)
        del Z
    seconds = float(np.median(times[1:]))
    return seconds, 2 * 2 * X.shape[0] * X.shape[1] * k / seconds / 1e12


# -- the methods ---------------------------------------------------------------------------------


def run_softmax(place: Place, X, y, lam: float, solver: str, cap: float, target: float) -> Run:
    """SoftmaxRegression on the device arrays; GEMMs counted at the data-term functions."""
    from sklearn import config_context

    from softmax import SoftmaxRegression
    from softmax.loss import array_api as aa

    run = Run(f"softmax ({solver})")
    gemms = [0]
    originals = {name: getattr(aa, name) for name in
                 ("loss_gradient", "hessian_product", "hessian_diagonal")}  # fmt: skip

    def counted(name, per_call):
        def wrapper(*args, **kwargs):
            gemms[0] += per_call(kwargs)
            return originals[name](*args, **kwargs)

        return wrapper

    aa.loss_gradient = counted("loss_gradient", lambda kw: 2 if kw.get("gradient", True) else 1)
    aa.hessian_product = counted("hessian_product", lambda kw: 2)
    aa.hessian_diagonal = counted("hessian_diagonal", lambda kw: 1)
    place.reset_peak()
    start = time.perf_counter()

    def callback(info) -> None:
        place.sync()
        run.points.append((time.perf_counter() - start, float(info.objective), gemms[0]))
        run.iterations = info.iteration
        # Without a target (the first run), stop once an iteration gains less than float32
        # resolves: the end-of-fit checks at the rounding level would only cost time here.
        stalled = (
            target == -np.inf
            and len(run.points) > 1
            and run.points[-2][1] - info.objective <= 1e-9 * abs(info.objective)
        )
        if info.objective <= target or run.points[-1][0] > cap or stalled:
            raise TimeUp

    model = SoftmaxRegression(alpha=lam, solver=solver, tol=1e-9, max_iter=100_000,
                              callback=callback)  # fmt: skip
    try:
        with config_context(array_api_dispatch=True), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        run.note = f"stopped by itself ({model.solver_})"
    except TimeUp:
        run.note = _stop_note(run, target, cap)
    finally:
        for name, function in originals.items():
            setattr(aa, name, function)
    run.peak_bytes = place.peak()
    return run


def _stop_note(run: Run, target: float, cap: float) -> str:
    if run.best() <= target:
        return "stopped at the target"
    if run.points[-1][0] > cap:
        return f"stopped at the cap ({cap:.0f} s)"
    return "stopped: converged (an iteration gained < 1e-9)"


def run_sklearn(place: Place, X, y, lam: float, cap: float, target: float) -> Run:
    """LogisticRegression(lbfgs) with array-API dispatch, max_iter doubling up to the cap."""
    from sklearn import config_context
    from sklearn.linear_model import LogisticRegression

    run = Run("scikit-learn LogisticRegression (lbfgs)")
    n = X.shape[0]
    place.reset_peak()
    spent, max_iter = 0.0, 8
    while True:
        model = LogisticRegression(C=1.0 / (lam * n), solver="lbfgs", tol=1e-10, max_iter=max_iter)
        place.sync()
        t0 = time.perf_counter()
        with config_context(array_api_dispatch=True), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        place.sync()
        seconds = time.perf_counter() - t0
        spent += seconds
        with config_context(array_api_dispatch=True):
            f = objective(place, X, y, model.coef_, model.intercept_, lam)
        run.points.append((seconds, f, None))  # the time of one fit with this max_iter
        run.iterations = int(model.n_iter_[0])
        # Stop at the target, at convergence, or before a next fit (twice as long) overshoots.
        if f <= target or run.iterations < max_iter or spent + 2 * seconds > 2 * cap:
            break
        max_iter *= 2
    run.points.sort()
    run.note = f"fits with max_iter doubling, {spent:.1f} s in all"
    run.peak_bytes = place.peak()
    return run


def run_torch(place: Place, X, y, lam: float, cap: float, target: float) -> Run:
    """torch.optim.LBFGS on the same objective, with autograd (2 GEMMs per closure call)."""
    if place.torch is None:
        return Run("torch.optim.LBFGS", note="PyTorch is not installed: skipped")
    torch = place.torch
    F = torch.nn.functional
    Xt, yt = place.to_torch(X), place.to_torch(y)
    n, d = Xt.shape
    k = int(yt.max()) + 1
    run = Run("torch.optim.LBFGS (strong Wolfe)")
    place.reset_peak()
    W = torch.zeros(k, d + 1, dtype=Xt.dtype, device=Xt.device, requires_grad=True)
    optimizer = torch.optim.LBFGS([W], lr=1.0, max_iter=100_000, max_eval=200_000,
                                  tolerance_grad=0.0, tolerance_change=0.0, history_size=20,
                                  line_search_fn="strong_wolfe")  # fmt: skip
    calls = [0]
    start = time.perf_counter()

    def closure():
        optimizer.zero_grad()
        logits = Xt @ W[:, :d].T + W[:, d]
        loss = F.cross_entropy(logits, yt) + 0.5 * lam * (W[:, :d] ** 2).sum()
        loss.backward()
        calls[0] += 1
        f = float(loss.detach())  # synchronises
        run.points.append((time.perf_counter() - start, f, 2 * calls[0]))
        if f <= target or run.points[-1][0] > cap:
            raise TimeUp
        return loss

    try:
        optimizer.step(closure)
        run.note = "stopped by itself"
    except TimeUp:
        run.note = _stop_note(run, target, cap)
    run.iterations = int(optimizer.state[optimizer._params[0]].get("n_iter", 0))
    run.peak_bytes = place.peak()
    return run


# -- the report ----------------------------------------------------------------------------------


def versions(place: Place) -> str:
    import array_api_compat
    import scipy
    import sklearn

    import softmax

    parts = [
        f"softmax {softmax.__version__}", f"scikit-learn {sklearn.__version__}",
        f"NumPy {np.__version__}", f"SciPy {scipy.__version__}",
        f"array-api-compat {array_api_compat.__version__}",
        f"Python {platform.python_version()}",
    ]  # fmt: skip
    if place.torch is not None:
        cuda = getattr(place.torch.version, "cuda", None)
        parts.insert(1, f"PyTorch {place.torch.__version__}" + (f" (CUDA {cuda})" if cuda else ""))
    return ", ".join(parts)


def table(size, runs: list[Run], fstar: float, floor: float, tflops: float) -> list[str]:
    n, d, k = size
    target = fstar * (1 + TARGET)
    lines = [f"### {n:,} x {d} float32, {k:,} classes", "",
             f"Best objective f* = {fstar:.10g}; target f* (1 + {TARGET:g}). Two GEMMs of one "
             f"evaluation: {floor * 1e3:.3g} ms ({tflops:.3g} TFLOP/s measured).", "",
             "| method | time to target (s) | iterations | GEMMs to target | their floor (s) "
             "| peak memory (GiB) | note |",
             "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for run in runs:
        reached = run.reached(target)
        when = f"not reached (best {run.best():.10g})" if reached is None else f"{reached[0]:.2f}"
        count = None if reached is None else reached[1]
        gemms = "n/a" if count is None else f"{count:,}"
        bound = "n/a" if count is None else f"{count * floor / 2:.2f}"
        peak = "n/a" if run.peak_bytes is None else f"{run.peak_bytes / 2**30:.2f}"
        lines.append(f"| {run.method} | {when} | {run.iterations} | {gemms} | {bound} | {peak} "
                     f"| {run.note} |")  # fmt: skip
    return lines + [""]


def guarded(method: str, function, *args) -> Run:
    """``function(*args)``, or a run whose note says why the method failed: one failing
    method (out of memory, a library without a feature) must not lose the others' figures."""
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 (reported in the table)
        log(f"{method} failed: {type(error).__name__}: {error}")
        return Run(method, note=f"failed: {type(error).__name__}: {str(error)[:120]}")


def warm_up(place: Place, X, y) -> None:
    """Each method on 1,000 rows for an iteration or two: imports, kernels, library handles."""
    X, y = X[: min(1000, X.shape[0]), :], y[: min(1000, y.shape[0])]
    run_softmax(place, X, y, LAM, "auto", 0.0, -np.inf)
    run_softmax(place, X, y, LAM, "lbfgs", 0.0, -np.inf)
    run_torch(place, X, y, LAM, 0.0, -np.inf)
    run_sklearn(place, X, y, LAM, 0.0, np.inf)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes on the CPU with array_api_strict (a test runs this)")
    parser.add_argument("--output", type=Path, default=None,
                        help="Markdown report (default: results/gpu.md, gpu-smoke.md)")  # fmt: skip
    args = parser.parse_args(argv)
    place = Place(args.smoke)
    output = args.output or HERE / "results" / ("gpu-smoke.md" if args.smoke else "gpu.md")
    log(f"device: {place.name}")
    sections = []
    for size, cap in SMOKE if args.smoke else FULL:
        n, d, k = size
        log(f"{n:,} x {d}, {k} classes: generating")
        X, y = make_problem(place, n, d, k)
        floor, tflops = gemm_floor(place, X, k)
        log(f"two GEMMs {floor * 1e3:.3g} ms ({tflops:.3g} TFLOP/s)")
        warm_up(place, X, y)
        # Ours first, with no target: its course gives the first estimate of f*.
        runs = [guarded("softmax (auto)", run_softmax, place, X, y, LAM, "auto", cap, -np.inf)]
        fstar = runs[0].best()
        target = fstar * (1 + TARGET) if np.isfinite(fstar) else -np.inf
        runs += [
            guarded("softmax (lbfgs)", run_softmax, place, X, y, LAM, "lbfgs", cap, target),
            guarded("torch.optim.LBFGS", run_torch, place, X, y, LAM, cap, target),
            guarded("scikit-learn", run_sklearn, place, X, y, LAM, cap, target),
        ]
        for run in runs:
            log(f"{run.method}: best {run.best():.10g}, {run.iterations} iterations, {run.note}")
        fstar = min(run.best() for run in runs)
        sections += table(size, runs, fstar, floor, tflops)
        del X, y
    kind = "smoke run (tiny sizes, CPU, array_api_strict)" if args.smoke else "full run"
    header = [
        "# GPU benchmark (`benchmarks/bench_gpu.py`)", "",
        f"Device: {place.name}; {kind}. {versions(place)}.", "",
        f"Objective: mean cross-entropy + {LAM:g} / 2 * ||W||^2 (intercepts unpenalised), "
        "float32 data, TF32 off. Time to target: until the objective is within "
        f"{TARGET:g} (relative) of the best any method reached; each method's own "
        "objective values (scikit-learn's: the yardstick's, after each fit).", "",
    ]  # fmt: skip
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(header + sections))
    log(f"report written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
