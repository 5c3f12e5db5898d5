"""Tests for softmax.inference: agreement with statsmodels, weights, separation, CLI.

statsmodels (a test dependency only) is the reference: its ``MNLogit`` agrees
with Stata and R's ``nnet::multinom`` on the anes96 data (see
/work/shared/reference-numbers.md), with the first class as reference.
"""

import io
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.datasets import load_iris
from typer.testing import CliRunner

from softmax import SoftmaxInputError, SoftmaxRegression
from softmax.inference.firth import firth_loglik
from softmax.cli import app
from softmax.inference import InferenceResults, SeparationWarning, inference, lr_test

FEATURES = ["logpopul", "selfLR", "age", "educ", "income"]


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.fixture(scope="module")
def anes():
    data = sm.datasets.anes96.load_pandas().data
    return data[FEATURES], data["PID"]


@pytest.fixture(scope="module")
def anes_model(anes):
    X, y = anes
    # standardize: the raw features differ in scale by 100x; C=inf: no penalty.
    return SoftmaxRegression(C=np.inf, standardize=True).fit(X, y)


@pytest.fixture(scope="module")
def mnlogit(anes):
    X, y = anes
    return sm.MNLogit(y, sm.add_constant(X))


@pytest.fixture(scope="module")
def sm_fit(mnlogit):
    return mnlogit.fit(disp=0)


@pytest.fixture(scope="module")
def anes_res(anes, anes_model) -> InferenceResults:
    return anes_model.inference(*anes)


@pytest.fixture(scope="module")
def iris():
    bunch = load_iris(as_frame=True)
    return bunch.data, pd.Series(bunch.target_names[bunch.target], name="species")


# -- agreement with statsmodels ------------------------------------------------------------


def test_anes96_matches_statsmodels(anes_res, sm_fit):
    res = anes_res
    assert res.method == "mle" and res.converged and res.separation is None
    assert list(res.params.index) == ["intercept", *FEATURES]
    assert list(res.params.columns) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert res.reference == 0.0
    assert rel(res.params, sm_fit.params) < 1e-6
    assert rel(res.bse, sm_fit.bse) < 1e-5
    assert rel(res.tvalues, sm_fit.tvalues) < 1e-5
    assert rel(res.pvalues, sm_fit.pvalues) < 1e-5
    assert rel(res.conf_int(), sm_fit.conf_int()) < 1e-5
    assert rel(res.cov_params(), sm_fit.cov_params()) < 1e-5
    assert abs(res.llf / sm_fit.llf - 1) < 1e-8
    # statsmodels fits its null model numerically; ours is the closed form.
    assert abs(res.llnull / sm_fit.llnull - 1) < 1e-8
    assert abs(res.prsquared - sm_fit.prsquared) < 1e-8
    assert abs(res.aic / sm_fit.aic - 1) < 1e-8 and abs(res.bic / sm_fit.bic - 1) < 1e-8
    assert abs(res.llr_pvalue / sm_fit.llr_pvalue - 1) < 1e-5
    assert res.df_model == sm_fit.df_model and res.df_resid == sm_fit.df_resid
    assert res.nobs == 944 and round(res.llf, 2) == -1461.92 and round(res.prsquared, 4) == 0.1648


def test_robust_covariances_match_statsmodels(anes, anes_model, mnlogit):
    X, y = anes
    sm_hc0 = mnlogit.fit(disp=0, cov_type="HC0")
    sm_hc1 = mnlogit.fit(disp=0, cov_type="HC1")
    hc0 = anes_model.inference(X, y, cov_type="HC0")
    hc1 = anes_model.inference(X, y, cov_type="hc1")
    assert rel(hc0.bse, sm_hc0.bse) < 1e-5
    # statsmodels' MNLogit has no HC1 factor (its HC1 is HC0); ours is n / (n - k).
    assert rel(sm_hc1.bse, sm_hc0.bse) < 1e-12
    factor = np.sqrt(944 / (944 - 36))
    assert rel(hc1.bse, sm_hc1.bse * factor) < 1e-5
    groups = np.arange(len(y)) % 37
    sm_cl = mnlogit.fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    cl = anes_model.inference(X, y, cov_type="cluster", groups=groups)
    assert cl.n_groups == 37
    assert rel(cl.bse, sm_cl.bse) < 1e-5
    assert rel(cl.params, sm_cl.params) < 1e-6


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_marginal_effects_match_statsmodels(anes_res, sm_fit, at):
    ours = anes_res.marginal_effects(at)
    theirs = sm_fit.get_margeff(at=at)
    assert ours.effects.shape == (5, 7)
    assert list(ours.effects.index) == FEATURES
    assert rel(ours.effects, theirs.margeff) < 1e-6
    assert rel(ours.bse, theirs.margeff_se) < 1e-6
    np.testing.assert_allclose(ours.effects.sum(axis=1), 0, atol=1e-15)
    tidy = ours.summary_frame()
    assert tidy.shape == (35, 8) and np.isfinite(tidy.select_dtypes("number")).all().all()


def test_wald_and_lr_tests(anes, anes_model, anes_res, sm_fit, mnlogit):
    X, y = anes
    wald = anes_res.wald_test(["age"])
    R = np.zeros((6, 36))
    R[np.arange(6), np.arange(6) * 6 + 3] = 1  # "age" in each class block
    theirs = sm_fit.wald_test(R, scalar=True)
    assert wald.df == 6 and "age" in wald.hypothesis
    assert rel(wald.statistic, theirs.statistic) < 1e-6
    assert rel(wald.pvalue, theirs.pvalue) < 1e-5
    assert rel(anes_res.wald_test(R=R).statistic, wald.statistic) < 1e-12

    smaller = [f for f in FEATURES if f != "age"]
    restricted_model = SoftmaxRegression(C=np.inf, standardize=True).fit(X[smaller], y)
    restricted = restricted_model.inference(X[smaller], y)
    lr = anes_res.lr_test(restricted)
    sm_restricted = sm.MNLogit(y, sm.add_constant(X[smaller])).fit(disp=0)
    assert lr.df == 6
    assert rel(lr.statistic, 2 * (sm_fit.llf - sm_restricted.llf)) < 1e-6
    assert lr_test(restricted, anes_res) == lr
    with pytest.raises(ValueError, match="subset"):
        lr_test(anes_res, restricted)


# -- weights ---------------------------------------------------------------------------------


def test_frequency_weights_equal_duplicated_rows(anes, anes_model):
    X, y = anes
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4, len(y))  # zeros drop rows
    groups = np.arange(len(y)) % 29
    rows = np.repeat(np.arange(len(y)), counts)
    Xd, yd, gd = X.iloc[rows], y.iloc[rows], groups[rows]
    for cov_type in ("nonrobust", "HC0", "HC1", "cluster"):
        g = (groups, gd) if cov_type == "cluster" else (None, None)
        weighted = anes_model.inference(X, y, counts, cov_type, groups=g[0])
        duplicated = anes_model.inference(Xd, yd, cov_type=cov_type, groups=g[1])
        assert weighted.nobs == duplicated.nobs == counts.sum()
        assert rel(weighted.params, duplicated.params) < 1e-9
        assert rel(weighted.bse, duplicated.bse) < 1e-9
    assert abs(weighted.llf / duplicated.llf - 1) < 1e-12
    assert abs(weighted.bic / duplicated.bic - 1) < 1e-12
    assert rel(weighted.marginal_effects().bse, duplicated.marginal_effects().bse) < 1e-9


def test_analytic_weights(anes, anes_model, anes_res):
    X, y = anes
    w = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    a = anes_model.inference(X, y, w, "HC0", weights_kind="analytic")
    b = anes_model.inference(X, y, 7.5 * w, "HC0", weights_kind="analytic")
    assert a.nobs == len(y) and a.weights_kind == "analytic"
    assert rel(a.bse, b.bse) < 1e-9 and abs(a.llf / b.llf - 1) < 1e-12
    ones = anes_model.inference(X, y, np.full(len(y), 3.0), weights_kind="analytic")
    assert rel(ones.bse, anes_res.bse) < 1e-9
    # Frequency weights 3 would triple the information instead.
    triple = anes_model.inference(X, y, np.full(len(y), 3.0))
    assert rel(triple.bse * np.sqrt(3), anes_res.bse) < 1e-9


def test_analytic_weights_keep_the_penalised_estimand(anes):
    X, y = anes
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    model = SoftmaxRegression(C=0.05, standardize=True, tol=1e-10, max_iter=5000)
    model.fit(X, y, sample_weight=w)
    res = model.inference(X, y, w, weights_kind="analytic")
    sym = res.symmetric()["estimate"].unstack().loc[list(model.classes_), res.terms]
    np.testing.assert_allclose(sym[FEATURES], model.coef_, rtol=1e-5, atol=1e-7)


def test_binary_and_no_intercept_match_statsmodels(anes):
    X, y = anes
    binary = (y >= 4).astype(int)
    res = SoftmaxRegression(C=np.inf, standardize=True).fit(X, binary).inference(X, binary)
    logit = sm.Logit(binary, sm.add_constant(X)).fit(disp=0)
    assert res.params.shape == (6, 1)
    assert rel(res.params[1], logit.params) < 1e-6 and rel(res.bse[1], logit.bse) < 1e-5
    assert rel(res.marginal_effects().bse[1], logit.get_margeff().margeff_se) < 1e-6
    res = SoftmaxRegression(C=np.inf, fit_intercept=False).fit(X, y).inference(X, y)
    theirs = sm.MNLogit(y, X).fit(disp=0)
    assert res.terms == FEATURES
    assert rel(res.params, theirs.params) < 1e-6 and rel(res.bse, theirs.bse) < 1e-5


# -- parametrisation -------------------------------------------------------------------------


def test_reference_change_is_consistent(anes, anes_model, anes_res):
    X, y = anes
    other = anes_model.inference(X, y, reference=3.0)
    assert other.reference == 3.0 and 3.0 not in other.params.columns
    np.testing.assert_allclose(other.predict_proba(X), anes_res.predict_proba(X), rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(anes_res.predict_proba(X), anes_model.predict_proba(X), atol=1e-5)
    # beta_{j vs 3} = beta_{j vs 0} - beta_{3 vs 0}; and beta_{0 vs 3} = -beta_{3 vs 0}.
    p0 = anes_res.params
    expected = p0.sub(p0[3.0], axis=0).drop(columns=3.0).assign(**{"0.0": -p0[3.0]})
    expected.columns = [*p0.columns.drop(3.0), 0.0]
    np.testing.assert_allclose(other.params[expected.columns], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(other.bse[0.0], anes_res.bse[3.0], rtol=1e-9)
    assert not np.allclose(other.bse[6.0], anes_res.bse[6.0])
    mapped = anes_res.with_reference("3.0")
    np.testing.assert_allclose(mapped.params, other.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mapped.cov_params(), other.cov_params(), rtol=1e-7, atol=1e-14)
    assert other.llf == pytest.approx(anes_res.llf, rel=1e-13)
    assert other.wald_test(["age"]).statistic == pytest.approx(
        anes_res.wald_test(["age"]).statistic, rel=1e-8
    )
    np.testing.assert_allclose(other.marginal_effects().bse, anes_res.marginal_effects().bse,
                               rtol=1e-8)


def test_symmetric_form_is_the_estimators(iris):
    X, y = iris
    model = SoftmaxRegression(C=1.0, tol=1e-12, max_iter=5000).fit(X, y)
    res = model.inference(X, y)
    assert res.method == "penalised" and 0 < res.edf < res.k_params
    sym = res.symmetric()["estimate"].unstack().loc[list(model.classes_), res.terms]
    np.testing.assert_allclose(sym["intercept"], model.intercept_, atol=1e-6)
    np.testing.assert_allclose(sym[list(X.columns)], model.coef_, atol=1e-6)
    # Separation is recorded; the penalty is the remedy, so no warning is needed.
    assert res.separation is not None and "setosa" in res.separation.classes


def test_penalised_optimum_with_standardize_is_the_estimators(anes):
    X, y = anes
    model = SoftmaxRegression(C=0.01, standardize=True, tol=1e-10, max_iter=5000).fit(X, y)
    res = model.inference(X, y)
    sym = res.symmetric()["estimate"].unstack().loc[list(model.classes_), res.terms]
    np.testing.assert_allclose(sym[FEATURES], model.coef_, rtol=1e-5, atol=1e-7)


def test_penalised_sandwich_tends_to_the_mle_covariance(anes, anes_res):
    X, y = anes
    res = SoftmaxRegression(C=1e8, standardize=True).fit(X, y).inference(X, y)
    assert res.method == "penalised"
    assert rel(res.bse, anes_res.bse) < 1e-4


# -- separation ------------------------------------------------------------------------------


def test_iris_without_penalty_warns_and_stays_finite(iris):
    X, y = iris
    model = SoftmaxRegression(C=np.inf).fit(X, y)
    with pytest.warns(SeparationWarning, match="setosa") as caught:
        res = model.inference(X, y)
    message = str(caught[0].message)
    assert "petal" in message and "Firth" in message
    assert res.method == "firth" and res.converged
    assert res.separation.kind == "quasi-complete"
    assert all(p.complete and "setosa" in p.classes for p in res.separation.pairs)
    frames = [res.params, res.bse, res.tvalues, res.pvalues, res.conf_int(), res.cov_params(),
              res.summary().frame.select_dtypes("number"),
              res.marginal_effects().summary_frame().select_dtypes("number")]
    assert all(np.isfinite(f.to_numpy(dtype=float)).all() for f in frames)
    assert np.isfinite([res.llf, res.llnull, res.aic, res.bic, res.llr_pvalue]).all()
    assert "setosa" in str(res.summary())
    # Firth's estimate is a stationary point of l + 1/2 log det I.
    problem, theta = res._problem, res._theta
    h = 1e-5
    grad = [
        (firth_loglik(problem, theta + h * e.reshape(theta.shape))
         - firth_loglik(problem, theta - h * e.reshape(theta.shape))) / (2 * h)
        for e in np.eye(theta.size)
    ]
    assert np.max(np.abs(grad)) < 1e-5
    # Reference-invariant: another reference maps onto the same probabilities.
    mapped = res.with_reference("virginica")
    np.testing.assert_allclose(mapped.predict_proba(X), res.predict_proba(X), atol=1e-12)


def test_separation_remedies(iris):
    X, y = iris
    model = SoftmaxRegression(C=np.inf).fit(X, y)
    with pytest.warns(SeparationWarning, match="ridge"):
        ridge = model.inference(X, y, separation="ridge")
    assert ridge.method == "ridge" and np.isfinite(ridge.bse.to_numpy()).all()
    with pytest.raises(SoftmaxInputError, match="setosa"):
        model.inference(X, y, separation="error")
    two = X[["sepal length (cm)", "sepal width (cm)"]]
    with pytest.warns(SeparationWarning, match="combination of 'sepal length"):
        SoftmaxRegression(C=np.inf).fit(two, y).inference(two, y)


# -- summary and errors ----------------------------------------------------------------------


def test_summary_text_and_frame(anes_res):
    summary = anes_res.summary()
    text = str(summary)
    assert "PID = 1.0 (vs 0.0)" in text and "PID = 6.0 (vs 0.0)" in text
    assert "selfLR" in text and "-1461.923" in text and "maximum likelihood" in text
    assert list(summary.frame.columns) == [
        "class", "term", "estimate", "std_err", "z", "p_value", "ci_lower", "ci_upper"
    ]
    assert summary.frame.shape == (36, 8)
    assert summary.info["parameters"] == 36
    json.dumps(summary.info)


def test_bad_input(anes, anes_model):
    X, y = anes
    with pytest.raises(SoftmaxInputError, match="does not know"):
        anes_model.inference(X, y.replace(6.0, 9.0))
    with pytest.raises(ValueError, match="groups"):
        anes_model.inference(X, y, cov_type="cluster")
    with pytest.raises(ValueError, match="cov_type"):
        anes_model.inference(X, y, cov_type="HC3")
    with pytest.raises(SoftmaxInputError, match="not a class"):
        anes_model.inference(X, y, reference="purple")
    with pytest.raises(SoftmaxInputError, match="no rows"):
        anes_model.inference(X[y != 2.0], y[y != 2.0])
    Xc = X.assign(twice=2 * X["age"])
    model = SoftmaxRegression(C=np.inf, standardize=True, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Xc, y)
    with pytest.raises(SoftmaxInputError, match="collinear"):
        model.inference(Xc, y)


# -- command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def anes_files(tmp_path_factory, anes):
    X, y = anes
    where = tmp_path_factory.mktemp("summary")
    data = where / "anes.csv"
    X.assign(PID=y, state=np.arange(len(y)) % 37).to_csv(data, index=False)
    model = where / "anes.softmax"
    SoftmaxRegression(C=np.inf, standardize=True).fit(X, y).save(model, extra={"target": "PID"})
    return str(model), str(data)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, ["summary", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_summary_formats(anes_files, anes_res):
    model, data = anes_files
    text = invoke(model, data, "--target", "PID")
    assert "PID = 1.0 (vs 0.0)" in text and "selfLR" in text
    frame = pd.read_csv(io.StringIO(invoke(model, data, "--format", "csv")))
    expected = anes_res.summary_frame()
    np.testing.assert_allclose(frame["std_err"], expected["std_err"], rtol=1e-9)
    assert list(frame["term"][:2]) == ["intercept", "logpopul"]
    doc = json.loads(invoke(model, data, "--format", "json", "--cov-type", "HC1",
                            "--reference", "3"))
    assert doc["model"]["reference_class"] == 3.0 and doc["model"]["cov_type"] == "HC1"
    assert len(doc["coefficients"]) == 36
    clustered = invoke(model, data, "--cov-type", "cluster", "--groups", "state")
    assert "cluster (37 clusters)" in clustered


def test_cli_summary_errors(anes_files):
    model, data = anes_files
    result = CliRunner().invoke(app, ["summary", model, data, "--reference", "purple"])
    assert result.exit_code == 2 and "error:" in result.output and "purple" in result.output
    result = CliRunner().invoke(app, ["summary", model, data, "--groups", "nowhere",
                                      "--cov-type", "cluster"])
    assert result.exit_code == 2 and "nowhere" in result.output


def test_installed_command(anes_files, anes_res):
    exe = shutil.which("softmax") or str(Path(sys.executable).parent / "softmax")
    model, data = anes_files
    done = subprocess.run([exe, "summary", model, data, "--target", "PID", "--format", "csv"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(io.StringIO(done.stdout))
    np.testing.assert_allclose(frame["estimate"], anes_res.summary_frame()["estimate"],
                               rtol=1e-9)


def test_inference_function_equals_method(anes, anes_model, anes_res):
    res = inference(anes_model, *anes)
    np.testing.assert_array_equal(res.params, anes_res.params)
