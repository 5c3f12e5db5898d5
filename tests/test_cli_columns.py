"""The command line on tables with text columns: --features, --drop, --formula,
--sample-weight, predict --keep and --strict (the real ``softmax`` command, plus
in-process checks of the errors, as tests/test_cli.py does)."""

import io
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from typer.testing import CliRunner

from softmax import SoftmaxRegression, load
from softmax.cli import app
from softmax.io.model_file import read_metadata

pytest.importorskip("formulaic")

PREDICTION_COLUMNS = ["label", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]


def _run_all(commands: dict[str, list], cwd: Path) -> dict[str, subprocess.CompletedProcess]:
    """Run the installed ``softmax`` with each argument list, side by side."""
    executable = shutil.which("softmax") or str(Path(sys.executable).parent / "softmax")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["COLUMNS"] = "200"

    def run(args: list) -> subprocess.CompletedProcess:
        return subprocess.run([executable, *map(str, args)], capture_output=True, text=True,
                              cwd=cwd, env=env, timeout=300)  # fmt: skip

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = {name: pool.submit(run, args) for name, args in commands.items()}
    return {name: future.result() for name, future in futures.items()}


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _user_error(code: int, stderr: str, *fragments: str) -> None:
    """Exit status 2 and one line ``error: ...`` naming `fragments`."""
    lines = stderr.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0]


def _here(*args) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """penguins.csv (ids, weights, 11 rows with missing values), new.csv (an island
    never seen), and the results of the commands, run in two waves."""
    folder = tmp_path_factory.mktemp("cli_columns")
    frame = load_penguins()
    frame.insert(0, "id", [f"p{i}" for i in range(len(frame))])
    frame["w"] = np.where(frame["species"] == "Chinstrap", 3.0, 1.0)
    frame.to_csv(folder / "penguins.csv", index=False)
    new = frame.dropna().head(5).drop(columns=["species", "w"])
    new.loc[new.index[1], "island"] = "Atlantis"
    new.to_csv(folder / "new.csv", index=False)

    first = _run_all({
        "columns": ["fit", "penguins.csv", "--target", "species", "--drop", "id,year",
                    "--sample-weight", "w", "--dropna", "--test-size", "0", "-q",
                    "-o", "columns.softmax"],
        "formula": ["fit", "penguins.csv", "--formula",
                    "species ~ bill_length_mm + C(island) + sex", "--dropna", "-q",
                    "-o", "formula.softmax"],
    }, folder)  # fmt: skip
    second = _run_all({
        "predict": ["predict", "columns.softmax", "new.csv", "--keep", "id"],
        "formula_predict": ["predict", "formula.softmax", "new.csv", "--keep", "id,sex"],
    }, folder) if first["columns"].returncode == first["formula"].returncode == 0 else {}
    return folder, {**first, **second}


def test_fit_encodes_text_columns_and_weights_rows(workdir):
    folder, runs = workdir
    _ok(runs["columns"])
    model = load(folder / "columns.softmax")
    assert model.feature_names_in_.tolist() == [
        "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"
    ]  # id, year (dropped) and w (the weights) are not features
    assert "island[Torgersen]" in model.feature_names_out_.tolist()
    assert read_metadata(folder / "columns.softmax")["extra"]["n_train"] == 333
    # The library, given the same rows and weights, fits the same model.
    frame = pd.read_csv(folder / "penguins.csv").dropna()
    X = frame[model.feature_names_in_.tolist()]
    same = SoftmaxRegression(**model.get_params()).fit(X, frame.species, sample_weight=frame.w)
    np.testing.assert_allclose(model.coef_, same.coef_, rtol=1e-6, atol=1e-8)


def test_predict_keeps_ids_and_warns_on_unseen_categories(workdir):
    _, runs = workdir
    out = pd.read_csv(io.StringIO(_ok(runs["predict"])))
    assert out.columns.tolist() == ["id", *PREDICTION_COLUMNS]
    assert out["id"].tolist() == ["p0", "p1", "p2", "p4", "p5"]
    assert "warning: Categories not seen in training: column 'island': 'Atlantis'" in (
        runs["predict"].stderr
    )


def test_info_names_the_encoded_coefficients(workdir, monkeypatch):
    monkeypatch.chdir(workdir[0])
    code, stdout, stderr = _here("info", "formula.softmax", "--format", "csv")
    assert code == 0, stderr
    assert stdout.splitlines()[0] == (
        "class,intercept,bill_length_mm,C(island)[T.Dream],C(island)[T.Torgersen],sex[T.male]"
    )


def test_strict_refuses_unseen_categories(workdir, monkeypatch):
    monkeypatch.chdir(workdir[0])
    code, stdout, stderr = _here("predict", "columns.softmax", "new.csv", "--strict")
    _user_error(code, stderr, "column 'island': 'Atlantis'")
    assert stdout == ""


def test_formula_model_predicts_and_evaluates(workdir):
    folder, runs = workdir
    _ok(runs["formula"])
    model = load(folder / "formula.softmax")
    assert model.formula == "species ~ bill_length_mm + C(island) + sex"
    assert model.feature_names_out_.tolist() == [
        "bill_length_mm", "C(island)[T.Dream]", "C(island)[T.Torgersen]", "sex[T.male]"
    ]  # fmt: skip
    out = pd.read_csv(io.StringIO(_ok(runs["formula_predict"])))
    assert out.columns.tolist() == ["id", "sex", *PREDICTION_COLUMNS]
    assert "term 'C(island)': 'Atlantis'" in runs["formula_predict"].stderr


def test_evaluate_strict_on_known_categories(workdir, monkeypatch):
    monkeypatch.chdir(workdir[0])
    code, stdout, stderr = _here("evaluate", "formula.softmax", "penguins.csv", "--dropna",
                                 "--strict", "--format", "json")  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["n_rows"] == 333 and report["metrics"]["accuracy"] > 0.9


def test_bundled_penguins_keep_island_and_sex():
    code, stdout, stderr = _here("fit", "--dataset", "penguins", "--features",
                                 "island,sex,bill_length_mm", "--format", "json")  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["n_train"] + report["n_test"] == 333


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["fit", "--dataset", "penguins", "--formula", "species ~ sex", "--features", "sex"],
         ["--formula names the features itself"]),
        (["fit", "--dataset", "penguins", "--features", "island,beak"], ["'beak'"]),
        (["fit", "--dataset", "penguins", "--features", "species"], ["target column"]),
        (["fit", "--dataset", "penguins", "--sample-weight", "w"], ["no weights"]),
        (["fit", "penguins.csv", "--formula", "species ~ sex", "--target", "island"],
         ["left side names the target 'species', but --target is 'island'"]),
        (["fit", "--dataset", "penguins", "--features", "sex", "--drop", "island"],
         ["not both"]),
        (["fit", "penguins.csv", "--solver", "sgd", "--drop", "id"],
         ["--drop is not available when streaming"]),
        (["fit", "penguins.csv", "--target", "species", "--drop", "year,w"],
         ["Missing value in column 'bill_length_mm'"]),
        (["fit", "penguins.csv", "--target", "species", "--features", "island,id",
          "--sample-weight", "island", "--dropna"], ["cannot be a feature"]),
        (["predict", "columns.softmax", "--dataset", "penguins", "--keep", "id"],
         ["--keep copies columns of a DATA file"]),
        (["predict", "columns.softmax", "new.csv", "--keep", "nope"], ["'nope'"]),
    ],
)  # fmt: skip
def test_errors(workdir, monkeypatch, args, fragments):
    folder, _ = workdir
    monkeypatch.chdir(folder)
    code, _, stderr = _here(*args)
    _user_error(code, stderr, *fragments)
