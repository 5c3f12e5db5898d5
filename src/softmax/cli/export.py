"""``softmax export``: a saved model as an ONNX graph (:mod:`softmax.io.onnx_export`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from ..io.atomic import check_writable
from ..io.model_file import load
from ..io.onnx_export import DEFAULT_OPSET, to_onnx
from .app import command
from .inputs import read_key
from .options import KeyFileOpt, ModelArg, QuietOpt
from .output import Output

__all__ = ["export"]


class Precision(StrEnum):
    """The float type of the graph's numbers."""

    float32 = "float32"
    float64 = "float64"


@command()
def export(
    model_file: ModelArg,
    output: Annotated[
        str, typer.Argument(metavar="OUTPUT", help="The ONNX file to write (written atomically).")
    ],
    dtype: Annotated[
        Precision,
        typer.Option(
            case_sensitive=False,
            help="Float type of the numeric inputs, the arithmetic and the probabilities.",
        ),
    ] = Precision.float32,
    opset: Annotated[
        int | None,
        typer.Option(
            min=DEFAULT_OPSET,
            help=f"ONNX opset of the graph (default {DEFAULT_OPSET}, which most runtimes run).",
            show_default=False,
        ),
    ] = None,
    key_file: KeyFileOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write a saved model as an ONNX graph that computes its labels and probabilities.

    The graph runs in any ONNX runtime (onnxruntime, ...) without Python:
    outputs 'label' (as predict) and 'probabilities' (as predict_proba, with
    the calibrated temperature), inputs 'X' for a model of numbers, or one
    input per column for a model of a table, text columns as strings, with
    the one-hot encoding inside (unseen categories: all-zero indicators).
    A formula exports when its terms are plain or categorical columns. Needs
    the optional package onnx (the onnx extra of softmax).

    \b
    Examples:
      softmax export iris.softmax iris.onnx
      softmax export penguins.softmax penguins.onnx --dtype float64 --opset 17
    """
    check_writable(output)  # before reading the model
    model = load(model_file, key=read_key(key_file))
    graph = to_onnx(model, output, dtype=dtype.value, opset=opset)
    inputs = ", ".join(value.name for value in graph.graph.input)
    Output(quiet=quiet).note(f"wrote {output} (inputs: {inputs}; outputs: label, probabilities)")
