"""The benchmarks are one package: each module imports, none edits sys.path, their imports
form no loop, and every import of impasto beyond its public API says why it is needed."""

import ast
import importlib
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parents[2] / "benchmarks"
MODULES = sorted(path.stem for path in FOLDER.glob("*.py") if path.stem != "__init__")
PUBLIC = {"impasto", "impasto.engine", "impasto.defaults"}
"""Where impasto's public names live: `impasto`, the engine's `reference_objective` and `Job`, and
`impasto.defaults.resolve`, the one place defaults are worked out."""


def imported(name: str) -> list[ast.ImportFrom | ast.Import]:
    """Every import statement of a benchmark module, wherever it stands (functions too)."""
    tree = ast.parse((FOLDER / f"{name}.py").read_text())
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def modules_named(node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert node.level == 0, "benchmarks import each other absolutely: benchmarks.NAME"
    return [node.module or ""]


def graph() -> dict[str, set[str]]:
    """Which benchmark modules each benchmark module imports."""
    edges = {}
    for name in MODULES:
        targets = {module for node in imported(name) for module in modules_named(node)}
        edges[name] = {t.removeprefix("benchmarks.").split(".")[0] for t in targets}
        edges[name] &= set(MODULES)  # "speed" (through sys.path) or "benchmarks.speed": a loop either way
    return edges


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A loop in the graph, as the modules along it, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        for target in sorted(edges.get(name, ())):
            found = visit(target, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    return next((found for name in sorted(edges) if (found := visit(name, []))), None)


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_module_imports(name):
    module = importlib.import_module(f"benchmarks.{name}")
    assert Path(module.__file__).parent == FOLDER
    assert module.__doc__, f"benchmarks/{name}.py says what it is for in its docstring"


def test_benchmarks_import_each_other_without_a_loop():
    edges = graph()
    assert "common" in edges["speed"]  # the graph sees the package's own imports
    assert cycle(edges) is None, f"import loop: {' -> '.join(cycle(edges) or [])}"


def test_the_loop_finder_finds_a_loop():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("name", MODULES)
def test_no_benchmark_edits_sys_path(name):
    text = (FOLDER / f"{name}.py").read_text()
    assert "sys.path" not in text
    bare = [m for node in imported(name) for m in modules_named(node) if m.split(".")[0] in MODULES]
    assert not bare, f"benchmarks/{name}.py imports {bare[0]}: import benchmarks.{bare[0]}"


@pytest.mark.parametrize("name", MODULES)
def test_imports_beyond_the_public_api_say_why(name):
    lines = (FOLDER / f"{name}.py").read_text().splitlines()
    for node in imported(name):
        private = [m for m in modules_named(node) if m.startswith("impasto.") and m not in PUBLIC]
        if private:
            assert "not public" in why(lines, node.lineno - 1).lower(), (
                f"benchmarks/{name}.py:{node.lineno} imports {private[0]}: use impasto's public API, "
                "or say on the line (or above its block of imports) why it is not public"
            )


def why(lines: list[str], index: int) -> str:
    """The import's own line and the comment just above the block of imports it stands in."""
    above = index - 1
    while above >= 0 and lines[above].lstrip().startswith(("from ", "import ")):
        above -= 1
    comment = lines[above] if above >= 0 and lines[above].lstrip().startswith("#") else ""
    return lines[index] + comment
