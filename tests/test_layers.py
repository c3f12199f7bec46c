"""Layers point one way, read from the source with ``ast``.

pages and the command line (rigfit) -> report -> advisor -> sizing -> catalog.
A module may import its own layer or a lower one, never a higher one, and the
project's modules import each other without cycles. Only ``app.py`` and
``pages/`` import Streamlit. ``sizing/__main__.py`` is the one exception: it
only hands ``python -m sizing`` over to the command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANK = {"catalog": 0, "sizing": 1, "advisor": 2, "report": 3, "rigfit": 4, "pages": 4, "app": 5}
HAND_OVER = {"sizing.__main__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    files = [ROOT / "app.py", *(p for top in RANK if (ROOT / top).is_dir()
                                 for p in sorted((ROOT / top).rglob("*.py")))]
    return {module_name(p): p for p in files}


MODULES = project_modules()


def imports_of(name: str, path: Path) -> set[str]:
    """Project modules ``name`` imports, anywhere in the file (functions included)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def rank(name: str) -> int:
    return RANK[name.split(".")[0]]


def test_the_scan_sees_every_layer_and_real_edges():
    assert {n.split(".")[0] for n in MODULES} == set(RANK)
    assert "sizing.estimate" in GRAPH["advisor.candidates"]
    assert "advisor.plan" in GRAPH["rigfit.plan_cli"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_upward_import(name):
    if name in HAND_OVER:
        assert GRAPH[name] == {"rigfit.cli"}
        return
    upward = sorted(d for d in GRAPH[name] if rank(d) > rank(name))
    assert upward == [], f"{name} imports a higher layer: {upward}"


def test_the_command_line_is_imported_by_nothing_below_it():
    for name, deps in GRAPH.items():
        if name.split(".")[0] not in ("rigfit", "pages", "app") and name not in HAND_OVER:
            assert not {d for d in deps if d.startswith("rigfit")}, name


def test_no_import_cycle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == []


def test_only_the_app_imports_streamlit():
    for name, path in MODULES.items():
        if name.split(".")[0] in ("app", "pages"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {n for n in names if n.split(".")[0] == "streamlit"}, name
