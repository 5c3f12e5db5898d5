"""Optional dependencies: import one, or say which extra installs it.

The core install (NumPy, SciPy, scikit-learn, pandas, typer, rich,
safetensors, and array-api-compat, imported only for PyTorch or CuPy arrays)
fits, predicts and reads CSV. The rest is optional, one extra
per capability, each imported only where it is used:

==============  ====================  ==========================================
extra           packages              what needs it
==============  ====================  ==========================================
``fast``        numba                 compiled kernels of large dense/sparse fits
``parquet``     pyarrow               Parquet files
``plot``        matplotlib            ``softmax.plotting``, ``--plot``, bandit curves
``dask``        dask, distributed     Dask arrays and data frames
``datasets``    palmerpenguins        the bundled penguins data set
``formula``     formulaic             ``formula=`` and ``from_formula``
``onnx``        onnx, onnxruntime,    ``to_onnx``, ``softmax export``; pipelines
                skl2onnx              through skl2onnx
``all``         all of the above
==============  ====================  ==========================================
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingDependencyError", "require"]


class MissingDependencyError(ImportError):
    """An optional dependency that a feature needs is not installed.

    The message names the package, the feature and the ``pip install`` line.
    """


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingDependencyError` naming ``extra``.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"pyarrow.parquet"``.
    extra : str
        The ``softmax`` extra that installs it.
    purpose : str
        What needs it, for the message (``"reading Parquet files"``).

    Returns
    -------
    module : ModuleType

    Examples
    --------
    >>> require("numpy", "core", "everything").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        raise MissingDependencyError(
            f"{purpose} needs {package}, which is not installed: "
            f"pip install 'softmax[{extra}]' (or 'softmax[all]')"
        ) from error
