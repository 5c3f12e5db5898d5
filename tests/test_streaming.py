"""Out-of-core files: chunked reading, streamed fit and predict, bounded memory, bad chunks."""

import io
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from softmax import load
from softmax.io import streaming
from softmax.cli import app
from softmax.io.model_file import read_metadata

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def run_here(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _write_csv(path, n_rows, n_features=10, seed=0, chunk=50_000):
    """A separable-ish synthetic file, written in chunks with pyarrow (never all in memory)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(3, n_features))
    names = [f"x{j}" for j in range(n_features)]
    schema = pa.schema([(n, pa.float32()) for n in names] + [("label", pa.string())])
    with pacsv.CSVWriter(str(path), schema) as writer:
        for start in range(0, n_rows, chunk):
            m = min(chunk, n_rows - start)
            codes = rng.integers(0, 3, m)
            X = (centres[codes] + rng.normal(size=(m, n_features))).astype(np.float32)
            labels = np.array(["red", "green", "blue"])[codes]
            writer.write_table(pa.table([*X.T, labels], schema=schema))
    return path


@pytest.fixture(scope="module")
def digits_csv(tmp_path_factory):
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X / 16.0, columns=[f"p{j}" for j in range(64)])
    frame["digit"] = np.array(list("abcdefghij"))[y]
    path = tmp_path_factory.mktemp("stream") / "digits.csv"
    frame.sample(frac=1.0, random_state=0).to_csv(path, index=False)  # shuffled once
    return path


def test_streamed_fit_learns_and_streamed_predict_matches(digits_csv, tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "CHUNK_BYTES", 64 * 8 * 300)  # ~300 rows per chunk
    model_file = tmp_path / "digits.softmax"
    code, out, err = run_here(
        "fit", digits_csv, "--target", "digit", "--solver", "sgd", "--batch-size", "32",
        "--epochs", "15", "-o", model_file,
    )  # fmt: skip
    assert code == 0, err
    assert "metrics on the held-out rows" in out and "rows/s" in out
    model = load(model_file)
    assert model.classes_.tolist() == list("abcdefghij")
    extra = read_metadata(model_file)["extra"]
    assert extra["streamed"] and extra["metrics"]["accuracy"] > 0.9
    assert extra["n_train"] + extra["n_test"] == 1797
    # Chunked prediction writes exactly what the in-memory path writes.
    streamed = tmp_path / "streamed.csv"
    code, _, _ = run_here("predict", model_file, digits_csv, "--batch-size", "100", "-o", streamed)
    assert code == 0
    code, whole, _ = run_here("predict", model_file, digits_csv)
    assert code == 0
    chunked, in_memory = pd.read_csv(streamed), pd.read_csv(io.StringIO(whole))
    assert chunked["label"].tolist() == in_memory["label"].tolist()
    # Equal up to rounding: BLAS blocks a chunk's product differently from the whole.
    np.testing.assert_allclose(chunked.iloc[:, 1:], in_memory.iloc[:, 1:], rtol=1e-12, atol=1e-15)


def test_labels_keep_their_type_and_classes_skip_the_first_pass(tmp_path):
    path = tmp_path / "ints.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0)
    pd.DataFrame(X, columns=list("abc")).assign(y=y).to_csv(path, index=False)
    model, scores, summary = streaming.fit_file(path, "y", epochs=20, progress=False)
    assert model.classes_.dtype.kind == "i" and model.classes_.tolist() == [0, 1, 2, 3]
    assert scores.accuracy > 0.85 and summary["n_train"] + scores.n == 600
    given, _, _ = streaming.fit_file(
        path, "y", classes=["0", "1", "2", "3", "7"], alpha=1e-3, epochs=2, progress=False
    )
    assert given.classes_.tolist() == [0, 1, 2, 3, 7]


def test_parquet_streams_and_unknown_labels_name_the_row(tmp_path):
    X, y = load_digits(return_X_y=True)
    path = tmp_path / "digits.parquet"
    pd.DataFrame(X / 16, columns=[f"p{j}" for j in range(64)]).assign(d=y).to_parquet(path)
    model, scores, _ = streaming.fit_file(path, "d", epochs=3, test_size=0, progress=False)
    assert model.classes_.tolist() == list(range(10)) and scores.n == 1797
    with pytest.raises(ValueError, match=r"Label 2 at row 2 of .* is not one of --classes"):
        streaming.fit_file(path, "d", classes=["0", "1"], epochs=1, progress=False)


def test_held_out_rows_do_not_depend_on_chunking():
    rows = np.arange(100_000)
    whole = streaming.held_out(rows, 0.25, seed=3)
    parts = np.concatenate([streaming.held_out(r, 0.25, 3) for r in np.array_split(rows, 7)])
    np.testing.assert_array_equal(whole, parts)
    assert abs(whole.mean() - 0.25) < 0.01
    assert not np.array_equal(whole, streaming.held_out(rows, 0.25, seed=4))


def test_malformed_row_in_the_middle_names_the_line_and_writes_no_model(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "CHUNK_BYTES", 11 * 8 * 2000)  # 2,000-row chunks
    path = _write_csv(tmp_path / "big.csv", 30_000)
    lines = path.read_text().splitlines(keepends=True)
    lines[20_001] = lines[20_001].rstrip("\n") + ",999\n"  # line 20,002: one field too many
    path.write_text("".join(lines))
    model_file = tmp_path / "model.softmax"
    model_file.write_bytes(b"previous model")
    code, _, err = run_here(
        "fit", path, "--target", "label", "--solver", "sgd", "--classes", "red,green,blue",
        "--alpha", "1e-4", "-o", model_file,
    )  # fmt: skip
    assert code == 2
    assert "names 11 columns but line 20002 has 12 fields" in err
    assert model_file.read_bytes() == b"previous model"
    assert sorted(os.listdir(tmp_path)) == ["big.csv", "model.softmax"]  # no temporary left


def test_bad_values_name_the_line(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "CHUNK_BYTES", 11 * 8 * 1000)
    path = _write_csv(tmp_path / "values.csv", 5000)
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[3000].split(",")
    lines[3000] = ",".join(["oops", *fields[1:]])  # line 3,001
    fields = lines[4000].split(",")
    lines[4000] = ",".join(["", *fields[1:]])  # line 4,001: missing
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match=r"Non-numeric value 'oops' in column 'x0' at line 3001"):
        streaming.fit_file(path, "label", epochs=1, progress=False)
    lines[3000] = ",".join(["1.5", *lines[3000].split(",")[1:]])
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match=r"Missing value in column 'x0' at line 4001"):
        streaming.fit_file(path, "label", epochs=1, progress=False)
    _, scores, summary = streaming.fit_file(path, "label", epochs=1, dropna=True, progress=False)
    assert summary["n_train"] + scores.n == 4999


_PEAK_RSS = """
import sys
import softmax.io.streaming
softmax.io.streaming.CHUNK_BYTES = int(sys.argv[1])
from softmax.cli import app
peak_file = sys.argv[2]
sys.argv = ["softmax", *sys.argv[3:]]
try:
    app()
finally:
    # VmHWM: this process's own high-water mark. ru_maxrss would include the
    # parent's memory at fork time, which Linux keeps across exec.
    status = open("/proc/self/status").read()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    open(peak_file, "w").write(peak.split()[1])
"""


def _peak_rss_mib(*args) -> float:
    """Peak resident memory of one `softmax` run with 512 KiB chunks, MiB."""
    with tempfile.TemporaryDirectory() as tmp:
        peak = os.path.join(tmp, "peak")
        run = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, str(512 << 10), peak, *map(str, args)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        with open(peak) as handle:
            return int(handle.read()) / 1024  # kB


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_peak_memory_does_not_grow_with_the_file(tmp_path):
    # Both larger than one chunk of the label pass (8 training chunks: 25k rows).
    small = _write_csv(tmp_path / "small.csv", 40_000, n_features=20)
    large = _write_csv(tmp_path / "large.csv", 200_000, n_features=20)
    args = ("--target", "label", "--batch-size", "512", "--epochs", "1")
    runs = {
        "small": ("fit", small, "--solver", "sgd", *args, "-o", tmp_path / "s.softmax"),
        "large": ("fit", large, "--solver", "sgd", *args, "-o", tmp_path / "l.softmax"),
        # The same file read whole (L-BFGS): shows what the measurement would catch.
        "in memory": ("fit", large, "--target", "label", "--max-iter", "2"),
    }
    with ThreadPoolExecutor(len(runs)) as pool:  # side by side: each run is mostly imports
        futures = {name: pool.submit(_peak_rss_mib, *a) for name, a in runs.items()}
        peak = {name: future.result() for name, future in futures.items()}
    print("peak RSS MiB:", {name: round(v) for name, v in peak.items()})
    data_mib = 200_000 * 21 * 8 / 2**20  # the large file as float64: 32 MiB
    # Five times the rows, the same memory: far less growth than the data would need.
    assert peak["large"] - peak["small"] < data_mib / 4, peak
    assert peak["in memory"] - peak["large"] > data_mib, peak
    assert load(tmp_path / "l.softmax").score(*_sample(large)) > 0.9


def _sample(path):
    frame = pd.read_csv(path, nrows=2000)
    return frame.drop(columns="label"), frame["label"].to_numpy()
