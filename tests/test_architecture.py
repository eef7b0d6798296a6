"""The package's structure: folders that follow the pipeline, imports that point down, no cycles,
no reading of another module's private names, and a top level that loads in milliseconds."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "naskit"
# The layers, bottom to top (docs/architecture.md): a module imports only from its own layer or below.
LAYERS = ("core", "runtime", "cost", "nn", "data", "trainer", "strategies", "bench", "estimate", "evaluators",
          "runs", "oneshot", "repro", "viz", "lessons", "cli")
RANK = {name: i for i, name in enumerate(LAYERS)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """``naskit.runs.loop`` -> ``runs``; the top-level ``naskit`` (lazy re-exports) has none."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__", "shipped_data", "shipped_notebooks"):
        return None
    return parts[1]


def imports(path: Path, module_level_only: bool = False) -> set[str]:
    """The naskit modules ``path`` imports (module-level, or anywhere in the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("naskit")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("naskit") and not node.level:
            found.add(node.module)
            # `from naskit.oneshot import rsps` imports the submodule naskit.oneshot.rsps
            for a in node.names:
                if (PACKAGE.parent / (node.module.replace(".", "/") + f"/{a.name}.py")).exists():
                    found.add(f"{node.module}.{a.name}")
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_every_module_sits_in_a_layer_and_imports_only_its_own_layer_or_lower():
    wrong = []
    for name, path in MODULES.items():
        mine = layer_of(name)
        if mine is None:
            continue
        assert mine in RANK, f"{name} is in a folder that is not a layer of docs/architecture.md"
        for target in imports(path):
            theirs = layer_of(target)
            if theirs is not None and RANK[theirs] > RANK[mine]:
                wrong.append(f"{name} ({mine}) imports {target} ({theirs})")
    assert not wrong, "imports that point up the pipeline:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles():
    graph = defaultdict(set)
    for name, path in MODULES.items():
        for target in imports(path, module_level_only=True):
            if target in MODULES and target != name:
                graph[name].add(target)
    # a package imports its own submodules from __init__; the reverse edge would be the cycle
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(MODULES):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _code_sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                yield f"{path.relative_to(ROOT)} cell {i}", "".join(cell["source"])


def test_nothing_reads_another_modules_private_names():
    """STYLE.md 13: what others need has a public name. ``self._x`` and ``cls._x`` are a class's
    own; anything else with a leading underscore (``bench._mean``, ``from m import _f``) is not."""
    found = []
    for where, src in _code_sources():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.ImportFrom):
                found += [f"{where}:{node.lineno}: from {node.module} import {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert not found, "private names read from outside their module:\n" + "\n".join(found)


@pytest.mark.parametrize("module", ["naskit", "naskit.core", "naskit.core.space", "naskit.core.configs",
                                    "naskit.core.types", "naskit.strategies"])
def test_light_modules_load_neither_torch_nor_pandas(module):
    code = f"import sys, {module}; print(sorted(m for m in ('torch', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"import {module} loads {out.stdout.strip()}"


def test_the_top_level_exports_the_first_session_lazily():
    import naskit

    for name in ("NB201Space", "load_dataset", "train", "load_benchmark", "search", "Budget", "make_strategy",
                 "TabularEvaluator", "TrainingEvaluator", "ProxyEvaluator", "experiment", "manifest"):
        assert name in naskit.__all__ and callable(getattr(naskit, name)), name
    assert naskit.search.__module__ == "naskit.runs.loop" and naskit.train.__module__ == "naskit.trainer.loop"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        naskit.nope  # noqa: B018


def test_no_function_shadows_its_module():
    """``import naskit.X.y`` must give a module: no package exports a name that is also one of its
    submodules (``naskit.train`` was once the function and the module)."""
    import importlib

    clashes = []
    for name in MODULES:
        if "." not in name:
            continue
        parent, leaf = name.rsplit(".", 1)
        if leaf == "__main__":
            continue
        value = getattr(importlib.import_module(parent), leaf, None)
        if value is not None and not isinstance(value, type(sys)):
            clashes.append(f"{parent}.{leaf} is a {type(value).__name__}, and also a module")
    assert not clashes, "\n".join(clashes)
