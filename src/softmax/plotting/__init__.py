"""Pictures of softmax and of softmax regression models (matplotlib); see :mod:`.figures`."""

from .figures import (
    expected_calibration_error,
    image_shape,
    plot_beta_sweep,
    plot_confusion_matrix,
    plot_decision_regions,
    plot_explain,
    plot_reliability,
    plot_training,
    plot_weights,
)

__all__ = [
    "expected_calibration_error",
    "image_shape",
    "plot_beta_sweep",
    "plot_confusion_matrix",
    "plot_decision_regions",
    "plot_explain",
    "plot_reliability",
    "plot_training",
    "plot_weights",
]
