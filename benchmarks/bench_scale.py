"""Scale benchmark: out-of-core SGD and Dask on generated files of 1M and 10M rows.

For each size, a dense file (50 features, 10 classes, labels drawn from a
known softmax model) is generated chunk by chunk into a temporary folder,
never held in memory. Then:

- **SGD, out of core**: ``softmax fit FILE --solver sgd`` in a subprocess (the
  command a user runs), timed, with its peak resident memory from ``wait4``;
  it must stay flat from 1M to 10M rows.
- **Dask**: ``SoftmaxRegression(solver="lbfgs").fit`` on ``dd.read_parquet``
  with a ``LocalCluster`` of 1 and then 2 worker processes (one thread each):
  time, iterations, peak memory of the client and workers.
- **Quality**: mean log-loss of each model on a 200,000-row subsample, next
  to the in-memory L-BFGS optimum (same penalty) fitted on the 200,000 rows
  before it, and to the true model's log-loss on the same rows.

Run with ``make bench-scale`` (``--rows 1000000`` for a quick run); results go
to ``benchmarks/results/scale.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES, N_CLASSES = 50, 10
CHUNK = 250_000
SUBSAMPLE = 200_000
ALPHA = 1e-5  # per-sample penalty, the same for every fit
HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def true_model(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.6, size=(N_CLASSES, N_FEATURES)), rng.normal(size=N_CLASSES)


def generate(path: Path, n_rows: int, fmt: str, seed: int = 1) -> float:
    """Write ``n_rows`` rows in chunks of ``CHUNK``; returns seconds taken."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    W, b = true_model()
    rng = np.random.default_rng(seed)
    names = [f"x{j}" for j in range(N_FEATURES)]
    schema = pa.schema([(n, pa.float32()) for n in names] + [("y", pa.int64())])
    started = time.perf_counter()
    writer = (
        pq.ParquetWriter(path, schema)
        if fmt == "parquet"
        else pacsv.CSVWriter(str(path), schema)
    )
    with writer:
        for start in range(0, n_rows, CHUNK):
            m = min(CHUNK, n_rows - start)
            X = rng.standard_normal((m, N_FEATURES), dtype=np.float32)
            z = X @ W.T + b
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            # Inverse-CDF sampling of one label per row, vectorised.
            y = (p.cumsum(axis=1) < rng.random((m, 1))).sum(axis=1).clip(0, N_CLASSES - 1)
            writer.write_table(pa.table([*X.T, y], schema=schema))
    return time.perf_counter() - started


def read_head(path: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        frame = next(pq.ParquetFile(path).iter_batches(batch_size=n)).to_pandas()
    else:
        frame = pd.read_csv(path, nrows=n)
    return frame.drop(columns="y").astype(np.float64), frame["y"].to_numpy()


def mean_log_loss(model, X: np.ndarray, y: np.ndarray) -> float:
    log_p = model.predict_log_proba(X)
    return float(-log_p[np.arange(len(y)), np.searchsorted(model.classes_, y)].mean())


def true_log_loss(X, y: np.ndarray) -> float:
    W, b = true_model()
    z = np.asarray(X) @ W.T + b
    z -= z.max(axis=1, keepdims=True)
    return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())


# `softmax` with its own peak memory (VmHWM) written to argv[1] on exit. Not
# ru_maxrss: Linux keeps the parent's memory at fork time in it across exec.
_CLI_WITH_PEAK = """
import sys
from softmax.cli import app
peak_file, sys.argv = sys.argv[1], ["softmax", *sys.argv[2:]]
try:
    app()
finally:
    status = open("/proc/self/status").read()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    open(peak_file, "w").write(peak.split()[1])
"""


def run_sgd(path: Path, workdir: Path, batch_size: int, epochs: int) -> dict:
    """``softmax fit`` streamed in a subprocess: time, peak RSS, the model file."""
    model = workdir / f"{path.stem}.softmax"
    peak_file = workdir / "peak.txt"
    args = [
        sys.executable, "-c", _CLI_WITH_PEAK, str(peak_file), "fit", str(path), "--target", "y",
        "--solver", "sgd", "--batch-size", str(batch_size), "--epochs", str(epochs),
        "--alpha", str(ALPHA), "--test-size", "0", "-o", str(model),
    ]  # fmt: skip
    started = time.perf_counter()
    run = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(run.stdout[-2000:] + run.stderr[-2000:])
    from softmax import load
    from softmax.io.model_file import read_metadata

    extra = read_metadata(model)["extra"]
    return {
        "wall_s": wall,
        "train_s": extra["train_seconds"],
        "rows_per_s": extra["rows_per_second"],
        "peak_rss_mib": int(peak_file.read_text()) / 1024,
        "epochs": extra["epochs"],
        "model": load(model),
    }


def _worker_rss() -> float:
    """Resident memory of a worker now (its blocks are persisted), MiB.

    Not ``ru_maxrss``: worker processes may start with their parent's high-water mark.
    """
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def run_dask(path: Path, n_workers: int, tol: float) -> dict:
    """L-BFGS over Parquet row groups on a LocalCluster of ``n_workers`` processes."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from softmax import SoftmaxRegression

    with LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
        memory_limit=None,
    ) as cluster, Client(cluster) as client:  # fmt: skip
        frame = dd.read_parquet(path, split_row_groups=True)
        features = [c for c in frame.columns if c != "y"]
        evaluations = []
        model = SoftmaxRegression(
            alpha=ALPHA, tol=tol, max_iter=200,
            callback=lambda info: evaluations.append(time.perf_counter()),
        )  # fmt: skip
        started = time.perf_counter()
        model.fit(frame[features], frame["y"])
        wall = time.perf_counter() - started
        workers = client.run(_worker_rss)
        iteration_s = float(np.median(np.diff(evaluations))) if len(evaluations) > 2 else np.nan
        model.set_params(callback=None)
    return {
        "wall_s": wall,
        "n_iter": model.n_iter_,
        "iteration_s": iteration_s,
        "worker_rss_mib": max(workers.values()),
        "model": model,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--dask-tol", type=float, default=1e-4)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--workdir", help="where to write the files (default: a temp dir)")
    parser.add_argument("--output", default=str(HERE / "results" / "scale.md"))
    args = parser.parse_args()

    from softmax import SoftmaxRegression

    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        for n in args.rows:
            path = workdir / f"rows{n}.{args.format}"
            log(f"generating {n:,} rows into {path}")
            gen_s = generate(path, n, args.format)
            size_mib = path.stat().st_size / 2**20
            log(f"  {size_mib:,.0f} MiB in {gen_s:.0f} s")
            # The in-memory optimum is fitted on one subsample and every model is scored
            # on the next one, so that the reference is not flattered by scoring its own
            # training rows (an in-sample bias of about n_params / (2 n) = 0.0013).
            X_head, y_head = read_head(path, 2 * SUBSAMPLE)
            ref = SoftmaxRegression(alpha=ALPHA, tol=1e-7).fit(
                X_head[:SUBSAMPLE], y_head[:SUBSAMPLE]
            )
            X_sub, y_sub = X_head[SUBSAMPLE:], y_head[SUBSAMPLE:]
            row = {
                "rows": n,
                "file_mib": size_mib,
                "optimum_log_loss": mean_log_loss(ref, X_sub, y_sub),
                "true_log_loss": true_log_loss(X_sub, y_sub),
            }
            log("  SGD, out of core")
            sgd = run_sgd(path, workdir, args.batch_size, args.epochs)
            row["sgd"] = {k: v for k, v in sgd.items() if k != "model"}
            row["sgd"]["log_loss"] = mean_log_loss(sgd["model"], X_sub, y_sub)
            log(f"  {row['sgd']}")
            if not args.no_dask and args.format == "parquet":
                for workers in (1, 2):
                    log(f"  Dask L-BFGS, {workers} worker(s)")
                    result = run_dask(path, workers, args.dask_tol)
                    entry = {k: v for k, v in result.items() if k != "model"}
                    entry["log_loss"] = mean_log_loss(result["model"], X_sub, y_sub)
                    row[f"dask{workers}"] = entry
                    log(f"  {entry}")
            rows.append(row)
            path.unlink()
    report = render(rows, args)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(report)
    Path(args.output).with_suffix(".json").write_text(json.dumps(rows, indent=1, default=float))
    print(report)


def render(rows: list[dict], args) -> str:
    lines = [
        "# Scale benchmark (`make bench-scale`)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}. "
        f"{N_FEATURES} float32 features, {N_CLASSES} classes, {args.format}; "
        f"alpha={ALPHA:g}; SGD: batch {args.batch_size}, {args.epochs} epoch(s), averaged SGD; "
        f"Dask: L-BFGS, tol={args.dask_tol:g}. Log-loss on rows {SUBSAMPLE:,} to "
        f"{2 * SUBSAMPLE:,}; the in-memory optimum is fitted on the {SUBSAMPLE:,} rows before.",
        "",
        "| rows | file MiB | SGD rows/s | SGD wall s | SGD peak RSS MiB | SGD log-loss "
        "| Dask 1w s (s/iter) | Dask 2w s (s/iter) | Dask log-loss | optimum log-loss "
        "| true log-loss |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    def dask(d):
        return "-" if d is None else f"{d['wall_s']:.0f} ({d['iteration_s']:.2f})"

    for r in rows:
        d1, d2 = r.get("dask1"), r.get("dask2")
        lines.append(
            f"| {r['rows']:,} | {r['file_mib']:,.0f} | {r['sgd']['rows_per_s']:,.0f} "
            f"| {r['sgd']['wall_s']:.0f} | {r['sgd']['peak_rss_mib']:,.0f} "
            f"| {r['sgd']['log_loss']:.5f} | {dask(d1)} | {dask(d2)} "
            f"| {'-' if d2 is None else format(d2['log_loss'], '.5f')} "
            f"| {r['optimum_log_loss']:.5f} | {r['true_log_loss']:.5f} |"
        )
    lines += [
        "",
        "SGD wall time includes the label pass, training and the scoring pass; its peak RSS "
        "is the whole `softmax fit` process. Dask: resident memory of the largest worker "
        "after the fit, its blocks persisted: "
        + ", ".join(
            f"{r['rows']:,} rows: {r[k]['worker_rss_mib']:,.0f} MiB ({k[-1]} worker(s))"
            for r in rows
            for k in ("dask1", "dask2")
            if k in r
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
