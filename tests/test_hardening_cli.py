"""Issue 11, the command line: no silent wrong answer.

Each test here failed on the main of 2026-12-01. They run the installed ``softmax``
command as a subprocess and check the exit status and the single ``error:`` line,
or the output itself.
"""

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from softmax import load


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
    result = cli(
        f"SOFTMAX fit <(cat {iris_csv}) --target species --test-size 0 -o piped.softmax",
        cwd=folder, shell=True,
    )
    assert result.returncode == 0, result.stderr
    a, b = load(iris_model), load(folder / "piped.softmax")
    np.testing.assert_array_equal(a.coef_, b.coef_)
    stdin = cli("fit", "-", "--target", "species", "--test-size", "0", "-o", "stdin.softmax",
                cwd=folder, input=iris_csv.read_text())
    assert stdin.returncode == 0, stdin.stderr
    np.testing.assert_array_equal(a.coef_, load(folder / "stdin.softmax").coef_)


# -- 2. a header one name short ----------------------------------------------------------------


def test_header_with_fewer_names_than_fields(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i + 1},{i % 3},{'xy'[i % 2]}\n" for i in range(30)))
    line = one_error_line(cli("fit", path, "--target", "label", cwd=tmp_path))
    assert "header" in line and "3" in line and "4" in line, line


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


def test_cli_beta_inf_and_overflowing_sum(tmp_path):
    result = cli("explain", "3", "7", "14", "--beta", "inf", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nan" not in result.stdout.lower()
    overflow = cli("explain", "1e308", "1e308", cwd=tmp_path)
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


# -- 7, 8, 9. output paths ---------------------------------------------------------------------


def test_output_to_devices_and_links(tmp_path, iris_csv, iris_model):
    # A private copy of /dev/null: a regression must not replace the machine's own.
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        null = Path("/dev/null") if Path("/dev/null").is_char_device() else None
    if null is not None:
        out = cli("predict", iris_model, iris_csv, "-o", null, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert null.is_char_device()
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    out = cli("predict", iris_model, iris_csv, "-o", link, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and target.read_text().startswith("label,")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    out = cli("predict", iris_model, iris_csv, "-o", fifo, cwd=tmp_path)
    text = reader.communicate(timeout=60)[0]
    assert out.returncode == 0, out.stderr
    assert fifo.exists() and not fifo.is_file() and text.startswith("label,")


def test_output_path_is_checked_before_training(tmp_path, iris_csv):
    started = time.perf_counter()
    result = cli("fit", iris_csv, "--target", "species", "--solver", "gd", "--max-iter", "100000",
                 "-o", tmp_path / "missing" / "model.softmax", cwd=tmp_path)
    line = one_error_line(result)
    assert "missing" in line, line
    assert not (tmp_path / "missing").exists()
    assert time.perf_counter() - started < 20

