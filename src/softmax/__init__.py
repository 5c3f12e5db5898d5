"""softmax: softmax regression (multinomial logistic regression) done right."""

from ._errors import ModelFileError, SoftmaxInputError
from ._version import __version__
from .estimator import SoftmaxRegression
from .functions import hardmax, log_softmax, logsumexp, normalize, sigmoid, softmax


def load(path):
    """Read a model written by :meth:`SoftmaxRegression.save` (never unpickles).

    Raises :class:`ModelFileError` for a missing, truncated, corrupted or
    foreign file.
    """
    from .io.model_file import load as _load

    return _load(path)


__all__ = [
    "ModelFileError",
    "SoftmaxInputError",
    "SoftmaxRegression",
    "__version__",
    "hardmax",
    "load",
    "log_softmax",
    "logsumexp",
    "normalize",
    "sigmoid",
    "softmax",
]
