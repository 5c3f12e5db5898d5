"""Exceptions raised for bad input, shared by the library and the CLI."""


class SoftmaxInputError(ValueError):
    """Bad input from a user: a data file, a model file or an argument.

    The message is one complete sentence meant for the person who gave the
    input; the command-line tool prints it as is and exits with status 2.
    """


class ModelFileError(SoftmaxInputError):
    """A model file that cannot be read: missing, truncated, corrupted, of an
    unknown format version, or not a ``softmax`` model file at all."""
