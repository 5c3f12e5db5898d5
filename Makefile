# `make run` and `make test` work on a fresh machine: the first use creates .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Numba's compiled kernels, cached beside the package; redone when the kernels change.
WARM := $(VENV)/.numba-warm
DOCS_STAMP := $(VENV)/.docs-installed

.PHONY: run test test-slow bench bench-scale docs lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test,mnist]'
	touch $(STAMP)

# The C kernels: built by the install (hatch_build.py), rebuilt here when their source changes.
NATIVE := src/softmax/loss/native/_fused.so
$(NATIVE): $(wildcard src/softmax/loss/native/*.[ch]) hatch_build.py | $(STAMP)
	$(BIN)/python hatch_build.py || echo "softmax: C kernels not built; the Numba and NumPy kernels serve"

# Compile the Numba kernels once here, not silently in the first large fit.
$(WARM): $(STAMP) $(NATIVE) src/softmax/loss/compiled.py src/softmax/loss/compiled_workers.py src/softmax/loss/kernels.py
	$(BIN)/python -m softmax.loss.warmup
	touch $(WARM)

# The main job: fit on the bundled iris data, print the metrics, save and reuse the model.
run: $(WARM)
	$(BIN)/softmax fit --dataset iris -o model.softmax
	$(BIN)/softmax predict model.softmax --dataset iris -o predictions.csv

test: $(WARM)
	$(BIN)/python -m pytest

test-slow: $(WARM)
	$(BIN)/python -m pytest -m slow

# The documentation (docs/): user guide, gallery and API reference, built into docs/_build/html
# with every warning an error. Built afresh each time, so that every number and picture comes
# from code that ran in this build (about a minute; run sphinx-build directly to iterate).
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(WARM) $(DOCS_STAMP)
	rm -rf docs/_build docs/auto_examples
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

# Benchmarks unset the OpenBLAS overrides that slow NumPy on some machines (never in tests).
bench: $(WARM)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/bench_solvers.py
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/bench_bandits.py

# Out-of-core SGD and Dask on generated 1M- and 10M-row files (minutes; not part of `make test`).
bench-scale: $(WARM)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/bench_scale.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis model.softmax predictions.csv $(NATIVE)
	rm -rf docs/_build docs/auto_examples docs/api/generated docs/api/modules docs/sg_execution_times.rst
