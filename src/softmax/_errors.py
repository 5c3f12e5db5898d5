"""Exceptions raised for bad input, shared by the library and the CLI."""


class SoftmaxInputError(ValueError):
    """Bad input from a user: a data file, a model file or an argument.

    The message is one complete sentence meant for the person who gave the
    input; the command-line tool prints it as is and exits with status 2.

    Examples
    --------
    >>> from softmax.explain import compare
    >>> try:
    ...     compare([3])
    ... except SoftmaxInputError as error:
    ...     print(error)
    Give at least two scores, for example: softmax explain 3 7 14.
    """


class ModelFileError(SoftmaxInputError):
    """A model file that cannot be read: missing, truncated, corrupted, of an
    unknown format version, or not a ``softmax`` model file at all.

    Examples
    --------
    >>> import softmax
    >>> try:
    ...     softmax.load("no-such-file.softmax")
    ... except softmax.ModelFileError as error:
    ...     print(error)
    Model file no-such-file.softmax not found.
    """


class UnknownCategoryError(SoftmaxInputError):
    """A category that the model did not see in training, refused because the
    model's ``handle_unknown`` is ``"error"`` (``--strict`` on the command line).

    Examples
    --------
    >>> import pandas as pd
    >>> from softmax import SoftmaxRegression
    >>> X = pd.DataFrame({"colour": ["red", "blue", "red", "blue"]})
    >>> model = SoftmaxRegression(handle_unknown="error").fit(X, [1, 0, 1, 0])
    >>> try:
    ...     model.predict(pd.DataFrame({"colour": ["green"]}))
    ... except UnknownCategoryError as error:
    ...     print(str(error).split(".")[0])
    Categories not seen in training: column 'colour': 'green'
    """


class UnknownCategoryWarning(UserWarning):
    """A category that the model did not see in training: its one-hot columns
    are all 0 for those rows. The message names the column and the values;
    ``handle_unknown="error"`` turns it into an :class:`UnknownCategoryError`.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> from softmax import SoftmaxRegression
    >>> X = pd.DataFrame({"colour": ["red", "blue", "red", "blue"]})
    >>> model = SoftmaxRegression().fit(X, [1, 0, 1, 0])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     label = model.predict(pd.DataFrame({"colour": ["green"]}))
    >>> caught[0].category.__name__
    'UnknownCategoryWarning'
    """
