"""Test-session setup."""

import os

# Lets scikit-learn's check_array_api_input run instead of skipping: SciPy reads
# this once, at import, and no test module has imported SciPy yet.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
