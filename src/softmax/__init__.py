"""softmax: softmax regression (multinomial logistic regression) done right.

Map of the parts, lowest first. A part imports only parts on lower levels
(and, on its own level, only what the last column names); no import circles,
no module over 500 lines. ``tests/test_architecture.py`` checks this table.

===== ================================================ =========================================
level part (folder or module)                          what it is; may also import on its level
===== ================================================ =========================================
0     ``functions``, ``explain``, ``_errors``,         softmax, sigmoid, ...; the article's
      ``_version``, ``_progress``                      comparison (``explain`` may import
                                                       ``functions`` and ``_errors``)
1     ``loss/``                                        cross-entropy, linear-model loss, objective,
                                                       standardisation, kernels, BLAS threads
2     ``penalties``                                    L2, L1, elastic net, grouped
3     ``solvers/``                                     one file per solver; stochastic optimisers
4     ``backends/``                                    where the rows live: memory, dask, stream
5     ``model/``, ``estimator``                        the problem built once per fit;
                                                       ``SoftmaxRegression`` (may import ``model``)
6     ``inference/``, ``io/``, ``plotting/``,          built on a fitted estimator: statistics,
      ``datasets``, ``bandits/``, ``selection/``       files, figures, data sets, bandits,
                                                       ``C`` by cross-validation along
                                                       regularisation paths
                                                       (``datasets`` may import ``io``,
                                                       ``plotting`` ``selection``)
7     ``cli/``, ``__main__``                           the ``softmax`` command; ``python -m
                                                       softmax`` (``__main__`` may import ``cli``)
===== ================================================ =========================================

Three upward imports are front doors of the public API, deferred into one
method each: ``SoftmaxRegression.inference`` (``inference/``),
``SoftmaxRegression.save`` (``io/``) and ``SoftmaxRegression.to_onnx``
(``io/``, from the mixin in ``model/export.py``). This ``__init__`` may
import anything; it imports :class:`SoftmaxRegression` and the functions on
first use, so ``import softmax`` costs little until they are needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import (
    ModelFileError,
    SoftmaxInputError,
    UnknownCategoryError,
    UnknownCategoryWarning,
)
from ._version import __version__

if TYPE_CHECKING:
    from .estimator import SoftmaxRegression
    from .functions import hardmax, log_softmax, logsumexp, normalize, sigmoid, softmax
    from .selection.cv import SoftmaxRegressionCV

# Imported on first use (PEP 562), so that ``import softmax`` and the command
# line's ``--help`` do not pay for NumPy, SciPy and scikit-learn up front.
_LAZY = {
    "SoftmaxRegression": "estimator",
    "SoftmaxRegressionCV": "selection.cv",
    "hardmax": "functions",
    "log_softmax": "functions",
    "logsumexp": "functions",
    "normalize": "functions",
    "sigmoid": "functions",
    "softmax": "functions",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def load(path, *, key=None):
    """Read a model written by :meth:`SoftmaxRegression.save` (never unpickles).

    Raises :class:`ModelFileError` for a missing, truncated, corrupted or
    foreign file, or impossible numbers in it. With ``key`` (bytes or str),
    also for a file not signed with that key: digests catch damage, only the
    key catches forgery (see :mod:`softmax.io.model_format`).

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from softmax import SoftmaxRegression, load
    >>> X, y = load_iris(return_X_y=True)
    >>> path = os.path.join(tempfile.mkdtemp(), "iris.softmax")
    >>> _ = SoftmaxRegression().fit(X, y).save(path)
    >>> load(path).predict(X[:3])
    array([0, 0, 0])
    """
    from . import estimator  # noqa: F401  (registers the class that model files name)
    from .io.model_file import load as _load

    return _load(path, key=key)


__all__ = [
    "ModelFileError",
    "SoftmaxInputError",
    "SoftmaxRegression",
    "SoftmaxRegressionCV",
    "UnknownCategoryError",
    "UnknownCategoryWarning",
    "__version__",
    "hardmax",
    "load",
    "log_softmax",
    "logsumexp",
    "normalize",
    "sigmoid",
    "softmax",
]
