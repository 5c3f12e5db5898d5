"""Issue 11, the command line: no silent wrong answer.

Each test here failed on the main of 2026-12-01. Most run the installed ``softmax``
command as a subprocess (several at once where they are independent) and check the
exit status and the single ``error:`` line, or the output itself; a few run it
in-process (typer's CliRunner) where the process boundary does not matter.
"""

import gzip
import io
import os
import shutil
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from typer.testing import CliRunner

from softmax import SoftmaxRegression, load
from softmax.bandits.simulate import memory_bytes
from softmax.cli import app
from softmax.cli import streaming as cli_streaming
from softmax.io.tables import open_table


def _softmax_cmd() -> str:
    found = shutil.which("softmax") or str(Path(sys.executable).parent / "softmax")
    assert Path(found).exists()
    return found


def cli(*args, cwd, input=None, timeout=120, shell=False):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["COLUMNS"] = "200"
    if shell:
        command = [os.environ.get("SHELL_BASH", "/bin/bash"), "-c", args[0].replace("SOFTMAX", _softmax_cmd())]
    else:
        command = [_softmax_cmd(), *map(str, args)]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, input=input
    )


def cli_all(*calls, cwd):
    """Run several ``cli`` calls (argument tuples, or (tuple, keywords)) at once."""
    calls = [c if isinstance(c, tuple) and len(c) == 2 and isinstance(c[1], dict) else (c, {})
             for c in calls]
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(cli, *args, cwd=cwd, **options) for args, options in calls]
    return [future.result() for future in futures]


def here(*args, input=None):
    """Run a command in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def one_error_line(result) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    return errors[0]


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hardening")
    data = load_iris(as_frame=True)
    frame = data.frame.drop(columns="target")
    frame["species"] = data.target_names[data.target]
    # Many rows, so the first 8 KB are only a small part of the file.
    big = pd.concat([frame] * 20, ignore_index=True)
    path = folder / "iris.csv"
    big.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def iris_model(iris_csv):
    model = iris_csv.parent / "iris.softmax"
    result = cli("fit", iris_csv, "--target", "species", "--test-size", "0", "-o", model,
                 cwd=iris_csv.parent)
    assert result.returncode == 0, result.stderr
    return model


# -- 1. input from a pipe --------------------------------------------------------------------


def test_fit_from_a_pipe_gives_the_model_of_the_file(iris_csv, iris_model):
    folder = iris_csv.parent
    text = iris_csv.read_text()
    piped, stdin = cli_all(
        ((f"SOFTMAX fit <(cat {iris_csv}) --target species --test-size 0 -o piped.softmax",),
         {"shell": True}),
        (("fit", "-", "--target", "species", "--test-size", "0", "-o", "stdin.softmax"),
         {"input": text}),
        cwd=folder,
    )
    for result in (piped, stdin):
        assert result.returncode == 0, result.stderr
    a = load(iris_model)
    np.testing.assert_array_equal(a.coef_, load(folder / "piped.softmax").coef_)
    np.testing.assert_array_equal(a.coef_, load(folder / "stdin.softmax").coef_)
    assert here("predict", iris_model, "-", input=text) == here("predict", iris_model, iris_csv)


def test_streams_are_read_once_in_process(tmp_path, iris_csv, iris_model):
    """A gzipped stream, a FIFO, evaluate and summary from stdin, and a streamed fit."""
    text = iris_csv.read_text()
    code, out, err = here("evaluate", iris_model, "-", input=text)
    assert code == 0 and "accuracy" in out, err
    code, out, err = here("predict", iris_model, "-", input=gzip.compress(text.encode()))
    assert code == 0 and len(out.splitlines()) == 1 + text.count("\n") - 1, err
    code, out, err = here("fit", "-", "--target", "species", "--solver", "sgd", "--test-size",
                          "0", "-o", tmp_path / "sgd.softmax", input=text)
    assert code == 0, err
    assert load(tmp_path / "sgd.softmax").n_features_in_ == 4
    small = iris_csv.parent / "iris_small.csv"
    pd.read_csv(iris_csv).iloc[::20].to_csv(small, index=False)
    model = tmp_path / "unpenalised.softmax"
    SoftmaxRegression(C=1.0).fit(*_xy(small)).save(model, extra={"target": "species"})
    code, out, err = here("summary", model, "-", "--format", "csv", input=small.read_text())
    assert code == 0 and out.startswith("class,"), err
    fifo = tmp_path / "data.fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["cp", str(iris_csv), str(fifo)])
    code, out, err = here("predict", iris_model, fifo)
    writer.wait(timeout=60)
    assert code == 0 and len(out.splitlines()) == text.count("\n"), err
    code, out, err = here("fit", "-")  # CliRunner's stdin is empty, not a terminal
    assert code == 2 and err.startswith("error: standard input is empty"), err


def _xy(path):
    frame = pd.read_csv(path)
    return frame.drop(columns="species"), frame["species"]


# -- 2. a header one name short ----------------------------------------------------------------


def test_header_with_fewer_names_than_fields(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i + 1},{i % 3},{'xy'[i % 2]}\n" for i in range(30)))
    later = tmp_path / "later.csv"
    later.write_text("a,b,label\n" + "".join(f"{i},{i + 1},{'xy'[i % 2]}\n" for i in range(30))
                     + "1,2,x,extra\n")
    line = one_error_line(cli("fit", path, "--target", "label", cwd=tmp_path))
    assert "header" in line and "3" in line and "4" in line, line
    code, _, err = here("fit", path, "--target", "label", "--solver", "sgd", "--classes", "x,y")
    assert code == 2 and "names 3 columns but line 2 has 4 fields" in err, err
    code, _, err = here("fit", later, "--target", "label", "--test-size", "0")
    assert code == 2 and "names 3 columns but line 32 has 4 fields" in err, err
    code, _, err = here("fit", later, "--target", "label", "--solver", "sgd")
    assert code == 2 and "names 3 columns but line 32 has 4 fields" in err, err


# -- 3. predict --dropna keeps rows aligned --------------------------------------------------


def test_predict_dropna_keeps_one_line_per_input_row(tmp_path, iris_csv, iris_model):
    frame = pd.read_csv(iris_csv).drop(columns="species").head(12)
    frame.iloc[3, 1] = np.nan
    frame.iloc[7, 0] = np.nan
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    result = cli("predict", iris_model, path, "--dropna", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = pd.read_csv(pd.io.common.StringIO(result.stdout), keep_default_na=False)
    assert len(out) == len(frame)
    assert out["label"].iloc[3] == "" and out["label"].iloc[7] == ""
    full = load(iris_model).predict(frame.fillna(0).iloc[[0, 1, 2, 4, 5, 6, 8, 9, 10, 11]])
    kept = out.drop(index=[3, 7])["label"].tolist()
    assert kept == full.tolist()
    assert "2" in result.stderr and "dropped" in result.stderr.lower() or "not scored" in result.stderr
    assert "lines 5, 9" in result.stderr, result.stderr


def test_predict_dropna_streamed_with_a_chunk_of_missing_rows(tmp_path, iris_csv, iris_model):
    frame = pd.read_csv(iris_csv).drop(columns="species").head(12)
    frame.iloc[4:8, 2] = np.nan  # two whole chunks of 2 rows
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    code, whole, err = here("predict", iris_model, path, "--dropna")
    assert code == 0, err
    code, streamed, err = here("predict", iris_model, path, "--dropna", "--batch-size", "2",
                               "-o", tmp_path / "out.csv")
    assert code == 0, err
    assert "4 rows with missing values were not scored (lines 6, 7, 8, 9)" in err, err
    assert (tmp_path / "out.csv").read_text() == whole
    out = pd.read_csv(io.StringIO(whole), keep_default_na=False)
    assert len(out) == 12 and (out["label"].iloc[4:8] == "").all()


def test_large_gzip_is_judged_by_its_text(tmp_path, monkeypatch, iris_csv):
    """A .csv.gz far smaller than the threshold but holding more text is streamed."""
    text = iris_csv.read_bytes() * 4
    packed = tmp_path / "big.csv.gz"
    packed.write_bytes(gzip.compress(text))
    plain = tmp_path / "small.csv"
    plain.write_bytes(iris_csv.read_bytes()[:5000])
    monkeypatch.setattr(cli_streaming, "STREAM_PREDICT_BYTES", len(text) // 2)
    assert packed.stat().st_size < len(text) // 2
    assert cli_streaming.should_stream(open_table(packed), None)
    assert not cli_streaming.should_stream(open_table(plain), None)
    # Two gzip members: the trailer gives the last one's size only, the probe the ratio.
    twice = tmp_path / "two.csv.gz"
    twice.write_bytes(gzip.compress(text) + gzip.compress(b"4.0,3.0,1.0,0.2,setosa\n"))
    assert cli_streaming.should_stream(open_table(twice), None)


# -- signed model files ---------------------------------------------------------------------


def test_key_file_signs_and_checks_models(tmp_path, iris_csv):
    model = tmp_path / "signed.softmax"
    frame = pd.read_csv(iris_csv).iloc[::10]
    SoftmaxRegression().fit(frame.drop(columns="species"), frame["species"]).save(
        model, extra={"target": "species"}, key=b"secret"
    )
    right, wrong = tmp_path / "right.key", tmp_path / "wrong.key"
    right.write_bytes(b"secret\n")  # one trailing newline is not part of the key
    wrong.write_bytes(b"Secret")
    code, out, err = here("predict", model, iris_csv, "--key-file", right)
    assert code == 0 and out.startswith("label,"), err
    for command in (("predict", model, iris_csv), ("evaluate", model, iris_csv),
                    ("info", model), ("summary", model, iris_csv)):
        code, out, err = here(*command, "--key-file", wrong)
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error:"), err
    code, _, err = here("info", model, "--key-file", tmp_path / "missing.key")
    assert code == 2 and "missing.key" in err, err
    refit = tmp_path / "refit.softmax"
    code, _, err = here("fit", iris_csv, "--target", "species", "-o", refit, "--key-file", right)
    assert code == 0, err
    load(refit, key=b"secret")
    code, out, err = here("info", refit, "--key-file", right)
    assert code == 0 and "species" in out, err
    code, _, err = here("evaluate", refit, iris_csv, "--key-file", wrong)
    assert code == 2 and err.startswith("error:"), err


def test_cli_beta_inf_and_overflowing_sum(tmp_path):
    result, overflow = cli_all(("explain", "3", "7", "14", "--beta", "inf"),
                               ("explain", "1e308", "1e308"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nan" not in result.stdout.lower()
    assert overflow.returncode == 0, overflow.stderr
    assert "zero" not in overflow.stdout.lower() and "overflow" in overflow.stdout.lower()


# -- 11. where a non-UTF-8 byte is ------------------------------------------------------------


def test_non_utf8_byte_names_its_line(tmp_path, iris_csv):
    lines = iris_csv.read_bytes().splitlines(keepends=True)[:40]
    lines[10] = lines[10].replace(b"setosa", b"set\xeca")
    path = tmp_path / "latin.csv"
    path.write_bytes(b"".join(lines))
    line = one_error_line(cli("fit", path, "--target", "species", cwd=tmp_path))
    assert "line 11" in line, line


def test_non_utf8_byte_names_its_line_when_streamed(tmp_path, iris_csv):
    head, *rows = iris_csv.read_bytes().splitlines(keepends=True)
    body = (rows * 20)[:1500]
    body[1200] = body[1200].replace(b"setosa", b"set\xeca")
    path = tmp_path / "latin.csv"
    path.write_bytes(head + b"".join(body))
    result = cli("fit", path, "--target", "species", "--solver", "sgd", "--batch-size", "100",
                 "--classes", "setosa,versicolor,virginica", "-o", "m.softmax", cwd=tmp_path)
    line = one_error_line(result)
    assert "line 1202" in line, line


# -- 13. bandit sizes that cannot fit ---------------------------------------------------------


def test_bandit_refuses_sizes_that_cannot_fit(tmp_path):
    started = time.perf_counter()
    result = cli("bandit", "--runs", "100000000", "--steps", "100000000", cwd=tmp_path, timeout=60)
    line = one_error_line(result)
    assert "GiB" in line or "GB" in line, line
    assert time.perf_counter() - started < 30
    # The textbook's experiment needs about 2 MiB; a tenfold one ten times as much.
    assert memory_bytes(2000, 1000) < 4 << 20
    assert memory_bytes(20000, 1000) > 9 * memory_bytes(2000, 1000)


# -- 7, 8, 9. output paths ---------------------------------------------------------------------


def test_output_to_devices_and_links(tmp_path, iris_csv, iris_model):
    # A private copy of /dev/null: a regression must not replace the machine's own.
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        null = Path("/dev/null") if Path("/dev/null").is_char_device() else None
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # cat writes to a file, not a pipe: a pipe nobody reads until cli() returns fills up
    # (64 KiB), cat stops reading the FIFO and predict blocks on it for ever.
    received = tmp_path / "from_fifo.csv"
    outputs = [link, fifo] + ([] if null is None else [null])
    with received.open("w") as sink:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=sink)
        results = cli_all(*(("predict", iris_model, iris_csv, "-o", o) for o in outputs),
                          cwd=tmp_path)
        reader.wait(timeout=60)
    for result in results:
        assert result.returncode == 0, result.stderr
    assert null is None or null.is_char_device()
    assert link.is_symlink() and target.read_text().startswith("label,")
    text = received.read_text()
    assert fifo.exists() and not fifo.is_file() and text.startswith("label,")


def test_output_path_is_checked_before_training(tmp_path, iris_csv):
    started = time.perf_counter()
    result = cli("fit", iris_csv, "--target", "species", "--solver", "gd", "--max-iter", "100000",
                 "-o", tmp_path / "missing" / "model.softmax", cwd=tmp_path)
    line = one_error_line(result)
    assert "missing" in line, line
    assert not (tmp_path / "missing").exists()
    assert time.perf_counter() - started < 20

