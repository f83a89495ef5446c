"""No import circle anywhere in the project: the layer, the functions, the local stack, the operator command, bench.

An import inside a function or under TYPE_CHECKING is an arrow too: a circle that only works because one side
imports late is still a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from local_stack import ROOT

# Where modules are imported from, each as Python sees it: the layer as Lambda mounts it, each function's code
# folder as its own root (Lambda puts CodeUri on the path), the rest from the project root.
PACKAGE_ROOTS = ((ROOT / "layers" / "shared", ("listrak_kit",)), (ROOT, ("local_stack", "listrak_ops", "bench")))


def modules_under(root: Path, top: Path) -> dict[str, Path]:
    return {
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): path
        for path in sorted(top.rglob("*.py"))
    }


def project_modules() -> list[dict[str, Path]]:
    """One namespace per import root: the shared code and tools, then each function with the layer."""
    shared: dict[str, Path] = {}
    for root, packages in PACKAGE_ROOTS:
        for package in packages:
            shared |= modules_under(root, root / package)
    spaces = [shared]
    for folder in sorted(p for p in (ROOT / "functions").iterdir() if p.is_dir()):
        spaces.append(shared | modules_under(folder, folder))
    return spaces


def arrows(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules this module imports (the longest known name each import statement reaches)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def circles(known: dict[str, Path]) -> list[list[str]]:
    """Each set of modules that import one another in a circle (Tarjan's strongly connected components)."""
    graph = {module: sorted(arrows(module, path, known)) for module, path in known.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_the_project_is_part_of_an_import_circle():
    found = {tuple(c) for space in project_modules() for c in circles(space)}
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in sorted(found))


def test_the_walk_sees_a_circle_closed_by_a_late_import(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import thing\n")
    (tmp_path / "pkg" / "b.py").write_text("def thing():\n    from . import c\n")
    (tmp_path / "pkg" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n")
    (tmp_path / "pkg" / "d.py").write_text("import pkg.a\n")
    assert circles(modules_under(tmp_path, tmp_path / "pkg")) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_every_part_of_the_project_is_walked():
    names = set(project_modules()[0])
    assert {"listrak_kit.services", "local_stack.stack", "listrak_ops.cli", "bench.run"} <= names
    assert any("rest" in space for space in project_modules()[1:])
