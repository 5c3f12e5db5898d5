"""Pictures of softmax and of softmax regression models (matplotlib).

:mod:`.figures` draws softmax itself, training and the model; :mod:`.reliability`
the reliability diagram and its expected calibration error; :mod:`.base` the
shared figure plumbing. The public names are those of the two modules' ``__all__``.
"""

from . import figures, reliability
from .figures import *  # noqa: F403
from .reliability import *  # noqa: F403

__all__: list[str] = []
__all__ += figures.__all__
__all__ += reliability.__all__
