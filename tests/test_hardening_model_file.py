"""Issue 11, model files and atomic writes.

Each test here failed on the main of 2026-12-01.
"""

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from softmax import ModelFileError, SoftmaxRegression, load


# -- 4. model files with impossible numbers ----------------------------------------------------


def _rewrite(source, target, arrays=None, edit=None):
    import safetensors.numpy

    from softmax.io.model_file import _DIGEST_KEY, _seal

    data = Path(source).read_bytes()
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    metadata = json.loads(header["__metadata__"]["softmax"])
    metadata.pop(_DIGEST_KEY)
    tensors = safetensors.numpy.load(data)
    tensors.update(arrays or {})
    if edit:
        edit(metadata)
    import hashlib

    # Re-seal the arrays' digests and the metadata, as a forger would.
    if "arrays" in metadata and isinstance(metadata["arrays"], dict):
        for name, value in tensors.items():
            if name in metadata["arrays"]:
                metadata["arrays"][name]["sha256"] = hashlib.sha256(
                    np.ascontiguousarray(value).tobytes()
                ).hexdigest()
    Path(target).write_bytes(safetensors.numpy.save(tensors, metadata={"softmax": _seal(metadata)}))
    return target


def test_model_file_with_nan_coefficients_is_refused(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegression().fit(X, y)
    good = model.save(tmp_path / "good.softmax")
    coef = model.coef_.copy()
    coef[1, 2] = np.nan
    bad = _rewrite(good, tmp_path / "nan.softmax", arrays={"coef_": coef})
    with pytest.raises(ModelFileError, match="finite|NaN"):
        load(bad)
    intercept = model.intercept_.copy()
    intercept[0] = np.inf
    worse = _rewrite(good, tmp_path / "inf.softmax", arrays={"intercept_": intercept})
    with pytest.raises(ModelFileError, match="finite|inf"):
        load(worse)


def test_deeply_nested_metadata_is_a_model_file_error(tmp_path):
    X, y = load_iris(return_X_y=True)
    good = SoftmaxRegression().fit(X, y).save(tmp_path / "good.softmax")
    deep: list = []
    for _ in range(900):  # parses, but recursing through it overflows Python's stack
        deep = [deep]

    def nest(metadata):
        metadata["extra"] = {"deep": deep}

    bad = _rewrite(good, tmp_path / "deep.softmax", edit=nest)
    with pytest.raises(ModelFileError, match="nested|deep"):
        load(bad)



def test_sigterm_during_save_leaves_no_temporary(tmp_path):
    script = tmp_path / "slow_save.py"
    script.write_text(
        "import sys, time\n"
        "from softmax.io.atomic import atomic_write\n"
        "with atomic_write(sys.argv[1], binary=True) as f:\n"
        "    f.write(b'x' * 1000)\n"
        "    f.flush()\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(30)\n"
    )
    target = tmp_path / "model.softmax"
    child = subprocess.Popen([sys.executable, str(script), str(target)], stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "ready"
    assert len(list(tmp_path.glob(".model.softmax.*"))) == 1
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=30)
    assert list(tmp_path.glob(".model.softmax.*")) == [] and not target.exists()
    # kill -9 leaves one behind; the next save into the folder removes it.
    child = subprocess.Popen([sys.executable, str(script), str(target)], stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "ready"
    child.kill()
    child.wait(timeout=30)
    assert len(list(tmp_path.glob(".model.softmax.*"))) == 1
    X, y = load_iris(return_X_y=True)
    SoftmaxRegression().fit(X, y).save(target)
    assert list(tmp_path.glob(".model.softmax.*")) == []


