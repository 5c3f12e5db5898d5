"""``python -m softmax``: the ``softmax`` command (see :mod:`softmax.cli`)."""

from softmax.cli import app

if __name__ == "__main__":
    app(prog_name="softmax")
