"""No import cycles inside ``dl_app``: every import counts, also those inside
functions and under ``TYPE_CHECKING`` (a lazy import hides a cycle, it does not
remove it). Parsed with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

from where import SRC

PACKAGE = SRC


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["dl_app", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The dl_app modules ``name`` imports. ``from pkg import sub`` counts as an import
    of ``pkg.sub`` when that is a module, else of ``pkg``."""
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                up = base[: len(base) - node.level + 1]
                module = ".".join([*up, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            subs = [f"{module}.{a.name}" for a in node.names]
            targets = [s for s in subs if s in known] or [module]
        else:
            continue
        for target in targets:
            while target and target not in known:  # ``import dl_app.core.x as y`` etc.
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles_inside_dl_app() -> None:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    assert "dl_app.cli.main" in graph["dl_app.cli"]  # the parser resolves packages
    assert "dl_app.core.errors" in graph["dl_app.memory"]
    assert _cycles(graph) == []


# The layers above the library; the library never imports them.
APP_LAYERS = ("dl_app.bridge", "dl_app.cli", "dl_app.desktop", "dl_app.server")


def test_the_library_does_not_import_the_layers_above_it() -> None:
    modules = _modules()
    known = set(modules)
    upward = {}
    for name, path in modules.items():
        if name.startswith(APP_LAYERS) or name == "dl_app.__main__":
            continue
        above = sorted(m for m in _imports(name, path, known) if m.startswith(APP_LAYERS))
        if above:
            upward[name] = above
    assert upward == {}
