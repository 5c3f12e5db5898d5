"""Every example in README.md runs, as written.

The Python blocks run in order in one namespace (the README reads as one
session), the shell blocks' commands one by one in a scratch folder holding
the files they name (``data.csv`` and friends, made here from bundled data),
each with exit status 0 and no warning on stderr. ``make`` lines are the
Makefile's own targets, which ``make test`` is running already.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.M | re.S)


def _commands() -> list[str]:
    """Shell commands of the README, continuation lines joined, ``make`` lines left out."""
    commands = []
    for block in _blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "make ")):
                commands.append(line)
    return commands


def _fixtures(folder: Path) -> None:
    """The files the README's commands read: iris, penguins, a Parquet table."""
    from palmerpenguins import load_penguins
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True)
    frame = iris.data.assign(species=iris.target_names[iris.target])
    frame.to_csv(folder / "data.csv", index=False)
    frame.rename(columns={"species": "label"}).to_parquet(folder / "data.parquet")
    penguins = load_penguins().dropna().reset_index(drop=True)
    penguins.insert(0, "id", np.arange(len(penguins)))
    penguins["w"] = 1.0
    penguins.to_csv(folder / "penguins.csv", index=False)
    penguins.drop(columns=["species"]).head(20).to_csv(folder / "new.csv", index=False)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    _fixtures(folder)
    return folder


def test_readme_has_examples():
    assert len(_blocks("python")) >= 4 and len(_commands()) >= 15


def test_python_examples_run(scratch, monkeypatch):
    monkeypatch.chdir(scratch)
    namespace: dict = {"__name__": "__readme__"}
    for number, block in enumerate(_blocks("python")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an example that warns is a bad example
            try:
                exec(compile(block, f"README.md python block {number}", "exec"), namespace)
            except Exception as error:  # noqa: BLE001  (say which block failed)
                raise AssertionError(f"README python block {number} failed:\n{block}") from error


@pytest.mark.parametrize("command", _commands(), ids=lambda c: c[:60])
def test_shell_examples_run(command, scratch):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=scratch, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert "Warning" not in result.stderr, f"{command} warned:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
