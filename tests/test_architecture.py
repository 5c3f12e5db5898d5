"""The rules of the house, checked on the source (``ast`` only; nothing is imported).

* **No import circles.** The graph has an edge ``a -> b`` for every ``import``
  and ``from ... import`` anywhere in module ``a`` that names a module ``b``
  of the package: at the top, inside functions (deferred imports count: they
  only postpone the circle to run time) and under ``if TYPE_CHECKING:``
  (they count too: a type that two modules need from each other is a
  circle in the design, so the code is arranged without them). Relative
  imports are resolved; ``from . import x`` with ``x`` a submodule is an
  edge to that submodule; importing a package, or anything from it, is an
  edge to its ``__init__``; ``from pkg.mod import name`` is an edge to
  ``pkg.mod`` only. (Python also runs ``pkg/__init__`` first, but a
  package's ``__init__`` re-exporting its own modules is not a circle of
  design, so parent packages are not edges.)
* **Small files.** No module under ``src/`` has more than 500 lines.
* **Layers.** A lower part never imports a higher one (``LAYERS`` below,
  the same table as the map in ``softmax/__init__.py``). Parts on one level
  may import each other only where ``SAME_LEVEL`` says so; the only upward
  imports are the public front doors in ``UPWARD``, deferred into a method.
* **Fitted attributes are set in one place.** ``coef_``, ``intercept_``,
  ``classes_``, ``n_iter_``, ``converged_``, ``objective_history_`` and
  ``beta_`` are assigned (``obj.coef_ = ...`` or ``setattr(obj, "coef_", ...)``)
  in exactly one module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "softmax"
MAX_LINES = 500

#: Level of each part (top-level module or folder of ``softmax``); lower
#: levels never import higher ones. The package's own ``__init__`` is the
#: public front door and may import anything.
LAYERS: dict[str, int] = {
    # 0: foundations, no imports of the package beyond each other
    "functions": 0,
    "explain": 0,
    "_errors": 0,
    "_optional": 0,
    "_version": 0,
    "_progress": 0,
    # 1..4: the numerical core
    "loss": 1,
    "penalties": 2,
    "solvers": 3,
    "backends": 4,
    # 5: the problem description and the estimator
    "model": 5,
    "estimator": 5,
    # 6: what is built on a fitted estimator
    "inference": 6,
    "io": 6,
    "plotting": 6,
    "datasets": 6,
    "bandits": 6,
    "selection": 6,
    # 7: the command line, and ``python -m softmax``, which runs it
    "cli": 7,
    "__main__": 7,
}

#: Imports between different parts of one level that are allowed, with why.
SAME_LEVEL: dict[tuple[str, str], str] = {
    ("explain", "functions"): "the article's comparison is computed with the softmax function",
    ("explain", "_errors"): "bad numbers are the one user-error type",
    ("estimator", "model"): "the estimator builds the problem description once per fit",
    ("datasets", "io"): "bundled data sets are read with the table and IDX readers",
    ("plotting", "selection"): "the cross-validation pictures are typed with SoftmaxRegressionCV",
    ("__main__", "cli"): "python -m softmax runs the command line",
}

#: Upward imports that are part of the public API, with why. Each is a
#: deferred import in one method, and the lower module is never imported
#: back by the higher one (the cycle check still holds).
UPWARD: dict[tuple[str, str], str] = {
    ("estimator", "inference"): "SoftmaxRegression.inference is a front door to softmax.inference",
    ("estimator", "io"): "SoftmaxRegression.save is a front door to softmax.io.model_file",
    ("model", "io"): "SoftmaxRegression.to_onnx (model/export.py's mixin, which keeps "
                     "estimator.py small) is a front door to softmax.io.onnx_export",
}

FITTED = ("coef_", "intercept_", "classes_", "n_iter_", "converged_",
          "objective_history_", "beta_", "solver_")


# -- reading the source ----------------------------------------------------------------


def _modules() -> dict[str, Path]:
    """Dotted name -> file for every module of the package (a package is its __init__)."""
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _nodes(tree: ast.AST, deferred: bool):
    """All nodes of ``tree``; without ``deferred``, none inside a function."""
    if deferred:
        yield from ast.walk(tree)
        return
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(child for child in ast.iter_child_nodes(node)
                    if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))


def _imports(name: str, deferred: bool = True) -> set[str]:
    """The package's modules that module ``name`` imports (see the module docstring).

    ``deferred=False`` leaves out imports inside functions.
    """
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rpartition(".")[0]
    out: set[str] = set()

    def add(dotted: str) -> None:
        if dotted not in MODULES:
            raise AssertionError(f"{name} imports {dotted}, which is not a module of the package")
        out.add(dotted)

    for node in _nodes(tree, deferred):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            names = [alias.name for alias in node.names]
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            for sub in submodules:  # `from pkg import submodule`
                add(sub)
            if len(submodules) < len(names):  # a name defined in `target` itself
                add(target)
    out.discard(name)
    return out


GRAPH = {name: _imports(name) for name in MODULES}


def _part(name: str) -> str | None:
    """The part a module belongs to: ``softmax.inference.core`` -> ``inference``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _all_cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """(modules, one cycle through them) per strongly connected component of 2+ modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    cycles = []
    for comp in components:
        sub = {v: graph[v] & comp for v in comp}
        cycles.append((sorted(comp), _find_cycle(sub)))
    return sorted(cycles)


# -- the checks ---------------------------------------------------------------------------


def test_the_graph_is_read():
    """Guards the checks below against reading nothing."""
    assert "softmax.inference.results" in MODULES
    assert "softmax.functions" in GRAPH["softmax.explain"]
    assert "softmax.inference.core" in GRAPH["softmax.inference.estimation"]
    assert "softmax.inference.results" in GRAPH["softmax.inference"]  # a package is its __init__
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None
    assert "softmax.inference.results" not in _imports("softmax.estimator", deferred=False)


def test_no_import_cycles():
    cycles = _all_cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(
        f"{' -> '.join(cycle)}   (modules on circles together: {', '.join(comp)})"
        for comp, cycle in cycles
    )


def test_modules_are_small():
    too_long = {
        str(path.relative_to(SRC)): n
        for path in sorted(SRC.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_every_part_has_a_layer():
    parts = {_part(name) for name in MODULES} - {None, "__main__"}
    assert parts <= set(LAYERS), f"parts without a layer: {sorted(parts - set(LAYERS))}"


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for name, targets in sorted(GRAPH.items()):
        source = _part(name)
        if source is None:  # softmax/__init__.py: the public front door
            continue
        for target in sorted(targets):
            dest = _part(target)
            if dest is None or dest == source:
                continue  # the package __init__ (run before any submodule) or the same part
            if (source, dest) in UPWARD and target not in _imports(name, deferred=False):
                continue  # a front door, imported when its method is called
            if (source, dest) in SAME_LEVEL:
                continue
            if LAYERS[dest] >= LAYERS[source]:
                wrong.append(f"{name} (level {LAYERS[source]}) imports {target} "
                             f"(level {LAYERS[dest]})")
    assert not wrong, "layer rule broken:\n" + "\n".join(wrong)


def _fitted_assignments(path: Path) -> set[str]:
    """Fitted attribute names that the module assigns on some object."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) >= 2
        ):
            name = node.args[1]
            if isinstance(name, ast.Constant) and name.value in FITTED:
                found.add(name.value)
            elif not isinstance(name, ast.Constant):
                found.add("<setattr with a computed name>")
        flat: list[ast.expr] = []
        while targets:
            t = targets.pop()
            if isinstance(t, (ast.Tuple, ast.List)):
                targets.extend(t.elts)
            elif isinstance(t, ast.Starred):
                targets.append(t.value)
            else:
                flat.append(t)
        found.update(t.attr for t in flat if isinstance(t, ast.Attribute) and t.attr in FITTED)
    return found


def test_fitted_attributes_are_set_in_one_module():
    where: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        for attr in _fitted_assignments(path):
            where.setdefault(attr, []).append(name)
    modules = sorted({module for found in where.values() for module in found})
    assert len(modules) == 1, (
        f"fitted attributes {', '.join(FITTED)} must be assigned in exactly one module; "
        f"they are assigned in {modules}: "
        + "; ".join(f"{attr} in {', '.join(sorted(m))}" for attr, m in sorted(where.items()))
    )


@pytest.mark.parametrize("source", ["functions", "explain", "_errors", "_version", "_progress"])
def test_foundations_import_nothing_above_them(source):
    """functions imports nothing of the package; explain only functions and _errors."""
    name = f"{PACKAGE}.{source}"
    allowed = {f"{PACKAGE}.functions", f"{PACKAGE}._errors"} if source == "explain" else set()
    assert GRAPH[name] <= allowed, f"{name} imports {sorted(GRAPH[name] - allowed)}"
