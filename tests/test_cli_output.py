"""Issue 13, the command line's output: what goes to stdout and stderr, in which form.

* The report goes to stdout; progress and messages to stderr. Progress is drawn
  only on a terminal, towards the convergence criterion (a converged fit ends
  at 100%); ``-q`` silences progress and messages, not warnings or errors.
* ``--format text|json|csv`` on ``fit``, ``evaluate`` and ``info``; plain
  tables (no boxes, no colour, no wrapping) when stdout is not a terminal.
* ``fit -o`` saves the model before the report, so a reader that leaves early
  (``| head -1``) still gets the model, and no traceback.
* ``predict --top-k``; ``fit``'s options reach the estimator.

Where a real pipe or terminal matters, the installed ``softmax`` runs as a
subprocess (several at once); the rest runs in-process with typer's runner.
"""

import csv
import io
import json
import os
import pty
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from softmax import load
from softmax._progress import ConvergenceProgress
from softmax.cli import app
from softmax.datasets import load_dataset
from softmax.io.model_file import read_metadata
from softmax.solvers import IterationInfo

IRIS_CLASSES = ["setosa", "versicolor", "virginica"]
BOX_DRAWING = set("│┃┏┓┗┛┡┩└┘┌┐━─╇╈")
PER_CLASS_KEYS = {"class", "precision", "recall", "f1", "support"}
MODEL_KEYS = {"estimator", "classes", "n_features_in_", "feature_names_in_", "params",
              "solver_", "n_iter_", "converged_"}


def _executable() -> str:
    found = shutil.which("softmax") or str(Path(sys.executable).parent / "softmax")
    assert Path(found).exists(), "the softmax console script is not installed"
    return found


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    return env | {"COLUMNS": "100", "TERM": "xterm-256color"}


def run_here(*args) -> tuple[int, str, str]:
    """Run a command in-process; returns (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``softmax ARGS`` with stderr on a pseudo-terminal and stdout on a pipe."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([_executable(), *args], stdout=subprocess.PIPE, stderr=follower,
                            cwd=cwd, env=_env())
    os.close(follower)
    drawn = bytearray()

    def drain() -> None:  # the terminal's side, so that the command never blocks on it
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the command closed the terminal
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout = proc.stdout.read().decode()
    code = proc.wait(timeout=300)
    reader.join(timeout=60)
    os.close(leader)
    return code, stdout, drawn.decode(errors="replace")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_output")


@pytest.fixture(scope="module")
def runs(workdir) -> dict:
    """The subprocess runs, side by side: a pipe, a terminal, a reader that leaves early."""
    command = _executable()

    def piped():
        return subprocess.run([command, "fit", "--dataset", "wine", "-o", "piped.softmax"],
                              capture_output=True, text=True, cwd=workdir, env=_env(),
                              timeout=300)

    def head():
        return subprocess.run(f"'{command}' fit --dataset iris -o head.softmax | head -1",
                              shell=True, capture_output=True, text=True, cwd=workdir,
                              env=_env(), timeout=300)

    def closed():
        proc = subprocess.Popen([command, "fit", "--dataset", "iris", "-o", "closed.softmax"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=workdir,
                                env=_env())
        proc.stdout.close()  # the reader leaves before the first line
        stderr = proc.stderr.read().decode()
        return proc.wait(timeout=300), stderr

    def terminal():
        return _on_a_terminal(["fit", "--dataset", "iris"], workdir)

    def quiet_terminal():
        return _on_a_terminal(["fit", "--dataset", "iris", "-q", "-o", "quiet.softmax"], workdir)

    jobs = {"piped": piped, "head": head, "closed": closed, "terminal": terminal,
            "quiet terminal": quiet_terminal}
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


# -- stdout and stderr -----------------------------------------------------------------------


def test_piped_fit_report_is_plain_and_messages_go_to_stderr(runs, workdir):
    done = runs["piped"]
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout  # no ANSI codes
    assert not BOX_DRAWING & set(done.stdout)
    assert "fitting" not in done.stdout and "fitting" not in done.stderr  # no progress off a tty
    assert "model saved" not in done.stdout
    assert done.stderr == "model saved to piped.softmax\n"  # and no ConvergenceWarning
    lines = done.stdout.splitlines()
    assert lines[0] == "wine: metrics on the held-out test part (36 of 178 rows)"
    assert "Confusion matrix (rows: true, columns: predicted)" in lines  # a title, unwrapped
    assert all(line == line.rstrip() for line in lines)
    assert load(workdir / "piped.softmax").converged_


def test_progress_on_a_terminal_ends_full_and_stays_off_stdout(runs):
    code, stdout, drawn = runs["terminal"]
    assert code == 0
    assert "fitting" in drawn and "100%" in drawn  # converged: a full bar
    assert "/1000" not in drawn  # not drawn against max_iter
    assert "fitting" not in stdout and "\x1b" not in stdout
    assert stdout.startswith("iris: metrics on")


def test_quiet_prints_nothing_on_stderr_even_on_a_terminal(runs, workdir):
    code, stdout, drawn = runs["quiet terminal"]
    assert code == 0
    assert drawn == ""
    assert stdout.startswith("iris: metrics on")
    assert (workdir / "quiet.softmax").exists()


def test_quiet_keeps_warnings_and_errors():
    code, stdout, stderr = run_here("fit", "--solver", "gd", "--max-iter", 3, "-q")
    assert code == 0 and "accuracy" in stdout
    assert stderr.startswith("warning: ") and len(stderr.splitlines()) == 1
    code, _, stderr = run_here("fit", "--dataset", "no-such-set", "-q")
    assert code == 2 and stderr.startswith("error: ")


def test_model_is_saved_before_the_report_when_the_reader_leaves(runs, workdir):
    head = runs["head"]
    assert head.stdout == "iris: metrics on the held-out test part (30 of 150 rows)\n"
    assert "Traceback" not in head.stderr
    code, stderr = runs["closed"]
    assert code in (0, 141)
    assert "Traceback" not in stderr and "error" not in stderr
    for name in ("head.softmax", "closed.softmax"):
        assert list(load(workdir / name).classes_) == IRIS_CLASSES


# -- --format json and csv -------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[dict, Path]:
    """``softmax fit --format json -o iris.softmax``: the document and the model file."""
    path = tmp_path_factory.mktemp("json") / "iris.softmax"
    code, stdout, stderr = run_here("fit", "--format", "json", "-o", path)
    assert code == 0, stderr
    return json.loads(stdout), path


def test_fit_json(fitted):
    document, path = fitted
    assert {"dataset", "target", "n_train", "n_test", "scored_on", "metrics", "per_class",
            "confusion_matrix", "model", "model_file"} <= set(document)
    assert (document["n_train"], document["n_test"], document["scored_on"]) == (120, 30, "test")
    assert document["model_file"] == str(path)
    assert set(document["metrics"]) == {"accuracy", "log_loss"}
    assert document["metrics"]["accuracy"] >= 0.9
    assert [row["class"] for row in document["per_class"]] == IRIS_CLASSES
    assert all(set(row) == PER_CLASS_KEYS for row in document["per_class"])
    matrix = document["confusion_matrix"]
    assert matrix["classes"] == IRIS_CLASSES
    assert np.array(matrix["counts"]).sum(axis=1).tolist() == [10, 10, 10]
    model = document["model"]
    assert MODEL_KEYS <= set(model)
    assert model["solver_"] == "newton-cholesky" and model["params"]["solver"] == "auto"
    assert model["converged_"] is True and 0 < model["n_iter_"] < 100
    assert "callback" not in model["params"]
    assert read_metadata(path)["extra"]["solver_"] == "newton-cholesky"


def test_evaluate_json_and_csv(fitted):
    _, path = fitted
    code, stdout, _ = run_here("evaluate", path, "--dataset", "iris", "--format", "json")
    assert code == 0
    document = json.loads(stdout)
    assert {"model_file", "data", "n_rows", "metrics", "per_class", "confusion_matrix"} <= set(
        document
    )
    assert document["n_rows"] == 150
    assert np.array(document["confusion_matrix"]["counts"]).sum() == 150
    code, stdout, _ = run_here("evaluate", path, "--dataset", "iris", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert [row["class"] for row in rows] == IRIS_CLASSES
    assert set(rows[0]) == PER_CLASS_KEYS
    assert sum(int(row["support"]) for row in rows) == 150
    assert all(0 <= float(row["f1"]) <= 1 for row in rows)


def test_fit_csv_is_the_per_class_table():
    code, stdout, _ = run_here("fit", "--dataset", "wine", "--format", "csv", "-q")
    assert code == 0
    rows = list(csv.reader(io.StringIO(stdout)))
    assert rows[0] == ["class", "precision", "recall", "f1", "support"]
    assert len(rows) == 4


def test_info_json_and_csv(fitted):
    _, path = fitted
    model = load(path)
    code, stdout, _ = run_here("info", path, "--format", "json")
    assert code == 0
    document = json.loads(stdout)
    assert set(document) == {"file", "model", "training", "coefficients"}
    assert document["file"]["format"] == "softmax-model"
    assert MODEL_KEYS <= set(document["model"])
    assert document["model"]["solver_"] == "newton-cholesky"
    assert document["training"]["metrics"]["accuracy"] >= 0.9
    first = document["coefficients"][0]
    assert first["class"] == "setosa"
    assert first["coef"]["petal length (cm)"] == pytest.approx(model.coef_[0, 2])
    code, stdout, _ = run_here("info", path, "--format", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(stdout))
    assert list(frame.columns) == ["class", "intercept", *model.feature_names_in_]
    np.testing.assert_allclose(frame.iloc[:, 2:].to_numpy(), model.coef_, rtol=1e-12)
    np.testing.assert_allclose(frame["intercept"], model.intercept_, rtol=1e-12)


def test_info_json_says_inf_as_a_string(tmp_path):
    path = tmp_path / "free.softmax"
    code, _, stderr = run_here("fit", "-C", "inf", "--test-size", 0, "-o", path, "-q")
    assert code == 0, stderr
    code, stdout, _ = run_here("info", path, "--format", "json")
    assert json.loads(stdout)["model"]["params"]["C"] == "inf"  # strict JSON has no Infinity


def test_plain_tables_are_not_cut_into_blocks(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 18)), columns=[f"feature_{j}" for j in range(18)])
    X["kind"] = np.repeat(["a", "b", "c"], 20)
    X.to_csv(tmp_path / "wide.csv", index=False)
    code, _, stderr = run_here("fit", tmp_path / "wide.csv", "--target", "kind", "-q",
                               "--test-size", 0, "-o", tmp_path / "wide.softmax")
    assert code == 0, stderr
    code, stdout, _ = run_here("info", tmp_path / "wide.softmax")
    assert code == 0
    assert "Coefficients (continued)" not in stdout and not BOX_DRAWING & set(stdout)
    header = next(line for line in stdout.splitlines() if line.startswith("class "))
    assert header.split()[-1] == "feature_17"  # one line holds every column


# -- predict --top-k -------------------------------------------------------------------------


def test_predict_top_k(fitted, tmp_path):
    _, path = fitted
    code, stdout, stderr = run_here("predict", path, "--dataset", "iris", "--top-k", 2)
    assert (code, stderr) == (0, "")
    frame = pd.read_csv(io.StringIO(stdout))
    assert list(frame.columns) == ["top1", "top1_proba", "top2", "top2_proba"]
    assert len(frame) == 150
    proba = load(path).predict_proba(load_dataset("iris").X)
    ranked = np.sort(proba, axis=1)[:, ::-1]
    np.testing.assert_allclose(frame[["top1_proba", "top2_proba"]], ranked[:, :2], rtol=1e-12)
    assert (frame["top1"] != frame["top2"]).all()
    # The streamed path, a chunk at a time, writes the same.
    iris = load_dataset("iris")
    iris.X.to_csv(tmp_path / "iris.csv", index=False)
    code, streamed, _ = run_here("predict", path, tmp_path / "iris.csv", "--top-k", 2,
                                 "--batch-size", 7)
    assert code == 0 and streamed == stdout


def test_quiet_predict_to_a_file_says_nothing(fitted, tmp_path):
    _, path = fitted
    code, stdout, stderr = run_here("predict", path, "--dataset", "iris", "-q",
                                    "-o", tmp_path / "p.csv")
    assert (code, stdout, stderr) == (0, "", "")
    assert len(pd.read_csv(tmp_path / "p.csv")) == 150


def test_predict_top_k_beyond_the_classes_is_an_error(fitted):
    code, _, stderr = run_here("predict", fitted[1], "--dataset", "iris", "--top-k", 4)
    assert code == 2
    assert stderr.startswith("error: ") and "3 classes" in stderr


# -- fit's options reach the estimator -------------------------------------------------------


def test_fit_options_reach_the_saved_model(tmp_path):
    path = tmp_path / "sparse.softmax"
    code, stdout, stderr = run_here(
        "fit", "--dataset", "wine", "--standardize", "--l1-ratio", 0.5, "--grouped",
        "--class-weight", "balanced", "-C", 0.5, "--tol", 1e-5, "--max-iter", 500,
        "--format", "json", "-o", path,
    )  # fmt: skip
    assert code == 0, stderr
    params = read_metadata(path)["params"]
    expected = {"standardize": True, "l1_ratio": 0.5, "grouped": True,
                "class_weight": "balanced", "C": 0.5, "tol": 1e-5, "max_iter": 500,
                "solver": "auto"}
    assert {k: params[k] for k in expected} == expected
    assert json.loads(stdout)["model"]["solver_"] == "prox-newton"  # auto, for the L1 part
    code, _, stderr = run_here("fit", "--solver", "newton-cg", "-o", path, "-q")
    assert code == 0, stderr
    assert read_metadata(path)["params"]["solver"] == "newton-cg"


def test_every_solver_is_a_choice_and_auto_the_default():
    import inspect

    from softmax import SoftmaxRegression
    from softmax.cli import fit
    from softmax.solvers import SOLVERS

    assert {name.value for name in fit.SolverName} == {"auto", *SOLVERS}
    default = inspect.signature(fit.fit).parameters["solver"].default
    assert default == SoftmaxRegression().solver == "auto"


def test_streamed_fit_refuses_options_it_cannot_honour(tmp_path):
    iris = load_dataset("iris")
    iris.X.assign(species=iris.y).to_csv(tmp_path / "iris.csv", index=False)
    code, _, stderr = run_here("fit", tmp_path / "iris.csv", "--solver", "sgd",
                               "--standardize", "--class-weight", "balanced")
    assert code == 2
    assert "--standardize, --class-weight" in stderr and "streaming" in stderr


# -- the progress bar's measure --------------------------------------------------------------


def test_convergence_progress_measures_the_way_to_tol():
    progress = ConvergenceProgress(tol=1e-6, enabled=False)
    with progress:
        for i, gradient in enumerate([1e0, 1e-3, 1e-2, 1e-5]):
            progress(IterationInfo(i, 1.0, gradient))
        assert progress.fraction == pytest.approx(5 / 6, abs=1e-3)  # never moves back
        progress(IterationInfo(4, 1.0, 1e-7))
        assert progress.fraction == 1.0
    assert progress.gradients == [1e0, 1e-3, 1e-2, 1e-5, 1e-7]
    stopped = ConvergenceProgress(tol=1e-6, enabled=False)
    stopped(IterationInfo(0, 1.0, 1.0))
    stopped(IterationInfo(1, 1.0, 1e-3))
    stopped.finish(converged=False)
    assert stopped.fraction == pytest.approx(0.5, abs=1e-3)
    stopped.finish(converged=True)  # at the rounding level: converged above tol
    assert stopped.fraction == 1.0
