"""The problem built once per fit, and everything that turns parameters into a fitted model.

``problem`` (classes, class weights, penalties, starting point, the report of
coefficients), ``targets`` (labels, label smoothing, soft targets),
``training`` (the one fit path for arrays, device arrays, Dask collections
and chunk streams), ``device`` (what fits and predictions on array-API arrays
support, and their validation), ``predictions`` (scores, probabilities and
labels for every kind of ``X``), ``stochastic`` (epochs over chunks,
``partial_fit``), ``fitted`` (the one place fitted attributes are written),
``report`` (iteration lines, convergence advice), ``separation`` (separated
classes, which have no unpenalised optimum; :mod:`softmax.inference` uses it too) 
``calibration`` (temperature scaling), ``parameters`` (what each estimator
parameter may be), and the input side: ``design`` (what ``X`` becomes before
the maths sees it), ``columns`` (text, categorical and boolean columns
one-hot encoded) and ``formula`` (formulaic formulas); ``export`` holds the
estimator's front door to ONNX export (:mod:`softmax.io.onnx_export`).
"""
