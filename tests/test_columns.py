"""Tables as features: text, categorical and boolean columns, unseen categories, model
files and formulas (softmax.model.columns, .formula, .design)."""

import json
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import safetensors.numpy
from palmerpenguins import load_penguins
from sklearn.base import clone

from softmax import (
    ModelFileError,
    SoftmaxInputError,
    SoftmaxRegression,
    UnknownCategoryError,
    UnknownCategoryWarning,
    load,
)
from softmax.io.model_file import read_metadata
from softmax.io.model_format import ENCODING_FORMAT_VERSION
from softmax.model.columns import ColumnEncoding
from softmax.model.design import encoding_from_file
from softmax.model.formula import FormulaDesign

formulaic = pytest.importorskip("formulaic")


@pytest.fixture(scope="module")
def penguins():
    """Complete rows of the Palmer penguins, island and sex as text."""
    return load_penguins().dropna().reset_index(drop=True)


@pytest.fixture(scope="module")
def small():
    """Twelve rows: a number, text, a pandas category and booleans."""
    return pd.DataFrame({
        "x": [0.5, 1.0, -0.3, 2.0, 0.1, -1.2, 0.7, 1.5, -0.8, 0.0, 1.1, -0.4],
        "colour": ["red", "blue", "green", "red", "blue", "green"] * 2,
        "size": pd.Categorical(["S", "L", "M", "S", "L", "M"] * 2,
                               categories=["XL", "S", "M", "L"]),
        "flag": [True, False] * 6,
    })  # fmt: skip


@pytest.fixture(scope="module")
def labels():
    return np.array(["a", "b", "c", "a", "b", "c", "b", "a", "c", "c", "a", "b"])


def _one_hot(X):
    """The design the encoding must make: numbers, then one 0/1 column per sorted category."""
    return np.column_stack([
        X["x"].to_numpy(float),
        *[(X["colour"] == c).to_numpy(float) for c in ("blue", "green", "red")],
        *[(X["size"].astype(str) == c).to_numpy(float) for c in ("L", "M", "S")],
        X["flag"].to_numpy(float),
    ])  # fmt: skip


def test_columns_are_encoded_like_one_hot(small, labels):
    model = SoftmaxRegression(C=3.0).fit(small, labels)
    assert model.feature_names_in_.tolist() == ["x", "colour", "size", "flag"]
    assert model.n_features_in_ == 4
    assert model.feature_names_out_.tolist() == [
        "x", "colour[blue]", "colour[green]", "colour[red]", "size[L]", "size[M]", "size[S]",
        "flag",
    ]  # categories sorted; the declared, unseen 'XL' is not one
    assert model.coef_.shape == (3, 8)
    kinds = [(c.name, c.kind, c.categories) for c in model.feature_encoding_.columns]
    assert kinds == [("x", "numeric", None), ("colour", "category", ("blue", "green", "red")),
                     ("size", "category", ("L", "M", "S")), ("flag", "bool", None)]  # fmt: skip
    np.testing.assert_array_equal(model.feature_encoding_.transform(small), _one_hot(small))
    # Input handling only: the same model as on the encoded matrix.
    plain = SoftmaxRegression(C=3.0).fit(_one_hot(small), labels)
    np.testing.assert_allclose(model.coef_, plain.coef_, atol=1e-10)
    np.testing.assert_allclose(model.predict_proba(small), plain.predict_proba(_one_hot(small)))
    # Found by name: other columns and another order are fine.
    shuffled = small[["flag", "size", "x", "colour"]].assign(note="ignored")
    np.testing.assert_allclose(model.predict_proba(shuffled), model.predict_proba(small))


def test_numbers_need_no_encoding(small, labels):
    for X in (small[["x"]], small[["x", "flag"]], small[["x"]].to_numpy()):
        model = SoftmaxRegression().fit(X, labels)
        assert model.feature_encoding_ is None
        assert model.coef_.shape[1] == X.shape[1]
    assert model.feature_names_out_.tolist() == ["x0"]


def test_unseen_category_warns_or_fails(small, labels):
    model = SoftmaxRegression().fit(small, labels)
    new = small.head(3).copy()
    new["colour"] = ["purple", "red", "purple"]
    with pytest.warns(UnknownCategoryWarning, match=r"column 'colour': 'purple'"):
        proba = model.predict_proba(new)
    absent = model.feature_encoding_.transform(new.assign(colour="red"))
    absent[:, 1:4] = 0  # all-zero indicators for the column
    np.testing.assert_allclose(proba[[0, 2]], _proba(model, absent)[[0, 2]])
    strict = clone(model).set_params(handle_unknown="error").fit(small, labels)
    with pytest.raises(UnknownCategoryError, match=r"column 'colour': 'purple'"):
        strict.predict(new)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        strict.predict(small)  # known categories: nothing said


def _proba(model, features):
    scores = features @ model.coef_.T + model.intercept_
    scores -= scores.max(axis=1, keepdims=True)
    return np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)


def test_booleans_and_their_numbers(small, labels):
    model = SoftmaxRegression().fit(small, labels)
    as_numbers = small.assign(flag=small["flag"].astype(int))
    np.testing.assert_allclose(model.predict_proba(as_numbers), model.predict_proba(small))
    with pytest.raises(SoftmaxInputError, match="'flag' held booleans.*'maybe'"):
        model.predict(small.assign(flag=["maybe"] * 12))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X: X.assign(colour=X["colour"].where(X.index != 3)), r"'colour' has 1 missing"),
        (lambda X: X.assign(colour=["red", 1] * 6), r"'colour' mixes text with other values"),
        (lambda X: X.assign(when=pd.Timestamp("2024-01-01")), r"'when' has dtype datetime"),
    ],
)
def test_bad_columns_in_fit(small, labels, change, message):
    with pytest.raises(SoftmaxInputError, match=message):
        SoftmaxRegression().fit(change(small), labels)


def test_bad_input_at_predict(small, labels):
    model = SoftmaxRegression().fit(small, labels)
    with pytest.raises(SoftmaxInputError, match="must be a pandas DataFrame"):
        model.predict(small.to_numpy())
    with pytest.raises(SoftmaxInputError, match=r"lacks the column\(s\) 'size'"):
        model.predict(small.drop(columns="size"))
    with pytest.raises(SoftmaxInputError, match=r"'colour' has 1 missing value\(s\) \(rows 2\)"):
        model.predict(small.assign(colour=small["colour"].where(small.index != 2)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(small.assign(x=np.nan))
    with pytest.raises(SoftmaxInputError, match="numeric features only"):
        SoftmaxRegression(solver="sgd", alpha=0.1).partial_fit(small, labels)


def test_model_file_round_trip(tmp_path, penguins):
    X, y = penguins[["bill_length_mm", "flipper_length_mm", "island", "sex"]], penguins.species
    model = SoftmaxRegression(C=10.0).fit(X, y)
    path = model.save(tmp_path / "penguins.softmax")
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert (loaded.predict(X) == model.predict(X)).all()
    assert loaded.feature_encoding_ == model.feature_encoding_
    assert loaded.feature_names_out_.tolist() == model.feature_names_out_.tolist()
    meta = read_metadata(path)
    assert meta["format_version"] == ENCODING_FORMAT_VERSION == 2
    assert meta["encoding"]["columns"][2] == {
        "name": "island", "kind": "category", "categories": ["Biscoe", "Dream", "Torgersen"]
    }
    numeric = SoftmaxRegression().fit(X[["bill_length_mm"]], y).save(tmp_path / "plain.softmax")
    assert read_metadata(numeric)["format_version"] == 1 and "encoding" not in read_metadata(
        numeric
    )


def _rewrite(path, edit):
    """The model file at `path` with its metadata edited and sealed again."""
    from softmax.io.model_format import DIGEST_KEY, seal

    data = path.read_bytes()
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    metadata = json.loads(header["__metadata__"]["softmax"])
    metadata.pop(DIGEST_KEY)
    edit(metadata)
    path.write_bytes(safetensors.numpy.save(safetensors.numpy.load(data),
                                            metadata={"softmax": seal(metadata)}))  # fmt: skip
    return path


def test_files_of_earlier_versions_and_damaged_encodings(tmp_path, small, labels):
    def older(meta):  # what softmax wrote before tables: no such parameters
        del meta["params"]["formula"], meta["params"]["handle_unknown"]

    path = SoftmaxRegression().fit(small[["x"]], labels).save(tmp_path / "old.softmax")
    old = load(_rewrite(path, older))
    assert old.handle_unknown == "warn" and old.formula is None and old.feature_encoding_ is None

    model = SoftmaxRegression().fit(small, labels)
    for name, edit in {
        "kind": lambda m: m["encoding"].update(kind="pickle"),
        "count": lambda m: m["encoding"]["columns"].pop(),
        "categories": lambda m: m["encoding"]["columns"][1].update(categories=["red"]),
        "names": lambda m: m["encoding"]["columns"][0].update(name="y"),
    }.items():
        damaged = _rewrite(model.save(tmp_path / f"{name}.softmax"), edit)
        with pytest.raises(ModelFileError, match="corrupted"):
            load(damaged)
    with pytest.raises(ValueError):
        repeated = {"name": "a", "kind": "category", "categories": ["x", "x"]}
        encoding_from_file({"kind": "columns", "columns": [repeated]})


def test_formula(tmp_path, penguins):
    formula = "species ~ bill_length_mm + C(island) + center(body_mass_g)"
    model = SoftmaxRegression.from_formula(formula, penguins, C=10.0)
    assert isinstance(model.feature_encoding_, FormulaDesign)
    assert model.fit_intercept and model.formula == formula
    assert model.feature_names_out_.tolist() == [
        "bill_length_mm", "C(island)[T.Dream]", "C(island)[T.Torgersen]", "center(body_mass_g)"
    ]  # fmt: skip
    assert model.feature_names_in_.tolist() == ["island", "bill_length_mm", "body_mass_g"]
    # The same design on new rows: a frame of other rows, in another order.
    new = penguins.sample(20, random_state=0)
    expected = formulaic.model_matrix(formula, penguins).rhs.loc[new.index].to_numpy()[:, 1:]
    np.testing.assert_allclose(model.feature_encoding_.transform(new), expected)
    # Saved without pickle, rebuilt from the formula and its state.
    loaded = load(model.save(tmp_path / "formula.softmax"))
    np.testing.assert_array_equal(loaded.predict_proba(new), model.predict_proba(new))
    assert loaded.feature_encoding_ == model.feature_encoding_
    # Refitted as a clone (cross-validation): the formula is a parameter.
    again = clone(model).fit(penguins)
    np.testing.assert_allclose(again.coef_, model.coef_)
    result = model.inference(penguins)
    assert result.terms == ["intercept", *model.feature_names_out_]
    assert "C(island)[T.Dream]" in result.params.index


def test_formula_intercept_labels_and_errors(penguins):
    no_intercept = SoftmaxRegression.from_formula("species ~ 0 + C(island)", penguins)
    assert not no_intercept.fit_intercept
    assert no_intercept.feature_names_out_.tolist() == [
        "C(island)[Biscoe]", "C(island)[Dream]", "C(island)[Torgersen]"
    ]  # fmt: skip
    one_sided = SoftmaxRegression(formula="bill_length_mm + sex").fit(penguins, penguins.species)
    assert one_sided.feature_names_out_.tolist() == ["bill_length_mm", "sex[T.male]"]
    with pytest.raises(ValueError, match="requires y to be passed"):
        SoftmaxRegression(formula="bill_length_mm").fit(penguins)
    with pytest.raises(SoftmaxInputError, match="has no intercept, but fit_intercept=True"):
        SoftmaxRegression(formula="species ~ 0 + bill_length_mm").fit(penguins)
    with pytest.raises(SoftmaxInputError, match="left-hand side .* must name the label column"):
        SoftmaxRegression.from_formula("np.log(species) ~ bill_length_mm", penguins)
    with pytest.raises(SoftmaxInputError, match="Cannot build the design.*nope"):
        SoftmaxRegression.from_formula("species ~ nope", penguins)
    holes = penguins.assign(bill_length_mm=penguins.bill_length_mm.where(penguins.index != 4))
    with pytest.raises(SoftmaxInputError, match="drop the rows with missing values"):
        SoftmaxRegression.from_formula("species ~ bill_length_mm", holes)


def test_formula_unseen_categories(penguins):
    model = SoftmaxRegression.from_formula("species ~ bill_length_mm + C(island)", penguins)
    new = penguins.head(2).assign(island=["Mars", "Dream"])
    with pytest.warns(UnknownCategoryWarning, match=r"term 'C\(island\)': 'Mars'"):
        model.predict(new)
    model.set_params(handle_unknown="error")
    with pytest.raises(UnknownCategoryError, match="'Mars'"):
        model.predict(new)


def test_formula_needs_formulaic(monkeypatch, penguins):
    monkeypatch.setitem(sys.modules, "formulaic", None)  # as if it were not installed
    with pytest.raises(SoftmaxInputError, match=r"pip install 'softmax\[formula\]'"):
        SoftmaxRegression.from_formula("species ~ bill_length_mm", penguins)


def test_encodings_round_trip_as_json(small, labels, penguins):
    columns = SoftmaxRegression().fit(small, labels).feature_encoding_
    design = SoftmaxRegression.from_formula("species ~ C(island)", penguins).feature_encoding_
    for encoding in (columns, design):
        fields = json.loads(json.dumps(encoding.to_file()))
        assert encoding_from_file(fields) == encoding
    assert isinstance(encoding_from_file(columns.to_file()), ColumnEncoding)


# -- numeric tables: arrays without scikit-learn's table checks ------------------------------


def _spy_check_array(monkeypatch):
    """Counts scikit-learn's check_array calls made by validate_data."""
    import sklearn.utils.validation as validation

    calls = []
    check_array = validation.check_array
    monkeypatch.setattr(validation, "check_array", lambda *a, **k: calls.append(1) or check_array(*a, **k))
    return calls


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_numeric_table_fits_as_its_arrays_without_the_table_checks(dtype, monkeypatch):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.integers(0, 9, (60, 3)).astype(dtype), columns=["a", "b", "c"])
    y = pd.Series(rng.integers(0, 3, 60).astype(float))  # whole floats: labels, as anes96's PID
    calls = _spy_check_array(monkeypatch)
    model = SoftmaxRegression(C=np.inf).fit(X, y)
    assert not calls  # the fast path, not check_X_y
    expected = SoftmaxRegression(C=np.inf).fit(X.to_numpy().astype(model.coef_.dtype), y.to_numpy())
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    assert list(model.feature_names_in_) == ["a", "b", "c"] and model.n_features_in_ == 3
    assert model.coef_.dtype == (np.float32 if dtype == np.float32 else np.float64)
    np.testing.assert_array_equal(model.classes_, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="feature names"):  # names are checked on predict
        model.predict(X.rename(columns={"a": "z"}))


def test_other_tables_get_scikit_learns_checks(monkeypatch):
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.standard_normal((30, 2)), columns=["a", "b"])
    y = pd.Series(np.arange(30) % 3)
    calls = _spy_check_array(monkeypatch)
    SoftmaxRegression().fit(X.set_axis([0, 1], axis=1), y)  # names not strings
    assert calls and not hasattr(SoftmaxRegression().fit(X.set_axis([0, 1], axis=1), y),
                                 "feature_names_in_")
    with_nan = X.copy()
    with_nan.iloc[4, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):  # scikit-learn's message
        SoftmaxRegression().fit(with_nan, y)
    with pytest.raises(ValueError, match="Unknown label type"):  # fractional labels
        SoftmaxRegression().fit(X, y + 0.5)
