"""Tests for softmax.datasets: bundled data and the CSV/Parquet readers."""

import gzip

import numpy as np
import pandas as pd
import pytest

from softmax._errors import SoftmaxInputError
from softmax.datasets import BUNDLED, Dataset, load_dataset, read_features, read_table


@pytest.mark.parametrize(
    ("name", "shape", "target", "classes", "text"),
    [
        ("iris", (150, 4), "species", ["setosa", "versicolor", "virginica"], []),
        ("wine", (178, 13), "cultivar", ["class_0", "class_1", "class_2"], []),
        ("digits", (1797, 64), "digit", list(range(10)), []),
        ("penguins", (333, 6), "species", ["Adelie", "Chinstrap", "Gentoo"], ["island", "sex"]),
    ],
)
def test_bundled(name, shape, target, classes, text):
    data = load_dataset(name)
    assert isinstance(data, Dataset)
    assert data.X.shape == shape
    assert data.y.shape == (shape[0],)
    numbers = data.X.drop(columns=text)
    assert (numbers.dtypes == np.float64).all()
    assert np.isfinite(numbers.to_numpy()).all()
    for column in text:  # categorical columns: text, in every row
        assert data.X[column].map(type).eq(str).all()
    assert data.name == name and data.target == target == data.y.name
    assert sorted(data.y.unique()) == classes


def test_bundled_names_and_default():
    assert BUNDLED == ("iris", "wine", "digits", "penguins", "mnist")
    assert load_dataset().name == "iris"
    assert load_dataset(" Iris ").X.shape == (150, 4)
    assert list(load_dataset("penguins").X.columns) == [
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "island",
        "sex",
    ]
    assert load_dataset("digits").y.dtype.kind == "i"


def test_unknown_dataset():
    with pytest.raises(SoftmaxInputError, match="'cifar10'.*iris, wine, digits, penguins, mnist"):
        load_dataset("cifar10")


def _frame():
    return pd.DataFrame(
        {
            "a": [1.0, 2.5, -3.0, 4.0],
            "b": [1, 2, 3, 4],
            "flag": [True, False, True, False],
            "label": ["x", "y", "x", "z"],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".txt", ".csv.gz", ".data", ".parquet", ".pq"])
def test_round_trip(tmp_path, suffix):
    frame = _frame()
    path = tmp_path / f"data{suffix}"
    if suffix in (".parquet", ".pq"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    data = read_table(path, "label")
    assert data.name == str(path) and data.target == "label"
    assert list(data.X.columns) == ["a", "b", "flag"]
    assert (data.X.dtypes == np.float64).all()
    np.testing.assert_array_equal(data.X.to_numpy(), frame[["a", "b", "flag"]].astype(float))
    assert data.y.tolist() == ["x", "y", "x", "z"] and data.y.name == "label"


def test_target_defaults_to_last_column_and_keeps_label_dtype(tmp_path):
    path = tmp_path / "ints.csv"
    path.write_text("label,f1,f2\n0,1,2\n1,3,4\n2,5,6\n")
    data = read_table(path, None)
    assert data.target == "f2" and list(data.X.columns) == ["label", "f1"]
    data = read_table(path, "label")
    assert data.y.dtype.kind == "i" and data.y.tolist() == [0, 1, 2]


def test_parquet_without_suffix_is_sniffed(tmp_path):
    path = tmp_path / "data.bin"
    _frame().to_parquet(path)
    assert read_table(path, "label").X.shape == (4, 3)


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("a,b,y\n", "has no data rows"),
        ("a,b,y\n1,2,u\n3,4,v,9\n", "header of .* names 3 columns but line 3 has 4 fields"),
        # pandas took such a first row's first field for a row label, silently
        ("a,b,y\n0,1,2,u\n1,3,4,v\n", "header of .* names 3 columns but line 2 has 4 fields"),
        ("a,b,y\n1,2,u\n3,oops,v\n", "Non-numeric value 'oops' in column 'b' at line 3"),
        ("a,b,y\n1,2,u\n3,4,v\n,5,w\n", "Missing value in column 'a' at line 4.*dropna=True"),
        ("a,b,y\n1,2,u\n3,4,\n", "Missing label in target column 'y' at line 3"),
        ("a,b,y\n1,2,u\n3,-inf,v\n", "Infinite value -inf in column 'b' at line 3"),
        ("y\nu\n", "no feature columns"),
    ],
)
def test_csv_errors(tmp_path, text, message):
    path = _csv(tmp_path, text)
    with pytest.raises(SoftmaxInputError, match=message) as info:
        read_table(path, None)
    assert str(path) in str(info.value)


def test_first_bad_cell_in_reading_order(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,2,u\n3,,v\n,5,w\n")
    with pytest.raises(SoftmaxInputError, match="column 'b' at line 3"):
        read_table(path, "y")


def test_missing_target_lists_columns(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,2,u\n")
    with pytest.raises(SoftmaxInputError, match="no column 'label'; its columns are 'a', 'b', 'y'"):
        read_table(path, "label")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SoftmaxInputError, match="nope.csv not found"):
        read_table(tmp_path / "nope.csv", None)
    with pytest.raises(SoftmaxInputError, match="is a directory"):
        read_table(tmp_path, None)


def test_unreadable_files(tmp_path):
    bad_parquet = tmp_path / "data.parquet"
    bad_parquet.write_bytes(b"not parquet at all")
    with pytest.raises(SoftmaxInputError, match="not a readable Parquet file"):
        read_table(bad_parquet, None)
    bad_gzip = tmp_path / "data.csv.gz"
    bad_gzip.write_bytes(b"not gzip")
    with pytest.raises(SoftmaxInputError, match="data.csv.gz"):
        read_table(bad_gzip, None)
    cut_gzip = tmp_path / "cut.csv.gz"
    rows = "".join(f"{i},u\n" for i in range(10_000)).encode()
    cut_gzip.write_bytes(gzip.compress(b"a,y\n" + rows)[:2000])
    with pytest.raises(SoftmaxInputError, match="cut.csv.gz"):
        read_table(cut_gzip, None)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("a,y\n1,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(SoftmaxInputError, match="not valid UTF-8"):
        read_table(latin1, None)


def test_parquet_errors_name_rows(tmp_path):
    path = tmp_path / "data.parquet"
    frame = _frame()
    frame.loc[2, "a"] = np.nan
    frame.to_parquet(path)
    with pytest.raises(SoftmaxInputError, match="column 'a' at row 2 of"):
        read_table(path, "label")
    frame = _frame()
    frame["b"] = ["1", "two", "3", "4"]
    frame.to_parquet(path)
    with pytest.raises(SoftmaxInputError, match="'two' in column 'b' at row 1 of"):
        read_table(path, "label")
    frame = _frame()
    frame["when"] = pd.to_datetime(["2020-01-01"] * 4)
    frame.to_parquet(path)
    with pytest.raises(SoftmaxInputError, match="in column 'when' at row 0"):
        read_table(path, "label")


def test_dropna(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,2,u\n3,,v\n5,6,\n7,8,w\n")
    data = read_table(path, "y", dropna=True)
    assert data.X.to_numpy().tolist() == [[1, 2], [7, 8]]
    assert data.y.tolist() == ["u", "w"]
    assert data.X.index.tolist() == data.y.index.tolist() == [0, 3]
    # Non-numbers and infinities are errors still, named by their line.
    path = _csv(tmp_path, "a,b,y\n1,,u\n3,inf,v\n")
    with pytest.raises(SoftmaxInputError, match="Infinite value inf in column 'b' at line 3"):
        read_table(path, "y", dropna=True)
    path = _csv(tmp_path, "a,b,y\n1,,u\n3,,v\n")
    with pytest.raises(SoftmaxInputError, match="no rows left"):
        read_table(path, "y", dropna=True)


def test_read_features_selects_and_splits(tmp_path):
    path = _csv(tmp_path, "c,a,y,b\n1,2,u,3\n4,5,v,6\n")
    X, y = read_features(path, ["b", "a"], target="y")
    assert list(X.columns) == ["b", "a"] and X.to_numpy().tolist() == [[3, 2], [6, 5]]
    assert y.tolist() == ["u", "v"]
    X, y = read_features(path, ["a"], target="label")
    assert list(X.columns) == ["a"] and y is None
    X, y = read_features(path, target="y")
    assert list(X.columns) == ["c", "a", "b"] and y.name == "y"
    with pytest.raises(SoftmaxInputError, match="'y'"):
        read_features(path)  # without a target every column is a feature
    with pytest.raises(SoftmaxInputError, match="lacks the feature column\\(s\\) 'd', 'e'"):
        read_features(path, ["a", "d", "e"])


def test_read_features_checks_only_selected_columns(tmp_path):
    path = _csv(tmp_path, "a,note,b\n1,hello,2\n3,,4\n")
    X, y = read_features(path, ["a", "b"])
    assert X.shape == (2, 2) and y is None
    path = _csv(tmp_path, "a,b\n1,2\n3,\n5,6\n")
    with pytest.raises(SoftmaxInputError, match="column 'b' at line 3.*dropna"):
        read_features(path, ["a", "b"])
    X, _ = read_features(path, ["a", "b"], dropna=True)
    assert X.index.tolist() == [0, 2]


def test_large_csv_is_quick(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 99, size=(100_000, 5)) / 8, columns=list("abcde"))
    frame["y"] = rng.integers(0, 3, size=len(frame))
    frame.loc[99_990, "c"] = np.nan
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(SoftmaxInputError, match="column 'c' at line 99992"):
        read_table(path, "y")
    assert read_table(path, "y", dropna=True).X.shape == (99_999, 5)
