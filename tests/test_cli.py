"""Tests for softmax.cli: the real ``softmax`` command, plus in-process checks.

Each run of the installed command spends one to several seconds importing
scikit-learn and pandas. So the main flows and one error case run as
subprocesses, started side by side in two waves (the second needs the model
the first one fits), and the other cases go through typer's in-process
runner, which parses arguments and reports errors exactly as the command does.
"""

import io
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from softmax import SoftmaxRegression
from softmax import __version__ as softmax_version
from softmax.cli import app
from softmax.explain import format_probability as _format_probability
from softmax.datasets import load_dataset
from softmax.io.model_file import read_metadata

COMMANDS = ("fit", "predict", "evaluate", "info", "export", "explain", "bandit", "summary",
            "warmup")
IRIS_CLASSES = ["setosa", "versicolor", "virginica"]


def _executable() -> str:
    found = shutil.which("softmax") or str(Path(sys.executable).parent / "softmax")
    assert Path(found).exists(), "the softmax console script is not installed"
    return found


def run_all(commands: dict[str, list], cwd: Path) -> dict[str, subprocess.CompletedProcess]:
    """Run the installed ``softmax`` with each argument list, concurrently."""
    # Wide columns keep rich from wrapping lines that the tests search.
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["COLUMNS"] = "200"

    def run(args: list) -> subprocess.CompletedProcess:
        return subprocess.run(
            [_executable(), *map(str, args)],
            capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
        )

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = {name: pool.submit(run, args) for name, args in commands.items()}
    return {name: future.result() for name, future in futures.items()}


def run_here(*args):
    """Run a command in-process; returns (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_user_error(code, stdout, stderr, *fragments):
    """Exit status 2, one line ``error: ...`` on stderr naming `fragments`, no traceback."""
    assert code == 2
    assert "Traceback" not in stdout + stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def ok(result: subprocess.CompletedProcess) -> str:
    """The stdout of a successful run."""
    assert result.returncode == 0, result.stderr
    return result.stdout


def flat(text: str) -> str:
    """`text` with line breaks (rich wraps long lines) and runs of spaces as one space."""
    return " ".join(text.split())


def accuracy_in(output: str) -> float:
    return float(re.search(r"accuracy\W+([01]\.\d+)", output).group(1))


def _animals(n_per_class=12, seed=0) -> pd.DataFrame:
    """A small data set with string labels; the target column is not the last."""
    rng = np.random.default_rng(seed)
    centres = {"cat": (4.0, 25.0), "dog": (20.0, 55.0), "fox": (7.0, 40.0)}
    rows = [
        {"weight": w + rng.normal(0, 1.5), "kind": kind, "height": h + rng.normal(0, 3.0)}
        for kind, (w, h) in centres.items()
        for _ in range(n_per_class)
    ]
    return pd.DataFrame(rows)


def _new_flowers() -> pd.DataFrame:
    """10 iris rows of every class, with the label, an extra column and shuffled columns."""
    iris = load_dataset("iris")
    rows = iris.X.iloc[::15].copy()
    rows.insert(0, "note", "extra column, ignored")
    rows["species"] = iris.y.iloc[::15].to_numpy()
    return rows[rows.columns[::-1]]  # columns are found by name, not position


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def runs(workdir) -> dict[str, subprocess.CompletedProcess]:
    """Every subprocess run of this file, by name."""
    first = {
        "help": ["--help"],
        "fit": ["fit", "-o", "iris.softmax"],
        "explain": ["explain", 3, 7, 14],
    }
    done = run_all(first, workdir)
    ok(done["fit"])
    _new_flowers().to_csv(workdir / "new.csv", index=False)
    (workdir / "out").mkdir()
    damaged = bytearray((workdir / "iris.softmax").read_bytes())
    for i in (-40, -41, -42):  # inside the array data
        damaged[i] ^= 0xFF
    (workdir / "damaged.softmax").write_bytes(bytes(damaged))
    return done | run_all(
        {
            "predict": ["predict", "iris.softmax", "new.csv"],
            "predict to file": [
                "predict", "iris.softmax", "--dataset", "iris", "-o", "out/predictions.csv"
            ],
            "evaluate": ["evaluate", "iris.softmax", "--dataset", "iris"],
            "info": ["info", "iris.softmax"],
            "info damaged": ["info", "damaged.softmax"],
        },
        workdir,
    )


@pytest.fixture(scope="module")
def iris_model(runs, workdir):
    """The model file that ``softmax fit -o iris.softmax`` wrote in the first wave."""
    return workdir / "iris.softmax"


@pytest.fixture(scope="module")
def animals_model(workdir):
    """``softmax fit animals.csv --target kind -o animals.softmax``, in-process."""
    _animals().to_csv(workdir / "animals.csv", index=False)
    path = workdir / "animals.softmax"
    code, stdout, stderr = run_here("fit", workdir / "animals.csv", "--target", "kind",
                                    "-C", 10, "-o", path)
    assert code == 0, stderr
    return stdout, path


# -- main flows, as subprocesses -----------------------------------------------------


def test_help_lists_every_command(runs):
    out = ok(runs["help"])
    for command in COMMANDS:
        assert re.search(rf"^\W*{command}\s", out, re.MULTILINE), command


def test_fit_on_iris_reports_metrics_and_saves(runs, iris_model):
    out = ok(runs["fit"])
    assert "fitting" not in out + runs["fit"].stderr  # progress only on a terminal
    assert "held-out test part (30 of 150 rows)" in out
    assert "log-loss" in out and "Confusion matrix" in out
    assert re.search(r"setosa\W+10\W+0\W+0", out)  # stratified: 10 test rows per class
    assert runs["fit"].stderr == "model saved to iris.softmax\n"  # messages on stderr
    assert accuracy_in(out) >= 0.9
    extra = read_metadata(iris_model)["extra"]
    expected = {"dataset": "iris", "target": "species", "n_train": 120, "n_test": 30,
                "test_size": 0.2, "seed": 0}
    assert {k: extra[k] for k in expected} == expected
    assert extra["metrics"]["accuracy"] == pytest.approx(accuracy_in(out), abs=1e-4)
    assert 0 < extra["metrics"]["log_loss"] < 0.5


def _check_predictions(csv_text: str, n_rows: int) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(csv_text))
    assert list(frame.columns) == ["label"] + [f"proba_{c}" for c in IRIS_CLASSES]
    assert len(frame) == n_rows
    proba = frame.iloc[:, 1:].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert (frame["label"] == np.asarray(IRIS_CLASSES)[proba.argmax(axis=1)]).all()
    return frame


def test_predict_csv_to_stdout(runs):
    result = runs["predict"]
    assert result.stderr == ""
    flowers = _new_flowers()
    frame = _check_predictions(ok(result), len(flowers))
    assert (frame["label"] == flowers["species"].to_numpy()).mean() >= 0.9


def test_predict_bundled_dataset_to_file(runs, workdir):
    result = runs["predict to file"]
    assert ok(result) == ""
    assert "wrote 150 predictions" in result.stderr
    assert os.listdir(workdir / "out") == ["predictions.csv"]  # no temporary file left
    _check_predictions((workdir / "out" / "predictions.csv").read_text(), 150)


def test_evaluate_on_bundled_iris(runs):
    out = ok(runs["evaluate"])
    assert "all 150 rows" in out
    assert accuracy_in(out) >= 0.9
    assert re.search(r"setosa\W+50\W+0\W+0", out)


def test_info_shows_the_model_file(runs):
    out = ok(runs["info"])
    for expected in (
        "softmax-model version 1", "written by", "created", "setosa, versicolor, virginica",
        "sepal length (cm)", "solver='auto'", "solver_", "C=1.0", "n_iter_", "converged_",
        "metrics.accuracy", "n_train", "Coefficients", "intercept",
    ):
        assert expected in out, expected
    assert re.search(r"virginica\W+-?\d", out)  # a coefficient row


def test_explain_reproduces_the_article(runs):
    out = ok(runs["explain"])
    # softmax column and the article's sum-normalisation 0.13, 0.29, 0.58
    assert re.search(r"3\W+0\W+0\.13\W+1\.7e-05", out)
    assert re.search(r"7\W+0\W+0\.29\W+9\.1e-04", out)
    assert re.search(r"14\W+1\W+0\.58\W+0\.999", out)
    assert "ignores scale: 10 times these scores would give the same values" in flat(out)


def test_corrupted_model_file(runs):
    result = runs["info damaged"]
    assert_user_error(result.returncode, result.stdout, result.stderr,
                      "damaged.softmax", "corrupted")


# -- in-process checks --------------------------------------------------------------


def test_fit_user_csv_with_string_labels(animals_model):
    stdout, path = animals_model
    metadata = read_metadata(path)
    extra = metadata["extra"]
    assert f"held-out test part ({extra['n_test']} of 36 rows)" in flat(stdout)
    assert extra["n_train"] + extra["n_test"] == 36
    assert metadata["classes"] == {"dtype": "str", "values": ["cat", "dog", "fox"]}
    assert metadata["feature_names"] == ["weight", "height"]
    assert extra["target"] == "kind" and extra["dataset"].endswith("animals.csv")


def test_explain_takes_negative_scores_without_dashes():
    code, stdout, _ = run_here("explain", -1, 0, 2, "--beta", 2)
    assert code == 0
    assert re.search(r"-1\W+0\W+-1\.0\W+2\.4e-03", stdout)
    assert "negative 'probabilities'" in flat(stdout)


def test_missing_data_file(tmp_path):
    missing = tmp_path / "no-such-file.csv"
    assert_user_error(*run_here("fit", missing), str(missing), "not found")


def test_missing_value_names_row_and_column(tmp_path):
    frame = _animals()
    frame["height"] = frame["height"].astype(object)
    frame.loc[4, "height"] = None
    frame.to_csv(tmp_path / "holes.csv", index=False)
    assert_user_error(*run_here("fit", tmp_path / "holes.csv", "--target", "kind"),
                      "'height'", "line 6", "holes.csv", "--dropna")


def test_unknown_label_at_evaluate(animals_model, tmp_path):
    frame = _animals(n_per_class=3, seed=1)
    frame.loc[0, "kind"] = "wolf"
    frame.to_csv(tmp_path / "wolves.csv", index=False)
    assert_user_error(*run_here("evaluate", animals_model[1], tmp_path / "wolves.csv"),
                      "'wolf'", "'cat', 'dog', 'fox'")


def test_version_and_short_help_option():
    code, stdout, _ = run_here("--version")
    assert code == 0 and stdout.strip() == f"softmax {softmax_version}"
    code, stdout, _ = run_here("fit", "-h")
    assert code == 0 and "Train a softmax regression model" in stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_examples(command):
    code, stdout, _ = run_here(command, "--help")
    assert code == 0
    assert "Examples" in stdout and f"softmax {command} " in stdout


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.670142e-05, "1.7e-05"),
        (9.1105e-04, "9.1e-04"),
        (0.99908, "0.999"),
        (0.18237, "0.18"),
        (0.125, "0.13"),  # half up, as the article rounds 3/24
        (0.0900306, "0.090"),
        (0.5, "0.50"),
        (-1.0, "-1.0"),
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
    ],
)
def test_format_probability(value, shown):
    assert _format_probability(value) == shown


def test_explain_scaled_down_scores():
    code, stdout, _ = run_here("explain", 0.3, 0.7, 1.4)
    assert code == 0
    for shown in ("0.18", "0.27", "0.55", "0.13", "0.29", "0.58"):
        assert shown in stdout


def test_explain_zero_sum_and_double_dash():
    code, stdout, _ = run_here("explain", "--", -1, 0, 1)
    assert code == 0
    assert stdout.count("undefined") >= 3 and "zero here" in stdout
    assert "0.090" in stdout and "0.67" in stdout


def test_explain_beta_zero_is_uniform():
    code, stdout, _ = run_here("explain", "--beta", 0, 1, 2, 5)
    assert code == 0
    rows = [line.split("│")[1:-1] for line in stdout.splitlines() if line.startswith("│")]
    assert [cells[3].strip() for cells in rows] == ["0.33"] * 3  # the softmax column


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["explain", "3"], ["at least two"]),
        (["explain", "1", "nan"], ["finite"]),
        (["fit", "--dataset", "no-such-set"], ["'no-such-set'", "iris"]),
        (["fit", "--test-size", "1"], ["--test-size"]),
        (["fit", "-C", "-1"], ["'C'"]),
    ],
)
def test_bad_arguments(args, fragments):
    assert_user_error(*run_here(*args), *fragments)


def test_usage_errors_exit_2():
    code, _, _ = run_here("fit", "--no-such-option")
    assert code == 2


def test_fit_user_table_errors(tmp_path):
    _animals().to_csv(tmp_path / "animals.csv", index=False)
    assert_user_error(*run_here("fit", tmp_path / "animals.csv", "--target", "species"),
                      "'species'", "'kind'")
    one = pd.concat([_animals(), pd.DataFrame([{"weight": 1, "kind": "owl", "height": 2}])])
    one.to_csv(tmp_path / "owl.csv", index=False)
    assert_user_error(*run_here("fit", tmp_path / "owl.csv", "--target", "kind"),
                      "'owl'", "--test-size 0")


def test_fit_on_everything_says_so(tmp_path):
    _animals().to_csv(tmp_path / "animals.csv", index=False)
    code, stdout, _ = run_here("fit", tmp_path / "animals.csv", "--target", "kind",
                               "--test-size", 0, "-o", tmp_path / "all.softmax")
    assert code == 0
    assert "training data" in flat(stdout)
    extra = read_metadata(tmp_path / "all.softmax")["extra"]
    assert (extra["n_train"], extra["n_test"]) == (36, 0)


def test_convergence_warning_is_one_yellow_line():
    code, _, stderr = run_here("fit", "--solver", "gd", "--max-iter", 3)
    assert code == 0
    assert stderr.startswith("warning: ") and len(stderr.splitlines()) == 1
    assert "did not converge" in stderr


def test_model_files_that_are_not_models(tmp_path, animals_model):
    (tmp_path / "notes.softmax").write_text("just some text, not a model\n" * 20)
    assert_user_error(*run_here("predict", tmp_path / "notes.softmax", "--dataset", "iris"),
                      "not a softmax model file")
    assert_user_error(*run_here("info", tmp_path / "missing.softmax"), "not found")
    assert_user_error(*run_here("predict", animals_model[1]), "--dataset")


def test_model_without_feature_names(tmp_path):
    iris = load_dataset("iris")
    model = SoftmaxRegression().fit(iris.X.to_numpy(), iris.y.to_numpy())
    model.save(tmp_path / "plain.softmax", extra={"target": "species"})
    frame = iris.X.iloc[:5].copy()
    frame["species"] = iris.y.iloc[:5].to_numpy()
    frame.to_csv(tmp_path / "five.csv", index=False)
    code, stdout, stderr = run_here("predict", tmp_path / "plain.softmax", tmp_path / "five.csv")
    assert (code, stderr) == (0, "")
    assert (_check_predictions(stdout, 5)["label"] == "setosa").all()
    frame.drop(columns=frame.columns[0]).to_csv(tmp_path / "three.csv", index=False)
    assert_user_error(*run_here("predict", tmp_path / "plain.softmax", tmp_path / "three.csv"),
                      "3 feature column(s)", "4 unnamed features")


def test_evaluate_needs_the_label_column(tmp_path, animals_model):
    _animals().drop(columns="kind").to_csv(tmp_path / "unlabelled.csv", index=False)
    assert_user_error(*run_here("evaluate", animals_model[1], tmp_path / "unlabelled.csv"),
                      "'kind'", "--target")


def test_info_abbreviates_wide_models(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 25)), columns=[f"f{j}" for j in range(25)])
    SoftmaxRegression().fit(X, np.repeat(["a", "b"], 20)).save(tmp_path / "wide.softmax")
    code, stdout, _ = run_here("info", tmp_path / "wide.softmax")
    assert code == 0
    assert "15 of 25 features shown" in stdout and "…" in stdout
    shown = set(re.findall(r"\bf\d+\b", stdout.split("Coefficients", 1)[1]))
    assert shown == {f"f{j}" for j in [*range(10), *range(20, 25)]}


def test_reader_closing_the_pipe_is_not_an_error(iris_model, workdir):
    """``softmax predict ... | head -1``: no traceback, no error line, SIGPIPE's status."""
    proc = subprocess.Popen(
        [_executable(), "predict", str(iris_model), "--dataset", "iris"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=workdir,
    )
    # The reader leaves before the first write (pipe buffers here can hold megabytes).
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141
    assert stderr == ""
