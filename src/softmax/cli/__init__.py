"""The ``softmax`` command line: ``softmax.cli:app`` is the entry point.

:mod:`.app` holds the app; each command module registers its commands on it
when imported here, and imports only :mod:`.app`, :mod:`.options` and helper
modules, never this package, so there is no import circle.
"""

from .app import app

# Imported for their registration on `app`, in the order `softmax --help` lists them.
from . import fit  # noqa: E402, F401, I001
from . import predict  # noqa: E402, F401  (predict and evaluate)
from . import info  # noqa: E402, F401
from . import explain  # noqa: E402, F401
from . import bandit  # noqa: E402, F401
from . import summary  # noqa: E402, F401

__all__ = ["app"]
