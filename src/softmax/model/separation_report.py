"""The words of a separation check: which classes a linear score separates, and by what.

:func:`softmax.model.separation.detect_separation` finds the constraints a
separating direction makes strict; :func:`describe` turns them into
:class:`SeparationReport`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SeparatedPair", "SeparationReport", "describe"]


@dataclass(frozen=True)
class SeparatedPair:
    """Two classes that a linear score separates.

    Attributes
    ----------
    classes : tuple of two labels
    complete : bool
        True when every observation of the two classes is on its own side
        (strictly); False when some lie on the boundary (quasi-complete).
    features : tuple of str
        The features that separate them: each one alone when ``alone``,
        otherwise those a separating direction uses together.
    alone : bool
    """

    classes: tuple
    complete: bool
    features: tuple[str, ...]
    alone: bool


@dataclass(frozen=True)
class SeparationReport:
    """Result of :func:`detect_separation` when the data are separated.

    Attributes
    ----------
    kind : {"complete", "quasi-complete"}
        For the data as a whole.
    pairs : tuple of SeparatedPair
    message : str
        The explanation in words, naming classes and features.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax.datasets import load_dataset
    >>> from softmax.model.separation import detect_separation
    >>> iris = load_dataset("iris")
    >>> classes, codes = np.unique(iris.y, return_inverse=True)
    >>> Z = np.column_stack([np.ones(len(codes)), iris.X])
    >>> res = detect_separation(Z, codes, classes, ["intercept", *iris.X.columns], True)
    >>> res.kind
    'quasi-complete'
    >>> print(res.message)  # doctest: +NORMALIZE_WHITESPACE
    Quasi-complete separation: class 'setosa' is completely separated from 'versicolor' and
    'virginica' by 'petal length (cm)' and 'petal width (cm)' (each alone).
    """

    kind: str
    pairs: tuple[SeparatedPair, ...]
    message: str

    @property
    def classes(self) -> list:
        """Labels of the classes involved in any separated pair."""
        seen = dict.fromkeys(c for pair in self.pairs for c in pair.classes)
        return list(seen)


def describe(Zs, codes, own, other, strict, D, classes, terms, fit_intercept) -> SeparationReport:
    """The report for the strict constraints ``strict`` of a separating direction ``D``.

    ``Zs``: the design on unit columns; ``own`` and ``other``: each
    constraint's row class and other class (as built by
    :func:`softmax.model.separation.detect_separation`).
    """
    pairs = _pairs(Zs, codes, own, other, strict, D, classes, terms, fit_intercept)
    kind = "complete" if strict.all() else "quasi-complete"
    return SeparationReport(kind=kind, pairs=pairs, message=_message(kind, pairs))


def _pairs(Zs, codes, own, other, strict, D, classes, terms, fit_intercept):
    """One :class:`SeparatedPair` per unordered pair with a strict constraint."""
    K = len(classes)
    start = int(fit_intercept)
    features = np.asarray(terms[start:], dtype=object)
    X = Zs[:, start:]
    # Per-class ranges of each feature, for "this feature alone separates them".
    lo = np.full((K, X.shape[1]), np.inf)
    hi = np.full((K, X.shape[1]), -np.inf)
    for c in range(K):  # classes, not samples
        mask = codes == c
        if mask.any():
            lo[c], hi[c] = X[mask].min(axis=0), X[mask].max(axis=0)
    a_idx = np.minimum(own, other)
    b_idx = np.maximum(own, other)
    found = []
    for a in range(K):
        for b in range(a + 1, K):
            mine = (a_idx == a) & (b_idx == b)
            if not strict[mine].any():
                continue
            alone = (hi[a] <= lo[b]) | (hi[b] <= lo[a])
            if alone.any():
                names = features[alone]
            else:
                diff = np.abs(D[a, start:] - D[b, start:])
                names = features[diff > 1e-6 * max(diff.max(), 1e-300)]
            found.append(
                SeparatedPair(
                    classes=(classes[a], classes[b]),
                    complete=bool(strict[mine].all()),
                    features=tuple(str(f) for f in names),
                    alone=bool(alone.any()),
                )
            )
    return tuple(found)


def _quote(values) -> str:
    items = [repr(v.item() if hasattr(v, "item") else v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _message(kind: str, pairs: tuple[SeparatedPair, ...]) -> str:
    """Sentences grouped by the class with most separated partners."""
    remaining = list(pairs)
    sentences = []
    while remaining:
        counts: dict = {}
        for pair in remaining:
            for c in pair.classes:
                counts[c] = counts.get(c, 0) + 1
        hub = max(counts, key=counts.get)
        mine = [p for p in remaining if hub in p.classes]
        remaining = [p for p in remaining if hub not in p.classes]
        partners = [p.classes[1] if p.classes[0] == hub else p.classes[0] for p in mine]
        how = "completely" if all(p.complete for p in mine) else "quasi-completely"
        alone = sorted({f for p in mine if p.alone for f in p.features})
        joint = sorted({f for p in mine if not p.alone for f in p.features})
        by = []
        if alone:
            by.append(f"{_quote(alone)} {'alone' if len(alone) == 1 else '(each alone)'}")
        if joint:
            by.append(f"a combination of {_quote(joint)}")
        by_text = f" by {' and by '.join(by)}" if by else ""
        sentences.append(
            f"class {_quote([hub])} is {how} separated from {_quote(partners)}{by_text}"
        )
    return f"{kind.capitalize()} separation: " + "; ".join(sentences) + "."
