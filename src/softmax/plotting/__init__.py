"""Pictures of softmax and of softmax regression models (matplotlib).

:mod:`.figures` draws softmax itself, training and the model; :mod:`.reliability`
the reliability diagram and its expected calibration error; :mod:`.paths` the
cross-validation curve and the coefficient path of a ``SoftmaxRegressionCV``;
:mod:`.base` the shared figure plumbing. The public names are those of the
three modules' ``__all__``.
"""

from . import figures, paths, reliability
from .figures import *  # noqa: F403
from .paths import *  # noqa: F403
from .reliability import *  # noqa: F403

__all__: list[str] = []
__all__ += figures.__all__
__all__ += paths.__all__
__all__ += reliability.__all__
