"""Build hook: compiles the C kernels of :mod:`softmax.loss.native` into ``_fused.so``.

Hatchling runs it for every wheel, editable ones included (then the library
is written beside its source, where the editable install finds it); ``make``
runs it as a script to rebuild in place after the C sources change. The
library is loaded with ctypes, so no Python headers are needed. Without a C
compiler the package still works: the kernels in C are an accelerator, and
:mod:`softmax.loss.kernels` falls back to Numba or NumPy.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script: no hatchling needed
    BuildHookInterface = object

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "src" / "softmax" / "loss" / "native" / "fused.c"
LIBRARY = "softmax/loss/native/_fused.so"
# -ffp-contract=fast: a * b + c as one FMA where the instruction set has it
# (GCC's default outside strict ISO mode; said here for other compilers).
FLAGS = ["-O3", "-ffp-contract=fast", "-fPIC", "-shared"]


def compile_library(output: Path) -> str | None:
    """Compile ``SOURCE`` into ``output`` (atomically); the compiler's complaint, or None."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=output.parent)
    os.close(fd)
    command = [*shlex.split(cc), *FLAGS, str(SOURCE), "-o", tmp, "-lm"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:  # no compiler
        os.unlink(tmp)
        return f"{shlex.join(command)}: {error}"
    if done.returncode != 0:
        os.unlink(tmp)
        return f"{shlex.join(command)} failed:\n{done.stderr.strip()}"
    os.replace(tmp, output)
    return None


class CustomBuildHook(BuildHookInterface):
    """Adds the compiled library to wheels; a platform wheel when it compiled."""

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        if version == "editable":
            output = ROOT / "src" / LIBRARY
        else:
            output = Path(self.directory) / "native-build" / "_fused.so"
        error = compile_library(output)
        if error is not None:
            self.app.display_warning(
                f"softmax: the C kernels were not built ({error}); "
                "large fits fall back to Numba or NumPy."
            )
            return
        if version != "editable":
            build_data["force_include"][str(output)] = LIBRARY
        build_data["pure_python"] = False
        build_data["infer_tag"] = True


if __name__ == "__main__":
    problem = compile_library(ROOT / "src" / LIBRARY)
    if problem is not None:
        sys.exit(problem)
