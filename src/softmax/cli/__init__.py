"""The ``softmax`` command line: ``softmax.cli:app`` is the entry point.

:mod:`.app` holds the app; each command module registers its commands on it
when imported, and imports only :mod:`.app`, :mod:`.options` and helper
modules, never this package, so there is no import circle. The table below
names the commands; a command's module is imported only when the command
runs, so ``softmax --help`` and ``softmax --version`` start in a fraction of
a second (``tests/test_startup.py``).
"""

from .app import app, lazy_command

# In the order `softmax --help` lists them: name, module, the first line of its docstring.
lazy_command("fit", f"{__name__}.fit",
             "Train a softmax regression model and report held-out metrics.")
lazy_command("predict", f"{__name__}.predict", "Predict labels and class probabilities, as CSV.")
lazy_command("evaluate", f"{__name__}.predict",
             "Score a saved model on labelled data: accuracy, log-loss, per-class metrics.")
lazy_command("info", f"{__name__}.info",
             "Show what a model file holds: versions, classes, features, settings, coefficients.")
lazy_command("export", f"{__name__}.export",
             "Write a saved model as an ONNX graph that computes its labels and probabilities.")
lazy_command("explain", f"{__name__}.explain",
             "Compare hard-max, sum-normalisation and softmax on a few scores.")
lazy_command("bandit", f"{__name__}.bandit",
             "Compare action-selection policies on the 10-armed testbed (Sutton and Barto, ch. 2).")
lazy_command("summary", f"{__name__}.summary",
             "Coefficients with standard errors, z, p-values and intervals, by class.")
lazy_command("warmup", f"{__name__}.warmup",
             "Compile the Numba kernels of large dense fits now, once per installation.")

__all__ = ["app"]
