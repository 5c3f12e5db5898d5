"""Fuzzing the CSV reader: damaged text gets a documented error, never a traceback.

Valid CSV text is mutated (bytes inserted, deleted or flipped, lines cut, fields
added or removed, bytes that are not UTF-8, stray quotes, an empty file, a header
alone) and fed to the library's readers, whole (:func:`read_table`) and in chunks
(:func:`read_chunks` + :func:`checked_rows`), and to ``softmax fit`` in-process.
The only failures allowed are :class:`SoftmaxInputError` and exit status 2 with one
``error:`` line. A small budget runs in ``make test``; ``make test-slow`` runs many
more examples.
"""

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from softmax._errors import SoftmaxInputError
from softmax.cli import app
from softmax.datasets import read_table
from softmax.io.tables import checked_rows, open_table, read_chunks, split_columns

HEADER = b"a,b,label\n"
ROWS = [b"1.5,2,x\n", b"0.5,-1,y\n", b"3,4e-1,x\n", b"-2,0,y\n", b"1,1,x\n", b"0,2.5,y\n"]


@st.composite
def damaged_csv(draw) -> bytes:
    """Valid CSV text with a few random mutations."""
    lines = [HEADER, *draw(st.lists(st.sampled_from(ROWS), min_size=0, max_size=8))]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(
            ["insert", "delete", "flip", "cut", "add field", "remove field", "not utf8",
             "quote", "empty", "header only", "blank line", "crlf"]
        ))  # fmt: skip
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        line = lines[i] if lines else b""
        at = draw(st.integers(0, len(line)))
        if kind == "insert":
            lines[i:i + 1] = [line[:at] + draw(st.binary(min_size=1, max_size=3)) + line[at:]]
        elif kind == "delete" and line:
            lines[i:i + 1] = [line[:at] + line[at + 1:]]
        elif kind == "flip" and at < len(line):
            lines[i:i + 1] = [line[:at] + bytes([line[at] ^ draw(st.integers(1, 255))]) + line[at + 1:]]
        elif kind == "cut":
            lines = lines[:i] + [line[:at]]
        elif kind == "add field":
            lines[i:i + 1] = [line.rstrip(b"\n") + b"," + draw(st.sampled_from([b"", b"7", b"z"])) + b"\n"]
        elif kind == "remove field":
            lines[i:i + 1] = [b",".join(line.rstrip(b"\n").split(b",")[:-1]) + b"\n"]
        elif kind == "not utf8":
            lines[i:i + 1] = [line[:at] + draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\x80"])) + line[at:]]
        elif kind == "quote":
            lines[i:i + 1] = [line[:at] + draw(st.sampled_from([b'"', b'""', b'"a,b"'])) + line[at:]]
        elif kind == "empty":
            lines = []
        elif kind == "header only":
            lines = lines[:1]
        elif kind == "blank line":
            lines.insert(i, b"\n")
        elif kind == "crlf":
            lines = [ln.replace(b"\n", b"\r\n") for ln in lines]
    return b"".join(lines)


def _check_library(path: Path) -> None:
    try:
        read_table(path, "label")
    except SoftmaxInputError:
        pass
    try:
        table = open_table(path)
        features, target = split_columns(table, "label")
        for start, frame in read_chunks(table, 2, label=target):
            checked_rows(table, frame, features, target, start=start)
    except SoftmaxInputError:
        pass


def _check_cli(path: Path) -> None:
    result = CliRunner().invoke(app, ["fit", str(path), "--target", "label", "--test-size", "0"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        others = [line for line in result.stderr.splitlines()
                  if line.strip() and not line.startswith(("error:", "warning:"))]
        assert len(errors) == 1 and not others, result.stderr


def _run(text: bytes, cli: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(text)
        _check_library(path)
        if cli:
            _check_cli(path)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(damaged_csv())
def test_reader_gives_documented_errors(text):
    _run(text, cli=False)


@FAST
@given(damaged_csv())
def test_fit_gives_one_error_line(text):
    _run(text, cli=True)


@pytest.mark.slow
@SLOW
@given(damaged_csv())
def test_reader_and_fit_many_examples(text):
    _run(text, cli=True)


@pytest.mark.parametrize("text", [b"", HEADER, b"\n\n", b"\xff\xfe", b'"', b'a,b,label\n"1,2,x\n'])
def test_edge_cases(text):
    _run(text, cli=True)
