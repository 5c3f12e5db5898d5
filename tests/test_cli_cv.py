"""``softmax fit --cv K``: C chosen by cross-validation, the final model saved and drawn."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

import softmax
from softmax import SoftmaxRegressionCV
from softmax.cli import app
from softmax.datasets import load_dataset


def run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_cv_chooses_c_as_the_library_does(tmp_path):
    model_file, pictures = tmp_path / "wine.softmax", tmp_path / "pictures"
    code, stdout, stderr = run(
        "fit", "--dataset", "wine", "--standardize", "--cv", 3, "--cs", 6, "--rule", "1se",
        "--test-size", 0, "--seed", 1, "--format", "json", "-q", "-o", model_file,
        "--plot", pictures,
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    wine = load_dataset("wine")
    search = SoftmaxRegressionCV(6, cv=3, rule="1se", random_state=1, standardize=True)
    search.fit(wine.X, wine.y.to_numpy())
    saved = softmax.load(model_file)
    assert report["model"]["params"]["C"] == saved.C == search.C_
    np.testing.assert_allclose(saved.coef_, search.coef_, rtol=1e-10, atol=1e-12)
    assert {"cv_curve.png", "coef_path.png", "training.png"} <= {p.name for p in pictures.iterdir()}


def test_cv_reports_its_choice_and_refuses_what_it_cannot_do():
    code, stdout, stderr = run("fit", "--dataset", "iris", "--cv", 3, "--cs", 4)
    assert code == 0, stderr
    assert "cross-validation: C = " in stdout and "3 folds" in stdout
    code, _, stderr = run("fit", "--dataset", "penguins", "--cv", 3)
    assert code == 2 and "--cv takes numeric columns only" in stderr and "island" in stderr
    code, _, stderr = run("fit", "--dataset", "iris", "--cv", 1)
    assert code == 2
