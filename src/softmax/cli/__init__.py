"""The ``softmax`` command line: ``softmax.cli:app`` is the entry point."""

from .app import app

__all__ = ["app"]
