"""The package's shape, checked: its imports form no loop (lazy imports and `importlib` names
included), and no function is longer than a screen."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("impasto", "benchmarks")
MAX_FUNCTION_LINES = 60


def sources() -> dict[str, Path]:
    """Every module of the package and the benchmarks, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(tree: ast.Module, module: str, is_package: bool, known: dict[str, Path]) -> set[str]:
    """The modules `module` imports anywhere (at its top or inside functions), `importlib`
    names included; imports only for type checkers are left out."""
    names: set[str] = set()
    skipped = {id(n) for top in ast.walk(tree) if _type_checking_only(top) for n in ast.walk(top)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value:
            names.add(node.value)  # a dotted module name in a string, for importlib
    return {name for name in names if name in known and name != module}


def import_graph() -> dict[str, set[str]]:
    known = sources()
    return {
        module: _imported(ast.parse(path.read_text(encoding="utf-8")), module, path.name == "__init__.py", known)
        for module, path in known.items()
    }


def find_loop(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (loop := visit(target)):
                return loop
        state[module] = 2
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (loop := visit(module)):
            return loop
    return None


def test_no_import_loop_anywhere() -> None:
    loop = find_loop(import_graph())
    assert loop is None, "import loop: " + " -> ".join(loop or [])


def test_the_loop_finder_finds_a_loop() -> None:
    assert find_loop({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("module", sorted(sources()))
def test_no_function_is_longer_than_a_screen(module: str) -> None:
    tree = ast.parse(sources()[module].read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{module}: over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"
