"""The data term: cross-entropy on raw scores, the linear model's layout, its kernels, standardisation and the objective solvers minimise.

``array_api`` writes the data term once against the Python array API, for
arrays on a GPU or any other device (:mod:`softmax.backends.array_api`).
"""
