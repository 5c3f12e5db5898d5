"""The problem built once per fit, and everything that turns parameters into a fitted model.

``problem`` (classes, class weights, penalties, starting point, the report of
coefficients), ``targets`` (labels, label smoothing, soft targets),
``training`` (the one fit path for arrays, Dask collections and chunk
streams), ``stochastic`` (epochs over chunks, ``partial_fit``), ``fitted``
(the one place fitted attributes are written), ``report`` (iteration lines,
convergence advice), ``separation`` (separated classes, which have no
unpenalised optimum; :mod:`softmax.inference` uses it too) 
``calibration`` (temperature scaling) and ``parameters`` (what each estimator
parameter may be).
"""
