"""The direction of imports inside auditkit: no cycles, counting imports inside functions.

Every ``import auditkit...`` / ``from auditkit... import`` / relative import in every module is
an edge, wherever it stands (module level, inside a function or a method). Imports under
``if TYPE_CHECKING:`` are left out: they are never executed and exist so that a lower layer can
name a higher layer's type in an annotation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import auditkit

PACKAGE_DIR = Path(auditkit.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: set[str], name: str | None = None) -> set[str]:
    """The auditkit modules ``path`` imports (a ``from pkg import name`` naming a submodule
    counts as an import of that submodule)."""
    name = name or _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "auditkit":
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] == "auditkit":
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in modules else target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE_DIR.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_checker_finds_a_cycle() -> None:
    graph = {"auditkit.a": {"auditkit.b"}, "auditkit.b": {"auditkit.a"}, "auditkit.c": set()}
    assert find_cycles(graph) == [["auditkit.a", "auditkit.b"]]


def test_function_imports_count_and_type_checking_imports_do_not(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from auditkit import claims\n"
        "def f():\n    from auditkit import errors\n"
        "    from . import textsafe\n"
    )
    modules = {"auditkit", "auditkit.m", "auditkit.claims", "auditkit.errors", "auditkit.textsafe"}
    found = _imports(source, modules, name="auditkit.m")
    assert found == {"auditkit.errors", "auditkit.textsafe"}


def test_function_level_imports_are_edges() -> None:
    graph = import_graph()
    # auditkit/__init__.py imports the ingest package inside a function (lazy public API).
    assert "auditkit.ingest" in graph["auditkit"]


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_an_audit_imports_no_other_audit() -> None:
    # What several audits share lives in auditkit.measures, not in one of the audits.
    graph = import_graph()
    audits = {m for m in graph if m.startswith("auditkit.audits.")}
    crossing = {m: sorted(graph[m] & audits) for m in audits if graph[m] & audits}
    assert crossing == {}
